"""The dense search structure, chosen by size: exact while exact is fast, IVF beyond.

Exact inner product (`IndexFlatIP`) costs ~14 ms per query at 100k passages on 2 cores and
grows linearly (~140 ms at 1M). Beyond `EXACT_LIMIT` an inverted file (IVF, ~4·sqrt(n)
k-means lists, a sixteenth of them searched, vectors stored as float16 to halve the memory of
a large index) keeps search in milliseconds; its
recall@10 against exact search on real passages and questions is measured by
`python -m qa bench --recall PACK...` (0.97 on the dev and val packs, see docs/results.md).
Row i is chunk i in both, so the rest of the index does not care which one it holds.
"""

from __future__ import annotations

import math

import faiss
import numpy as np

EXACT_LIMIT = 100_000
PROBED_SHARE = 1 / 16  # of the lists; recall@10 on real news: 0.96 at 1/22, 0.976 at 1/15
MIN_NPROBE = 32
TRAINING_PER_LIST = 64  # k-means sample size per list (faiss warns below 39)


def build_vector_index(vectors: np.ndarray, dim: int, exact_limit: int | None = None) -> faiss.Index:
    """A searchable index of `vectors` (normalised float32 rows), exact or IVF by size."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) <= (EXACT_LIMIT if exact_limit is None else exact_limit):
        index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(vectors)
        return index
    lists = max(1, min(int(4 * math.sqrt(len(vectors))), len(vectors) // 2))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, lists, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    index.by_residual = False  # the vectors themselves in float16: merging re-encodes them unchanged
    rng = np.random.default_rng(0)  # the same data gives the same lists
    sample_size = min(len(vectors), TRAINING_PER_LIST * lists)
    index.train(vectors[np.sort(rng.choice(len(vectors), sample_size, replace=False))])
    index.add(vectors)
    prepare(index)
    return index


def prepare(index: faiss.Index) -> faiss.Index:
    """After building or loading: the search breadth, and row lookup for `all_vectors`."""
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = min(index.nlist, max(MIN_NPROBE, math.ceil(index.nlist * PROBED_SHARE)))
        index.make_direct_map()
    return index


def all_vectors(index: faiss.Index) -> np.ndarray:
    if index.ntotal == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return index.reconstruct_n(0, index.ntotal)


def kind(index: faiss.Index) -> str:
    return f"ivf{index.nlist}/nprobe{index.nprobe}" if isinstance(index, faiss.IndexIVF) else "exact"
