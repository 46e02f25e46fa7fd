"""The persisted index: segments of articles, chunks, vectors and BM25, under one manifest.

Layout of `indexes/<name>/`:

    CURRENT         the name of the live manifest (replaced atomically: the commit point)
    m000012.json    a manifest: format, embedder, chunking, the live segments in order, and
                    the articles of each segment that later ingests replaced or deleted
    s000011/        one immutable segment per ingest (see qa.stores.local.segment)

An ingest writes a new segment and a new manifest, and only then points CURRENT at the
manifest; a crash or Ctrl-C at any moment leaves the previous state loadable, and what it left
half-written is swept by the next write. Adding one article costs one small segment whatever
the size of the index; when segments pile up the small ones are merged (everything, when much
is deleted), reusing the stored vectors (nothing is embedded again).
"""

from __future__ import annotations

import bisect
import contextlib
import json
import logging
import os
import re
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np
from filelock import FileLock

from qa.errors import IndexUnavailable
from qa.models.embedder import TextEncoder
from qa.records import Article, Chunk
from qa.stores.base import FORMAT_VERSION, LiveIndex, Store, fuse_ranks, utc_now, validate_name
from qa.stores.batch import EmbeddedBatch, encode_sentences, passage_text
from qa.stores.local.segment import Segment, write_segment
from qa.stores.local.vectors import all_vectors
from qa.text.dates import published_on
from qa.text.terms import idf

log = logging.getLogger(__name__)

__all__ = ["Index", "IndexStore", "list_indexes"]

MAX_SEGMENTS = 8  # more than this after an ingest: compact
MAX_DELETED_SHARE = 0.25  # more of the chunks than this deleted: compact
LOAD_ATTEMPTS = 5  # a load that loses a race with a writer's commit tries again
_SEGMENT = re.compile(r"s(\d{6})")
_MANIFEST = re.compile(r"m(\d{6})\.json")
_OLD_VERSION = re.compile(r"v\d{6}")  # format 1: one folder per version, migrated on load


class ArticleView(Mapping[str, Article]):
    """Live articles by id, read from the segments on demand (newest segment first)."""

    def __init__(self, index: Index):
        self._index = index

    def locate(self, article_id: str) -> tuple[Segment, int] | None:
        for segment in reversed(self._index.segments):
            row = segment.live_row_of(article_id)
            if row is not None:
                return segment, row
        return None

    def __getitem__(self, article_id: str) -> Article:
        found = self.locate(article_id)
        if found is None:
            raise KeyError(article_id)
        segment, row = found
        return segment.article(row)

    def __iter__(self) -> Iterator[str]:
        for segment in self._index.segments:
            for _, article_id in segment.live_articles():
                yield article_id

    def __len__(self) -> int:
        return self._index.manifest["counts"]["articles"]


class ChunkView(Sequence[Chunk]):
    """Live chunks by position: each segment's live chunks, one segment after another."""

    def __init__(self, index: Index):
        self._segments = index.segments
        self._starts = list(np.cumsum([0] + [len(s) for s in index.segments[:-1]]))

    def __len__(self) -> int:
        return int(sum(len(s) for s in self._segments))

    def locate(self, position: int) -> tuple[Segment, int]:
        if not 0 <= position < len(self):
            raise IndexError(position)
        n = bisect.bisect_right(self._starts, position) - 1
        return self._segments[n], position - int(self._starts[n])

    def __getitem__(self, position):  # noqa: ANN001, ANN204 - Sequence protocol (int or slice)
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        segment, row = self.locate(position)
        return segment.chunk(row)

    def start_of(self, segment: Segment) -> int:
        return int(self._starts[self._segments.index(segment)])


class MergedLexical:
    """BM25 across segments: each segment's own ranking, merged by score (per-segment IDF;
    exact again after compaction), and collection-wide IDF for sentence support."""

    def __init__(self, index: Index):
        self._index = index
        self._parts = [s.lexical for s in index.segments]
        self.n_docs = max(1, sum(p.passages for p in self._parts))

    def idf(self, term: str) -> float:
        freq = sum(p.doc_freq(term) for p in self._parts)
        return idf(freq, self.n_docs)

    def search(self, query_terms: list[str], k: int) -> list[tuple[int, float]]:
        hits = []
        for segment in self._index.segments:
            start = self._index.chunks.start_of(segment)
            hits += [(start + row, score) for row, score in segment.lexical_search(query_terms, k)]
        return sorted(hits, key=lambda hit: -hit[1])[:k]


