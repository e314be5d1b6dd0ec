"""The M3EFeaturizer as config.yml sets it up, in the Rasa venv, on the exported model (make onnx).

A message must get the same sentence vector when it is parsed alone as when the same text was
featurized among the training data: the classifier learns from the training vectors and is asked
about live ones. With the int8 model that holds only one text per ONNX call (its activation scale is
per batch), which is what config.yml asks for.
No live stack: a subprocess of .venv-rasa/bin/python (the Rasa venv has no pytest).
"""

from tests.unit.bot.rasa_venv import run_in_rasa_venv

SCRIPT = r"""
import json, tempfile
from pathlib import Path
import numpy as np
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.components.m3e_featurizer import M3EFeaturizer
from bot.components.normalizing_tokenizer import NormalizingJiebaTokenizer

pipeline = yaml.safe_load(Path("config.yml").read_text(encoding="utf-8"))["pipeline"]
step = next(s for s in pipeline if s["name"].endswith("M3EFeaturizer"))
config = {**M3EFeaturizer.get_default_config(), **{k: v for k, v in step.items() if k != "name"}}
context = ExecutionContext(GraphSchema({}), "test")
storage = LocalModelStorage(Path(tempfile.mkdtemp()))
featurizer = M3EFeaturizer.create(config, storage, Resource("m3e"), context)
tok_config = {**NormalizingJiebaTokenizer.get_default_config(), "dictionary_path": None}
tokenizer = NormalizingJiebaTokenizer.create(tok_config, storage, Resource("tok"), context)

texts = ["查话费", "我欠费没有", "家里宽带从昨晚八点开始就一直断网，重启光猫也没用，什么时候能修好", "3Q啦",
         "给孩子的手表办张卡", "携号转网要满足什么条件", "姓陈，陈先生"]
def sentence(message):
    _, features = message.get_dense_features("text")
    return np.asarray(features.features, dtype=np.float32).reshape(-1)

training = TrainingData([Message(data={"text": t, "intent": "x"}) for t in texts])
tokenizer.process_training_data(training)
featurizer.process_training_data(training)
cosines = []
for example in training.training_examples:
    live = Message(data={"text": example.get("text")})
    tokenizer.process([live])
    featurizer.process([live])
    cosines.append(float(sentence(example) @ sentence(live)))
print(json.dumps({"cosines": cosines, "batch_size": config["batch_size"]}))
"""


def test_a_text_gets_the_same_sentence_vector_live_as_in_training():
    out = run_in_rasa_venv(SCRIPT)
    assert out["batch_size"] == 1
    assert len(out["cosines"]) == 7
    assert min(out["cosines"]) > 0.99999
