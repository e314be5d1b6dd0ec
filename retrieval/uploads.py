"""Documents uploaded by operators: checked (name, type, size, encoding, parsable) and stored under var/.

An upload is data, never code: the name is reduced to a plain file name, the bytes must match the
type the extension claims, text must be UTF-8, a DOCX must not inflate beyond a bound, and the file
must parse into at least one passage before it is kept. Nothing is executed or rendered as HTML.
"""

from __future__ import annotations

import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from retrieval.ingest import SUPPORTED, IngestError, load_document
from retrieval.settings import RetrievalSettings

TEXT_TYPES = {".md", ".markdown", ".txt", ".html", ".htm"}
MAX_NAME = 100
MAX_DOCX_INFLATED = 50 * 1024 * 1024  # a zip bomb stops here


class UploadRejected(ValueError):
    """Why an upload was refused, in Chinese and English."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


@dataclass(frozen=True)
class StoredUpload:
    name: str
    sections: int
    replaced: bool


def safe_name(filename: str) -> str:
    """The bare file name, letters (any script), digits, '.', '_', '-' only; the extension must be known."""
    base = unicodedata.normalize("NFC", re.split(r"[\\/]", filename or "")[-1]).strip()
    stem, ext = os.path.splitext(base)
    ext = ext.lower()
    if ext not in SUPPORTED:
        raise UploadRejected(
            "unsupported_type",
            f"不支持的文件类型，请上传 {'、'.join(sorted(SUPPORTED))} 文件",
            f"Unsupported file type; use one of {', '.join(sorted(SUPPORTED))}",
        )
    stem = re.sub(r"[^\w\-]+", "_", stem).strip("._")[: MAX_NAME - len(ext)]
    if not stem:
        raise UploadRejected("bad_name", "文件名无效", "Invalid file name")
    return stem + ext


def check_content(name: str, data: bytes, max_bytes: int) -> None:
    """The bytes are what the extension says, within the size limit."""
    if not data:
        raise UploadRejected("empty", "文件是空的", "The file is empty")
    if len(data) > max_bytes:
        raise UploadRejected(
            "too_large",
            f"文件超过 {max_bytes // 1024} KB 上限",
            f"The file is larger than {max_bytes // 1024} KB",
        )
    ext = os.path.splitext(name)[1]
    if ext in TEXT_TYPES:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UploadRejected(
                "encoding", "文本文件必须是 UTF-8 编码", "Text files must be UTF-8 encoded"
            ) from exc
        if "\x00" in text:
            raise UploadRejected("binary", "文本文件里有二进制内容", "The text file contains binary data")
    elif ext == ".pdf":
        if not data.startswith(b"%PDF-"):
            raise UploadRejected("not_pdf", "文件内容不是 PDF", "The content is not a PDF")
    elif ext == ".docx":
        _check_docx(data)


def _check_docx(data: bytes) -> None:
    import io

    bad = UploadRejected("not_docx", "文件内容不是 Word（.docx）文档", "The content is not a .docx document")
    if not data.startswith(b"PK\x03\x04"):
        raise bad
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise bad from exc
    if "word/document.xml" not in {i.filename for i in infos}:
        raise bad
    if sum(i.file_size for i in infos) > MAX_DOCX_INFLATED:
        raise UploadRejected("too_large", "文档解压后过大", "The document inflates beyond the limit")


def store_upload(settings: RetrievalSettings, filename: str, data: bytes) -> StoredUpload:
    """Check, parse once, then move into the uploads folder (a failed upload leaves nothing behind)."""
    name = safe_name(filename)
    check_content(name, data, settings.upload_max_bytes)
    folder = settings.uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".upload-{os.urandom(6).hex()}{os.path.splitext(name)[1]}"
    try:
        tmp.write_bytes(data.removeprefix(b"\xef\xbb\xbf"))
        try:
            doc = load_document(tmp)
        except IngestError as exc:
            raise UploadRejected(
                "unreadable", "无法解析该文档，请检查文件是否损坏", "The document cannot be parsed"
            ) from exc
        if not any(s.text.strip() for s in doc.sections):
            raise UploadRejected("no_text", "文档里没有可索引的文字", "The document has no text to index")
        final = folder / name
        replaced = final.exists()
        os.replace(tmp, final)
        return StoredUpload(name, len(doc.sections), replaced)
    finally:
        tmp.unlink(missing_ok=True)


def delete_upload(settings: RetrievalSettings, name: str) -> bool:
    """Remove an uploaded document (it leaves the index at the next rebuild)."""
    path = settings.uploads_dir / safe_name(name)
    if path.name != name or not path.is_file():
        return False
    path.unlink()
    return True


def is_upload(settings: RetrievalSettings, path: Path) -> bool:
    return path.resolve().parent == settings.uploads_dir.resolve()
