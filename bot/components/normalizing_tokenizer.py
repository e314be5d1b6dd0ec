# ruff: noqa: UP006, UP035, UP045
# (Rasa 3.6 validates these annotations at runtime with typing generics.)
"""JiebaTokenizer that first rewrites the message text with kefu.textnorm.normalize.

Rasa 3.6 reads ``message.get(TEXT)`` everywhere downstream (featurizers, entity extractors), so the
text is rewritten once here, before tokens are made; every later component sees simplified,
half-width, de-noised text. The tracker keeps what the customer typed (UserUttered uses the raw
message text); only the parse result carries the normalised text.

Training examples with entities keep their annotations: offsets are moved to where the (normalised)
entity value sits in the normalised text; an example whose entity cannot be found is left as written.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_END, ENTITY_ATTRIBUTE_START, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from kefu.textnorm import normalize


def _moved_entities(
    text: str, new_text: str, entities: List[Dict[str, Any]]
) -> Optional[List[Dict[str, Any]]]:
    """Entities re-anchored in ``new_text``, or None when one of them cannot be found there."""
    moved = []
    cursor = 0
    for entity in sorted(entities, key=lambda e: e[ENTITY_ATTRIBUTE_START]):
        value = normalize(text[entity[ENTITY_ATTRIBUTE_START] : entity[ENTITY_ATTRIBUTE_END]])
        at = new_text.find(value, cursor)
        if not value or at < 0:
            return None
        moved.append({**entity, ENTITY_ATTRIBUTE_START: at, ENTITY_ATTRIBUTE_END: at + len(value)})
        cursor = at + len(value)
    return moved


def normalize_message(message: Message, *, training: bool) -> None:
    text = message.get(TEXT)
    if not isinstance(text, str) or not text:
        return
    new_text = normalize(text)
    if new_text == text:
        return
    entities = message.get(ENTITIES) if training else None
    if entities:
        moved = _moved_entities(text, new_text, entities)
        if moved is None:
            return
        message.set(ENTITIES, moved)
    message.set(TEXT, new_text)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class NormalizingJiebaTokenizer(JiebaTokenizer):
    """Normalise (kefu.textnorm), then tokenize with Jieba and the telecom dictionary."""

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            normalize_message(example, training=True)
        return super().process_training_data(training_data)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            normalize_message(message, training=False)
        return super().process(messages)
