# ruff: noqa: UP006, UP035, UP045
# (Rasa 3.6 validates these annotations at runtime with typing generics.)
"""The pipeline's intent classifier: bot.components.linear_intent_model inside Rasa.

It reads the dense sentence features the M3EFeaturizer put on the message, the sparse sentence
features of the featurizers named in ``sparse_featurizers`` (the RegexFeaturizer's pattern hits,
among them ``telecom_term``) and character n-grams of the normalised text, and sets ``intent`` and
``intent_ranking``; the FallbackClassifier after it thresholds the confidence. Entities come from the
RegexEntityExtractor. A message without dense features (none in this pipeline) is left as it came.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.linear_intent_model import LinearIntentModel

# Short names keep the two Rasa constructor signatures on one line each.
Config = Dict[str, Any]
Storage = ModelStorage
Context = ExecutionContext
ARRAYS_FILE = "linear_intent.npz"
META_FILE = "linear_intent.json"


def _sentence_vector(message: Message, sparse_featurizers: List[str]) -> Optional[np.ndarray]:
    """Dense sentence features, followed by the sparse sentence features of the named featurizers."""
    _, sentence = message.get_dense_features(TEXT)
    if sentence is None:
        return None
    parts = [np.asarray(sentence.features, dtype=np.float32).reshape(-1)]
    if sparse_featurizers:
        _, sparse = message.get_sparse_features(TEXT, sparse_featurizers)
        if sparse is not None:
            parts.append(np.asarray(sparse.features.toarray(), dtype=np.float32).reshape(-1))
    return np.concatenate(parts)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Logistic regression on m3e vectors + regex hits + char n-grams."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            # Inverse L2 strength of the logistic regression, and the weight of the char TF-IDF
            # block against the unit-length sentence vector.
            "C": 30.0,
            "char_weight": 0.8,
            "ranking_length": 10,
            # Aliases of sparse featurizers whose sentence features join the dense vector (here the
            # RegexFeaturizer: "the message names a telecom thing" is what tells 银行卡怎么补办 from
            # 电信卡怎么补办, which the sentence vector and the n-grams alone confuse).
            "sparse_featurizers": [],
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["sklearn", "scipy"]

    def __init__(
        self,
        config: Config,
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[LinearIntentModel] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls, config: Config, model_storage: Storage, resource: Resource, execution_context: Context
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        vectors: List[np.ndarray] = []
        texts: List[str] = []
        intents: List[str] = []
        for message in training_data.intent_examples:
            vector = _sentence_vector(message, list(self._config["sparse_featurizers"]))
            if vector is not None and message.get(TEXT):
                vectors.append(vector)
                texts.append(str(message.get(TEXT)))
                intents.append(str(message.get(INTENT)))
        if len(set(intents)) < 2:
            return self._resource  # nothing to separate
        self._model = LinearIntentModel.fit(
            np.stack(vectors),
            texts,
            intents,
            c=float(self._config["C"]),
            char_weight=float(self._config["char_weight"]),
        )
        arrays, meta = self._model.to_arrays()
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(Path(directory) / ARRAYS_FILE, **arrays)
            (Path(directory) / META_FILE).write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        return self._resource

    @classmethod
    def load(
        cls, config: Config, model_storage: Storage, resource: Resource, execution_context: Context, **_: Any
    ) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                meta = json.loads((Path(directory) / META_FILE).read_text("utf-8"))
                with np.load(Path(directory) / ARRAYS_FILE, allow_pickle=False) as data:
                    arrays = {k: data[k] for k in data.files}
        except (ValueError, FileNotFoundError):
            return cls(config, model_storage, resource)  # trained without intents
        return cls(config, model_storage, resource, LinearIntentModel.from_arrays(arrays, meta))

    def process(self, messages: List[Message]) -> List[Message]:
        if self._model is None:
            return messages
        for message in messages:
            vector = _sentence_vector(message, list(self._config["sparse_featurizers"]))
            text = message.get(TEXT)
            if vector is None or not text:
                continue
            probs = self._model.predict_proba(vector[None, :], [str(text)])[0]
            scores = zip(self._model.intents, (float(p) for p in probs), strict=True)
            ranked = sorted(scores, key=lambda kv: -kv[1])
            ranking = [
                {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: score}
                for name, score in ranked[: int(self._config["ranking_length"])]
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
