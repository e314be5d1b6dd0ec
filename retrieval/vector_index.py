"""FAISS inner-product index behind a small protocol; exact by default, HNSW/IVF for large sizes."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from retrieval.embedder import Vectors

FLAT_MAX = 20_000  # provisional: set from the measured crossover (docs/benchmarks.md)


def choose_type(n: int, requested: str) -> str:
    if requested != "auto":
        return requested
    return "flat" if n < FLAT_MAX else "ivf"


def ivf_params(n: int) -> tuple[int, int]:
    """(nlist, nprobe) for n vectors, from the recall/latency curve in docs/benchmarks.md."""
    nlist = max(1, min(1024, int(4 * np.sqrt(n))))
    return nlist, min(nlist, 16)


def build_faiss(vectors: Vectors, index_type: str = "auto") -> faiss.Index:
    n, d = vectors.shape
    kind = choose_type(n, index_type)
    index: faiss.Index
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif kind == "hnsw":
        hnsw = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.hnsw.efSearch = 128
        index = hnsw
    elif kind == "ivf":
        nlist, nprobe = ivf_params(n)
        ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.niter = 10
        ivf.train(vectors[np.random.default_rng(0).choice(n, min(n, nlist * 39), replace=False)])
        ivf.nprobe = nprobe
        index = ivf
    else:
        raise ValueError(f"index_type must be auto, flat, hnsw or ivf, not {index_type!r}")
    index.add(vectors)
    return index


class VectorIndex:
    """Dense search over normalized vectors (cosine = inner product)."""

    def __init__(self, index: faiss.Index) -> None:
        self.index = index

    @classmethod
    def build(cls, vectors: Vectors, index_type: str = "auto") -> VectorIndex:
        return cls(build_faiss(np.ascontiguousarray(vectors, dtype=np.float32), index_type))

    def search(self, query: Vectors, k: int) -> list[tuple[int, float]]:
        scores, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        # tolist: the same ints and floats, without a numpy scalar per candidate (80 per query).
        return [(i, s) for i, s in zip(ids[0].tolist(), scores[0].tolist(), strict=True) if i >= 0]

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        return cls(faiss.read_index(str(path)))
