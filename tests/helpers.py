"""What many tests share: the demo's people, one way to run a `grants` command, and small
helpers for reading back what the system produced."""

import io
import re
import shutil
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

from click.testing import Result
from pypdf import PdfReader
from typer.testing import CliRunner

from models.tables import Call, Case, Organisation

# The demo's people, as config/grants.toml registers them.
OFFICER = "maria.lindqvist@regionorebrolan.example.se"  # Maria Lindqvist, the case officer
COOMPANION = "johan.ek@coompanion.example.se"  # Johan Ek, advisor at Coompanion Mälardalen
ACTIVA = "lena.holm@activa.example.se"  # Lena Holm, advisor at Activa
DECISION_MAKER = "karin.sjoberg@regionorebrolan.example.se"  # Karin Sjöberg, decides

# The four basic requirements all met, as the command line's checklist takes them.
CLI_ALL_MET = ["--benefit-to-society", "met", "--innovative", "met", "--new-locally", "met",
               "--anchored-with-partners", "met"]  # fmt: skip


def grants(*args: str, ok: bool = True) -> Result:
    """`grants ARGS` in this process, on a terminal wide enough that no line wraps.

    `ok`: the command must succeed (its output is shown when it does not); with ok=False the
    test reads the exit code itself. `result.text` is the output with no-break spaces (in
    amounts) read as plain spaces."""
    from grants.cli import app

    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    result.text = result.output.replace("\u00a0", " ")
    if ok:
        assert result.exit_code == 0, result.output
    return result


def pdf_pages(pdf: bytes) -> list[str]:
    """Each page's text with runs of whitespace (no-break spaces too) made one space."""
    reader = PdfReader(io.BytesIO(pdf))
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


def a_call() -> Call:
    """A call with the least the domain needs, for tests that build cases on the models."""
    return Call(
        code="T",
        name="T",
        budget=1,
        minimum_grant=1,
        maximum_grant=1,
        closed_months=[],
        guidelines_version="1",
    )


def an_organisation() -> Organisation:
    return Organisation(
        name="Förening",
        legal_form="ideell förening",
        municipality="Nora",
        email="a@example.se",
        contact_person="Åsa Öberg",
    )


def a_case(call: Call, organisation: Organisation, reference: str, **fields: Any) -> Case:
    """A case of `call` by `organisation`, received 2 November 2026 unless `fields` say
    otherwise (its state, its case officer, ...); not yet added to a session."""
    return Case(
        **{
            "case_reference": reference,
            "intake_key": reference,
            "call": call,
            "organisation": organisation,
            "date_received": date(2026, 11, 2),
            "project_title": "P",
            "requested_amount": 20000,
            "project_start": date(2027, 1, 1),
            "project_end": date(2027, 6, 1),
            "societal_challenge": "s",
            "description": "d",
            "target_group": "t",
        }
        | fields
    )


CHAIN_FILES = ("chain_key", "anchors.log")  # grants.settings, grants.anchors


def copy_home(made: Path, home: Path) -> None:
    """A home made once per session, copied into this test's own: its folders (the outbox,
    the letters) file by file, and its case database through SQLite's backup, so an office
    already open on this test's database sees the copy as one more write; with the database
    the audit chain's key and anchors, which belong to it. The run logs and the secret key
    stay this test's own."""
    home.mkdir(parents=True, exist_ok=True)
    for item in made.iterdir():
        if item.is_dir() and item.name not in ("logs", "prefect"):
            shutil.copytree(item, home / item.name, dirs_exist_ok=True)
        elif item.name in CHAIN_FILES:
            shutil.copy2(item, home / item.name)
    with (
        closing(sqlite3.connect(made / "grants.db")) as source,
        closing(sqlite3.connect(home / "grants.db")) as copy,
    ):
        source.backup(copy)


def database_dump(home: Path) -> list[str]:
    """Every row of the case database as SQL, to compare before and after."""
    path = home / "grants.db"
    if not path.exists():
        return []
    with sqlite3.connect(path) as connection:
        return list(connection.iterdump())


def without_looks(rows: list[str]) -> list[str]:
    """A dump without when each person last looked at a case: opening a case's page records
    it (models.looks), and that is not a change any step made."""
    return [row for row in rows if "case_looks" not in row]


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
    for key in ("appeal_court", "controller", "retention"):  # the notices' (parts.html)
        swedish.append(config["authority"][key])
        english.append(config["authority"][f"{key}_en"])
    english += [p["title_en"] for p in config["people"]]
    return (words(texts("sv")) | words(" ".join(swedish))) - words(
        texts("en") + " " + " ".join(english)
    )
