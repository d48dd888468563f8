"""The same intake against a real PostgreSQL server: production's database.

(Concurrent registration on both databases: test_intake_flow.py.)
"""

from datetime import date

from sqlalchemy import func
from sqlmodel import select

from flows.intake import intake
from grants.embedded import run_flow
from grants.settings import load
from models.db import transaction
from models.tables import AuditEvent, Case, Letter, Organisation
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
    # The acknowledgement is ordered with the case; without letters it waits unrendered.
    assert counts() == {"Case": 1, "Organisation": 1, "Letter": 1, "AuditEvent": 1}
