"""What kind of file came in, judged by its content, never by the name it was sent under.

Accepted: PDF, PNG, JPEG, GIF, WebP, OpenDocument text (ODT), Word (DOCX) and plain UTF-8
text. Anything else (a program, an HTML page, an archive, a macro-enabled document) is
refused: a case file is read by people who trust it.
"""

import io
import unicodedata
import zipfile

ODT = "application/vnd.oasis.opendocument.text"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ACCEPTED = "PDF, PNG, JPEG, GIF, WebP, ODT, DOCX, text"
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def media_type_of(content: bytes) -> str | None:
    """The media type `content` really has, if it is one we accept; else None."""
    for signature, media_type in SIGNATURES:
        if content.startswith(signature):
            return media_type
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content.startswith(b"PK\x03\x04"):
        return _office_document(content)
    return "text/plain" if _is_text(content) else None


def _office_document(content: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.read("mimetype").strip() == ODT.encode():
                return ODT
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                macros = any(name.lower().endswith("vbaproject.bin") for name in names)
                return None if macros else DOCX
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return None
    return None


def _is_text(content: bytes) -> bool:
    """Plain UTF-8 text; not a page of markup (HTML, SVG, XML), which a browser may run."""
    try:
        text = content.decode("utf-8").lstrip("\ufeff \t\r\n")
    except UnicodeDecodeError:
        return False
    if text.startswith("<") and ">" in text:
        return False
    return all(c in "\t\n\r" or unicodedata.category(c) != "Cc" for c in text)


def safe_filename(name: str) -> str:
    """The name a file was sent under, kept as a label only: no folders, no control or
    direction characters, at most 120 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(c for c in base if unicodedata.category(c) not in ("Cc", "Cf"))
    return kept.strip(" .")[:120] or "file"
