"""`grants verify`: tampering with the database itself is found, and the sweep says so."""

import hashlib
import sqlite3
from pathlib import Path

import pytest
from sqlmodel import select

from flows.assessment import sweep
from flows.intake import intake
from flows.letters import send_letters
from grants.embedded import run_flow
from grants.settings import load
from models.access import case_for
from models.db import transaction
from models.decisions import sign
from models.rules import Rules
from models.tables import Notice, Recommendation
from tests.conftest import SAMPLES
from tests.helpers import DECISION_MAKER, OFFICER, grants
from tests.test_decisions import person, to_awaiting_decision


@pytest.fixture(scope="module")
def signed_call(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Once per module: the sample call with one signed decision and every letter rendered."""
    home = tmp_path_factory.mktemp("signed-call")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GRANTS_HOME", str(home))
        run_flow(intake, path=str(SAMPLES / "applications.json"), send_letters=False)
        reference = to_awaiting_decision("SI-2026-0101", Recommendation.partly_granted, 30_000)
        settings = load()
        with transaction(settings.db_url) as session:
            maker = person(session, DECISION_MAKER)
            sign(session, case_for(session, reference, maker, lock=True), maker, Rules())
        run_flow(send_letters)
    return home / "grants.db"


@pytest.fixture
def decided(signed_call: Path, grants_home: Path) -> Path:
    """This test's own copy of the signed call."""
    grants_home.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(signed_call) as source, sqlite3.connect(grants_home / "grants.db") as copy:
        source.backup(copy)
    return grants_home


def verify() -> tuple[int, str]:
    result = grants("verify", "--as", OFFICER, ok=False)
    return result.exit_code, result.output


def database(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "grants.db", isolation_level=None)


def test_an_untouched_database_verifies(decided: Path) -> None:
    code, output = verify()
    assert code == 0, output
    assert "Intact" in output


def test_a_changed_pdf_is_found(decided: Path) -> None:
    with database(decided) as db:
        pdf = db.execute("SELECT pdf FROM letters WHERE id = 1").fetchone()[0]
        db.execute("UPDATE letters SET pdf = ? WHERE id = 1", (pdf.replace(b"PDF", b"PDX", 1),))
    code, output = verify()
    assert code == 1 and "PDF has SHA-256" in output, output


def test_a_pdf_changed_with_its_hash_is_found_by_the_trail(decided: Path) -> None:
    with database(decided) as db:
        forged = b"%PDF-1.7 forged"
        db.execute(
            "UPDATE letters SET pdf = ?, sha256 = ? WHERE id = 1",
            (forged, hashlib.sha256(forged).hexdigest()),
        )
    code, output = verify()
    assert code == 1 and "differs from the audit trail" in output, output


def test_a_changed_signed_decision_is_found(decided: Path) -> None:
    with database(decided) as db:
        db.execute("UPDATE decisions SET amount = amount + 10000 WHERE status = 'signed'")
    code, output = verify()
    assert code == 1 and "amount is" in output and "its decision letter says" in output, output


def test_an_edited_or_removed_history_event_is_found(decided: Path) -> None:
    with database(decided) as db:
        db.execute("UPDATE audit_events SET actor = 'someone.else@example.se' WHERE id = 3")
    code, output = verify()
    assert code == 1 and "audit event 3" in output and "changed after" in output, output
    with database(decided) as db:
        db.execute("DELETE FROM audit_events WHERE id = 5")
    code, output = verify()
    assert code == 1 and "audit event 6" in output and "removed or changed" in output, output


def test_the_sweep_tells_the_officer_of_a_mismatch(decided: Path) -> None:
    with database(decided) as db:
        db.execute("UPDATE decisions SET amount = 1 WHERE status = 'signed'")
    run_flow(sweep)
    again = grants("sweep")
    assert again.exit_code == 0 and "2 integrity mismatch(es)" in again.output, again.output
    with transaction(load().db_url) as session:
        told = session.exec(select(Notice).where(Notice.kind == "integrity_mismatch")).all()
    assert len(told) == 1 and told[0].recipient == OFFICER
    assert "amount is 1" in told[0].data["findings"][0]


def test_verify_cannot_run_without_a_database(monkeypatch) -> None:
    monkeypatch.setenv("GRANTS_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = grants("verify", "--as", OFFICER, ok=False)
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("GRANTS_CONFIG", "{tmp}/missing.toml", "No such file"),
        ("GRANTS_CONFIG", "{tmp}/broken.toml", "not valid TOML"),
        ("GRANTS_CONFIG", "{tmp}/empty.toml", "no [authority], [registry], [call] section"),
        ("GRANTS_DATABASE_URL", "not a url at all", "not a database URL"),
        ("GRANTS_DATABASE_URL", "nosuchdb://x/y", "GRANTS_DATABASE_URL"),
        ("GRANTS_DATABASE_URL", "postgresql+psycopg://u:secret@127.0.0.1:1/x", "cannot open it"),
        ("GRANTS_DATABASE_URL", "sqlite:////nonexistent/folder/grants.db", "no folder"),
        ("GRANTS_DATABASE_URL", "sqlite:///{tmp}/broken.toml", "cannot open it"),
        ("GRANTS_HOME", "{tmp}/a-file", "is a file, not a folder"),
        ("GRANTS_SMTP_PORT", "twenty-five", "GRANTS_SMTP_PORT"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    name: str, value: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken.toml").write_text("[authority\nname = 'x'\n")
    (tmp_path / "empty.toml").write_text("")
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv(name, value.format(tmp=tmp_path))
    for command in (["status", "--as", OFFICER], ["verify", "--as", OFFICER], ["deliver"]):
        result = grants(*command, ok=False)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and name in lines[0] and says in lines[0], result.output
        assert "Traceback" not in result.output and "secret" not in result.output


def test_the_chain_holds_on_postgresql_in_swedish_time(on_postgres: str, monkeypatch) -> None:
    """PostgreSQL in the office's own time zone returns the times that were hashed."""
    monkeypatch.setenv(
        "GRANTS_DATABASE_URL", on_postgres + "?options=-c%20timezone%3DEurope/Stockholm"
    )
    run_flow(intake, path=str(SAMPLES / "applications.csv"))
    code, output = verify()
    assert code == 0, output