class Index:
    """A loaded index: the manifest's segments, searched and read as one collection."""

    def __init__(self, name: str, manifest: dict, segments: list[Segment]):
        self.name = name
        self.manifest = manifest
        self.segments = segments
        self.articles = ArticleView(self)
        self.chunks = ChunkView(self)
        self._days: dict[str, date | None] = {}  # publication days read for `since` filters

    @cached_property
    def lexical(self) -> MergedLexical:
        return MergedLexical(self)

    @property
    def sentence_count(self) -> int:
        return self.manifest["counts"]["sentences"]

    @property
    def chunk_count(self) -> int:
        return len(self.chunks)

    def chunk_vectors(self) -> np.ndarray:
        """Vectors of `chunks`, in the same order."""
        parts = [segment.live_vectors() for segment in self.segments]
        return np.concatenate(parts) if parts else np.zeros((0, self.manifest["embedder"]["dim"]), np.float32)

    def stored_sentence_vectors(self, keys: list[tuple[str, int]]) -> np.ndarray:
        """(len(keys), 2, dim) float32 for (article id, sentence index) keys."""
        out = np.empty((len(keys), 2, self.manifest["embedder"]["dim"]), dtype=np.float32)
        for n, (article_id, i) in enumerate(keys):
            found = self.articles.locate(article_id)
            if found is None:
                raise KeyError(article_id)
            segment, row = found
            out[n] = segment.sentence_vectors[segment.first_sentence(row) + i]
        return out

    def hybrid_search(
        self, query_vector: np.ndarray, query_terms: list[str], k: int, since: date | None = None
    ) -> list[tuple[Chunk, float]]:
        """`qa.stores.base.SearchIndex.hybrid_search`: the `k` best of dense and of BM25 search, fused by
        reciprocal rank. With `since`, each search goes deeper until it has `k` passages of
        recent enough articles or has run out (a filter after search: fine for the thousands of
        passages of a news desk; at millions, or with IVF segments, whose probes see only part
        of the index, Qdrant filters inside the search)."""
        rankings = []
        for search in (lambda d: self.search(query_vector, d), lambda d: self.lexical.search(query_terms, d)):
            depth = k if since is None else 4 * k
            while True:
                found = [p for p, _ in search(depth)]
                kept = found if since is None else [p for p in found if self._published_since(p, since)]
                if len(kept) >= k or len(found) < depth or depth >= len(self.chunks):
                    break
                depth *= 4
            rankings.append(kept[:k])
        return [(self.chunks[p], score) for p, score in fuse_ranks(rankings, k)]

    def _published_since(self, position: int, since: date) -> bool:
        article_id = self.chunks[position].article_id
        if article_id not in self._days:
            self._days[article_id] = published_on(self.articles[article_id].published)
        day = self._days[article_id]
        return day is not None and day >= since

    def idf(self, term: str) -> float:
        """Over all segments' passages (sentence support weighs the question's terms by it)."""
        return self.lexical.idf(term)

    def content_hash(self, article_id: str) -> str | None:
        """`qa.stores.base.Previous`: what an ingest compares a re-read article with."""
        article = self.articles.get(article_id)
        return article.content_hash if article is not None else None

    def owner_of_text(self, digest: str) -> str | None:
        """The live article whose text hashes to `digest` (duplicates are left out)."""
        for segment in reversed(self.segments):
            owner = segment.owner_of_text(digest)
            if owner is not None:
                return owner
        return None

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Chunk positions and cosine scores of the `k` nearest live chunks."""
        hits = []
        for segment in self.segments:
            start = self.chunks.start_of(segment)
            hits += [(start + row, score) for row, score in segment.search(query_vector, k)]
        return sorted(hits, key=lambda hit: -hit[1])[:k]

    def passage(self, chunk_id: str) -> str:
        """Title and text of a retrieved chunk, by the id an `Answer.retrieved` lists."""
        article_id, first, last = Chunk.parse_id(chunk_id)
        article = self.articles[article_id]
        return passage_text(article, first, last)

    def close(self) -> None:
        for segment in self.segments:
            segment.close()


class IndexStore(Store):
    """Reads and atomically writes one named index under a root folder."""

    def __init__(self, root: Path, name: str):
        self.root = Path(root)
        self.name = validate_name(name)
        self.path = self.root / self.name

    def exists(self) -> bool:
        return (self.path / "CURRENT").is_file()

    def load(
        self, embedder: TextEncoder | None = None, reuse: Index | None = None, *, _locked: bool = False,
        searchable: bool = True,
    ) -> Index:  # fmt: skip
        """Load the live manifest's segments; with `embedder`, refuse an index built by
        another model; with `reuse`, keep that index's open segments that did not change (a
        reload after adding one article reads only the new segment). An index of the previous
        format is converted once (no re-embedding)."""
        if not self.exists():
            raise IndexUnavailable(
                f"No index named '{self.name}' in {self.root}. "
                f"Build it with: python -m qa ingest PATH --index {self.name}"
            )
        if _OLD_VERSION.fullmatch(self._live() or ""):
            with contextlib.nullcontext() if _locked else self._lock():
                if _OLD_VERSION.fullmatch(self._live() or ""):
                    self._migrate(embedder)
        for attempt in range(LOAD_ATTEMPTS):
            live = self._live() or ""
            try:
                index = self._load(live, searchable, reuse)
                break
            except IndexUnavailable:
                # A writer committed (an ingest may commit twice: its segment, then a
                # compaction) and swept what this read started on: read the new state.
                if self._live() in (live, None) or attempt == LOAD_ATTEMPTS - 1:
                    raise
        if embedder is not None:
            built = index.manifest["embedder"]
            if built["name"] != embedder.name or built["dim"] != embedder.dim:
                raise IndexUnavailable(
                    f"Index '{self.name}' was built with embedder {built['name']} "
                    f"(dim {built['dim']}), not {embedder.name} (dim {embedder.dim}). Rebuild it "
                    f"with: python -m qa ingest PATH --index {self.name} --rebuild, or set "
                    f"QA_EMBEDDER to the model it was built with (QA_TUNED=off: the packaged base model)."
                )
        return index

    def read_manifest(self, _locked: bool = False) -> dict:
        """The live manifest alone (no segment is opened)."""
        if _OLD_VERSION.fullmatch(self._live() or ""):
            self.load(_locked=_locked).close()  # converts it
        try:
            return json.loads((self.path / (self._live() or "")).read_text())
        except (OSError, ValueError) as exc:
            raise IndexUnavailable(f"Index '{self.name}' has no readable manifest ({exc})") from exc

    def _load(self, live: str, searchable: bool = True, reuse: Index | None = None) -> Index:
        rebuild = f"Rebuild it with: python -m qa ingest PATH --index {self.name} --rebuild"
        segments: list[Segment] = []
        try:
            manifest = json.loads((self.path / live).read_text())
            if manifest.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"format version {manifest.get('format_version')}")
            for entry in manifest["segments"]:
                deleted = frozenset(manifest["deleted"].get(entry["name"], []))
                folder = self.path / entry["name"]
                reusable = [
                    s for s in (reuse.segments if reuse else []) if (s.folder, s.deleted) == (folder, deleted)
                ]
                segment = reusable[0] if reusable else Segment(folder, deleted, searchable)
                segments.append(segment)
                segment.check(entry["chunks"], entry["sentences"], manifest["embedder"]["dim"])
        except Exception as exc:  # OSError, ValueError, sqlite3.Error, RuntimeError from FAISS, ...
            for segment in segments:
                if reuse is None or segment not in reuse.segments:
                    segment.close()
            raise IndexUnavailable(
                f"Index '{self.name}' at {self.path / live} is unreadable or corrupt ({exc}). {rebuild}"
            ) from exc
        return Index(self.name, manifest, segments)

    @contextlib.contextmanager
    def _writing(self, embedder: TextEncoder, rebuild: bool) -> Iterator[LiveIndex]:
        """`Store._writing`: the writer lock, and the live index read without its search files."""
        with self._lock():
            self._sweep()
            previous = None
            if not rebuild and self.exists():
                previous = self.load(embedder, _locked=True, searchable=False)
            try:
                if previous is None:
                    yield LiveIndex()
                else:
                    chunking = previous.manifest["chunking"]
                    yield LiveIndex(previous, (chunking["chunk_chars"], chunking["chunk_overlap"]))
            finally:
                if previous is not None:
                    previous.close()

    def _write(
        self, batch: EmbeddedBatch, replaced: set[str], live: LiveIndex, embedder: TextEncoder,
        chunk_chars: int, chunk_overlap: int,
    ) -> None:  # fmt: skip
        """`Store._write`: one new segment, and the replaced articles marked deleted in the new
        manifest; committed at once, then compacted if segments piled up."""
        previous: Index | None = live.previous  # type: ignore[assignment] - this store's own
        vectors = (batch.chunk_vectors, batch.sentence_vectors)
        segment = self._write_segment(batch.articles, batch.chunks, *vectors)
        manifest = _manifest(
            self.name, embedder, chunk_chars, chunk_overlap,
            (previous.manifest["segments"] if previous else []) + [segment],
            _with_deleted(previous, replaced),
        )  # fmt: skip
        if previous is not None:
            removed = _counts_of(previous, replaced)
            manifest["counts"] = {k: previous.manifest["counts"][k] - removed[k] + segment[k]
                                  for k in removed}  # fmt: skip
        self._commit(manifest)
        if previous is not None:
            previous.close()
        self._compact_if_needed(embedder)

    def delete(self, ids_or_sources: Iterable[str], embedder: TextEncoder | None = None) -> list[str]:
        """Remove articles (by id or by source) from search; returns the ids removed."""
        with self._lock():
            self._sweep()
            index = self.load(embedder, _locked=True, searchable=False)
            gone = set()
            for key in ids_or_sources:
                article_id = key if key in index.articles else Article("", "", key).id
                if article_id in index.articles:
                    gone.add(article_id)
            if gone:
                manifest = dict(index.manifest)
                manifest["deleted"] = _with_deleted(index, gone)
                removed = _counts_of(index, gone)
                manifest["counts"] = {k: v - removed[k] for k, v in index.manifest["counts"].items()}
                manifest["updated"] = utc_now()
                self._commit(manifest)
                self._compact_if_needed(embedder)
            index.close()
            return sorted(gone)

    def write_bulk(
        self, articles: list[Article], chunks: list[tuple[int, int, int]], chunk_vectors: np.ndarray,
        sentence_vectors: np.ndarray, embedder: TextEncoder, chunk_chars: int, chunk_overlap: int,
        passage_terms: list[list[str]] | None = None,
    ) -> None:  # fmt: skip
        """Replace the index with one segment of already-embedded data (benchmarks, imports):
        `chunks` are (article position, first, last) in `chunk_vectors` order."""
        with self._lock():
            self._sweep()
            entry = self._write_segment(articles, chunks, chunk_vectors, sentence_vectors, passage_terms)
            self._commit(_manifest(self.name, embedder, chunk_chars, chunk_overlap, [entry], {}))

    def compact(self, embedder: TextEncoder | None = None) -> None:
        """Merge all segments into one without deleted articles, reusing stored vectors."""
        with self._lock():
            self._sweep()
            self._compact(self.load(embedder, _locked=True))

    def _compact_if_needed(self, embedder: TextEncoder | None) -> None:
        """Many deletions: merge everything (the space comes back). Many segments: merge all
        but the largest, so a big index is not rewritten because small ingests piled up."""
        manifest = self.read_manifest(_locked=True)
        entries = manifest["segments"]
        rows = sum(entry["chunks"] for entry in entries)
        if rows - manifest["counts"]["chunks"] > MAX_DELETED_SHARE * rows:
            self._compact(self.load(embedder, _locked=True))
        elif len(entries) > MAX_SEGMENTS:
            largest = max(entries, key=lambda entry: entry["chunks"])["name"]
            self._compact(self.load(embedder, _locked=True), {e["name"] for e in entries} - {largest})

    def _compact(self, index: Index, names: set[str] | None = None) -> None:
        """Merge the segments `names` (default: all) into one, without deleted articles."""
        merging = [s for s in index.segments if names is None or s.name in names]
        articles: list[Article] = []
        chunks: list[tuple[int, int, int]] = []
        chunk_vectors, sentence_vectors = [], []
        for segment in merging:
            live = list(segment.live_articles())
            positions = {row: len(articles) + n for n, (row, _) in enumerate(live)}
            articles += [segment.article(row) for row, _ in live]
            chunks += [(positions[int(row[0])], int(row[1]), int(row[2]))
                       for row in segment.chunk_table[segment.live_rows]]  # fmt: skip
            chunk_vectors.append(segment.live_vectors())
            for row, _ in live:
                start = segment.first_sentence(row)
                count = len(segment.article(row).sentences)
                sentence_vectors.append(np.asarray(segment.sentence_vectors[start : start + count]))
        dim = index.manifest["embedder"]["dim"]
        entry = self._write_segment(
            articles, chunks,
            np.concatenate(chunk_vectors) if chunk_vectors else np.zeros((0, dim), np.float32),
            np.concatenate(sentence_vectors) if sentence_vectors else np.zeros((0, 2, dim), np.float16),
        )  # fmt: skip
        kept = [e for e in index.manifest["segments"] if e["name"] not in {s.name for s in merging}]
        deleted = {k: v for k, v in index.manifest["deleted"].items() if k in {e["name"] for e in kept}}
        # The live counts do not change: only deleted rows are dropped.
        manifest = {**index.manifest, "segments": [*kept, entry], "deleted": deleted, "updated": utc_now()}
        index.close()
        self._commit(manifest)
        log.info("index %s: compacted %d segments into %s", self.name, len(merging), entry["name"])

    def _write_segment(
        self, articles: list[Article], chunks: list[tuple[int, int, int]], chunk_vectors: np.ndarray,
        sentence_vectors: np.ndarray, passage_terms: list[list[str]] | None = None,
    ) -> dict:  # fmt: skip
        """Stage the segment, flush it, move it into place (not yet referenced by CURRENT)."""
        self.path.mkdir(parents=True, exist_ok=True)
        name = f"s{self._next_number(_SEGMENT):06d}"
        staging = self.path / f".staging-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            counts = write_segment(staging, articles, chunks, chunk_vectors, sentence_vectors, passage_terms)
            for path in sorted(staging.rglob("*"), reverse=True):  # files, then their folders
                _fsync(path)
            _fsync(staging)
            os.replace(staging, self.path / name)
            _fsync(self.path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return {"name": name, **counts}

    def _commit(self, manifest: dict) -> None:
        """Write the manifest, then swap CURRENT to it: the one commit point of every write."""
        name = f"m{self._next_number(_MANIFEST):06d}.json"
        staged = self.path / f".{name}.tmp"
        staged.write_text(json.dumps(manifest, indent=1))
        _fsync(staged)
        os.replace(staged, self.path / name)
        pointer = self.path / ".CURRENT.tmp"
        pointer.write_text(name)
        _fsync(pointer)
        _fsync(self.path)  # the segment and manifest names are durable before CURRENT names them
        os.replace(pointer, self.path / "CURRENT")  # the commit point
        _fsync(self.path)  # and the commit itself, before the sweep removes the previous state
        self._sweep()
        log.info("index %s: committed %s (%d segments)", self.name, name, len(manifest["segments"]))

    def _migrate(self, embedder: TextEncoder | None) -> None:
        """Convert a format-1 version folder (all in JSONL + one FAISS file) into one segment.
        One written before sentence vectors were stored gets them from `embedder`."""
        old = self.path / (self._live() or "")
        try:
            manifest = json.loads((old / "manifest.json").read_text())
            articles = [Article.from_dict(json.loads(line)) for line in _lines(old / "articles.jsonl")]
            positions = {a.id: n for n, a in enumerate(articles)}
            chunks = [(positions[c["article_id"]], c["first"], c["last"])
                      for c in map(json.loads, _lines(old / "chunks.jsonl"))]  # fmt: skip
            chunk_vectors = all_vectors(faiss.read_index(str(old / "vectors.faiss")))
            if (old / "sentence_vectors.npy").is_file() or embedder is None:
                sentence_vectors = np.load(old / "sentence_vectors.npy")
            else:
                sentence_vectors = encode_sentences(embedder, articles)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise IndexUnavailable(
                f"Index '{self.name}' is in an older format that cannot be converted ({exc}). Rebuild "
                f"it with: python -m qa ingest PATH --index {self.name} --rebuild"
            ) from exc
        entry = self._write_segment(articles, chunks, chunk_vectors, sentence_vectors)
        embedder = manifest["embedder"]
        self._commit({
            "format_version": FORMAT_VERSION, "name": self.name, "embedder": embedder,
            "chunking": manifest["chunking"], "segments": [entry], "deleted": {},
            "counts": {k: entry[k] for k in ("articles", "chunks", "sentences")}, "updated": utc_now(),
        })  # fmt: skip
        log.info("index %s: converted %s to segments", self.name, old.name)

    def _next_number(self, pattern: re.Pattern) -> int:
        numbers = [int(m.group(1)) for p in self.path.iterdir() if (m := pattern.fullmatch(p.name))]
        live = self._live() or ""
        numbers += [int(m.group(1)) for m in [pattern.fullmatch(live)] if m]
        return max(numbers, default=0) + 1

    def _sweep(self) -> None:
        """Remove what is not part of the committed state: a crashed write's staging folder,
        segments and manifests it wrote but did not commit, pointers not swapped in, and what
        the live manifest no longer uses. Runs under the writer lock."""
        live = self._live()
        if live is None or not self.path.is_dir():
            return
        keep = {live, ".lock", "CURRENT"}
        if _OLD_VERSION.fullmatch(live):
            keep.add(live)
        else:
            try:
                keep |= {entry["name"] for entry in json.loads((self.path / live).read_text())["segments"]}
            except (OSError, ValueError, KeyError):
                return  # an unreadable manifest: touch nothing, loading will say what is wrong
        for leftover in self.path.iterdir():
            if leftover.name not in keep:
                if leftover.is_dir():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink(missing_ok=True)

    def _live(self) -> str | None:
        current = self.path / "CURRENT"
        return current.read_text().strip() if current.is_file() else None

    def _lock(self) -> FileLock:
        """One writer at a time per index (the UI and a CLI ingest may race)."""
        self.path.mkdir(parents=True, exist_ok=True)
        return FileLock(self.path / ".lock")


def list_indexes(root: Path) -> list[str]:
    return sorted(p.name for p in Path(root).glob("*") if (p / "CURRENT").is_file())


def _with_deleted(index: Index | None, ids: set[str]) -> dict[str, list[str]]:
    """The manifest's deletions plus `ids`, each under the segment that holds it live."""
    deleted = {k: set(v) for k, v in (index.manifest["deleted"] if index else {}).items()}
    for article_id in ids:
        found = index.articles.locate(article_id) if index else None
        if found is not None:
            deleted.setdefault(found[0].name, set()).add(article_id)
    return {k: sorted(v) for k, v in deleted.items()}


