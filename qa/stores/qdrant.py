"""The Qdrant backend of `qa.stores.base`: `QA_STORE=qdrant` with `QA_QDRANT_URL` (a Qdrant server or
cluster) or `QA_QDRANT_PATH` (qdrant-client's local mode: the same API in-process, on a folder).

Three collections per index `<name>`:

    <name>__passages   "dense": the passage vector (dot product of normalised vectors, as FAISS);
                       "bm25": BM25 term weights of the passage, Qdrant's IDF modifier supplies
                       the IDF at query time; payload: article id and content hash, sentence
                       span, published time, the passage's distinct terms (for IDF lookups)
    <name>__sentences  "plain" and "titled" vectors of every sentence (read back, not searched)
    <name>__articles   the articles (text, title, source, date, sentence spans) as payload, no
                       vectors; plus one meta point: embedder, chunking, counts, BM25 lengths

A search is one `query_points` call: dense and sparse prefetches fused by Qdrant's reciprocal
rank fusion with the same constant as the FAISS store, filtered on the published time.

Qdrant has no transaction across points, so writes are ordered to keep readers consistent:
passages and sentences first (their ids carry the article's content hash, so a new version never
overwrites the old), then the article point (each article's commit point), then the points of
the replaced version are deleted. A reader drops any passage whose content hash is not its
article's live one: it never reads a half-written or replaced version. What a crash leaves
behind is listed in the meta point as pending and removed by the next write.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.errors import IndexUnavailable, QAError, SettingsError
from qa.models.embedder import TextEncoder
from qa.records import Article, Chunk
from qa.stores.base import FORMAT_VERSION, RRF_K, LiveIndex, Store, utc_now, validate_name
from qa.stores.batch import EmbeddedBatch, passage_text, text_hash
from qa.text.dates import published_on
from qa.text.terms import idf, terms

if TYPE_CHECKING:
    from qa.config import Settings

log = logging.getLogger(__name__)

_NAMESPACE = uuid.UUID("6f1c2a3e-8d4b-4c1e-9a7f-2b5d8e0c4a91")
_META_ID = str(uuid.uuid5(_NAMESPACE, "meta"))
BM25_K1, BM25_B = 1.5, 0.75  # bm25s's defaults, so both stores score terms alike
UPSERT_BATCH = 256
LEASE_SECONDS = 60  # a writer that stops renewing its lease for this long is taken as crashed
MAX_CACHED_ARTICLES = 10_000
_clients: dict[tuple[str | None, str | None], _Guarded] = {}
_clients_lock = threading.Lock()
_write_locks: dict[tuple[int, str], threading.Lock] = {}


class _Guarded:
    """A Qdrant client whose failures are `IndexUnavailable` naming the setting (not a stack
    trace on a question), and which, in local mode (no locking of its own), runs one call at a
    time: the app answers and ingests from several threads."""

    def __init__(self, client: object, where: str, local: bool):
        self._client = client
        self.where = where
        self._lock: contextlib.AbstractContextManager = (
            threading.RLock() if local else contextlib.nullcontext()
        )

    def __getattr__(self, name: str) -> object:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: object, **kwargs: object) -> object:
            with self._lock:
                try:
                    return attribute(*args, **kwargs)
                except QAError:
                    raise
                except Exception as exc:  # noqa: BLE001 - HTTP, connection and local-mode errors alike
                    raise IndexUnavailable(f"Qdrant at {self.where} failed: {exc}") from exc

        return call


def client_for(url: str | None, path: str | None, api_key: str | None = None) -> _Guarded:
    """One client per server or folder per process (local mode locks its folder), checked at
    start-up: reachable and answering."""
    try:
        from qdrant_client import QdrantClient
    except ImportError as exc:
        raise SettingsError("QA_STORE=qdrant needs qdrant-client: pip install 'qa-news[qdrant]'") from exc
    path = str(Path(path).expanduser().resolve()) if path and not url else None
    with _clients_lock:
        key = (url, path)
        if key not in _clients:
            setting = f"QA_QDRANT_URL={url}" if url else f"QA_QDRANT_PATH={path}"
            try:
                client = (
                    QdrantClient(url=url, api_key=api_key, timeout=10) if url else QdrantClient(path=path)
                )
                client.get_collections()
            except Exception as exc:  # noqa: BLE001 - connection, TLS, lock and HTTP errors alike
                raise SettingsError(f"Cannot use Qdrant at {setting}: {exc}") from exc
            if not _clients:
                atexit.register(_close_clients)
            _clients[key] = _Guarded(client, setting, local=url is None)
        return _clients[key]


def _close_clients() -> None:
    """Close while Python can still import (local mode writes its folder on close)."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def _point_id(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, ":".join(str(p) for p in parts)))


