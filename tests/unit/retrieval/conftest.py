"""Fixtures: a tiny knowledge base in a tmp dir and a fake embedder (fast, deterministic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.embedder import FakeEmbedder
from retrieval.settings import RetrievalSettings

GUIDE = """# 第1章 业务受理基础

## 1.3 业务受理的准备与材料

办理新号需要携带本人有效身份证件，如身份证、护照。业务申请表需本人签字。

## 1.4 受理时限

一般业务24小时内完成，复杂业务48小时内完成。

# 第3章 常见问题处理

## 3.4 反馈与跟进

### 3.4.2 问题跟进机制

紧急问题24小时内处理，一般问题48小时内处理。通过短信、电话跟进进度。
"""

FAQ = """# 宽带

## 宽带坏了多久能修好？

一般故障在48小时内修复，紧急问题24小时内处理。
依据：《服务指南》3.4.2、1.4
"""


@pytest.fixture
def kb_settings(tmp_path: Path) -> RetrievalSettings:
    kb = tmp_path / "kb"
    (kb / "guide").mkdir(parents=True)
    (kb / "faq").mkdir()
    (kb / "guide" / "ch01.md").write_text(GUIDE, encoding="utf-8")
    (kb / "faq" / "broadband.md").write_text(FAQ, encoding="utf-8")
    return RetrievalSettings(
        kb_dir=kb,
        extra_docs_dir=tmp_path / "docs",
        uploads_dir=tmp_path / "uploads",
        seed_path=tmp_path / "none.txt",
        index_dir=tmp_path / "var" / "index",
        model="fake",
    )


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()
