"""Mean pooling of a transformer's last hidden state into L2-normalised sentence vectors.

What sentence-transformers does for m3e-small, without torch: the retrieval embedder that runs the
exported ONNX graph (retrieval/onnx_embedder.py) and the export check (scripts/export_onnx.py) use it.
Only numpy, so either virtualenv can import it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def mean_pool(hidden: npt.NDArray[np.float32], mask: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    """[batch, seq, d] hidden states and [batch, seq] attention mask -> [batch, d] unit vectors."""
    m = mask[..., None].astype(np.float32)
    vec = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    norms = np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)
    out: npt.NDArray[np.float32] = (vec / norms).astype(np.float32)
    return out
