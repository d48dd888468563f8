"""Intake end to end: the real Prefect flow, a real SQLite file, letters in the outbox."""

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlmodel import select

from flows.intake import SHOWN, intake
from grants.embedded import run_flow
from grants.settings import load
from models.db import transaction
from models.intake import register_applications
from models.integrity import verify
from models.reference_data import open_office
from models.tables import AuditEvent, Case, Letter, Organisation, Role
from models.validation import Fault, validate_application
from tests.conftest import SAMPLES
from tests.helpers import OFFICER, database_dump
from tests.test_processes import many_applications

YY = f"{date.today().year % 100:02d}"


def take_in(path: Path, **options) -> dict:
    return run_flow(intake, path=str(path), **options)


def statuses(report: dict) -> list[str]:
    return [r["status"] for r in report["results"]]


def cases() -> list[Case]:
    with transaction(load().db_url) as session:
        return list(session.exec(select(Case).order_by(Case.id)))


def test_samples_are_registered_acknowledged_and_audited(grants_home: Path) -> None:
    report = take_in(SAMPLES / "applications.json")
    assert statuses(report) == ["registered"] * 8
    assert [c.case_reference for c in cases()] == [f"{YY}RS{n}" for n in range(1, 9)]
    assert report["letters"] == {"created": 8, "sent": 8, "failed": 0}

    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.submission_id == "SI-2026-0106")).one()
        assert case.state == "received" and case.requested_amount == 50_000
        assert case.organisation.municipality == "Askersund"
        assert case.case_officer.email == OFFICER
        events = session.exec(select(AuditEvent).where(AuditEvent.case_id == case.id)).all()
        assert [e.action for e in events] == ["registered", "letter_created", "letter_sent"]
        assert events[0].actor == OFFICER
        assert events[0].role == "case_officer" and events[0].state_after == "received"
        no_number = session.exec(select(Case).where(Case.submission_id == "SI-2026-0104")).one()
        assert no_number.warnings == ["no_organisation_number"]

    outbox = sorted((grants_home / "outbox").glob("*.eml"))
    assert len(outbox) == 8
    message = message_from_bytes(outbox[0].read_bytes(), policy=policy.default)
    [attachment] = message.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content().startswith(b"%PDF")


def test_a_second_run_registers_and_sends_nothing_twice(grants_home: Path) -> None:
    take_in(SAMPLES / "applications.json")
    before = database_dump(grants_home)
    report = take_in(SAMPLES / "applications.json")
    assert statuses(report) == ["already registered"] * 8
    assert [r["case_reference"] for r in report["results"]] == [f"{YY}RS{n}" for n in range(1, 9)]
    assert report["letters"] == {"created": 0, "sent": 0, "failed": 0}
    assert database_dump(grants_home) == before
    assert len(list((grants_home / "outbox").glob("*.eml"))) == 8


def test_without_submission_ids_the_content_recognises_a_copy(
    grants_home: Path, tmp_path: Path
) -> None:
    records = json.loads((SAMPLES / "applications.json").read_text())
    for record in records:
        del record["submission_id"]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(records + records[:2]))  # two pasted twice in the same file
    report = take_in(path, send_letters=False)
    assert statuses(report) == ["registered"] * 8 + ["already registered"] * 2
    assert report["results"][8]["case_reference"] == report["results"][0]["case_reference"]
    assert statuses(take_in(path, send_letters=False)) == ["already registered"] * 10


def test_csv_from_a_spreadsheet(grants_home: Path, tmp_path: Path) -> None:
    text = (SAMPLES / "applications.csv").read_text(encoding="utf-8")
    path = tmp_path / "excel.csv"
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    path.write_bytes(out.getvalue().encode("cp1252"))  # Excel on Swedish Windows
    report = take_in(path, send_letters=False)
    assert statuses(report) == ["registered"] * 3
    with transaction(load().db_url) as session:
        orgs = [o.name for o in session.exec(select(Organisation))]
    assert "Föreningen Digitala seniorer i Laxå" in orgs


# The questions of a Swedish application form, as the columns of its Excel export.
EXCEL_HEADERS = {
    "submission_id": "Ansökans ID",
    "submitted_at": "Inskickad",
    "language": "Språk",
    "organisation_name": "Organisationens namn",
    "organisation_number": "Organisationsnummer",
    "legal_form": "Juridisk form",
    "municipality": "Kommun",
    "postal_address": "Postadress",
    "postcode": "Postnummer",
    "city": "Ort",
    "email": "E-postadress",
    "contact_person": "Kontaktperson",
    "phone": "Telefonnummer",
    "bankgiro": "Bankgironummer",
    "plusgiro": "Plusgiro",
    "project_title": "Projektets namn",
    "requested_amount": "Sökt belopp (kr)",
    "co_financing_cash": "Medfinansiering (kr)",
    "co_financing_hours": "Ideella timmar",
    "project_start": "Projektstart (ÅÅÅÅ-MM-DD)",
    "project_end": "Projektslut (ÅÅÅÅ-MM-DD)",
    "societal_challenge": "Samhällsutmaning",
    "description": "Projektbeskrivning",
    "innovation": "Nyskapande",
    "long_term_effects": "Långsiktiga effekter",
    "target_group": "Målgrupp",
    "partners": "Samarbetspartner",
}


