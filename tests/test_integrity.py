"""`grants verify`: tampering with the database itself is found, and the sweep says so."""

import hashlib
import io
import sqlite3
import stat
from collections.abc import Callable
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader
from sqlmodel import col, select

from flows.assessment import sweep
from flows.intake import intake
from flows.letters import send_letters
from grants.embedded import run_flow
from grants.settings import load
from models.access import case_for
from models.audit import KEYED, SYSTEM, chain_hash, record
from models.db import transaction
from models.decisions import sign
from models.rules import Rules
from models.tables import AuditEvent, Case, Notice, Recommendation
from tests.conftest import SAMPLES
from tests.helpers import DECISION_MAKER, OFFICER, copy_home, grants, pdf_pages
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
        run_flow(sweep)  # which anchors the trail's head outside the database
    return home / "grants.db"


@pytest.fixture
def decided(signed_call: Path, grants_home: Path) -> Path:
    """This test's own copy of the signed call, with its chain key and anchors."""
    copy_home(signed_call.parent, grants_home)
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
    # the amount against the decision letter's data, the trail's record and the signed PDF
    assert again.exit_code == 0 and "3 integrity mismatch(es)" in again.output, again.output
    with transaction(load().db_url) as session:
        told = session.exec(select(Notice).where(Notice.kind == "integrity_mismatch")).all()
    assert len(told) == 1 and told[0].recipient == OFFICER
    assert "amount is 1" in told[0].data["findings"][0]


def events(home: Path) -> list[AuditEvent]:
    """The trail as the product reads it."""
    with transaction(load().db_url) as session:
        return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))))


def rechain(
    home: Path, hashed: Callable[[AuditEvent, str | None, str], str], start: int = 1
) -> None:
    """What someone with the database alone can do: the hashes of the events from `start`
    on recomputed, in order, with `hashed` (the product's own `chain_hash`, say)."""
    with database(home) as db:
        references = dict(db.execute("SELECT id, case_reference FROM cases"))
        trail = events(home)
        previous = next((e.hash for e in reversed(trail) if e.id < start), "")
        for event in (e for e in trail if e.id >= start):
            new = hashed(event, references.get(event.case_id), previous)
            db.execute(
                "UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?",
                (previous, new, event.id),
            )
            previous = new


@pytest.mark.parametrize("removed", [1, 2, 3])
def test_events_deleted_at_the_end_are_counted_from_the_anchor(decided: Path, removed: int) -> None:
    last = events(decided)[-1].id
    assert (decided / "anchors.log").read_text().splitlines()[-1].split()[1] == str(last)
    with database(decided) as db:
        db.execute("DELETE FROM audit_events WHERE id > ?", (last - removed,))
    code, output = verify()
    assert code == 1, output
    assert f"{removed} event(s) missing at its end" in output, output
    assert f"names event {last}, the last is {last - removed}" in output, output


def test_a_rewritten_trail_chained_again_with_chain_hash_is_found(decided: Path) -> None:
    with database(decided) as db:
        db.execute("UPDATE audit_events SET actor = 'someone.else@example.se' WHERE id = 3")
    rechain(decided, chain_hash, start=3)
    code, output = verify()
    assert code == 1, output
    assert "audit event 3 (" in output and "chained again without the chain's key" in output
    assert "differs from the anchor of" in output, output
    # The whole trail in the plain form of the events written before the key: the anchor
    # outside the database holds the keyed head it had.
    rechain(decided, chain_hash)
    code, output = verify()
    assert code == 1 and "differs from the anchor of" in output, output
    # Hashes dressed as keyed ones are not keyed with the key.
    rechain(decided, lambda *event: KEYED + chain_hash(*event))
    code, output = verify()
    assert code == 1 and "audit event 3 (" in output and "changed after it was written" in output


def test_a_signed_amount_changed_everywhere_is_found_in_the_signed_pdf(decided: Path) -> None:
    with database(decided) as db:
        db.execute("UPDATE decisions SET amount = 50000 WHERE status = 'signed'")
        db.execute(
            "UPDATE letters SET data = json_set(data, '$.amount', 50000) WHERE kind = 'decision'"
        )
        db.execute(
            "UPDATE audit_events SET detail = json_set(detail, '$.amount', 50000) "
            "WHERE action = 'decision_signed'"
        )
    rechain(decided, chain_hash)
    code, output = verify()
    assert code == 1, output
    assert "amount is 50000, its signed PDF says 30000" in output, output
    assert "its decision letter says" not in output and "the audit trail says" not in output


