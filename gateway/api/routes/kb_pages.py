"""``GET /kb/sections/{section}``: the cited section of the service guide as a readable page.

The web chat's citation links open here. Sections come from the headings
``## 3.2 标题`` / ``### 3.2.1 标题`` of ``knowledge_base/guide/*.md``; everything is escaped.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from kefu.settings import REPO_ROOT

router = APIRouter(tags=["kb"])
GUIDE_DIR = REPO_ROOT / "knowledge_base" / "guide"
HEADING = re.compile(r"^(#{1,6})\s+(\d+(?:\.\d+)*)\s*(.*)$")
SECTION_ID = re.compile(r"^\d+(?:\.\d+)*$")


def find_section(section: str, guide_dir: Path = GUIDE_DIR) -> tuple[str, list[str]] | None:
    """Title and body lines of a section, including its subsections."""
    for path in sorted(guide_dir.glob("*.md")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            m = HEADING.match(line)
            if not m or m.group(2) != section:
                continue
            level = len(m.group(1))
            body: list[str] = []
            for nxt in lines[i + 1 :]:
                h = re.match(r"^(#{1,6})\s", nxt)
                if h and len(h.group(1)) <= level:
                    break
                body.append(nxt)
            return m.group(3).strip(), body
    return None


def render_page(section: str, title: str, body: list[str]) -> str:
    parts: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            parts.append("<p>" + "<br>".join(html.escape(x) for x in para) + "</p>")
            para.clear()

    for line in body:
        stripped = line.strip()
        heading = re.match(r"^#{1,6}\s+(.*)$", stripped)
        if not stripped:
            flush()
        elif heading:
            flush()
            parts.append(f"<h2>{html.escape(heading.group(1))}</h2>")
        elif stripped.startswith(("- ", "* ")):
            flush()
            parts.append(f"<li>{html.escape(stripped[2:])}</li>")
        else:
            para.append(stripped)
    flush()
    heading_text = html.escape(f"《服务指南》{section} {title}".strip())
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{heading_text}</title>"
        '<link rel="stylesheet" href="/static/kb.css">'  # no inline style: the CSP forbids it
        f"</head><body><h1>{heading_text}</h1>{''.join(parts)}</body></html>"
    )


@router.get("/kb/sections/{section}", response_class=HTMLResponse)
async def kb_section(section: str) -> HTMLResponse:
    found = find_section(section) if SECTION_ID.match(section) else None
    if found is None:
        page = (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>未找到章节</title></head>'
            f"<body><p>未找到《服务指南》第 {html.escape(section)} 节。</p></body></html>"
        )
        return HTMLResponse(page, status_code=404)
    title, body = found
    return HTMLResponse(render_page(section, title, body))
