"""One immutable segment of an index: the articles of one ingest, with everything search needs.

An ingest writes only a new segment (and marks replaced articles deleted in the manifest), so
adding one article to a large index costs one small segment, not a rewrite; compaction merges
segments later. Layout of `s000004/`:

    articles.sqlite       one row per article (id, text and content hashes, its first sentence
                          row, the article as JSON): random access without holding text in memory
    chunks.npy            int32 (chunks, 3): article row, first sentence, last sentence
    vectors.faiss         chunk vectors, row i = chunk i (exact or IVF by size, qa.stores.local.vectors)
    sentence_vectors.npy  float16 (sentences, 2, dim): each sentence alone and with its title
                          (sentence + title vector, normalised), in article-row order
                          (memory-mapped when read)
    lexical/              BM25 over the chunks (qa.stores.local.lexical)
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import faiss
import numpy as np

from qa.records import Article, Chunk
from qa.stores.batch import passage_text, text_hash
from qa.stores.local.lexical import LexicalIndex
from qa.stores.local.vectors import all_vectors, build_vector_index, prepare
from qa.text.terms import terms

ARTICLES = "articles.sqlite"
ARTICLE_CACHE = 4096  # articles kept parsed per segment (a question reads a few dozen)
_SCHEMA = """
CREATE TABLE articles (
    row INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    text_hash TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    first_sentence INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX articles_text_hash ON articles(text_hash);
"""


def write_segment(
    folder: Path,
    articles: list[Article],
    chunks: list[tuple[int, int, int]],
    chunk_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    passage_terms: list[list[str]] | None = None,
) -> dict:
    """Write a complete segment into the (new, empty) `folder`; returns its counts.
    `chunks` are (article position in `articles`, first, last) in vector order; `passage_terms`,
    when the caller has them, are the chunks' `terms()` (else they are computed here)."""
    folder.mkdir(parents=True)
    sentences = _insert_articles(folder / ARTICLES, articles)
    np.save(folder / "chunks.npy", np.asarray(chunks, dtype=np.int32).reshape(-1, 3))
    vectors = build_vector_index(chunk_vectors, chunk_vectors.shape[1])
    faiss.write_index(vectors, str(folder / "vectors.faiss"))
    np.save(folder / "sentence_vectors.npy", np.asarray(sentence_vectors, dtype=np.float16))
    if passage_terms is None:
        passage_terms = [terms(passage_text(articles[a], f, last)) for a, f, last in chunks]
    LexicalIndex.from_terms(passage_terms).save(folder / "lexical")
    return {"articles": len(articles), "chunks": len(chunks), "sentences": sentences}


def _insert_articles(path: Path, articles: list[Article]) -> int:
    """The articles table; returns the number of sentences (rows of the sentence vectors)."""
    first = 0
    rows = []
    for row, article in enumerate(articles):
        data = json.dumps(article.to_dict(), ensure_ascii=False)
        rows.append((row, article.id, text_hash(article), article.content_hash, first, data))
        first += len(article.sentences)
    db = sqlite3.connect(path)
    try:
        with db:
            db.executescript(_SCHEMA)
            db.executemany("INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?)", rows)
    finally:
        db.close()
    return first


class Segment:
    """A committed segment opened for reading; articles are fetched from SQLite on demand."""

    def __init__(self, folder: Path, deleted: frozenset[str] = frozenset(), searchable: bool = True):
        """`searchable=False` opens only the articles and the chunk table: what an ingest needs
        to find existing articles, without reading vectors or BM25."""
        self.folder = folder
        self.name = folder.name
        self.deleted = deleted
        self._lock = threading.Lock()  # the app answers from several threads
        uri = f"{(folder / ARTICLES).resolve().as_uri()}?mode=ro"
        self.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self.chunk_table = np.load(folder / "chunks.npy")
        if searchable:
            self.vectors = prepare(faiss.read_index(str(folder / "vectors.faiss")))
            self.sentence_vectors = np.load(folder / "sentence_vectors.npy", mmap_mode="r")
            self.lexical = LexicalIndex.load(folder / "lexical")
        deleted_rows = [r for r in (self.row_of(i) for i in deleted) if r is not None]
        # Chunks are addressed by their place among the live ones, so deletions never leave holes.
        self.live_rows = np.flatnonzero(~np.isin(self.chunk_table[:, 0], deleted_rows))
        self._articles: dict[int, Article] = {}  # recently read, bounded (no cycle, unlike lru_cache)

    def check(self, chunks: int, sentences: int, dim: int) -> None:
        """Raise ValueError unless every part holds what the manifest says."""
        parts = {"chunk table": (len(self.chunk_table), chunks)}
        if hasattr(self, "vectors"):
            parts |= {
                "vectors": (self.vectors.ntotal, chunks),
                "lexical passages": (self.lexical.passages, chunks),
                "sentence vectors": (self.sentence_vectors.shape, (sentences, 2, dim)),
            }
        for part, (found, expected) in parts.items():
            if found != expected:
                raise ValueError(f"segment {self.name}: {part} {found}, expected {expected}")

    def __len__(self) -> int:
        """Live chunks."""
        return len(self.live_rows)

    def _query(self, sql: str, *args: object) -> list[tuple]:
        with self._lock:
            return self.db.execute(sql, args).fetchall()

    def row_of(self, article_id: str) -> int | None:
        found = self._query("SELECT row FROM articles WHERE id = ?", article_id)
        return found[0][0] if found else None

    def live_row_of(self, article_id: str) -> int | None:
        return None if article_id in self.deleted else self.row_of(article_id)

    def owner_of_text(self, digest: str) -> str | None:
        """Id of a live article of this segment with the same text, if any."""
        for (article_id,) in self._query("SELECT id FROM articles WHERE text_hash = ?", digest):
            if article_id not in self.deleted:
                return article_id
        return None

    def article(self, row: int) -> Article:
        article = self._articles.get(row)
        if article is None:
            (data,) = self._query("SELECT data FROM articles WHERE row = ?", row)[0]
            article = Article.from_dict(json.loads(data))
            if len(self._articles) >= ARTICLE_CACHE:
                self._articles.clear()
            self._articles[row] = article
        return article

    def first_sentence(self, row: int) -> int:
        return self._query("SELECT first_sentence FROM articles WHERE row = ?", row)[0][0]

    def live_articles(self) -> Iterator[tuple[int, str]]:
        """(row, id) of every article not deleted, in row order."""
        for row, article_id in self._query("SELECT row, id FROM articles ORDER BY row"):
            if article_id not in self.deleted:
                yield row, article_id

    def chunk(self, live: int) -> Chunk:
        article_row, first, last = (int(v) for v in self.chunk_table[self.live_rows[live]])
        article = self.article(article_row)
        return Chunk(article.id, first, last, article.span_text(first, last))

    def live_vectors(self) -> np.ndarray:
        return all_vectors(self.vectors)[self.live_rows]

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Live chunk numbers and cosine scores of the k nearest live chunks."""
        if not len(self):
            return []
        scores, rows = self.vectors.search(query_vector.reshape(1, -1).astype(np.float32), self._wanted(k))
        return self._live_hits(zip(rows[0], scores[0], strict=True), k)

    def lexical_search(self, query_terms: list[str], k: int) -> list[tuple[int, float]]:
        return self._live_hits(self.lexical.search(query_terms, self._wanted(k)), k)

    def _wanted(self, k: int) -> int:
        """Ask for k plus the deleted rows, so k live ones remain after filtering."""
        return min(len(self.chunk_table), k + len(self.chunk_table) - len(self.live_rows))

    def _live_hits(self, hits: Iterable[tuple[int, float]], k: int) -> list[tuple[int, float]]:
        found = []
        for row, score in hits:
            live = int(np.searchsorted(self.live_rows, row))
            if row >= 0 and live < len(self.live_rows) and self.live_rows[live] == row:
                found.append((live, float(score)))
        return found[:k]

    def close(self) -> None:
        self.db.close()
