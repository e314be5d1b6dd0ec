"""The index kind `auto` picks by size, and each kind finds the true neighbours of clustered vectors."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from retrieval.embedder import Vectors
from retrieval.vector_index import FLAT_MAX, VectorIndex, choose_type, ivf_params


def clustered(n: int, d: int = 32, centres: int = 40, seed: int = 0) -> Vectors:
    """Normalised points around a few centres: the structure real embeddings have."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, d)).astype(np.float32)
    x = c[rng.integers(0, centres, n)] + 0.3 * rng.standard_normal((n, d)).astype(np.float32)
    out: Vectors = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return out


def test_auto_is_exact_below_the_crossover_and_ivf_above() -> None:
    assert choose_type(866, "auto") == "flat"
    assert choose_type(FLAT_MAX - 1, "auto") == "flat"
    assert choose_type(FLAT_MAX, "auto") == "ivf"
    assert choose_type(1_000_000, "auto") == "ivf"


def test_an_explicit_kind_wins_over_the_size() -> None:
    assert choose_type(10, "hnsw") == "hnsw"
    assert choose_type(1_000_000, "flat") == "flat"


def test_ivf_lists_grow_with_the_size_and_stop_at_the_measured_setting() -> None:
    assert ivf_params(1_000_000) == (1024, 16)
    small, _ = ivf_params(FLAT_MAX)
    assert small < 1024
    for n in (1, 100, FLAT_MAX, 1_000_000):
        nlist, nprobe = ivf_params(n)
        assert 1 <= nprobe <= nlist


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_each_kind_finds_the_exact_neighbours_and_survives_save_and_load(kind: str, tmp_path: Path) -> None:
    x = clustered(4000)
    queries = clustered(50, seed=1)
    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    _, truth = exact.search(queries, 10)
    index = VectorIndex.build(x, kind)
    index.save(tmp_path / "dense.faiss")
    loaded = VectorIndex.load(tmp_path / "dense.faiss")
    recall = np.mean(
        [len({i for i, _ in loaded.search(q, 10)} & set(t)) / 10 for q, t in zip(queries, truth, strict=True)]
    )
    assert recall >= 0.95
    assert [i for i, _ in loaded.search(queries[0], 10)] == [i for i, _ in index.search(queries[0], 10)]


def test_a_loaded_ivf_index_keeps_its_probe_count(tmp_path: Path) -> None:
    x = clustered(FLAT_MAX)
    VectorIndex.build(x, "auto").save(tmp_path / "dense.faiss")
    loaded = faiss.extract_index_ivf(VectorIndex.load(tmp_path / "dense.faiss").index)
    assert (loaded.nlist, loaded.nprobe) == ivf_params(FLAT_MAX)


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="index_type"):
        VectorIndex.build(clustered(10), "annoy")
