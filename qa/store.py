"""One interface for where articles, passages and vectors live, whatever engine keeps them.

Two stores implement it: the embedded default (`qa.index.IndexStore`: FAISS, bm25s and SQLite
segments on disk, no server) and Qdrant (`qa.qdrant_store.QdrantStore`: a Qdrant server or
cluster, or qdrant-client's in-process local mode). `open_store` picks one from the settings.

An ingest is the same above any store: `plan_ingest` decides which articles are new, changed,
unchanged or duplicates of another article's text, and `embed_batch` splits the new and changed
ones into passages and embeds passages and sentences. A store only keeps the batch (its
`ingest` = plan + embed + write), deletes articles, and answers the searches and lookups that
retrieval and citation make (`SearchIndex`). A third backend is one file with these methods.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

import numpy as np
from dateutil import parser as dateparser

from qa.embed import TextEncoder
from qa.records import Article, Chunk
from qa.segment import encode_sentences, passage_text, text_hash
from qa.split import chunk_article, split_sentences

if TYPE_CHECKING:
    from qa.config import Settings
    from qa.index import IngestReport

RRF_K = 60  # the usual constant of reciprocal rank fusion
_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_WORDS = re.compile(r"[A-Za-z]{3}")  # a month name ("May", "Feb") or other words for dateutil


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
        """Inverse document frequency of a `qa.lexical.terms` term over the passages."""
        ...

    def stored_sentence_vectors(self, keys: list[tuple[str, int]]) -> np.ndarray:
        """(len(keys), 2, dim) float32: each (article id, sentence index) alone and with its title."""
        ...

    def passage(self, chunk_id: str) -> str: ...

    def close(self) -> None: ...


class Store(Protocol):
    """Reads and writes one named index."""

    name: str

    def exists(self) -> bool: ...

    def load(self, embedder: TextEncoder | None = None, reuse: SearchIndex | None = None) -> SearchIndex: ...

    def ingest(
        self, articles: Iterable[Article], embedder: TextEncoder, chunk_chars: int, chunk_overlap: int,
        rebuild: bool = False, progress: bool = True, report: IngestReport | None = None,
    ) -> IngestReport: ...  # fmt: skip

    def delete(self, ids_or_sources: Iterable[str], embedder: TextEncoder | None = None) -> list[str]: ...

    def compact(self, embedder: TextEncoder | None = None) -> None: ...

    def read_manifest(self) -> dict:
        """At least `counts` (articles, chunks, sentences) and `updated`."""
        ...


class Previous(Protocol):
    """What planning an ingest asks of the live index."""

    def content_hash(self, article_id: str) -> str | None: ...

    def owner_of_text(self, digest: str) -> str | None: ...


@dataclass
class EmbeddedBatch:
    """New and changed articles, ready to store."""

    articles: list[Article]
    chunks: list[tuple[int, int, int]]  # (position in `articles`, first sentence, last sentence)
    chunk_vectors: np.ndarray  # (len(chunks), dim) float32
    sentence_vectors: np.ndarray  # (sentences of all articles in order, 2, dim) float16


def open_store(settings: Settings, name: str | None = None) -> Store:
    """The store the settings choose (`QA_STORE`), for index `name` (default: settings.index)."""
    name = name or settings.index
    if settings.store == "qdrant":
        from qa.qdrant_store import QdrantStore

        return QdrantStore.from_settings(settings, name)
    from qa.index import IndexStore

    return IndexStore(settings.index_dir, name)


def index_names(settings: Settings) -> list[str]:
    """The indexes of the configured store."""
    if settings.store == "qdrant":
        from qa.qdrant_store import QdrantStore

        return QdrantStore.names(settings)
    from qa.index import list_indexes

    return list_indexes(settings.index_dir)


def plan_ingest(
    articles: Iterable[Article], previous: Previous | None, report: IngestReport
) -> tuple[list[Article], set[str]]:
    """The articles to write (new or changed; the last version of one changed twice) and the
    ids of live articles they replace. Unchanged articles and copies of another article's text
    are listed in `report` and left out."""
    fresh: dict[str, Article] = {}
    fresh_texts: dict[str, str] = {}
    replaced: set[str] = set()
    for article in articles:
        label = f"{article.title} ({article.source})"
        if not article.sentences:  # built in code rather than read from a file
            article.sentences = split_sentences(article.text)
            if not article.sentences:
                report.skipped.append(f"{label}: skipped, no sentences found")
                continue
        live_hash = previous.content_hash(article.id) if previous is not None else None
        old_hash = fresh[article.id].content_hash if article.id in fresh else live_hash
        if old_hash == article.content_hash:
            report.unchanged.append(label)
            continue
        digest = text_hash(article)
        owner = fresh_texts.get(digest)
        if owner is None and previous is not None:
            owner = previous.owner_of_text(digest)
            owner = None if owner in replaced else owner  # its old text is being replaced
        if owner is not None and owner != article.id:
            report.duplicates.append(label)
            continue
        if article.id in fresh:  # changed twice in one batch: the last version counts
            fresh_texts.pop(text_hash(fresh.pop(article.id)), None)
        else:
            (report.replaced if old_hash is not None else report.added).append(label)
        if live_hash is not None:
            replaced.add(article.id)
        fresh[article.id] = article
        fresh_texts[digest] = article.id
    return list(fresh.values()), replaced


def embed_batch(
    articles: list[Article], embedder: TextEncoder, chunk_chars: int, chunk_overlap: int,
    progress: bool = False, report: IngestReport | None = None,
) -> EmbeddedBatch:  # fmt: skip
    """Split articles into passages and embed passages and sentences (alone and with their
    title). Two `encode` calls, passages then sentences and titles: the int8 embedder
    quantises activations per batch, so batching decides the last digits."""
    chunks = [
        (n, c.first, c.last)
        for n, article in enumerate(articles)
        for c in chunk_article(article, chunk_chars, chunk_overlap)
    ]
    chunk_vectors = embedder.encode([passage_text(articles[n], f, last) for n, f, last in chunks], progress)
    sentence_vectors = encode_sentences(embedder, articles, progress)
    if report is not None:
        report.chunks_embedded = len(chunks)
        report.sentences_embedded = len(sentence_vectors)
    return EmbeddedBatch(articles, chunks, chunk_vectors, sentence_vectors)


def fuse_ranks(rankings: list[list[int]], k: int) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: 1 / (RRF_K + rank) summed over the rankings (rank from 1). Lexical
    search catches the rare names of news questions, dense search catches paraphrase."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(fused.items(), key=lambda item: -item[1])[:k]


def published_on(article_published: str | None) -> date | None:
    """An article's publication day, from the dates feeds and readers write: ISO dates or
    datetimes (with anything after them), "2024/05/01", RFC 2822 ("Wed, 01 May 2024 08:00:00
    GMT"), "May 1, 2024". None when it has none or no full date can be read: a day needs its
    year ("May 1" is not one), and all-number dates in another order ("01/05/2024": January or
    May?) are ambiguous."""
    if not article_published:
        return None
    text = article_published.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    if numeric := _YEAR_FIRST.match(text):
        try:
            return date(*(int(part) for part in numeric.groups()))
        except ValueError:
            return None
    if not _WORDS.search(text):  # all numbers, not year first: ambiguous
        return None
    defaults = (datetime(2000, 1, 1), datetime(2001, 2, 2))
    try:  # parsed twice with different defaults: a part taken from a default is missing
        first, second = (dateparser.parse(text, default=d, ignoretz=True) for d in defaults)
    except (ValueError, OverflowError, TypeError, IndexError):  # older dateutils raise the last two
        return None
    return first.date() if first == second else None
