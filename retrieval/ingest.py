"""Loaders per format -> Document with numbered sections."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SUPPORTED = {".md", ".markdown", ".txt", ".html", ".htm", ".docx", ".pdf"}
_HEADING_NUM = re.compile(r"^(?:第\s*(\d+)\s*章|(\d+(?:\.\d+)*))[\s、.．]*(.*)$")
_CITE = re.compile(r"依据[:：]\s*《服务指南》\s*([\d.、，,\s]+)")


@dataclass
class Section:
    """One numbered (or unnumbered) part of a document."""

    number: str
    title_path: list[str]
    text: str
    extra_sections: list[str] = field(default_factory=list)


@dataclass
class Document:
    """A source file split into sections."""

    path: str
    kind: str  # guide | faq | seed | document | question
    sections: list[Section]


class IngestError(ValueError):
    """A document could not be read."""


def _heading_number(title: str) -> str | None:
    m = _HEADING_NUM.match(title.strip())
    if not m:
        return None
    return m.group(1) or m.group(2)


def sections_from_headings(lines: list[tuple[int, str]] | list[tuple[int | None, str]]) -> list[Section]:
    """Build sections from (heading level or None for body, text) lines."""
    sections: list[Section] = []
    stack: list[tuple[int, str, str]] = []  # level, number, title
    body: list[str] = []

    def flush() -> None:
        text = "\n".join(b for b in body if b.strip()).strip()
        if text and stack:
            sections.append(Section(stack[-1][1], [t for _, _, t in stack], text))
        elif text:
            sections.append(Section("", [], text))
        body.clear()

    for level, text in lines:
        if level is None:
            body.append(text)
            continue
        flush()
        while stack and stack[-1][0] >= level:
            stack.pop()
        number = _heading_number(text) or (stack[-1][1] if stack else "")
        stack.append((level, number, text.strip()))
    flush()
    return sections


def markdown_lines(text: str) -> list[tuple[int | None, str]]:
    out: list[tuple[int | None, str]] = []
    for line in text.splitlines():
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        out.append((len(m.group(1)), m.group(2)) if m else (None, line))
    return out


def load_faq(path: Path) -> Document:
    """FAQ page: each `## question` is one section numbered by its first cited guide section."""
    sections = []
    for topic, question, answer in _faq_blocks(path.read_text(encoding="utf-8")):
        cited = _citations(answer)
        title_path = [topic, question] if topic else [question]
        sections.append(Section(cited[0] if cited else "", title_path, answer.strip(), cited[1:]))
    return Document(str(path), "faq", sections)


def _faq_blocks(text: str) -> list[tuple[str, str, str]]:
    """(topic, question, answer) for every `## question` under the current `# topic`."""
    blocks: list[tuple[str, str, str]] = []
    topic = ""
    question: str | None = None
    answer: list[str] = []
    for line in [*text.splitlines(), "## "]:
        m = re.match(r"^(#{1,2})\s+(.*)$", line)
        if m:
            if question:
                blocks.append((topic, question, "\n".join(answer)))
            question, answer = None, []
            if len(m.group(1)) == 1:
                topic = m.group(2).strip()
            else:
                question = m.group(2).strip()
        elif question is not None:
            answer.append(line)
    return blocks


def _citations(answer: str) -> list[str]:
    m = _CITE.search(answer)
    if not m:
        return []
    return [c for c in re.split(r"[、，,\s]+", m.group(1)) if re.fullmatch(r"\d+(\.\d+)*", c.strip("."))]


def load_html(path: Path) -> list[tuple[int | None, str]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8", errors="replace"), "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    out: list[tuple[int | None, str]] = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "p", "li", "td"]):
        text = el.get_text(" ", strip=True)
        if text:
            out.append((int(el.name[1]), text) if el.name.startswith("h") else (None, text))
    return out


def load_docx(path: Path) -> list[tuple[int | None, str]]:
    import docx

    out: list[tuple[int | None, str]] = []
    for para in docx.Document(str(path)).paragraphs:
        style = (para.style.name if para.style is not None else "") or ""
        m = re.match(r"Heading (\d)", style)
        if para.text.strip():
            out.append((int(m.group(1)), para.text) if m else (None, para.text))
    return out


def load_pdf(path: Path) -> list[tuple[int | None, str]]:
    from pypdf import PdfReader

    out: list[tuple[int | None, str]] = []
    for page in PdfReader(str(path)).pages:
        for line in (page.extract_text() or "").splitlines():
            m = re.match(r"^(第\s*\d+\s*章|\d+(?:\.\d+){0,2})\s+\S", line.strip())
            level = (1 if "章" in m.group(1) else m.group(1).count(".") + 1) if m else None
            out.append((level, line))
    return out


def load_seed(path: Path) -> Document:
    """The machine-converted raw guide: lines start with '1.2 标题...' with no separator before the body."""
    text = path.read_text(encoding="utf-8", errors="replace")
    titles: dict[str, str] = {}
    for m in re.finditer(r"^(\d+\.\d+) (\S+?)(?:\d\.第.*)?$", text, re.M):
        if len(m.group(2)) <= 20:
            titles.setdefault(m.group(1), m.group(2).strip())
    sections: list[Section] = []
    for m in re.finditer(r"^(\d+\.\d+(?:\.\d+)?) (.+)$", text, re.M):
        num, rest = m.group(1), m.group(2)
        parent = ".".join(num.split(".")[:2])
        ptitle = titles.get(parent, "")
        if num.count(".") == 1:
            title = ptitle
            body = rest[len(ptitle) :] if ptitle and rest.startswith(ptitle) else rest
            path_ = [title]
        else:
            cut = re.search(r"[，,。:：]|根据|客服|电信|在|针对|收到|对于", rest[4:])
            end = 4 + cut.start() if cut else min(len(rest), 10)
            title, body = rest[:end], rest[end:]
            path_ = [ptitle, title]
        body = re.sub(r"[一二三四五六七八九十]+、[^。]*$", "", body).strip()
        if len(body) > 20:
            sections.append(Section(num, path_, body))
    return Document(str(path), "guide", sections)


def load_document(path: Path, kind: str = "document") -> Document:
    """Load one file by extension."""
    suffix = path.suffix.lower()
    try:
        if kind == "faq" and suffix in {".md", ".markdown"}:
            return load_faq(path)
        if suffix in {".md", ".markdown"}:
            lines = markdown_lines(path.read_text(encoding="utf-8"))
        elif suffix == ".txt":
            lines = [(None, line) for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
        elif suffix in {".html", ".htm"}:
            lines = load_html(path)
        elif suffix == ".docx":
            lines = load_docx(path)
        elif suffix == ".pdf":
            lines = load_pdf(path)
        else:
            raise IngestError(f"unsupported file type {suffix!r}: {path} (use one of {sorted(SUPPORTED)})")
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(f"cannot read {path}: {exc}") from exc
    sections = sections_from_headings(lines)
    if suffix == ".txt" and sections and not sections[0].title_path:
        sections[0].title_path = [path.stem]
    return Document(str(path), kind, sections)


def discover(
    kb_dir: Path, extra_dir: Path, seed_path: Path | None = None, uploads_dir: Path | None = None
) -> list[tuple[Path, str]]:
    """All files to index with their kind; the raw seed only when guide/ is empty."""
    found: list[tuple[Path, str]] = []
    for sub, kind in (("guide", "guide"), ("faq", "faq")):
        d = kb_dir / sub
        if d.is_dir():
            found += [
                (p, kind) for p in sorted(d.rglob("*")) if p.suffix.lower() in SUPPORTED and p.is_file()
            ]
    if not any(k == "guide" for _, k in found) and seed_path is not None and seed_path.is_file():
        found.append((seed_path, "seed"))
    questions = kb_dir / "questions"
    if questions.is_dir():
        found += [(p, "question") for p in sorted(questions.glob("*.y*ml")) if p.is_file()]
    for docs in (extra_dir, uploads_dir):
        if docs is not None and docs.is_dir():
            found += [
                (p, "document")
                for p in sorted(docs.rglob("*"))
                if p.suffix.lower() in SUPPORTED and p.is_file()
            ]
    return found


def load_questions(path: Path) -> Document:
    """Typical questions per guide section (YAML: section -> list of questions).

    Customers rarely use the guide's words; matching their question against questions
    people ask about a section works far better than matching it against the section text.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise IngestError(f"cannot read questions file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise IngestError(f"{path}: expected a mapping of section number to a list of questions")
    sections = []
    for number, questions in data.items():
        if not isinstance(questions, list):
            raise IngestError(f"{path}: section {number}: expected a list of questions")
        sections += [Section(str(number), [], str(q).strip()) for q in questions if str(q).strip()]
    return Document(str(path), "question", sections)


def load_all(files: list[tuple[Path, str]]) -> list[Document]:
    loaders = {"seed": load_seed, "question": load_questions}
    return [loaders[kind](p) if kind in loaders else load_document(p, kind) for p, kind in files]
