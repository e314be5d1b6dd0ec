# ruff: noqa: UP006, UP035, UP045
# (Rasa 3.6 validates these annotations at runtime with typing generics.)
"""Dense features from m3e-small, run through ONNX Runtime (the Rasa venv has no torch).

One forward pass per message gives the last hidden state; its mean over the word pieces is the
sentence feature (the same vector sentence-transformers makes, L2-normalised, kefu.pooling as in
retrieval). With ``sequence_features: true`` the mean over the pieces inside each Jieba token is
that token's sequence feature as well, for a component that tags tokens (none in config.yml now).

The exported graph and tokenizer.json (``make onnx`` -> var/models/m3e-small) are copied into the
trained Rasa model, so a model always runs with the exact encoder it was trained with. The ONNX
session is cached per process and per file: Rasa builds several instances of a component, the
model is loaded once. Training data is encoded in length-sorted batches of ``batch_size`` (1 in
config.yml: the int8 graph's activation scale is per batch).
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from kefu.pooling import mean_pool

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
DEFAULT_MODEL_DIR = "var/models/m3e-small"


class _Encoder:
    """ONNX session + fast tokenizer; ``encode`` returns per-text hidden states and char offsets."""

    def __init__(self, model_dir: Path, threads: int, max_length: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer as HfTokenizer

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        # Bytes, not a path: the Rasa model storage folder may be temporary.
        self._session = ort.InferenceSession(
            (model_dir / MODEL_FILE).read_bytes(), opts, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = HfTokenizer.from_file(str(model_dir / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(max_length=max_length)
        self._tokenizer.enable_padding()
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    def encode(self, texts: List[str]) -> List[Tuple[np.ndarray, List[Tuple[int, int]]]]:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        (hidden,) = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )
        out = []
        for row, enc in zip(hidden, encodings, strict=True):
            n = int(sum(enc.attention_mask))
            out.append((np.asarray(row[:n], dtype=np.float32), list(enc.offsets[:n])))
        return out


_SESSIONS: Dict[Tuple[str, int], _Encoder] = {}
_LOCK = threading.Lock()


def encoder_for(model_dir: Path, threads: int, max_length: int) -> _Encoder:
    """The process's one encoder for that model file and thread count (nlu_fastloop uses it too)."""
    key = (str((model_dir / MODEL_FILE).resolve()), threads)
    with _LOCK:
        if key not in _SESSIONS:
            _SESSIONS[key] = _Encoder(model_dir, threads, max_length)
        return _SESSIONS[key]


def sentence_vector(hidden: np.ndarray) -> np.ndarray:
    """[1, d]: the mean over the word pieces, unit length (kefu.pooling, as retrieval embeds)."""
    return mean_pool(hidden[None, ...], np.ones((1, hidden.shape[0]), dtype=np.int64))


def token_vectors(hidden: np.ndarray, offsets: List[Tuple[int, int]], tokens: List[Token]) -> np.ndarray:
    """[len(tokens), d]: each jieba token's word pieces averaged (zeros if it has none)."""
    sequence = np.zeros((len(tokens), hidden.shape[-1]), dtype=np.float32)
    starts = np.array([s for s, _ in offsets])
    ends = np.array([e for _, e in offsets])
    real = ends > starts  # [CLS]/[SEP] have empty offsets
    for i, token in enumerate(tokens):
        inside = real & (starts < token.end) & (ends > token.start)
        if inside.any():
            sequence[i] = hidden[inside].mean(axis=0)
    return sequence


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class M3EFeaturizer(DenseFeaturizer, GraphComponent):
    """m3e-small sentence and token vectors as dense features (TEXT only)."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # Folder with model.onnx + tokenizer.json; KEFU_NLU_ONNX_DIR overrides at training time.
            "model_dir": None,
            "threads": 1,
            "max_length": 256,
            "batch_size": 32,
            # Token vectors as sequence features too, for a token tagger; the intent needs only the
            # sentence vector.
            "sequence_features": False,
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["onnxruntime", "tokenizers"]

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        pass

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        encoder: Optional[_Encoder] = None,
    ) -> None:
        super().__init__(execution_context.node_name, config)
        self._model_storage = model_storage
        self._resource = resource
        self._encoder = encoder

    @staticmethod
    def _source_dir(config: Dict[str, Any]) -> Path:
        return Path(config.get("model_dir") or os.environ.get("KEFU_NLU_ONNX_DIR") or DEFAULT_MODEL_DIR)

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> M3EFeaturizer:
        source = cls._source_dir(config)
        if not (source / MODEL_FILE).is_file():
            raise FileNotFoundError(
                f"{source / MODEL_FILE} missing: run `make onnx` (scripts/export_onnx.py)"
            )
        encoder = encoder_for(source, int(config["threads"]), int(config["max_length"]))
        return cls(config, model_storage, resource, execution_context, encoder)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> M3EFeaturizer:
        with model_storage.read_from(resource) as directory:
            encoder = encoder_for(Path(directory), int(config["threads"]), int(config["max_length"]))
        return cls(config, model_storage, resource, execution_context, encoder)

    def train(self, training_data: TrainingData) -> Resource:
        """Nothing to learn: the encoder files go into the model so it is self-contained."""
        source = self._source_dir(self._config)
        with self._model_storage.write_to(self._resource) as directory:
            for name in (MODEL_FILE, TOKENIZER_FILE):
                shutil.copy2(source / name, Path(directory) / name)
        return self._resource

    def _featurize(self, messages: List[Message]) -> None:
        assert self._encoder is not None
        todo = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TOKENS_NAMES[TEXT])]
        todo.sort(key=lambda m: len(m.get(TEXT)))
        size = int(self._config["batch_size"])
        for i in range(0, len(todo), size):
            batch = todo[i : i + size]
            for message, (hidden, offsets) in zip(
                batch, self._encoder.encode([m.get(TEXT) for m in batch]), strict=True
            ):
                sequence = (
                    token_vectors(hidden, offsets, message.get(TOKENS_NAMES[TEXT]))
                    if self._config["sequence_features"]
                    else None
                )
                self.add_features_to_message(sequence, sentence_vector(hidden), TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages
