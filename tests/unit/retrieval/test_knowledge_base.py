from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.embedder import FakeEmbedder
from retrieval.evaluation import metrics, section_matches
from retrieval.index_store import build_index, read_manifest
from retrieval.knowledge_base import IndexNotBuiltError, KnowledgeBase, brief_quote
from retrieval.settings import RetrievalSettings
from retrieval.tokenizer import normalize_query


def test_build_writes_manifest_and_skips_when_unchanged(
    kb_settings: RetrievalSettings, fake_embedder: FakeEmbedder
) -> None:
    first = build_index(kb_settings, fake_embedder, progress=False)
    second = build_index(kb_settings, fake_embedder, progress=False)
    manifest = read_manifest(kb_settings.index_dir)
    assert first.built and not second.built
    assert manifest and manifest["dimension"] == 64 and len(manifest["documents"]) == 2  # type: ignore[arg-type]


def test_build_reruns_when_document_changes(
    kb_settings: RetrievalSettings, fake_embedder: FakeEmbedder
) -> None:
    build_index(kb_settings, fake_embedder, progress=False)
    (kb_settings.kb_dir / "faq" / "broadband.md").write_text("# x\n## 新问题\n新答案。\n", encoding="utf-8")
    assert build_index(kb_settings, fake_embedder, progress=False).built


def test_search_finds_materials_section(kb_settings: RetrievalSettings, fake_embedder: FakeEmbedder) -> None:
    build_index(kb_settings, fake_embedder, progress=False)
    kb = KnowledgeBase(kb_settings, fake_embedder)
    resp = kb.search("办新号要带什么证件", k=3)
    assert resp.hits[0].section == "1.3"
    assert set(resp.to_dict()["hits"][0]) == {"section", "title", "text", "score", "source"}  # type: ignore[index]


def test_missing_index_raises_index_not_built(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    with pytest.raises(IndexNotBuiltError):
        KnowledgeBase(RetrievalSettings(index_dir=tmp_path / "nothing"), fake_embedder)


def test_reload_if_changed_picks_up_rebuilt_index(
    kb_settings: RetrievalSettings, fake_embedder: FakeEmbedder
) -> None:
    build_index(kb_settings, fake_embedder, progress=False)
    kb = KnowledgeBase(kb_settings, fake_embedder)
    assert kb.reload_if_changed() is False
    (kb_settings.kb_dir / "guide" / "ch02.md").write_text(
        "## 2.1 积分\n积分可以兑换话费。\n", encoding="utf-8"
    )
    build_index(kb_settings, fake_embedder, progress=False)
    assert kb.reload_if_changed() is True
    assert kb.search("积分兑换话费", k=1).hits[0].section == "2.1"


def test_faq_chunk_keeps_other_citations(kb_settings: RetrievalSettings, fake_embedder: FakeEmbedder) -> None:
    build_index(kb_settings, fake_embedder, progress=False)
    lines = (kb_settings.index_dir / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    faq = next(json.loads(x) for x in lines if json.loads(x)["kind"] == "faq")
    assert faq["section"] == "3.4.2" and faq["extra_sections"] == ["1.4"]


def test_section_match_rule() -> None:
    assert section_matches("3.4.2", "3.4", set()) and section_matches("3.4", "3.4", set())
    assert section_matches("3.4.2", "3.4.2", {"3.4"}) and not section_matches("3.4", "3.4.2", {"3.4"})
    assert section_matches("3.4", "3.4.2", set()) and not section_matches("3.4.1", "3.4.2", set())


def test_metrics_hit_and_mrr() -> None:
    m = metrics([["1.1", "1.3"], ["2.1"]], [["1.3"], ["9.9"]], set())
    assert m == {"hit@1": 0.0, "hit@3": 0.5, "hit@5": 0.5, "mrr": 0.25}


def test_normalize_query_expands_customer_words() -> None:
    assert "携号转网" in normalize_query("我想携转") and "号码" in normalize_query("號碼")


def test_brief_quote_cuts_at_sentence_end() -> None:
    assert brief_quote("第一句。第二句。第三句。") == "第一句。第二句。"
