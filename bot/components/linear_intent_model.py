# ruff: noqa: UP006, UP035
# (Imported by the Rasa venv, Python 3.10 + numpy 1.23, and by the tests in .venv.)
"""The intent model: logistic regression on sentence vectors + char n-grams.

A linear model on the m3e sentence vector plus character 1-3-gram TF-IDF generalises to other
people's wording better than DIET, which learns its own projection of the vector from a few
thousand examples and overfits the training register (on the old real-text dev set 0.91 against
DIET's 0.85 with the same data). It used to be blended with DIET; alone it scores the same on the
real-text sets and parses in a third of the time (docs/nlu.md). Plain numpy at parse time (a few
matrix products, well under a millisecond); scikit-learn only to fit. Everything persists as arrays
and a vocabulary list, no pickles.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np


def char_ngrams(text: str, low: int, high: int) -> Counter[str]:
    """Character n-grams of the (already normalised) text, lower-cased, whitespace collapsed."""
    text = " ".join(text.lower().split())
    return Counter(text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1))


@dataclass
class CharTfidf:
    """Sublinear TF-IDF over character n-grams, L2-normalised (sklearn's formula, smooth idf)."""

    vocabulary: Dict[str, int]
    idf: np.ndarray
    low: int = 1
    high: int = 3

    @classmethod
    def fit(cls, texts: Sequence[str], low: int = 1, high: int = 3) -> CharTfidf:
        df: Counter[str] = Counter()
        for text in texts:
            df.update(set(char_ngrams(text, low, high)))
        grams = sorted(df)
        n = len(texts)
        idf = np.array([math.log((1 + n) / (1 + df[g])) + 1.0 for g in grams], dtype=np.float32)
        return cls({g: i for i, g in enumerate(grams)}, idf, low, high)

    def row(self, text: str) -> Tuple[np.ndarray, np.ndarray]:
        """(columns, values) of one text's L2-normalised TF-IDF vector."""
        pairs = [
            (col, (1.0 + math.log(tf)) * float(self.idf[col]))
            for gram, tf in char_ngrams(text, self.low, self.high).items()
            if (col := self.vocabulary.get(gram)) is not None
        ]
        cols = np.array([c for c, _ in pairs], dtype=np.int64)
        vals = np.array([v for _, v in pairs], dtype=np.float32)
        norm = float(np.linalg.norm(vals))
        return cols, (vals / norm if norm > 0 else vals)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Dense [len(texts), vocabulary] matrix (for the few messages of a parse)."""
        out = np.zeros((len(texts), len(self.vocabulary)), dtype=np.float32)
        for i, text in enumerate(texts):
            cols, vals = self.row(text)
            out[i, cols] = vals
        return out


@dataclass
class LinearIntentModel:
    """Multinomial logistic regression over [sentence vector, char_weight * char TF-IDF]."""

    intents: List[str]
    tfidf: CharTfidf
    coef: np.ndarray  # [intents, dense + vocabulary]
    intercept: np.ndarray  # [intents]
    char_weight: float

    def features(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        return np.hstack([vectors.astype(np.float32), self.char_weight * self.tfidf.transform(texts)])

    @classmethod
    def fit(
        cls,
        vectors: np.ndarray,
        texts: Sequence[str],
        intents: Sequence[str],
        *,
        c: float = 30.0,
        char_weight: float = 0.8,
        max_iter: int = 3000,
        balanced: bool = False,
    ) -> LinearIntentModel:
        from scipy.sparse import csr_matrix, hstack
        from sklearn.linear_model import LogisticRegression

        tfidf = CharTfidf.fit(texts)
        rows = [tfidf.row(t) for t in texts]
        # Sparse for the fit: the training set times the vocabulary would be ~100 MB dense.
        grams = csr_matrix(
            (
                np.concatenate([v for _, v in rows]) * char_weight,
                np.concatenate([c for c, _ in rows]),
                np.cumsum([0] + [len(c) for c, _ in rows]),
            ),
            shape=(len(texts), len(tfidf.vocabulary)),
        )
        clf = LogisticRegression(C=c, max_iter=max_iter, class_weight="balanced" if balanced else None)
        clf.fit(hstack([csr_matrix(vectors.astype(np.float32)), grams]).tocsr(), list(intents))
        coef, intercept = clf.coef_, clf.intercept_
        if coef.shape[0] == 1:  # two intents: sklearn keeps one logit z; softmax([-z/2, z/2]) = sigmoid(z)
            coef, intercept = (
                np.vstack([-coef / 2, coef / 2]),
                np.concatenate([-intercept / 2, intercept / 2]),
            )
        return cls(
            [str(i) for i in clf.classes_],
            tfidf,
            coef.astype(np.float32),
            intercept.astype(np.float32),
            char_weight,
        )

    def predict_proba(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        logits = self.features(vectors, texts) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    def to_arrays(self) -> Tuple[Dict[str, np.ndarray], Dict[str, object]]:
        """(numeric arrays for np.savez, JSON-able metadata)."""
        arrays = {"coef": self.coef, "intercept": self.intercept, "idf": self.tfidf.idf}
        grams = sorted(self.tfidf.vocabulary, key=self.tfidf.vocabulary.__getitem__)
        meta: Dict[str, object] = {
            "intents": self.intents,
            "grams": grams,
            "low": self.tfidf.low,
            "high": self.tfidf.high,
            "char_weight": self.char_weight,
        }
        return arrays, meta

    @classmethod
    def from_arrays(cls, arrays: Dict[str, np.ndarray], meta: Dict[str, object]) -> LinearIntentModel:
        grams = [str(g) for g in meta["grams"]]  # type: ignore[attr-defined]
        tfidf = CharTfidf(
            {g: i for i, g in enumerate(grams)},
            np.asarray(arrays["idf"], dtype=np.float32),
            int(meta["low"]),  # type: ignore[call-overload]
            int(meta["high"]),  # type: ignore[call-overload]
        )
        return cls(
            [str(i) for i in meta["intents"]],  # type: ignore[attr-defined]
            tfidf,
            np.asarray(arrays["coef"], dtype=np.float32),
            np.asarray(arrays["intercept"], dtype=np.float32),
            float(meta["char_weight"]),  # type: ignore[arg-type]
        )
