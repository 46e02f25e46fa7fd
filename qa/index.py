"""The persisted index: articles, their chunks, and a FAISS inner-product index of chunk vectors.

Layout of `indexes/<name>/`:

    CURRENT             the name of the live version folder (replaced atomically)
    v000007/            one complete version
        manifest.json   format version, embedder name and dimension, chunking, content hashes
        articles.jsonl  one article per line, with its sentence spans
        chunks.jsonl    one chunk per line: article id and sentence range
        vectors.faiss   normalised chunk vectors, row i = chunk i
        sentence_vectors.npy  float16 vectors of every sentence, alone and with its title,
                        in article order: computed once here, so no text is encoded per question

A write builds a new version folder and only then points CURRENT at it, so a crash or Ctrl-C
mid-ingest leaves the previous version loadable.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from qa.embed import Embedder
from qa.errors import IndexUnavailable
from qa.records import Article, Chunk
from qa.split import chunk_article

if TYPE_CHECKING:
    from qa.ingest import ReadResult

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_VERSION = re.compile(r"v\d{6}")


def validate_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise IndexUnavailable(f"Invalid index name {name!r}: use letters, digits, '-', '_' or '.' (max 64).")
    return name


@dataclass
class IngestReport:
    """What one ingest did, article by article."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # files read, but not as UTF-8
    chunks_embedded: int = 0
    sentences_embedded: int = 0

    @classmethod
    def of(cls, result: ReadResult) -> IngestReport:
        """A report that starts with what reading the files skipped or noted."""
        return cls(skipped=list(result.skipped), notes=list(result.notes))

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.replaced)} replaced",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.duplicates)} duplicate",
            f"{len(self.skipped)} skipped",
        ]
        embedded = f"{self.chunks_embedded} chunks, {self.sentences_embedded} sentences embedded"
        return ", ".join(parts) + f" ({embedded})"


