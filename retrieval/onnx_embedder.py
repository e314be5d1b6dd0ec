"""m3e-small through ONNX Runtime: the graph `make onnx` exports for the Rasa featurizer, reused here.

A query costs one ONNX run instead of a torch forward pass (see docs/benchmarks.md, real KB), and a
process answering from the KB needs no torch. The graph outputs the last hidden state; the sentence
vector is its mean over the word pieces, L2-normalised (kefu/pooling.py), as sentence-transformers
makes it. With an int8 graph (what `make onnx` keeps when it stays close to fp32) ONNX Runtime's
dynamic quantization takes its activation scale from the whole batch, padding included, so every
text is encoded alone, as a query is: a document and the same text asked as a question get the same
vector.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kefu.pooling import mean_pool
from retrieval.embedder import Vectors

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"


class OnnxEmbedder:
    """Loads the session and the tokenizer once; one intra-op thread (2 shared cores)."""

    def __init__(self, model_dir: Path, *, max_length: int = 256) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model, tokenizer = model_dir / MODEL_FILE, model_dir / TOKENIZER_FILE
        if not model.is_file() or not tokenizer.is_file():
            raise FileNotFoundError(f"no ONNX model in {model_dir}: run `make onnx`")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.enable_truncation(max_length=max_length)
        self.name = f"onnx:{model_dir.name}/{MODEL_FILE}"
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    def embed(self, texts: list[str], *, progress: bool = False) -> Vectors:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            enc = self._tokenizer.encode(text)
            ids = np.array([enc.ids], dtype=np.int64)
            mask = np.array([enc.attention_mask], dtype=np.int64)
            (hidden,) = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )
            out[i] = mean_pool(np.asarray(hidden, dtype=np.float32), mask)[0]
        return out
