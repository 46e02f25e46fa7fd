"""One interface for where articles, passages and vectors live, whatever engine keeps them.

Two stores implement it: the embedded default (`qa.stores.local.index.IndexStore`: FAISS, bm25s
and SQLite segments on disk, no server) and Qdrant (`qa.stores.qdrant.QdrantStore`: a Qdrant
server or cluster, or qdrant-client's in-process local mode); `qa.stores.open_store` picks one
from the settings.

An ingest is the same above any store, and `Store.ingest` is its one path: under the store's
writer lock, read what the live index holds and how it was chunked, plan which articles are
new, changed, unchanged or duplicates (`qa.stores.batch.plan_ingest`), embed the new and
changed ones (`embed_batch`), then hand the batch to the backend's one write method. A backend
keeps batches, deletes articles, and answers the searches and lookups that retrieval and
citation make (`SearchIndex`). A third backend is one file with these methods.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

import numpy as np

from qa.errors import IndexUnavailable
from qa.models.embedder import TextEncoder
from qa.records import Article, Chunk
from qa.stores.batch import EmbeddedBatch, IngestReport, Previous, embed_batch, plan_ingest

FORMAT_VERSION = 2  # of the index layout both stores write (manifest / meta point)
RRF_K = 60  # the usual constant of reciprocal rank fusion
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def validate_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise IndexUnavailable(f"Invalid index name {name!r}: use letters, digits, '-', '_' or '.' (max 64).")
    return name


class SearchIndex(Protocol):
    """A loaded index, as retrieval and citation read it."""

    name: str
    articles: Mapping[str, Article]  # live articles by id

    @property
    def chunk_count(self) -> int: ...

    @property
    def sentence_count(self) -> int: ...

    def hybrid_search(
        self, query_vector: np.ndarray, query_terms: list[str], k: int, since: date | None = None
    ) -> list[tuple[Chunk, float]]:
        """The `k` best passages by dense and lexical rank fused (reciprocal rank fusion),
        only from articles published on or after `since` when it is given."""
        ...

    def idf(self, term: str) -> float:
        """Inverse document frequency of a `qa.text.terms.terms` term over the passages."""
        ...

    def stored_sentence_vectors(self, keys: list[tuple[str, int]]) -> np.ndarray:
        """(len(keys), 2, dim) float32: each (article id, sentence index) alone and with its title."""
        ...

    def passage(self, chunk_id: str) -> str: ...

    def close(self) -> None: ...


@dataclass
class LiveIndex:
    """What an ingest reads of the index it is about to write, under the writer's lock."""

    previous: Previous | None = None  # None: a new index, or a rebuild
    # The stored (chunk_chars, chunk_overlap): an index keeps the chunking it was built with.
    chunking: tuple[int, int] | None = None
    unfinished: bool = False  # a write that failed midway left work for the next one


class Store(ABC):
    """Reads and writes one named index."""

    name: str

    @abstractmethod
    def exists(self) -> bool: ...

    @abstractmethod
    def load(self, embedder: TextEncoder | None = None, reuse: SearchIndex | None = None) -> SearchIndex:
        """The live index; with `embedder`, refuse an index built by another model."""

    @abstractmethod
    def delete(self, ids_or_sources: Iterable[str], embedder: TextEncoder | None = None) -> list[str]:
        """Remove articles (by id or by the source they were read from); returns the ids removed."""

    def compact(self, embedder: TextEncoder | None = None) -> None:  # noqa: B027 - optional
        """Merge what ingests left in pieces (a store that merges on its own has nothing to do)."""

    @abstractmethod
    def read_manifest(self) -> dict:
        """At least `counts` (articles, chunks, sentences) and `updated`."""

    def ingest(
        self, articles: Iterable[Article], embedder: TextEncoder, chunk_chars: int, chunk_overlap: int,
        rebuild: bool = False, progress: bool = True, report: IngestReport | None = None,
    ) -> IngestReport:  # fmt: skip
        """Add new articles, replace changed ones, keep the rest. Everything is embedded before
        anything is written: a failed embedding changes nothing, and a rebuild empties the live
        index only for the time of the write."""
        report = report or IngestReport()
        with self._writing(embedder, rebuild) as live:
            if live.chunking is not None:
                chunk_chars, chunk_overlap = live.chunking
            fresh, replaced = plan_ingest(articles, live.previous, report)
            if live.previous is not None and not fresh and not live.unfinished:
                return report  # nothing changed: keep the live state as it is
            batch = embed_batch(fresh, embedder, chunk_chars, chunk_overlap, progress, report)
            self._write(batch, replaced, live, embedder, chunk_chars, chunk_overlap)
        return report

    @abstractmethod
    def _writing(self, embedder: TextEncoder, rebuild: bool) -> AbstractContextManager[LiveIndex]:
        """Hold the index's writer lock and say what the live index holds (nothing on `rebuild`);
        refuse an index built by another embedder."""

    @abstractmethod
    def _write(
        self, batch: EmbeddedBatch, replaced: set[str], live: LiveIndex, embedder: TextEncoder,
        chunk_chars: int, chunk_overlap: int,
    ) -> None:  # fmt: skip
        """Keep the batch and retire the live versions of the articles in `replaced`, so that a
        reader sees the old state or the new one, never a mix."""


def fuse_ranks(rankings: list[list[int]], k: int) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: 1 / (RRF_K + rank) summed over the rankings (rank from 1). Lexical
    search catches the rare names of news questions, dense search catches paraphrase."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(fused.items(), key=lambda item: -item[1])[:k]


def utc_now() -> str:
    """The time a manifest or meta point records as its `updated`."""
    return datetime.now(UTC).isoformat(timespec="seconds")
