from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.chunking import chunk_documents
from retrieval.ingest import IngestError, load_document


def test_load_markdown_keeps_section_numbers_and_title_path(tmp_path: Path) -> None:
    p = tmp_path / "g.md"
    p.write_text("# 第3章 问题\n## 3.4 跟进\n### 3.4.2 跟进机制\n紧急问题24小时内处理。\n", encoding="utf-8")
    doc = load_document(p, "guide")
    assert [(s.number, s.title_path) for s in doc.sections] == [
        ("3.4.2", ["第3章 问题", "3.4 跟进", "3.4.2 跟进机制"])
    ]


def test_load_faq_uses_first_cited_section(tmp_path: Path) -> None:
    p = tmp_path / "f.md"
    p.write_text("# 宽带\n## 宽带坏了怎么办\n报修即可。\n依据：《服务指南》3.4.2、5.2.1\n", encoding="utf-8")
    sec = load_document(p, "faq").sections[0]
    assert (sec.number, sec.title_path[-1], sec.extra_sections) == ("3.4.2", "宽带坏了怎么办", ["5.2.1"])


def test_load_html_headings_and_paragraphs(tmp_path: Path) -> None:
    p = tmp_path / "d.html"
    p.write_text(
        "<html><h1>9.1 停电通知</h1><p>停电期间宽带中断。</p><script>x()</script></html>", encoding="utf-8"
    )
    sec = load_document(p).sections[0]
    assert sec.number == "9.1" and sec.text == "停电期间宽带中断。"


def test_load_docx_heading_styles(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("9.2 积分兑换", level=1)
    d.add_paragraph("积分可以兑换话费。")
    p = tmp_path / "d.docx"
    d.save(str(p))
    sec = load_document(p).sections[0]
    assert sec.number == "9.2" and "积分" in sec.text


def test_load_pdf_text(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    p = tmp_path / "d.pdf"
    w = PdfWriter()
    w.add_blank_page(width=200, height=200)
    w.write(str(p))
    assert load_document(p).sections == []  # a blank page yields no text, and no crash


def test_load_plain_text_uses_file_name_as_title(tmp_path: Path) -> None:
    p = tmp_path / "公告.txt"
    p.write_text("本周六凌晨系统升级。", encoding="utf-8")
    assert load_document(p).sections[0].title_path == ["公告"]


def test_load_unsupported_file_raises_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "x.xls"
    p.write_text("x")
    with pytest.raises(IngestError, match="unsupported"):
        load_document(p)


def test_chunk_ids_stable_across_runs(tmp_path: Path) -> None:
    p = tmp_path / "g.md"
    p.write_text("## 1.1 概述\n" + "句子。" * 300, encoding="utf-8")
    a = chunk_documents([load_document(p)], 200, 30)
    b = chunk_documents([load_document(p)], 200, 30)
    assert len(a) > 1 and [c.chunk_id for c in a] == [c.chunk_id for c in b]
    assert all(len(c.text) <= 200 for c in a) and a[0].embed_text.startswith("1.1 概述")
    assert a[0].title == "概述"