@dataclass
class Index:
    """A loaded index version: everything retrieval and citation need, in memory."""

    name: str
    manifest: dict
    articles: dict[str, Article]
    chunks: list[Chunk]
    vectors: faiss.Index
    # (sentences, 2, dim): each sentence alone and read with its title (see `sentence_texts`);
    # None for an index written before they were stored (retrieval then encodes them).
    sentence_vectors: np.ndarray | None = None

    @property
    def sentence_count(self) -> int:
        return sum(len(a.sentences) for a in self.articles.values())

    @cached_property
    def sentence_rows(self) -> dict[str, int]:
        """Row of each article's first sentence in `sentence_vectors` (article order)."""
        rows, row = {}, 0
        for article in self.articles.values():
            rows[article.id] = row
            row += len(article.sentences)
        return rows

    def stored_sentence_vectors(self, keys: list[tuple[str, int]]) -> np.ndarray | None:
        """(len(keys), 2, dim) float32 for (article id, sentence index) keys, if stored."""
        if self.sentence_vectors is None:
            return None
        rows = [self.sentence_rows[article_id] + i for article_id, i in keys]
        return self.sentence_vectors[rows].astype(np.float32)

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Chunk positions and cosine scores of the `k` nearest chunks."""
        if not self.chunks:
            return []
        scores, ids = self.vectors.search(query_vector.reshape(1, -1).astype(np.float32), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    @cached_property
    def chunks_by_id(self) -> dict[str, Chunk]:
        return {c.id: c for c in self.chunks}

    def passage(self, chunk_id: str) -> str:
        """Title and text of a retrieved chunk, by the id an `Answer.retrieved` lists."""
        chunk = self.chunks_by_id[chunk_id]
        return embedding_text(self.articles[chunk.article_id], chunk)

    def chunk_vectors(self) -> np.ndarray:
        if self.vectors.ntotal == 0:
            return np.zeros((0, self.vectors.d), dtype=np.float32)
        return self.vectors.reconstruct_n(0, self.vectors.ntotal)


class IndexStore:
    """Reads and atomically writes one named index under a root folder."""

    def __init__(self, root: Path, name: str):
        self.root = Path(root)
        self.name = validate_name(name)
        self.path = self.root / self.name

    def exists(self) -> bool:
        return (self.path / "CURRENT").is_file()

    def load(self, embedder: Embedder | None = None) -> Index:
        """Load the live version; with `embedder`, refuse an index built by another model."""
        if not self.exists():
            raise IndexUnavailable(
                f"No index named '{self.name}' in {self.root}. "
                f"Build it with: python -m qa ingest PATH --index {self.name}"
            )
        live = self._live_version() or ""
        try:
            return self._load(embedder, live)
        except IndexUnavailable:
            # A writer may have committed and swept the version this read started on.
            if self._live_version() in (live, None):
                raise
            return self._load(embedder, self._live_version() or "")

    def _load(self, embedder: Embedder | None, live: str) -> Index:
        version = self.path / live
        try:
            manifest = json.loads((version / "manifest.json").read_text())
            if manifest.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"format version {manifest.get('format_version')}")
            articles = {a.id: a for a in map(Article.from_dict, _read_jsonl(version / "articles.jsonl"))}
            chunks = [
                _chunk(articles[c["article_id"]], c["first"], c["last"])
                for c in _read_jsonl(version / "chunks.jsonl")
            ]
            vectors = faiss.read_index(str(version / "vectors.faiss"))
            stored = version / "sentence_vectors.npy"
            sentence_vectors = np.load(stored) if stored.is_file() else None
        except (OSError, ValueError, KeyError, RuntimeError, EOFError) as exc:
            raise IndexUnavailable(
                f"Index '{self.name}' at {version} is unreadable ({exc}). Rebuild it with: "
                f"python -m qa ingest PATH --index {self.name} --rebuild"
            ) from exc
        if vectors.ntotal != len(chunks):
            raise IndexUnavailable(
                f"Index '{self.name}' is corrupt: {vectors.ntotal} vectors for {len(chunks)} "
                f"chunks. Rebuild it with: python -m qa ingest PATH --index {self.name} --rebuild"
            )
        index = Index(self.name, manifest, articles, chunks, vectors, sentence_vectors)
        expected = (index.sentence_count, 2, manifest["embedder"]["dim"])
        if sentence_vectors is not None and sentence_vectors.shape != expected:
            raise IndexUnavailable(
                f"Index '{self.name}' is corrupt: sentence vectors of shape {sentence_vectors.shape} "
                f"for {expected[0]} sentences of dimension {expected[2]}. Rebuild it with: "
                f"python -m qa ingest PATH --index {self.name} --rebuild"
            )
        if embedder is not None:
            built = manifest["embedder"]
            if built["name"] != embedder.name or built["dim"] != embedder.dim:
                raise IndexUnavailable(
                    f"Index '{self.name}' was built with embedder {built['name']} "
                    f"(dim {built['dim']}), not {embedder.name} (dim {embedder.dim}). Rebuild it "
                    f"with: python -m qa ingest PATH --index {self.name} --rebuild, or set "
                    f"QA_EMBEDDER to the model it was built with."
                )
        return index

    def ingest(
        self,
        articles: Iterable[Article],
        embedder: Embedder,
        chunk_chars: int,
        chunk_overlap: int,
        rebuild: bool = False,
        progress: bool = True,
        report: IngestReport | None = None,
    ) -> IngestReport:
        """Add new articles, replace changed ones, keep the rest; then swap in the new version."""
        report = report or IngestReport()
        with self._lock():
            self._sweep()
            previous = None if rebuild or not self.exists() else self.load(embedder)
            if previous is not None:
                chunking = previous.manifest["chunking"]
                chunk_chars, chunk_overlap = chunking["chunk_chars"], chunking["chunk_overlap"]
            kept: dict[str, Article] = dict(previous.articles) if previous else {}
            text_hashes = {_text_hash(a): a.id for a in kept.values()}
            fresh: dict[str, Article] = {}
            for article in articles:
                label = f"{article.title} ({article.source})"
                old = kept.get(article.id) or fresh.get(article.id)
                if old is not None and old.content_hash == article.content_hash:
                    report.unchanged.append(label)
                    continue
                owner = text_hashes.get(_text_hash(article))
                if owner is not None and owner != article.id:
                    report.duplicates.append(label)
                    continue
                (report.replaced if old is not None else report.added).append(label)
                kept.pop(article.id, None)
                fresh[article.id] = article
                text_hashes[_text_hash(article)] = article.id
            if previous is not None and not fresh and len(kept) == len(previous.articles):
                return report  # nothing changed: keep the live version as it is

            old_vectors = previous.chunk_vectors() if previous else None
            keep_rows = [i for i, c in enumerate(previous.chunks if previous else []) if c.article_id in kept]
            new_chunks = [c for a in fresh.values() for c in chunk_article(a, chunk_chars, chunk_overlap)]
            new_vectors = embedder.encode(
                [embedding_text(fresh[c.article_id], c) for c in new_chunks], progress=progress
            )
            report.chunks_embedded = len(new_chunks)
            vectors = faiss.IndexFlatIP(embedder.dim)
            if keep_rows and old_vectors is not None:
                vectors.add(old_vectors[keep_rows])
            if len(new_chunks):
                vectors.add(new_vectors)
            chunks = [previous.chunks[i] for i in keep_rows] if previous else []
            chunks += new_chunks
            all_articles = {**kept, **fresh}
            sentence_vectors = _sentence_vectors(all_articles, previous, embedder, progress, report)
            manifest = {
                "format_version": FORMAT_VERSION,
                "name": self.name,
                "embedder": {"name": embedder.name, "dim": embedder.dim},
                "chunking": {"chunk_chars": chunk_chars, "chunk_overlap": chunk_overlap},
                "articles": {a.id: a.content_hash for a in all_articles.values()},
                "counts": {
                    "articles": len(all_articles),
                    "chunks": len(chunks),
                    "sentences": len(sentence_vectors),
                },  # fmt: skip
                "updated": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            self._write_version(manifest, all_articles.values(), chunks, vectors, sentence_vectors)
        return report

    def _write_version(
        self, manifest: dict, articles: Iterable[Article], chunks: list[Chunk], vectors: faiss.Index,
        sentence_vectors: np.ndarray,
    ) -> None:  # fmt: skip
        self.path.mkdir(parents=True, exist_ok=True)
        live = self._live_version()
        number = int(live[1:]) + 1 if live else 1
        version = self.path / f"v{number:06d}"  # matches _VERSION
        staging = self.path / f".staging-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            _write_jsonl(staging / "articles.jsonl", (a.to_dict() for a in articles))
            _write_jsonl(
                staging / "chunks.jsonl",
                ({"article_id": c.article_id, "first": c.first, "last": c.last} for c in chunks),
            )
            faiss.write_index(vectors, str(staging / "vectors.faiss"))
            np.save(staging / "sentence_vectors.npy", sentence_vectors)
            (staging / "manifest.json").write_text(json.dumps(manifest, indent=1))
            for file in staging.iterdir():
                _fsync(file)
            shutil.rmtree(version, ignore_errors=True)
            os.replace(staging, version)
            pointer = self.path / ".CURRENT.tmp"
            pointer.write_text(version.name)
            _fsync(pointer)
            os.replace(pointer, self.path / "CURRENT")  # the commit point
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._sweep()  # the previous version
        log.info("index %s: wrote %s (%d chunks)", self.name, version.name, len(chunks))

    def _sweep(self) -> None:
        """Remove what a crashed write left behind (a staging folder, an uncommitted version,
        a pointer not yet swapped in, versions a crash kept from being removed). Runs under the
        writer lock, so no write is in progress."""
        live = self._live_version()
        for leftover in self.path.iterdir():
            stale_version = _VERSION.fullmatch(leftover.name) and leftover.name != live
            if leftover.name.startswith(".staging-") or stale_version:
                shutil.rmtree(leftover, ignore_errors=True)
            elif leftover.name == ".CURRENT.tmp":
                leftover.unlink(missing_ok=True)

    def _live_version(self) -> str | None:
        current = self.path / "CURRENT"
        return current.read_text().strip() if current.is_file() else None

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """One writer at a time per index (the UI and a CLI ingest may race)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def list_indexes(root: Path) -> list[str]:
    return sorted(p.name for p in Path(root).glob("*") if (p / "CURRENT").is_file())