def _term_id(term: str) -> int:
    return zlib.crc32(term.encode("utf-8"))


def _published_time(article: Article) -> str | None:
    day = published_on(article.published)
    return f"{day.isoformat()}T00:00:00Z" if day else None


class QdrantStore(Store):
    """`qa.stores.base.Store` on Qdrant collections."""

    def __init__(self, client: _Guarded, name: str):
        self.client = client
        self.name = validate_name(name)
        self.where = client.where  # the setting that names the server or folder, for messages
        self._token = uuid.uuid4().hex  # this writer, in the meta point's lease
        self.passages, self.sentences, self.articles = (
            f"{name}__{part}" for part in ("passages", "sentences", "articles")
        )
        with _clients_lock:  # one writer at a time per index in this process
            self._write_lock = _write_locks.setdefault((id(client), self.name), threading.Lock())

    @classmethod
    def from_settings(cls, settings: Settings, name: str) -> QdrantStore:
        if not settings.qdrant_url and not settings.qdrant_path:
            raise SettingsError("QA_STORE=qdrant needs QA_QDRANT_URL (a server) or QA_QDRANT_PATH (a folder)")
        path = str(settings.qdrant_path) if settings.qdrant_path else None
        return cls(client_for(settings.qdrant_url, path, settings.qdrant_api_key), name)

    @staticmethod
    def names(settings: Settings) -> list[str]:
        """The indexes in the configured Qdrant (collections of other programs are left out)."""
        client = QdrantStore.from_settings(settings, "x").client
        collections = [c.name for c in client.get_collections().collections]
        candidates = [c.removesuffix("__articles") for c in collections if c.endswith("__articles")]
        return sorted(n for n in candidates if _is_index_name(n) and QdrantStore(client, n).exists())

    # -- reading ------------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.client.collection_exists(self.articles) and self._meta() is not None

    def read_manifest(self) -> dict:
        meta = self._meta()
        if meta is None:
            raise IndexUnavailable(f"No index named '{self.name}' in Qdrant ({self.where}).")
        return meta

    def load(self, embedder: TextEncoder | None = None, reuse: object = None) -> QdrantIndex:
        if not self.exists():
            raise IndexUnavailable(
                f"No index named '{self.name}' in Qdrant ({self.where}). "
                f"Build it with: QA_STORE=qdrant python -m qa ingest PATH --index {self.name}"
            )
        meta = self.read_manifest()
        if embedder is not None:
            built = meta["embedder"]
            size = self.client.get_collection(self.passages).config.params.vectors["dense"].size
            if built["name"] != embedder.name or size != embedder.dim:
                raise IndexUnavailable(
                    f"Qdrant collection '{self.passages}' holds {size}-dimensional vectors of "
                    f"{built['name']}, not {embedder.dim}-dimensional ones of {embedder.name}: set "
                    f"QA_EMBEDDER to the model it was built with (QA_TUNED=off: the packaged base model), "
                    f"or rebuild it with "
                    f"python -m qa ingest PATH --index {self.name} --rebuild"
                )
        return QdrantIndex(self, meta)

    def _meta(self) -> dict | None:
        if not self.client.collection_exists(self.articles):
            return None
        found = self.client.retrieve(self.articles, [_META_ID], with_payload=True)
        return dict(found[0].payload) if found else None

    def content_hash(self, article_id: str) -> str | None:
        found = self.client.retrieve(
            self.articles, [_point_id("article", article_id)], with_payload=["content_hash"]
        )
        return found[0].payload["content_hash"] if found else None

    def owner_of_text(self, digest: str) -> str | None:
        points, _ = self.client.scroll(
            self.articles, scroll_filter=_match("text_hash", digest), limit=1, with_payload=["article_id"]
        )
        return points[0].payload["article_id"] if points else None

    # -- writing ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _writing(self, embedder: TextEncoder, rebuild: bool) -> Iterator[LiveIndex]:
        """`Store._writing`: this process's writer lock (the lease is taken at write time), and
        the live index itself, which answers what planning asks."""
        with self._write_lock:
            meta = None if rebuild else self._meta()
            if meta is None:
                yield LiveIndex()
                return
            self.load(embedder)  # refuses another embedder
            chunking = (meta["chunking"]["chunk_chars"], meta["chunking"]["chunk_overlap"])
            yield LiveIndex(self, chunking, unfinished=bool(meta.get("pending")))

    def _write(
        self, batch: EmbeddedBatch, replaced: set[str], live: LiveIndex, embedder: TextEncoder,
        chunk_chars: int, chunk_overlap: int,
    ) -> None:  # fmt: skip
        """`Store._write`, in the order the module describes: what a failed writer left is
        finished first, the new versions are written, then the replaced ones deleted."""
        if live.previous is None:
            self._create(embedder, chunk_chars, chunk_overlap)
        meta = self._acquire()
        try:
            self._finish_pending(meta)  # what a writer that failed left behind
            meta["pending"] = [[a.id, a.content_hash] for a in batch.articles]
            self._put_meta(meta)
            self._upsert_batch(batch, meta)
            self._finish_pending(meta)
        finally:
            self._release(meta)

    def delete(self, ids_or_sources: Iterable[str], embedder: TextEncoder | None = None) -> list[str]:
        """Remove articles by id or source: listed as pending first, so a delete that fails
        midway is finished by the next write."""
        with self._write_lock:
            meta = self._acquire()
            try:
                gone = set()
                for key in ids_or_sources:
                    for article_id in (key, Article("", "", key).id):
                        if self.content_hash(article_id) is not None:
                            gone.add(article_id)
                            break
                if gone:
                    meta["pending"] = [*meta.get("pending", []), *([a, None] for a in sorted(gone))]
                    self._put_meta(meta)
                    self.client.delete(self.articles, [_point_id("article", a) for a in gone], wait=True)
                    self._finish_pending(meta)  # no live version: every passage and sentence goes
            finally:
                self._release(meta)
            return sorted(gone)

    def _acquire(self) -> dict:
        """Take the index's writer lease (in its meta point) and return the meta. A second writer
        is refused while the lease is held; a writer that crashed loses it after LEASE_SECONDS."""
        meta = self.read_manifest()
        lease = meta.get("writer") or {}
        if lease.get("id") not in (None, self._token) and lease.get("until", 0) > time.time():
            raise IndexUnavailable(
                f"Index '{self.name}' in Qdrant ({self.where}) is being written by another process; "
                "try again when it has finished."
            )
        meta["writer"] = {"id": self._token, "until": time.time() + LEASE_SECONDS}
        self._put_meta(meta)
        self._renewed = time.monotonic()
        return meta

    def _renew(self) -> None:
        if time.monotonic() - self._renewed > LEASE_SECONDS / 4:
            lease = {"id": self._token, "until": time.time() + LEASE_SECONDS}
            self.client.set_payload(self.articles, {"writer": lease}, points=[_META_ID], wait=True)
            self._renewed = time.monotonic()

    def _release(self, meta: dict) -> None:
        meta["writer"] = None
        self._put_meta(meta)

    def compact(self, embedder: TextEncoder | None = None) -> None:
        """Nothing to do: Qdrant merges its own segments (its optimizers run on every write)."""

    def _create(self, embedder: TextEncoder, chunk_chars: int, chunk_overlap: int) -> dict:
        from qdrant_client import models

        for collection in (self.passages, self.sentences, self.articles):
            self.client.delete_collection(collection)  # left by a creation that did not finish
        dot = models.VectorParams(size=embedder.dim, distance=models.Distance.DOT)
        self.client.create_collection(
            self.passages, vectors_config={"dense": dot},
            sparse_vectors_config={"bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )  # fmt: skip
        self.client.create_collection(  # read back by id, never searched: no HNSW graph
            self.sentences,
            vectors_config={"plain": dot, "titled": dot},
            hnsw_config=models.HnswConfigDiff(m=0),
        )
        self.client.create_collection(self.articles, vectors_config={})
        keyword, when = models.PayloadSchemaType.KEYWORD, models.PayloadSchemaType.DATETIME
        indexed = [] if self.where.startswith("QA_QDRANT_PATH") else [  # local mode has no payload indexes
            (self.passages, "article_id", keyword), (self.passages, "terms", keyword),
            (self.passages, "published", when), (self.sentences, "article_id", keyword),
            (self.articles, "text_hash", keyword), (self.articles, "kind", keyword),
        ]  # fmt: skip
        for collection, field, schema in indexed:
            self.client.create_payload_index(collection, field, schema)
        meta = {
            "format_version": FORMAT_VERSION, "name": self.name, "kind": "meta",
            "embedder": {"name": embedder.name, "dim": embedder.dim, "runtime": embedder.runtime},
            "chunking": {"chunk_chars": chunk_chars, "chunk_overlap": chunk_overlap},
            "bm25": {"passages": 0, "terms": 0}, "pending": [],
            "counts": {"articles": 0, "chunks": 0, "sentences": 0}, "updated": utc_now(),
        }  # fmt: skip
        self._put_meta(meta)
        return meta

    def _upsert_batch(self, batch: EmbeddedBatch, meta: dict) -> None:
        from qdrant_client import models

        passage_terms = [terms(passage_text(batch.articles[n], f, last)) for n, f, last in batch.chunks]
        stats = meta["bm25"]
        stats["passages"] += len(passage_terms)
        stats["terms"] += sum(len(t) for t in passage_terms)
        average = stats["terms"] / max(1, stats["passages"])
        points = []
        for (n, first, last), vector, tokens in zip(
            batch.chunks, batch.chunk_vectors, passage_terms, strict=True
        ):
            article = batch.articles[n]
            points.append(models.PointStruct(
                id=_point_id("passage", article.id, article.content_hash, first, last),
                vector={"dense": vector.tolist(), "bm25": _bm25_vector(tokens, average)},
                payload={"article_id": article.id, "content_hash": article.content_hash, "first": first,
                         "last": last, "published": _published_time(article), "terms": sorted(set(tokens))},
            ))  # fmt: skip
        self._upsert(self.passages, points)
        row = 0
        points = []
        for article in batch.articles:
            for i in range(len(article.sentences)):
                plain, titled = (v.astype(np.float32).tolist() for v in batch.sentence_vectors[row])
                points.append(models.PointStruct(
                    id=_point_id("sentence", article.id, article.content_hash, i),
                    vector={"plain": plain, "titled": titled},
                    payload={"article_id": article.id, "content_hash": article.content_hash, "sentence": i},
                ))  # fmt: skip
                row += 1
        self._upsert(self.sentences, points)
        self._upsert(self.articles, [
            models.PointStruct(id=_point_id("article", a.id), vector={}, payload={
                "kind": "article", "article_id": a.id, "content_hash": a.content_hash,
                "text_hash": text_hash(a), "article": a.to_dict(),
            })
            for a in batch.articles
        ])  # fmt: skip

    def _finish_pending(self, meta: dict) -> None:
        """Delete every version of the pending articles but the live one, then recount."""
        from qdrant_client import models

        for article_id, _ in meta.get("pending", []):
            live = self.content_hash(article_id)
            stale = models.Filter(
                must=[_condition("article_id", article_id)], must_not=[_condition("content_hash", live or "")]
            )
            for collection in (self.passages, self.sentences):
                self.client.delete(collection, stale, wait=True)
        if meta.get("pending"):
            meta["pending"] = []
            self._recount(meta)

    def _recount(self, meta: dict) -> None:
        meta["counts"] = {
            "articles": self.client.count(
                self.articles, count_filter=_match("kind", "article"), exact=True
            ).count,
            "chunks": self.client.count(self.passages, exact=True).count,
            "sentences": self.client.count(self.sentences, exact=True).count,
        }
        meta["updated"] = utc_now()
        self._put_meta(meta)

    def _put_meta(self, meta: dict) -> None:
        from qdrant_client import models

        self.client.upsert(
            self.articles, [models.PointStruct(id=_META_ID, vector={}, payload=meta)], wait=True
        )

    def _upsert(self, collection: str, points: list) -> None:
        for start in range(0, len(points), UPSERT_BATCH):
            self._renew()
            self.client.upsert(collection, points[start : start + UPSERT_BATCH], wait=True)


class _Articles(Mapping[str, Article]):
    """Live articles by id, fetched from Qdrant in batches and kept: a question reads the same
    few articles many times. Another process may replace one meanwhile: `fetch(refresh=...)`
    reads those again (a passage whose hash is not its cached article's says so)."""

    def __init__(self, store: QdrantStore):
        self._store = store
        self._cache: dict[str, Article] = {}

    def fetch(self, ids: Iterable[str], refresh: Iterable[str] = ()) -> None:
        again = set(refresh)
        wanted = sorted({i for i in ids if i not in self._cache} | again)
        if not wanted:
            return
        if len(self._cache) + len(wanted) > MAX_CACHED_ARTICLES:
            self._cache.clear()
        found = self._store.client.retrieve(
            self._store.articles, [_point_id("article", i) for i in wanted], with_payload=["article"]
        )
        for article_id in again:
            self._cache.pop(article_id, None)
        for point in found:
            article = Article.from_dict(point.payload["article"])
            self._cache[article.id] = article

    def __getitem__(self, article_id: str) -> Article:
        self.fetch([article_id])
        if article_id not in self._cache:
            raise KeyError(article_id)
        return self._cache[article_id]

    def __iter__(self) -> Iterator[str]:
        offset = None
        while True:
            points, offset = self._store.client.scroll(
                self._store.articles, scroll_filter=_match("kind", "article"), limit=256,
                offset=offset, with_payload=["article_id"],
            )  # fmt: skip
            yield from (p.payload["article_id"] for p in points)
            if offset is None:
                return

    def __len__(self) -> int:
        return self._store.client.count(
            self._store.articles, count_filter=_match("kind", "article"), exact=True
        ).count


class QdrantIndex:
    """`qa.stores.base.SearchIndex` over one Qdrant index."""

    def __init__(self, store: QdrantStore, meta: dict):
        self.store = store
        self.name = store.name
        self.manifest = meta
        self.articles = _Articles(store)
        self._doc_freq: dict[str, int] = {}

    @property
    def chunk_count(self) -> int:
        """Read again at every question: other processes may write to the same index."""
        meta = self.store._meta()
        if meta is not None and meta["counts"] != self.manifest["counts"]:
            self.manifest = meta
            self._doc_freq.clear()
        return self.manifest["counts"]["chunks"]

    @property
    def sentence_count(self) -> int:
        return self.manifest["counts"]["sentences"]

    def hybrid_search(
        self, query_vector: np.ndarray, query_terms: list[str], k: int, since: date | None = None
    ) -> list[tuple[Chunk, float]]:
        from qdrant_client import models

        prefetch = [models.Prefetch(query=query_vector.tolist(), using="dense", limit=k)]
        if query_terms:
            counts = Counter(_term_id(t) for t in query_terms)
            sparse = models.SparseVector(indices=list(counts), values=[float(v) for v in counts.values()])
            prefetch.append(models.Prefetch(query=sparse, using="bm25", limit=k))
        when = None
        if since is not None:
            when = models.Filter(must=[models.FieldCondition(
                key="published", range=models.DatetimeRange(gte=f"{since.isoformat()}T00:00:00Z"),
            )])  # fmt: skip
        found = self.store.client.query_points(
            self.store.passages,
            prefetch=prefetch,
            query=models.RrfQuery(rrf=models.Rrf(k=RRF_K + 1)),
            query_filter=when,
            limit=k,
            with_payload=["article_id", "content_hash", "first", "last"],
        ).points  # fmt: skip  (Qdrant scores rank r, from 1, as 1 / (r + k - 1))
        ids = [p.payload["article_id"] for p in found]
        self.articles.fetch(ids)
        changed = {p.payload["article_id"] for p in found if not self._live(p.payload)}
        self.articles.fetch(ids, refresh=changed)  # replaced since they were cached?
        hits = []
        for point in found:
            if not self._live(point.payload):
                continue  # a version being written or replaced: not live
            article = self.articles[point.payload["article_id"]]
            first, last = point.payload["first"], point.payload["last"]
            hits.append((Chunk(article.id, first, last, article.span_text(first, last)), point.score))
        return hits

    def _live(self, payload: dict) -> bool:
        article = self.articles.get(payload["article_id"])
        return article is not None and article.content_hash == payload["content_hash"]

    def idf(self, term: str) -> float:
        """From the number of passages holding the term (an indexed payload count on a server)."""
        if term not in self._doc_freq:
            self._doc_freq[term] = self.store.client.count(
                self.store.passages, count_filter=_match("terms", term), exact=True
            ).count
        # Counts as of this question (`chunk_count` re-reads them once per question, not per term).
        return idf(self._doc_freq[term], max(1, self.manifest["counts"]["chunks"]))

    def stored_sentence_vectors(self, keys: list[tuple[str, int]]) -> np.ndarray:
        self.articles.fetch(a for a, _ in keys)
        ids = []
        for article_id, i in keys:
            article = self.articles.get(article_id)
            if article is None:
                raise IndexUnavailable(
                    f"Index '{self.name}' changed while this question was answered "
                    f"(article {article_id} was deleted): please ask again."
                )
            ids.append(_point_id("sentence", article_id, article.content_hash, i))
        found = {
            p.id: p.vector
            for p in self.store.client.retrieve(
                self.store.sentences, ids, with_vectors=True, with_payload=False
            )
        }
        out = np.empty((len(keys), 2, self.manifest["embedder"]["dim"]), dtype=np.float32)
        for n, point_id in enumerate(ids):
            if point_id not in found:
                raise IndexUnavailable(
                    f"Index '{self.name}' changed while this question was answered "
                    f"(article {keys[n][0]} was replaced or deleted): please ask again."
                )
            out[n, 0], out[n, 1] = found[point_id]["plain"], found[point_id]["titled"]
        return out

    def passage(self, chunk_id: str) -> str:
        article_id, first, last = Chunk.parse_id(chunk_id)
        return passage_text(self.articles[article_id], first, last)

    def close(self) -> None:
        """The client is shared per process and stays open."""


def _bm25_vector(tokens: list[str], average_length: float):  # noqa: ANN202 - a qdrant SparseVector
    """BM25's term-frequency part (bm25s's Lucene form); Qdrant multiplies in the IDF."""
    from qdrant_client import models

    counts = Counter(tokens)
    norm = BM25_K1 * (1 - BM25_B + BM25_B * len(tokens) / max(average_length, 1e-9))
    weights: dict[int, float] = {}
    for term, tf in counts.items():
        weights[_term_id(term)] = weights.get(_term_id(term), 0.0) + tf / (tf + norm)
    return models.SparseVector(indices=list(weights), values=list(weights.values()))


def _condition(key: str, value: str):  # noqa: ANN202 - a qdrant FieldCondition
    from qdrant_client import models

    return models.FieldCondition(key=key, match=models.MatchValue(value=value))


def _match(key: str, value: str):  # noqa: ANN202 - a qdrant Filter
    from qdrant_client import models

    return models.Filter(must=[_condition(key, value)])


def _is_index_name(name: str) -> bool:
    try:
        validate_name(name)
    except IndexUnavailable:
        return False
    return True
