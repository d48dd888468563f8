"""The same intake against a real PostgreSQL server: production's database."""

import json
import threading
from datetime import date

from sqlalchemy import func
from sqlmodel import select

from flows.intake import intake
from grants.embedded import run_flow
from grants.settings import load
from models.db import transaction
from models.intake import register_applications
from models.reference_data import open_office
from models.tables import AuditEvent, Case, Letter, Organisation, Role
from models.validation import validate_application
from tests.conftest import SAMPLES

YY = f"{date.today().year % 100:02d}"


def counts() -> dict[str, int]:
    with transaction(load().db_url) as session:
        return {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in (Case, Organisation, Letter, AuditEvent)
        }


def test_intake_runs_on_postgresql_and_twice_is_once(on_postgres: str) -> None:
    assert load().db_url == on_postgres
    report = run_flow(intake, path=str(SAMPLES / "applications.json"))
    assert [r["case_reference"] for r in report["results"]] == [f"{YY}RS{n}" for n in range(1, 9)]
    assert report["letters"] == {"created": 8, "sent": 8, "failed": 0}
    after_first = counts()
    assert after_first == {"Case": 8, "Organisation": 8, "Letter": 8, "AuditEvent": 24}
    report = run_flow(intake, path=str(SAMPLES / "applications.json"))
    assert {r["status"] for r in report["results"]} == {"already registered"}
    assert counts() == after_first


def test_mistakes_on_postgresql_store_only_the_valid_record(on_postgres: str) -> None:
    report = run_flow(intake, path=str(SAMPLES / "mistakes.json"), send_letters=False)
    assert [r["status"] for r in report["results"]].count("refused") == 9
    assert counts() == {"Case": 1, "Organisation": 1, "Letter": 0, "AuditEvent": 1}


def test_concurrent_registration_on_postgresql(on_postgres: str) -> None:
    """Four transactions at once, the year's counter not yet created: all serials distinct."""
    settings = load()
    records = json.loads((SAMPLES / "applications.json").read_text())
    with transaction(settings.db_url) as session:
        call, officer = open_office(session, settings.file, None, Role.case_officer)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def register(chunk: list[dict]) -> None:
        try:
            with transaction(settings.db_url) as session:
                valid = [validate_application(r, call, date.today()) for r in chunk]
                barrier.wait()
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
    with transaction(settings.db_url) as session:
        references = sorted(int(r[4:]) for r in session.exec(select(Case.case_reference)))
    assert references == list(range(1, 9))
