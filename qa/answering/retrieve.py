"""Find the passages and sentences that can answer a question.

Two stages:
1. Chunks: the store's lexical (BM25) and dense rankings fused by reciprocal rank
   (`SearchIndex.hybrid_search`). Lexical search catches the rare names and terms of news
   questions; dense search catches paraphrase.
2. Sentences: every sentence of the best chunks that states something (not a question) is
   scored on its own: dense similarity to the question of the sentence alone and of the
   sentence read with its title, plus its `support`, the IDF-weighted share of the question's
   key terms found in the sentence or its title. A line that does not end as a statement (a
   headline, a caption) ranks a little lower.
   Support decides whether there is evidence at all: below a threshold the assistant abstains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np

from qa.models.embedder import Embedder
from qa.records import Article, Chunk
from qa.stores.base import SearchIndex
from qa.text.sentences import ends_as_statement, is_question
from qa.text.terms import terms

SENTENCE_CHUNKS = 8  # passages whose sentences are scored one by one
# Subtracted from a line not ending in ".", "!" or "…" (headline, caption, byline): chosen on dev and val
# together (gold answer in the 8 evidence sentences, 0.1 / 0.25 / 0.5 / all below).
UNFINISHED_PENALTY = 0.25
_HTML_TAG = re.compile(r"<[^>]+>")


@dataclass
class ChunkHit:
    chunk: Chunk
    score: float
    rank: int


@dataclass
class Evidence:
    """One candidate sentence, with the scores that ranked it."""

    article: Article
    sentence_index: int
    score: float
    support: float
    chunk_rank: int

    @property
    def text(self) -> str:
        return self.article.sentence(self.sentence_index)

    @property
    def span(self) -> tuple[int, int]:
        return self.article.sentences[self.sentence_index]


@dataclass
class Retrieval:
    query: str
    chunks: list[ChunkHit]
    # Every scored sentence of the passages read closely, best first: the answer is chosen
    # from the first `n_evidence`, the model's own phrase may be found in any of them.
    sentences: list[Evidence]
    n_evidence: int

    @property
    def evidence(self) -> list[Evidence]:
        return self.sentences[: self.n_evidence]

    @property
    def best_support(self) -> float:
        return max((e.support for e in self.evidence), default=0.0)


def clean_query(question: str) -> str:
    """Strip markup, which carries no searchable fact."""
    text = _HTML_TAG.sub(" ", question)
    return re.sub(r"\s+", " ", text).strip() or question.strip()


class Retriever:
    """Hybrid chunk search plus sentence scoring over one loaded index (any `qa.stores.base` backend)."""

    def __init__(self, index: SearchIndex, embedder: Embedder):
        self.index = index
        self.embedder = embedder

    def retrieve(
        self, question: str, top_k: int, candidates: int, n_evidence: int, since: date | None = None
    ) -> Retrieval:
        """`since`: only articles published on or after that day."""
        query = clean_query(question)
        if not self.index.chunk_count:
            return Retrieval(query, [], [], n_evidence)
        query_vector = self.embedder.encode([query])[0]
        read = max(top_k, SENTENCE_CHUNKS)
        found = self.index.hybrid_search(query_vector, terms(query), max(candidates, read), since)
        chunks = [ChunkHit(chunk, score, rank) for rank, (chunk, score) in enumerate(found)]
        evidence = self._sentences(query, query_vector, chunks[:read])
        # The passages read closely are re-ordered by their best sentence.
        best: dict[int, float] = {}
        for e in evidence:
            best[e.chunk_rank] = max(best.get(e.chunk_rank, -1e9), e.score)
        reordered = sorted(chunks[:read], key=lambda h: -best.get(h.rank, -1e9)) + chunks[read:]
        return Retrieval(query, reordered[:top_k], evidence, n_evidence)

    def _sentences(self, query: str, query_vector: np.ndarray, hits: list[ChunkHit]) -> list[Evidence]:
        seen: dict[tuple[str, int], int] = {}
        articles = self.index.articles
        for hit in hits:
            for i in range(hit.chunk.first, hit.chunk.last + 1):
                seen.setdefault((hit.chunk.article_id, i), hit.rank)
        # A sentence that asks is never evidence: it cannot be cited as an answer.
        texts_by_key = {key: articles[key[0]].sentence(key[1]) for key in seen}
        keys = [key for key, text in texts_by_key.items() if not is_question(text)]
        if not keys:
            return []
        texts = [texts_by_key[key] for key in keys]
        vectors = self.index.stored_sentence_vectors(keys)
        similarity = vectors[:, 0] @ query_vector
        titled_similarity = vectors[:, 1] @ query_vector
        weights = {t: self.index.idf(t) for t in set(terms(query))}
        total = sum(weights.values()) or 1.0
        evidence = []
        for n, ((article_id, i), text) in enumerate(zip(keys, texts, strict=True)):
            article = articles[article_id]
            covered = set(terms(text)) | set(terms(article.title))
            support = sum(w for t, w in weights.items() if t in covered) / total
            score = float(similarity[n] + titled_similarity[n]) + support
            if not ends_as_statement(text):
                score -= UNFINISHED_PENALTY
            evidence.append(Evidence(article, i, score, support, seen[(article_id, i)]))
        evidence.sort(key=lambda e: -e.score)
        return evidence
