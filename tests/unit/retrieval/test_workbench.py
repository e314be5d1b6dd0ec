"""The KB workbench's plain-Python parts: versions and rollback, uploads, the catalogue, hit testing."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest

from retrieval.catalog import list_documents
from retrieval.embedder import FakeEmbedder
from retrieval.hit_test import hit_test
from retrieval.index_store import build_index, read_manifest
from retrieval.index_versions import NoPreviousVersion, current_version, list_versions, rollback
from retrieval.knowledge_base import KnowledgeBase
from retrieval.rebuild import Rebuilder, RebuildStatus
from retrieval.settings import RetrievalSettings
from retrieval.uploads import UploadRejected, delete_upload, safe_name, store_upload

DOC = "# 国际漫游\n\n## 漫游开通\n\n出国前拨打客服热线即可开通国际漫游，开通后立即生效。\n"


def _docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("国际漫游资费", level=1)
    document.add_paragraph("漫游流量每天 25 元封顶，超出部分不再收费。")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _pdf_bytes() -> bytes:
    """A one-page PDF with a text line (Helvetica), written by hand with a correct xref table."""
    stream = b"BT /F1 12 Tf 72 720 Td (Roaming fee is capped at 25 yuan per day.) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def test_each_build_is_a_version_and_rollback_restores_the_previous(
    kb_settings: RetrievalSettings, fake_embedder: FakeEmbedder
) -> None:
    first = build_index(kb_settings, fake_embedder, force=True)
    kb = KnowledgeBase(kb_settings, fake_embedder)
    store_upload(kb_settings, "roaming.md", DOC.encode())
    second = build_index(kb_settings, fake_embedder, force=True)
    assert kb_settings.index_dir.is_symlink() and current_version(kb_settings.index_dir) == second.version
    assert [v.name for v in list_versions(kb_settings.index_dir)] == [second.version, first.version]
    assert kb.reload_if_changed() and "漫游开通" in {c.title for c in kb.chunks}
    assert rollback(kb_settings.index_dir) == first.version
    assert kb.reload_if_changed() and "漫游开通" not in {c.title for c in kb.chunks}
    assert rollback(kb_settings.index_dir) == second.version  # undoing a rollback is a rollback


def test_rollback_without_a_previous_version_is_refused(
    kb_settings: RetrievalSettings, fake_embedder: FakeEmbedder
) -> None:
    build_index(kb_settings, fake_embedder, force=True)
    with pytest.raises(NoPreviousVersion):
        rollback(kb_settings.index_dir)


def test_a_plain_index_folder_is_adopted_as_the_first_version(
    kb_settings: RetrievalSettings, fake_embedder: FakeEmbedder
) -> None:
    build_index(kb_settings, fake_embedder, force=True)
    live = kb_settings.index_dir.resolve()
    kb_settings.index_dir.unlink()
    live.rename(kb_settings.index_dir)  # what `make index` left before versions existed
    old_id = (read_manifest(kb_settings.index_dir) or {})["build_id"]
    build_index(kb_settings, fake_embedder, force=True)
    versions = list_versions(kb_settings.index_dir)
    assert len(versions) == 2 and versions[1].previous and versions[1].name.endswith("-legacy")
    rollback(kb_settings.index_dir)
    assert (read_manifest(kb_settings.index_dir) or {})["build_id"] == old_id


def test_only_live_and_previous_versions_are_kept(
    kb_settings: RetrievalSettings, fake_embedder: FakeEmbedder
) -> None:
    builds = [build_index(kb_settings, fake_embedder, force=True).version for _ in range(3)]
    assert [v.name for v in list_versions(kb_settings.index_dir)] == builds[:0:-1]


def test_background_reload_swaps_in_a_new_version(
    kb_settings: RetrievalSettings, fake_embedder: FakeEmbedder
) -> None:
    build_index(kb_settings, fake_embedder, force=True)
    settings = kb_settings.model_copy(update={"reload_check_seconds": 0.0})
    kb = KnowledgeBase(settings, fake_embedder)
    new = build_index(kb_settings, fake_embedder, force=True)
    kb.refresh_in_background()
    for _ in range(200):
        if kb.build_id == new.version.rsplit("-", 1)[1]:
            break
        import time

        time.sleep(0.05)
    assert kb.build_id == new.version.rsplit("-", 1)[1]


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("evil.exe", b"MZ", "unsupported_type"),
        ("../../etc/passwd", b"x", "unsupported_type"),
        ("gbk.txt", "资费说明".encode("gbk"), "encoding"),
        ("empty.md", b"", "empty"),
        ("fake.pdf", b"<html>not a pdf</html>", "not_pdf"),
        ("fake.docx", b"PK\x03\x04garbage", "not_docx"),
        ("big.txt", b"a" * 5000, "too_large"),
        ("blank.md", b"\n\n   \n", "no_text"),
    ],
)
def test_bad_uploads_are_refused_and_leave_nothing(
    kb_settings: RetrievalSettings, name: str, data: bytes, code: str
) -> None:
    settings = kb_settings.model_copy(update={"upload_max_bytes": 4096})
    with pytest.raises(UploadRejected) as exc:
        store_upload(settings, name, data)
    assert exc.value.code == code and exc.value.zh
    assert not settings.uploads_dir.exists() or not list(settings.uploads_dir.iterdir())


def test_upload_names_are_reduced_to_a_plain_file_name() -> None:
    assert safe_name("C:\\Users\\x\\资费 说明(2025).md") == "资费_说明_2025.md"
    assert safe_name("../../漫游.TXT") == "漫游.txt"


def test_docx_pdf_html_uploads_are_indexed_and_listed(
    kb_settings: RetrievalSettings, fake_embedder: FakeEmbedder
) -> None:
    html = "<h1>停机保号</h1><p>停机保号每月 5 元。</p><script>alert(1)</script>".encode()
    for name, data in (("roaming.docx", _docx_bytes()), ("fee.pdf", _pdf_bytes()), ("keep.html", html)):
        store_upload(kb_settings, name, data)
    before = {d.name: d for d in list_documents(kb_settings)}
    assert before["roaming.docx"].status == "new" and before["ch01.md"].status == "new"
    build_index(kb_settings, fake_embedder, force=True)
    docs = {d.name: d for d in list_documents(kb_settings)}
    assert all(docs[n].status == "indexed" and docs[n].uploaded for n in ("roaming.docx", "fee.pdf"))
    assert docs["roaming.docx"].sections[0].title == "国际漫游资费" and docs["roaming.docx"].chunks >= 1
    assert docs["ch01.md"].chunks >= 3 and not docs["ch01.md"].uploaded
    kb = KnowledgeBase(kb_settings, fake_embedder)
    assert "25 yuan" in " ".join(c.text for c in kb.chunks)
    assert all("alert" not in c.text for c in kb.chunks)
    assert delete_upload(kb_settings, "fee.pdf")
    assert {d.name: d.status for d in list_documents(kb_settings)}["fee.pdf"] == "removed"


@pytest.fixture
def built_kb(kb_settings: RetrievalSettings, fake_embedder: FakeEmbedder) -> KnowledgeBase:
    build_index(kb_settings, fake_embedder, force=True)
    return KnowledgeBase(kb_settings, fake_embedder)


def test_hit_test_shows_scores_and_the_gate(built_kb: KnowledgeBase) -> None:
    result = hit_test(built_kb, "办新号要带什么证件", k=3)
    top = result["passages"][0]
    assert top["section"] == "1.3" and top["fused"] > 0 and top["dense"] > 0 and top["bm25"] > 0
    assert set(result["gate"]) >= {"would_answer", "question_cosine", "passage_cosine"}
    assert result["gate"]["would_answer"] == (result["answer"] is not None)


def test_hit_test_names_the_other_organisation_that_keeps_the_gate_shut(built_kb: KnowledgeBase) -> None:
    result = hit_test(built_kb, "银行人工客服几点上班", k=3)
    assert result["gate"]["names_other_organisation"] == ["银行"]
    assert not result["gate"]["would_answer"] and result["answer"] is None


def test_rebuilder_reports_progress_and_refuses_a_second_run(
    kb_settings: RetrievalSettings, fake_embedder: FakeEmbedder
) -> None:
    switched: list[bool] = []
    finished: list[RebuildStatus] = []
    rebuilder = Rebuilder(kb_settings, lambda: fake_embedder, lambda: switched.append(True), finished.append)
    rebuilder.start("lead")
    rebuilder.wait(60)
    status = rebuilder.status()
    assert status["state"] == "done" and status["progress"] == 1.0 and switched == [True]
    assert finished[0].requested_by == "lead" and finished[0].chunks > 0
    rebuilder.start("lead")
    rebuilder.wait(60)
    assert rebuilder.rollback() == finished[0].version and len(switched) == 3


def test_a_failed_rebuild_keeps_the_live_index(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    settings = RetrievalSettings(
        kb_dir=tmp_path / "kb",
        extra_docs_dir=tmp_path / "docs",
        uploads_dir=tmp_path / "up",
        seed_path=tmp_path / "none",
        index_dir=tmp_path / "index",
    )
    rebuilder = Rebuilder(settings, lambda: fake_embedder, lambda: None)
    rebuilder.start("lead")
    rebuilder.wait(60)
    status = rebuilder.status()
    assert status["state"] == "failed" and "no documents" in str(status["error"])
