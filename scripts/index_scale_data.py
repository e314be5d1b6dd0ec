"""Synthetic embedding-shaped data for the index scale benchmark (scripts/bench_index_scale.py).

Kept apart from the measuring so the generator and its fit to the real KB can be read (and reused) on
their own: real chunk vectors are the centres, noise has their covariance, one sigma is fitted so the
nearest-neighbour cosines match the real KB's. Generated arrays are cached under var/bench/.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import faiss
import numpy as np
import numpy.typing as npt

from retrieval.evaluation import load_eval
from retrieval.settings import REPO_ROOT, RetrievalSettings

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
CACHE = REPO_ROOT / "var" / "bench"


def normalize(x: F32) -> F32:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def nn_cos(x: F32, pool: F32, same: bool) -> F32:
    """Cosine of each row of x to its nearest row of pool (itself excluded when x is part of pool)."""
    s = x @ pool.T
    if same:
        np.fill_diagonal(s, -1.0)
    return np.asarray(s.max(axis=1), dtype=np.float32)


@dataclass
class Generator:
    """Real centres + noise with the real covariance times sigma."""

    centres: F32
    basis: F32  # noise = z @ basis.T has the covariance of the real vectors
    scale: F32  # per centre: real chunks with a close neighbour get tight clusters, isolated ones loose

    @classmethod
    def fit_to(cls, real: F32, real_nn: F32) -> Generator:
        cov = np.cov((real - real.mean(axis=0)).T).astype(np.float64)
        vals, vecs = np.linalg.eigh(cov)
        chord = np.sqrt(np.clip(1.0 - real_nn, 1e-4, None))
        return cls(
            real,
            (vecs * np.sqrt(np.clip(vals, 0, None))).astype(np.float32),
            (chord / np.median(chord)).astype(np.float32),
        )

    def sample(self, n: int, sigma: float, seed: int, centre_ids: I64 | None = None) -> F32:
        rng = np.random.default_rng(seed)
        ids = centre_ids if centre_ids is not None else rng.integers(0, len(self.centres), n)
        out = np.empty((n, self.centres.shape[1]), dtype=np.float32)
        for i in range(0, n, 50_000):
            j = min(n, i + 50_000)
            z = rng.standard_normal((j - i, self.basis.shape[1]), dtype=np.float32)
            noise = (sigma * self.scale[ids[i:j], None]) * (z @ self.basis.T)
            out[i:j] = normalize(self.centres[ids[i:j]] + noise)
        return out

    def cluster_nn(self, n: int, sigma: float, clusters: int = 40) -> F32:
        """NN cosines in a set of n points, estimated cluster by cluster (own siblings dominate)."""
        per = max(2, round(n / len(self.centres)))
        rng = np.random.default_rng(7)
        picks = rng.choice(len(self.centres), clusters, replace=False)
        out = [
            nn_cos(x, x, same=True)
            for c in picks
            for x in [self.sample(per, sigma, int(c), np.full(per, c, dtype=np.int64))]
        ]
        return np.concatenate(out)

    def fit_sigma(self, target_median: float, n: int) -> float:
        lo, hi = 0.05, 3.0
        for _ in range(14):
            mid = (lo + hi) / 2
            if float(np.median(self.cluster_nn(n, mid))) > target_median:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2


def real_vectors(settings: RetrievalSettings) -> tuple[F32, F32]:
    """(chunk vectors of the real index, embedded evaluation questions), questions cached by build id."""
    index = faiss.read_index(str(settings.index_dir / "dense.faiss"))
    chunks = np.asarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)
    build_id = json.loads((settings.index_dir / "manifest.json").read_text(encoding="utf-8"))["build_id"]
    cached = CACHE / f"questions-{build_id}.npy"
    if cached.exists():
        return chunks, np.load(cached)
    from retrieval.embedder import make_embedder
    from retrieval.tokenizer import normalize_query

    emb = make_embedder(settings)
    questions = [
        normalize_query(str(r["question"])) for r in load_eval(REPO_ROOT / "tests/data/kb_eval.jsonl")
    ]
    vecs = emb.embed(questions)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(cached, vecs)
    return chunks, vecs


def cached(name: str, make: Callable[[], npt.NDArray[np.generic]]) -> npt.NDArray[np.generic]:
    path = CACHE / name
    if path.exists():
        return np.asarray(np.load(path))
    arr = make()
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, arr)
    return arr
