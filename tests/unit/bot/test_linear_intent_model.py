"""The linear intent model (bot/components/linear_intent_model.py), in plain numpy."""

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.components.linear_intent_model import CharTfidf, LinearIntentModel

TEXTS = [
    "宽带断网了",
    "家里宽带又断了",
    "网断了上不了",
    "扣了我58块钱",
    "乱扣费我要投诉",
    "凭什么多扣我钱",
    "信用卡年费怎么免",
    "快递怎么还没到",
    "外卖送错了",
]
INTENTS = ["report_fault"] * 3 + ["complain"] * 3 + ["out_of_scope"] * 3


def vectors(texts: list[str]) -> np.ndarray:
    """Stand-in sentence vectors: a fixed random projection of char counts, unit length."""
    rng = np.random.default_rng(0)
    table = rng.normal(size=(65536, 16))
    out = np.stack([table[[ord(c) for c in t]].sum(axis=0) for t in texts])
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_char_tfidf_is_sklearns_sublinear_char_tfidf():
    ours = CharTfidf.fit(TEXTS).transform(["宽带扣费断网了", "完全没见过"])
    ref = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True).fit(TEXTS)
    theirs = ref.transform(["宽带扣费断网了", "完全没见过"]).toarray()
    order = [ref.vocabulary_[g] for g in sorted(ref.vocabulary_)]
    np.testing.assert_allclose(ours, theirs[:, order], atol=1e-6)


def test_linear_model_learns_the_intents_and_survives_a_round_trip():
    model = LinearIntentModel.fit(vectors(TEXTS), TEXTS, INTENTS, c=30.0)
    new = ["宽带断了", "又扣我钱", "外卖怎么还没送"]
    probs = model.predict_proba(vectors(new), new)
    assert [model.intents[int(p.argmax())] for p in probs] == ["report_fault", "complain", "out_of_scope"]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    arrays, meta = model.to_arrays()
    again = LinearIntentModel.from_arrays(arrays, meta)
    np.testing.assert_allclose(again.predict_proba(vectors(new), new), probs, rtol=1e-6)


def test_two_intents_give_two_probabilities_like_sklearns():
    texts, intents = TEXTS[:6], INTENTS[:6]
    model = LinearIntentModel.fit(vectors(texts), texts, intents, c=30.0)
    probs = model.predict_proba(vectors(["又扣我钱"]), ["又扣我钱"])
    assert probs.shape == (1, 2)
    assert model.intents[int(probs[0].argmax())] == "complain"
