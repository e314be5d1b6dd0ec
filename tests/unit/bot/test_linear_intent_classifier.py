"""The Rasa side of the intent model (bot/components/linear_intent_classifier.py), in the Rasa venv.

The component is trained on messages carrying dense sentence features (as the M3EFeaturizer leaves
them), persisted, loaded back from the model storage, and run on new messages: a featurized one gets
the intent and a full ranking (dense + regex sentence features + n-grams), a message without dense
features is left as it came.
No live stack: a subprocess of .venv-rasa/bin/python (the Rasa venv has no pytest).
"""

from tests.unit.bot.rasa_venv import run_in_rasa_venv

SCRIPT = r"""
import json, sys, tempfile, zlib
from pathlib import Path
import numpy as np
from scipy.sparse import coo_matrix
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.components.linear_intent_classifier import LinearIntentClassifier

def featurized(text, intent=None):
    m = Message(data={"text": text, **({"intent": intent} if intent else {})})
    rng = np.random.default_rng(zlib.crc32(intent.encode()) if intent else 7)  # not hash(): salted per run
    m.add_features(Features(np.ones((1, 8)) if intent is None else rng.normal(size=(1, 8)),
                            "sentence", "text", "M3EFeaturizer"))
    # A regex hit as the RegexFeaturizer (alias regex_features) leaves it: sparse, one column.
    hit = coo_matrix([[1.0 if "扣" in text else 0.0]])
    m.add_features(Features(hit, "sentence", "text", "regex_features"))
    return m

data = [("宽带断网了", "report_fault"), ("家里宽带又断了", "report_fault"), ("网断了上不了", "report_fault"),
        ("扣了我58块钱", "complain"), ("乱扣费我要投诉", "complain"), ("凭什么多扣我钱", "complain")]
storage = LocalModelStorage(Path(tempfile.mkdtemp()))
resource = Resource("linear_intent")
context = ExecutionContext(GraphSchema({}), "test")
config = {**LinearIntentClassifier.get_default_config(), "sparse_featurizers": ["regex_features"]}
trained = LinearIntentClassifier.create(config, storage, resource, context)
trained.train(TrainingData([featurized(t, i) for t, i in data]))
loaded = LinearIntentClassifier.load(config, storage, resource, context)

ranked = featurized("又扣我钱了我要投诉")
bare = Message(data={"text": "没有特征"})
loaded.process([ranked, bare])
print(json.dumps({"ranked": [ranked.get("intent"), ranked.get("intent_ranking")],
                  "bare": [bare.get("intent"), bare.get("intent_ranking")]}))
"""


def test_a_featurized_message_gets_the_models_intent_and_ranking_and_a_bare_one_is_left_alone():
    out = run_in_rasa_venv(SCRIPT)
    intent, ranking = out["ranked"]
    assert intent == ranking[0]
    assert {r["name"] for r in ranking} == {"report_fault", "complain"}
    assert intent["name"] == "complain"  # 扣 and 投诉 (n-grams and the regex hit) say complaint
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-5
    assert out["bare"] == [None, None]
