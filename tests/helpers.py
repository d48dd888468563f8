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


def settled_dump(office) -> list[str]:
    """The case database once the office's background sending has done what earlier steps
    ordered (it claims and marks letters as it goes): what a refused step must leave as is."""
    assert office.app.state.office.follow_up.wait_idle(60)
    return database_dump(office.app.state.office.settings.home)


def swedish_template_words() -> set[str]:
    """Words of our own Swedish letter templates and of the configuration's Swedish texts
    that no English template or English configuration text uses: in an English letter, each
    is a piece of Swedish that slipped through."""
    import tomllib

    from babel.messages.pofile import read_po

    from grants.settings import PROJECT_ROOT, TEMPLATES

    def words(text: str) -> set[str]:
        text = re.sub(r"\{[{%#].*?[}%#]\}", " ", text, flags=re.S)  # Jinja
        text = re.sub(r"<[^>]+>", " ", text)  # HTML tags
        return {w.lower() for w in re.findall(r"[A-Za-zÅÄÖåäöÉé]{4,}", text)}

    def texts(language: str) -> str:
        """The templates of one language, and the letters' catalog: its messages are the
        English of the templates worded alike in both languages, its translations the
        Swedish."""
        files = list(TEMPLATES.glob(f"*/*.{language}.*"))
        with (PROJECT_ROOT / "locale" / "sv" / "LC_MESSAGES" / "letters.po").open("rb") as po:
            catalog = [m for m in read_po(po) if m.id]
        messages = [str(m.string if language == "sv" else m.id) for m in catalog]
        return " ".join([path.read_text(encoding="utf-8") for path in files] + messages)

    config = tomllib.loads((PROJECT_ROOT / "config" / "grants.toml").read_text("utf-8"))
    swedish = [config["authority"]["unit"], config["decision"]["delegation_point"]]
    swedish += [p["title"] for p in config["people"]]
    english = [config["authority"]["unit_en"], config["decision"]["delegation_point_en"]]
    english += [p["title_en"] for p in config["people"]]
    return (words(texts("sv")) | words(" ".join(swedish))) - words(
        texts("en") + " " + " ".join(english)
    )
