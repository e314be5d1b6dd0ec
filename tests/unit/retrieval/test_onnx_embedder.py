"""The ONNX Runtime embedder (the graph `make onnx` exports) against sentence-transformers."""

from __future__ import annotations

import numpy as np
import pytest

from kefu.pooling import mean_pool
from retrieval.embedder import SentenceTransformerEmbedder
from retrieval.onnx_embedder import OnnxEmbedder
from retrieval.settings import RetrievalSettings

QUESTIONS = ["宽带移机要多久", "去营业厅办张新卡要带啥", "在机场能办国际漫游吗", "客服电话多少秒能接通"]


@pytest.fixture(scope="module")
def onnx() -> OnnxEmbedder:
    return OnnxEmbedder(RetrievalSettings().onnx_dir)


def test_vectors_match_sentence_transformers(onnx: OnnxEmbedder) -> None:
    """The int8 graph stays close to torch fp32, so the gate's cosines keep their meaning."""
    reference = SentenceTransformerEmbedder("m3e-small").embed(QUESTIONS)
    got = onnx.embed(QUESTIONS)
    assert got.shape == reference.shape
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert float((got * reference).sum(axis=1).min()) >= 0.97


def test_a_text_gets_the_same_vector_alone_and_among_others(onnx: OnnxEmbedder) -> None:
    """A chunk embedded while building the index and the same words asked as a query agree."""
    alone = onnx.embed([QUESTIONS[0]])[0]
    among = onnx.embed(QUESTIONS)[0]
    assert float(alone @ among) == pytest.approx(1.0, abs=1e-6)


def test_a_paraphrase_is_closer_than_another_question(onnx: OnnxEmbedder) -> None:
    asked, paraphrase, other = onnx.embed(["宽带搬家要几天", "宽带移机要多久", "客服电话多少秒能接通"])
    assert float(asked @ paraphrase) > float(asked @ other)


def test_padding_does_not_move_the_mean() -> None:
    hidden = np.array([[[1.0, 0.0], [0.0, 1.0], [9.0, 9.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]], dtype=np.int64)
    assert np.allclose(mean_pool(hidden, mask), [[2**-0.5, 2**-0.5]])
