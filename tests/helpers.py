"""Small helpers for reading back what the system produced."""

import io
import re
import sqlite3
from pathlib import Path

from pypdf import PdfReader


def pdf_pages(pdf: bytes) -> list[str]:
    """Each page's text with runs of whitespace (no-break spaces too) made one space."""
    reader = PdfReader(io.BytesIO(pdf))
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


def database_dump(home: Path) -> list[str]:
    """Every row of the case database as SQL, to compare before and after."""
    path = home / "grants.db"
    if not path.exists():
        return []
    with sqlite3.connect(path) as connection:
        return list(connection.iterdump())