def _chunk(article: Article, first: int, last: int) -> Chunk:
    text = article.text[article.sentences[first][0] : article.sentences[last][1]]
    return Chunk(article.id, first, last, text)


def sentence_texts(article: Article) -> tuple[list[str], list[str]]:
    """What each sentence is embedded as: alone, and read with its title ("He said..." often
    needs the headline)."""
    plain = [article.sentence(i) for i in range(len(article.sentences))]
    return plain, [with_title(article, text) for text in plain]


def with_title(article: Article, sentence: str) -> str:
    return f"{article.title}. {sentence}"


def encode_sentences(
    embedder: Embedder, plain: list[str], titled: list[str], progress: bool = False
) -> np.ndarray:
    """(n, 2, dim): each sentence alone and with its title, as `sentence_vectors` stores them."""
    encoded = embedder.encode(plain + titled, progress=progress)
    return np.stack([encoded[: len(plain)], encoded[len(plain) :]], axis=1)


def _sentence_vectors(
    articles: dict[str, Article], previous: Index | None, embedder: Embedder, progress: bool,
    report: IngestReport,
) -> np.ndarray:  # fmt: skip
    """Sentence vectors of every article in order: kept from the previous version when it has
    them, encoded for new and changed articles (and for all, once, after an older version)."""
    parts: list[np.ndarray | None] = []
    missing: list[Article] = []
    old = previous.sentence_vectors if previous is not None else None
    for article in articles.values():
        if old is not None and previous is not None and previous.articles.get(article.id) is article:
            start = previous.sentence_rows[article.id]
            parts.append(old[start : start + len(article.sentences)])
        else:
            parts.append(None)
            missing.append(article)
    texts = [sentence_texts(a) for a in missing]
    plain = [t for pair in texts for t in pair[0]]
    titled = [t for pair in texts for t in pair[1]]
    fresh = encode_sentences(embedder, plain, titled, progress).astype(np.float16)
    report.sentences_embedded = len(plain)
    offset = 0
    pending = iter(missing)
    for n, part in enumerate(parts):
        if part is None:
            count = len(next(pending).sentences)
            parts[n] = fresh[offset : offset + count]
            offset += count
    if not parts:
        return np.zeros((0, 2, embedder.dim), dtype=np.float16)
    return np.concatenate(parts, axis=0)


def embedding_text(article: Article, chunk: Chunk) -> str:
    """The title travels with every chunk: a passage rarely names its own topic."""
    return f"{article.title}\n{chunk.text}"


def _text_hash(article: Article) -> str:
    return hashlib.sha1(article.text.strip().encode("utf-8")).hexdigest()


def _read_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
