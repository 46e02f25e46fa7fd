"""The lexical side of a segment: BM25 over its passages (bm25s), and the document frequencies
that sentence support's IDF reads.

Built once per segment write and saved with it, so loading an index (the app's start, an
upload) does not re-tokenise every passage; passages are tokenised by `qa.text.terms.terms`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import bm25s
import numpy as np

from qa.text.terms import idf, terms

logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    """BM25 over the passages in index order, plus document frequencies for IDF."""

    def __init__(self, bm25: bm25s.BM25 | None, passages: int):
        self.bm25 = bm25
        self.passages = passages
        self.n_docs = max(1, passages)
        self._doc_freq: dict[str, int] = {}
        if bm25 is not None:
            # A term's column in bm25s's sparse score matrix has one entry per passage holding it.
            counts = np.diff(np.asarray(bm25.scores["indptr"]))
            # (bm25s also lists an empty token with no column.)
            self._doc_freq = {
                term: int(counts[column]) for term, column in bm25.vocab_dict.items() if column < len(counts)
            }

    @classmethod
    def build(cls, passages: list[str]) -> LexicalIndex:
        return cls.from_terms([terms(text) for text in passages])

    @classmethod
    def from_terms(cls, tokenised: list[list[str]]) -> LexicalIndex:
        """From passages already tokenised by `terms()`."""
        if not any(tokenised):
            return cls(None, len(tokenised))
        bm25 = bm25s.BM25()
        bm25.index(tokenised, show_progress=False)
        return cls(bm25, len(tokenised))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        saved = {"passages": self.passages, "bm25": self.bm25 is not None}
        (folder / "passages.json").write_text(json.dumps(saved))
        if self.bm25 is not None:
            self.bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        saved = json.loads((folder / "passages.json").read_text())
        if not saved["bm25"]:
            return cls(None, saved["passages"])
        bm25 = bm25s.BM25.load(str(folder), mmap=True, show_progress=False, verbosity=0)
        return cls(bm25, saved["passages"])

    def doc_freq(self, term: str) -> int:
        return self._doc_freq.get(term, 0)

    def idf(self, term: str) -> float:
        return idf(self.doc_freq(term), self.n_docs)

    def search(self, query_terms: list[str], k: int) -> list[tuple[int, float]]:
        """Passage positions and BM25 scores, best first; only passages sharing a term."""
        if self.bm25 is None or not query_terms:
            return []
        known = [t for t in query_terms if t in self.bm25.vocab_dict]
        if not known:
            return []
        ids, scores = self.bm25.retrieve([known], k=min(k, self.n_docs), show_progress=False)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]
