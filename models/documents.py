"""What kind of file came in, judged by its content, never by the name it was sent under.

Accepted: PDF, PNG, JPEG, GIF, WebP, OpenDocument text (ODT), Word (DOCX) and plain UTF-8
text. Anything else (a program, an HTML page, an archive, a macro-enabled document) is
refused: a case file is read by people who trust it.

ODT and DOCX are zip archives, and an archive can be made to unpack to a thousand times
its size (a zip bomb). Such a file is looked into by streaming: its entries are unpacked a
chunk at a time and thrown away, counting the bytes that really come out (the sizes the
archive declares can lie), and it is refused once they pass the upload limit or one entry
unpacks to far more than it packs. Only the few bytes that say what the file is are kept.
"""

import io
import struct
import unicodedata
import zipfile
import zlib
from typing import ClassVar

from models.errors import Refused

ODT = "application/vnd.oasis.opendocument.text"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"
ACCEPTED = "PDF, PNG, JPEG, GIF, WebP, ODT, DOCX, text"
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)

# The upload limit: the most a case file may hold, and the most an archive may unpack to.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
# An entry may unpack to at most this many times its packed size, once past the grace
# (text compresses well, 5–20 times; a bomb of zeros some 1,000 times).
MAX_PACKING_RATIO = 200
RATIO_GRACE_BYTES = 1024 * 1024
# More entries than a document has; each one costs zipfile some memory to list.
MAX_ENTRIES = 10_000
CHUNK = 64 * 1024
LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., name length, extra length


class ArchiveRefused(Refused):
    """An archive that would unpack to more than the office takes in: refused unread."""

    messages: ClassVar[dict[str, str]] = {
        "document.unpacks_too_large": "file {filename!r} unpacks to more than {limit} bytes",
        "document.packed_too_tightly": "file {filename!r}: a part of it unpacks to more than "
        "{ratio} times its packed size, as a zip bomb does",
    }


def media_type_of(content: bytes, filename: str = "") -> str | None:
    """The media type `content` really has, if it is one we accept; else None. Raises
    `ArchiveRefused` (naming `filename`) for an archive that unpacks too far."""
    for signature, media_type in SIGNATURES:
        if content.startswith(signature):
            return media_type
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content.startswith(b"PK\x03\x04"):
        return _office_document(content, filename)
    return TEXT if _is_text(content) else None


def _office_document(content: bytes, filename: str) -> str | None:
    """ODT or DOCX, judged by the names of the entries and the first bytes of `mimetype`,
    after every entry has been counted through (`_check_unpacking`)."""
    if content.count(b"PK\x01\x02") > MAX_ENTRIES:  # before zipfile lists each one
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
            _check_unpacking(content, entries, filename)
            names = {entry.filename for entry in entries}
            if "mimetype" in names and _first_bytes(archive, "mimetype") == ODT.encode():
                return ODT
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                macros = any(name.lower().endswith("vbaproject.bin") for name in names)
                return None if macros else DOCX
    except (zipfile.BadZipFile, zlib.error, KeyError, ValueError, OSError):
        return None
    return None


def _first_bytes(archive: zipfile.ZipFile, name: str) -> bytes:
    """The start of an entry, no more than it takes to tell the ODT media type from another
    (ZipFile.open unpacks only as far as it is read)."""
    with archive.open(name) as entry:
        return entry.read(len(ODT) + 2).strip()


def _check_unpacking(content: bytes, entries: list[zipfile.ZipInfo], filename: str) -> None:
    """Refuse an archive that unpacks past the upload limit or packs too tightly: first by
    the sizes its central directory declares, then by the bytes really unpacked, a chunk at
    a time. An entry that unpacks to another size than declared is a damaged archive."""
    if sum(entry.file_size for entry in entries) > MAX_DOCUMENT_BYTES:
        raise _unpacks_too_large(filename)
    for entry in entries:
        if _too_tight(entry.file_size, entry.compress_size):
            raise _packed_too_tightly(filename)
    left = MAX_DOCUMENT_BYTES
    for entry in entries:
        size = _unpacked_size(content, entry, left, filename)
        if size != entry.file_size:
            raise zipfile.BadZipFile(f"{entry.filename}: {size} bytes, declared {entry.file_size}")
        left -= size


def _too_tight(unpacked: int, packed: int) -> bool:
    return unpacked > RATIO_GRACE_BYTES and unpacked > MAX_PACKING_RATIO * packed


def _unpacked_size(content: bytes, entry: zipfile.ZipInfo, left: int, filename: str) -> int:
    """How many bytes `entry` really unpacks to, counted a chunk at a time from its data to
    the end of its deflate stream, whatever the archive declares. At most `left` (more is
    refused); a chunk is counted and dropped, never kept."""
    start = _data_start(content, entry)
    if entry.compress_type == zipfile.ZIP_STORED:
        if start + entry.compress_size > len(content):
            raise zipfile.BadZipFile(f"{entry.filename}: truncated")
        return entry.compress_size
    if entry.compress_type != zipfile.ZIP_DEFLATED or entry.flag_bits & 0x1:
        raise zipfile.BadZipFile(f"{entry.filename}: packed in a way documents are not")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    packed = memoryview(content)[start:]
    read = unpacked = 0
    while not inflater.eof:
        pending = inflater.unconsumed_tail
        if not pending:
            pending = packed[read : read + CHUNK]
            read += len(pending)
        if not pending:
            raise zipfile.BadZipFile(f"{entry.filename}: truncated")
        unpacked += len(inflater.decompress(pending, CHUNK))
        if unpacked > left:
            raise _unpacks_too_large(filename)
        if _too_tight(unpacked, read - len(inflater.unconsumed_tail)):
            raise _packed_too_tightly(filename)
    return unpacked


def _data_start(content: bytes, entry: zipfile.ZipInfo) -> int:
    """Where the entry's packed bytes begin: after its local header, name and extra field."""
    header = content[entry.header_offset : entry.header_offset + LOCAL_HEADER.size]
    if len(header) < LOCAL_HEADER.size:
        raise zipfile.BadZipFile(f"{entry.filename}: no local header")
    signature, name_length, extra_length = LOCAL_HEADER.unpack(header)
    if signature != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"{entry.filename}: no local header")
    return entry.header_offset + LOCAL_HEADER.size + name_length + extra_length


def _unpacks_too_large(filename: str) -> ArchiveRefused:
    return ArchiveRefused("document.unpacks_too_large", filename=filename, limit=MAX_DOCUMENT_BYTES)


def _packed_too_tightly(filename: str) -> ArchiveRefused:
    return ArchiveRefused("document.packed_too_tightly", filename=filename, ratio=MAX_PACKING_RATIO)


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