def test_a_signed_decision_pdf_carries_its_facts(decided: Path) -> None:
    with database(decided) as db:
        pdf, reference = db.execute(
            "SELECT pdf, case_reference FROM letters JOIN cases ON cases.id = letters.case_id "
            "WHERE kind = 'decision'"
        ).fetchone()
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="2" pdfaid:conformance="A"' in xmp  # PDF/A-2a, as every letter
    assert not reader.attachments  # the facts are in the XMP, which PDF/A-2 allows
    facts = xmp_facts(xmp)
    assert facts["case_reference"] == reference and facts["amount"] == 30_000
    assert facts["outcome"] == "partly_granted" and facts["signed_by"] == DECISION_MAKER
    assert facts["decision_date"] == facts["signed_at"][:10]  # the day, in Swedish time
    assert "30 000 kronor" in " ".join(pdf_pages(pdf))  # the letter says what the data says


FACTS_NS = "urn:grants:ns:decision-facts:1/"


def xmp_facts(xmp: bytes) -> dict:
    """The decision's facts as its XMP states them (attributes of an rdf:Description, as
    the seal's update writes them), typed as the extension schema the file declares."""
    root = ElementTree.fromstring(xmp)
    declared = {
        field.get(f"{{{PDFA_PROPERTY}}}name"): field.get(f"{{{PDFA_PROPERTY}}}valueType")
        for field in root.iter(f"{{{RDF}}}Description")
        if field.get(f"{{{PDFA_PROPERTY}}}name")
    }
    facts = {}
    for description in root.iter(f"{{{RDF}}}Description"):
        for key, value in description.attrib.items():
            if key.startswith(f"{{{FACTS_NS}}}"):
                name = key.removeprefix(f"{{{FACTS_NS}}}")
                facts[name] = int(value) if declared[name] == "Integer" else value
    return {
        "case_reference": facts.get("caseReference"),
        "amount": facts.get("amount"),
        "outcome": facts.get("outcome"),
        "signed_by": facts.get("signedBy"),
        "signed_at": facts.get("signedAt"),
        "decision_date": facts.get("decisionDate"),
    }


RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PDFA_PROPERTY = "http://www.aiim.org/pdfa/ns/property#"


def test_a_trail_chained_before_the_key_still_verifies(decided: Path) -> None:
    """A database from before the chain was keyed: every event with a plain SHA-256, and
    no anchors."""
    rechain(decided, chain_hash)
    (decided / "anchors.log").unlink()
    code, output = verify()
    assert code == 0, output
    with transaction(load().db_url) as session:  # an event written from now on is keyed
        record(session, session.get(Case, 1), SYSTEM, "note", text="after the upgrade")
    assert events(decided)[-1].hash.startswith(KEYED)
    code, output = verify()
    assert code == 0, output


def test_a_changed_anchor_line_is_found(decided: Path) -> None:
    anchors = decided / "anchors.log"
    line = anchors.read_text().splitlines()[-1]
    moment, event_id, head, seal = line.split()
    anchors.write_text(f"{moment} {int(event_id) - 1} {head} {seal}\n")
    code, output = verify()
    assert code == 1 and "the line was changed (its HMAC differs)" in output, output


def test_the_anchor_is_in_the_log_the_report_and_the_officers_e_mail(
    decided: Path, tmp_path: Path
) -> None:
    assert stat.S_IMODE((decided / "chain_key").stat().st_mode) == 0o600
    grants("sweep")
    anchored = (decided / "anchors.log").read_text().splitlines()
    line = anchored[-1]
    assert f"audit trail anchor: {line}" in (decided / "logs" / "grants.log").read_text()
    mails = [
        message_from_bytes(eml.read_bytes(), policy=default)
        for eml in (decided / "outbox").glob("*.eml")
    ]
    told = [  # the day's first anchor, once a day
        m
        for m in mails
        if m["To"] == OFFICER and any(a in m.get_body().get_content() for a in anchored)
    ]
    assert len(told) == 1 and "ankare" in told[0]["Subject"]
    assert line.split()[1:3] in [a.split()[1:3] for a in anchored[:-1]]  # the same head
    period = ("--from", "2026-01-01", "--to", "2099-12-31", "--out", str(tmp_path))
    grants("delegation-report", *period, "--as", OFFICER)
    [report] = tmp_path.glob("*.pdf")
    reported = (decided / "anchors.log").read_text().splitlines()[-1]
    assert reported.split()[1:3] == line.split()[1:3]  # the same head, anchored again
    assert reported.replace(" ", "") in "".join(pdf_pages(report.read_bytes())).replace(" ", "")
    code, output = verify()
    assert code == 0, output


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