def registered_cases() -> list[dict]:
    """Every case with its organisation, as registered (but for the moment it was)."""
    with transaction(load().db_url) as session:
        return [
            case.model_dump(exclude={"registered_at"}) | {"organisation": org.model_dump()}
            for case, org in session.exec(
                select(Case, Organisation).join(Organisation).order_by(Case.id)
            )
        ]


def test_an_excel_export_with_swedish_headers_reads_every_field(
    grants_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Semicolons, Windows-1252 and the form's Swedish questions as column names: the same
    cases as the English export, co-financing ("Medfinansiering") included."""
    rows = list(csv.reader(io.StringIO((SAMPLES / "applications.csv").read_text("utf-8"))))
    assert set(rows[0]) == set(EXCEL_HEADERS), "a field without its Swedish column"
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows([[EXCEL_HEADERS[f] for f in rows[0]], *rows[1:]])
    path = tmp_path / "Ansökningar.csv"
    path.write_bytes(out.getvalue().encode("cp1252"))
    assert statuses(take_in(SAMPLES / "applications.csv", send_letters=False)) == ["registered"] * 3
    english = registered_cases()

    monkeypatch.setenv("GRANTS_HOME", str(tmp_path / "swedish"))
    report = take_in(path, send_letters=False)
    assert statuses(report) == ["registered"] * 3 and report["notes"] == [], report["notes"]
    assert registered_cases() == english
    assert min(case["co_financing_cash"] for case in english) > 0  # read, not missing


def said(result: dict) -> list[str]:
    """A refused record's faults as the command line says them."""
    return [str(Fault(**fault)) for fault in result["faults"]]


def test_mistakes_are_refused_by_record_field_and_value_and_valid_ones_kept(
    grants_home: Path,
) -> None:
    report = take_in(SAMPLES / "mistakes.json")
    by_id = {r["submission_id"]: r for r in report["results"]}
    assert by_id["SI-2026-0905"]["status"] == "registered"
    refused = {k: r for k, r in by_id.items() if r["status"] == "refused"}
    assert len(refused) == 9
    assert refused["SI-2026-0901"]["record"] == "record 1"
    assert any(
        f.startswith("organisation_number = '802467-5213': the check digit")
        for f in said(refused["SI-2026-0901"])
    )
    assert any(f.startswith("municipality = 'Västerås'") for f in said(refused["SI-2026-0903"]))
    assert any("closed for applications in July" in f for f in said(refused["SI-2026-0906"]))
    [closed] = [f for f in refused["SI-2026-0906"]["faults"] if f["field"] == "submitted_at"]
    assert closed["code"] == "field.call_closed"  # a code and its particulars, for each edge
    assert closed["params"]["month_numbers"] == [7, 12]
    assert [c.submission_id for c in cases()] == ["SI-2026-0905"]
    with transaction(load().db_url) as session:
        assert len(session.exec(select(Organisation)).all()) == 1
        assert len(session.exec(select(Letter)).all()) == 1


@pytest.mark.parametrize(
    "content",
    [
        '[{"submission_id": "x", ',  # cut off half-way
        '[{"submission_id": "x", "organisation_name": "Bara namnet"}]',  # nothing else
        "",
    ],
)
def test_a_bad_file_leaves_the_database_unchanged(
    grants_home: Path, tmp_path: Path, content: str
) -> None:
    take_in(SAMPLES / "applications.csv")
    before = database_dump(grants_home)
    path = tmp_path / "bad.json"
    path.write_text(content)
    try:
        report = take_in(path)
    except ValueError as error:
        assert "bad.json" in str(error)
    else:
        assert statuses(report) == ["refused"]
    assert database_dump(grants_home) == before


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_concurrent_registrations_never_share_a_case_reference(
    database: str, request: pytest.FixtureRequest
) -> None:
    """Four transactions at once, the year's counter not yet created: all serials distinct."""
    if database == "postgresql":
        request.getfixturevalue("on_postgres")
    settings = load()
    records = json.loads((SAMPLES / "applications.json").read_text())
    with transaction(settings.db_url) as session:
        call, officer = open_office(
            session, settings.file, None, Role.case_officer, sole_holder_may_omit=True
        )
    barrier = threading.Barrier(4, timeout=60)
    errors: list[BaseException] = []

    def register(chunk: list[dict]) -> None:
        try:
            valid = [validate_application(r, call, date.today()) for r in chunk]
            barrier.wait()
            with transaction(settings.db_url) as session:
                register_applications(
                    session, session.merge(call), valid, session.merge(officer), "RS", date.today()
                )
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=register, args=(records[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    references = sorted(int(c.case_reference[4:]) for c in cases())
    assert references == list(range(1, 9))


def test_swedish_column_names_and_nested_json(grants_home: Path, tmp_path: Path) -> None:
    """A spreadsheet with Swedish headers, and a form that nests its fields."""
    record = json.loads((SAMPLES / "applications.json").read_text())[0]
    swedish = {
        "Organisationsnummer": "organisation_number",
        "E-post": "email",
        "Kommun": "municipality",
        "Sökt belopp": "requested_amount",
        "Projekttitel": "project_title",
        "Kontaktperson": "contact_person",
    }
    row = {header: record.pop(field) for header, field in swedish.items()}
    row |= {k: v for k, v in record.items() if k != "partners"}
    path = tmp_path / "svenska.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    assert statuses(take_in(path, send_letters=False)) == ["registered"]

    nested = json.loads((SAMPLES / "applications.json").read_text())[1]
    project_keys = ("project_title", "project_start", "project_end")
    nested["project"] = {k.removeprefix("project_"): nested.pop(k) for k in project_keys}
    nested["organisation"] = {
        "name": nested.pop("organisation_name"),
        "number": nested.pop("organisation_number"),
    }
    path = tmp_path / "nested.json"
    path.write_text(json.dumps(nested))
    report = take_in(path, send_letters=False)
    assert statuses(report) == ["registered"], report
    with transaction(load().db_url) as session:
        numbers = set(session.exec(select(Organisation.organisation_number)))
    assert numbers == {"802476-3156", "769631-8422"}


def test_a_missing_column_is_named(grants_home: Path, tmp_path: Path) -> None:
    record = json.loads((SAMPLES / "applications.json").read_text())[0]
    del record["email"]
    path = tmp_path / "no-email.json"
    path.write_text(json.dumps(record))
    [result] = take_in(path)["results"]
    assert said(result) == ["email = (missing): is required"]


def test_a_large_file_is_reported_by_counts_and_what_must_be_read(
    grants_home: Path, tmp_path: Path
) -> None:
    """Past the first SHOWN records, the report lists only what a person must read (refused
    records, new cases with warnings); every outcome is counted, every new case named."""
    path = many_applications(tmp_path, SHOWN + 60)
    records = json.loads(path.read_text())
    records[-1]["municipality"] = "Västerås"  # refused, past the records listed whatever
    records[-2]["partners"] = []  # registered with a warning (no_partners)
    path.write_text(json.dumps(records))
    report = take_in(path, send_letters=False)
    assert report["read"] == SHOWN + 60
    assert report["counts"] == {"registered": SHOWN + 59, "refused": 1}
    assert len(set(report["new_cases"])) == SHOWN + 59 == len(cases())
    listed = {r["record"]: r for r in report["results"][SHOWN:]}
    assert all(r["status"] == "refused" or r["warnings"] for r in listed.values())
    assert 2 <= len(listed) < 60
    assert "no_partners" in listed[f"record {SHOWN + 59}"]["warnings"]
    assert said(listed[f"record {SHOWN + 60}"])[0].startswith("municipality = 'Västerås'")

    again = take_in(path, send_letters=False)
    assert again["counts"] == {"already registered": SHOWN + 59, "refused": 1}
    assert again["new_cases"] == [] and len(again["results"]) == SHOWN + 1


def test_an_application_already_registered_is_not_judged_again(
    grants_home: Path, tmp_path: Path
) -> None:
    """Known by its submission id, a record already registered is reported with its case,
    even when the file has been edited since so that it would now be refused."""
    take_in(SAMPLES / "applications.json", send_letters=False)
    before = database_dump(grants_home)
    records = json.loads((SAMPLES / "applications.json").read_text())
    records[0]["requested_amount"] = "femtiotusen"
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(records))
    report = take_in(path, send_letters=False)
    assert report["counts"] == {"already registered": 8}
    assert report["results"][0]["case_reference"] == f"{YY}RS1"
    assert database_dump(grants_home) == before


def test_killed_half_way_the_same_file_again_registers_the_rest_once(
    grants_home: Path, tmp_path: Path, prefect_server: str
) -> None:
    """kill -9 of `grants intake` while it registers: the batches done stay, none in part;
    the same file taken in again registers the rest, each once, and the trail verifies."""
    count, batch = 1_000, 50
    path = many_applications(tmp_path, count)
    env = os.environ | {"PREFECT_API_URL": prefect_server, "GRANTS_BATCH_SIZE": str(batch)}
    command = subprocess.Popen(
        [sys.executable, "-m", "grants", "intake", "--no-letters", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while command.poll() is None and time.monotonic() < deadline and not registered():
            time.sleep(0.005)
        os.kill(command.pid, signal.SIGKILL)
    finally:
        command.wait()
    done = registered()
    assert 0 < done < count and done % batch == 0, done

    report = take_in(path, send_letters=False)
    assert report["counts"] == {"already registered": done, "registered": count - done}
    assert len({c.intake_key for c in cases()}) == count == len(cases())
    settings = load()
    with transaction(settings.db_url) as session:
        assert verify(session, settings.audit_chain_key) == []


def registered() -> int:
    """Cases in the database, 0 before it exists: read straight from the file, quick
    enough to catch an intake on a busy machine between two of its batches."""
    database = load().home / "grants.db"
    if not database.exists():
        return 0
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        try:
            return connection.execute("SELECT count(*) FROM cases").fetchone()[0]
        except sqlite3.OperationalError:  # the tables are being made
            return 0