def _counts_of(index: Index, ids: set[str]) -> dict[str, int]:
    """Articles, chunks and sentences that the live articles `ids` hold."""
    counts = {"articles": 0, "chunks": 0, "sentences": 0}
    for article_id in ids:
        found = index.articles.locate(article_id)
        if found is None:
            continue
        segment, row = found
        counts["articles"] += 1
        counts["chunks"] += int(np.count_nonzero(segment.chunk_table[:, 0] == row))
        counts["sentences"] += len(segment.article(row).sentences)
    return counts


def _manifest(
    name: str, embedder: TextEncoder, chunk_chars: int, chunk_overlap: int, segments: list[dict],
    deleted: dict[str, list[str]],
) -> dict:  # fmt: skip
    manifest = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "embedder": {"name": embedder.name, "dim": embedder.dim, "runtime": embedder.runtime},
        "chunking": {"chunk_chars": chunk_chars, "chunk_overlap": chunk_overlap},
        "segments": segments,
        "deleted": deleted,
        "updated": utc_now(),
    }
    manifest["counts"] = {k: sum(s[k] for s in segments) for k in ("articles", "chunks", "sentences")}
    return manifest


def _lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as handle:
        yield from (line for line in handle if line.strip())


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries (so a rename into it survives a power loss)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
