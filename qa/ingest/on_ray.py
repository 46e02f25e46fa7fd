"""Bulk ingest on Ray: `python -m qa ingest PATH --ray [--address ADDR] [--workers N]`.

Files are read and split into sentences by Ray Data tasks (`flat_map`), and passages and
sentences are embedded by `map_batches` over a pool of Ray actors, each holding its own
embedder. The driver then writes through the configured store's `ingest` (`qa.stores.base`), as a
plain ingest does, so deduplication, replacement of changed articles and the commit stay in
one place; only where the vectors are computed changes. Without an address a local Ray is
started (`ray.init()`); with one, every node needs this package, the embedder folder and the
files on shared storage (the tasks open them where the driver found them).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from qa.errors import IngestError
from qa.ingest.readers import ReadResult, display, list_files, read_file
from qa.models.embedder import Embedder, Runtime
from qa.records import Article

log = logging.getLogger(__name__)

EMBED_BATCH = 128  # texts per actor call: large enough to amortise Ray's per-batch overhead


@contextmanager
def ray_session(address: str | None, workers: int) -> Iterator[None]:
    """Connect to the Ray cluster at `address`, or start a local Ray with `workers` CPUs, and
    shut down what was started here when done."""
    try:
        import ray
    except ImportError as exc:
        raise IngestError("--ray needs Ray: pip install 'qa-news[ray]' (or 'ray[data]')") from exc
    if workers < 1:
        raise IngestError(f"--workers must be at least 1, not {workers}")
    started = not ray.is_initialized()
    if started:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline: no usage report
        try:
            ray.init(
                address=address,
                num_cpus=None if address else workers,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise IngestError(f"Cannot start or reach Ray (--address {address or 'local'}): {exc}") from exc
    import ray.data  # configures its loggers on import: quiet them after that

    # Off a terminal Ray Data logs progress every few seconds, and warns when told not to;
    # the ingest's own summary says what matters (`-v` shows Ray's messages).
    logging.getLogger("ray.data").setLevel(max(log.getEffectiveLevel(), logging.ERROR))
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def read_paths_on_ray(paths: Iterable[str | Path]) -> ReadResult:
    """`qa.ingest.readers.read_paths`, one Ray task per file: the same articles, ids and messages."""
    import ray

    result = ReadResult()
    files = list_files(paths, result)
    if not files:
        return result
    # Names and identities are decided here, not on a worker whose folder may differ.
    items = [
        {"order": n, "path": str(f.resolve()), "name": display(f), "key": str(f.resolve())}
        for n, f in enumerate(files)
    ]
    ray.data.DataContext.get_current().enable_progress_bars = False
    rows = ray.data.from_items(items).flat_map(_read_file_rows).take_all()
    for row in sorted(rows, key=lambda r: (r["order"], r["within"])):
        if row["kind"] == "article":
            result.articles.append(Article.from_dict(row["article"]))
        elif row["kind"] == "skipped":
            result.skipped.append(row["message"])
        else:
            result.notes.append(row["message"])
    return result


def _read_file_rows(item: dict) -> list[dict]:
    result = ReadResult()
    read_file(Path(item["path"]), result, item["name"], key=item["key"])
    rows = [{"kind": "article", "article": a.to_dict(), "message": ""} for a in result.articles]
    rows += [{"kind": "skipped", "article": None, "message": m} for m in result.skipped]
    rows += [{"kind": "note", "article": None, "message": m} for m in result.notes]
    return [{"order": item["order"], "within": n, **row} for n, row in enumerate(rows)]


class _EmbedActor:
    """One embedder per actor, loaded once, one thread: the pool's size is the parallelism."""

    def __init__(self, model: str | None, runtime: Runtime, cache_dir: str | None):
        folder = Path(cache_dir) if cache_dir else None
        self.embedder = Embedder(model, runtime, threads=1, cache_dir=folder)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"row": batch["row"], "vector": self.embedder.encode([str(t) for t in batch["text"]])}


class RayEncoder:
    """Stands in for the `Embedder` of an ingest (`qa.models.embedder.TextEncoder`): the same model, name,
    dimension and runtime as `embedder`, the encoding spread over `workers` Ray actors."""

    def __init__(self, embedder: Embedder, workers: int):
        self.name, self.dim, self.runtime = embedder.name, embedder.dim, embedder.runtime
        self.model, self.cache_dir = embedder.model, embedder.cache_dir
        self.workers = workers

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        import ray

        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return vectors
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = progress and sys.stdout.isatty()
        # Longest first, so each batch holds texts of similar length (little padding).
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        items = [{"row": i, "text": texts[i]} for i in order]
        # Enough blocks that every actor gets work, few enough that Ray's per-block cost stays small.
        blocks = max(self.workers, min(-(-len(texts) // EMBED_BATCH), 8 * self.workers))
        dataset = ray.data.from_items(items, override_num_blocks=blocks).map_batches(
            _EmbedActor,
            fn_constructor_kwargs={
                "model": self.model, "runtime": self.runtime,
                "cache_dir": str(self.cache_dir) if self.cache_dir else None,
            },
            batch_size=EMBED_BATCH,
            batch_format="numpy",
            concurrency=self.workers,
            num_cpus=1,
        )  # fmt: skip
        filled = 0
        for batch in dataset.iter_batches(batch_format="numpy", batch_size=None):
            vectors[batch["row"]] = batch["vector"]
            filled += len(batch["row"])
        if filled != len(texts):
            raise IngestError(f"Ray returned {filled} of {len(texts)} vectors")
        return vectors
