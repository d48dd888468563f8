"""Every read names who reads, and no list, count, export or report shows a person a case in
which they declared a conflict of interest (Förvaltningslagen 16–18 §§)."""

import csv
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from tests.helpers import ACTIVA, DECISION_MAKER, OFFICER, grants
from tests.test_integrity import decided, signed_call  # noqa: F401  (fixtures)

CONFLICTED = "26RS1"  # the signed case; the case officer declares a conflict in it below


@pytest.fixture
def officer_conflicted(decided: Path) -> Path:  # noqa: F811
    """The case officer, also a reviewer, has a declared conflict in the signed case."""
    with sqlite3.connect(decided / "grants.db", isolation_level=None) as db:
        db.execute(
            "UPDATE review_tasks SET status = 'conflicted', conflict = 'close_relative' "
            "WHERE case_id = (SELECT id FROM cases WHERE case_reference = ?) "
            "AND reviewer_id = (SELECT id FROM people WHERE email = ?)",
            (CONFLICTED, OFFICER),
        )
    return decided


def test_every_read_names_who_reads(decided: Path, tmp_path: Path) -> None:  # noqa: F811
    for command in (
        ["status"],
        ["status", CONFLICTED],
        ["export-letters", str(tmp_path / "out")],
        ["undelivered"],
        ["verify"],
        ["delegation-report", "--from", "2026-01-01", "--to", "2099-12-31", "--out", str(tmp_path)],
    ):
        result = grants(*command, ok=False)
        assert result.exit_code == 2 and "say who acts" in result.output, (command, result.output)
    assert not (tmp_path / "out").exists()


def test_the_delegation_report_is_for_officers_and_the_decision_maker(
    decided: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    today = date.today().isoformat()
    period = ["--from", today, "--to", today, "--out", str(tmp_path / "reports")]
    refused = grants("delegation-report", *period, "--as", ACTIVA, ok=False)
    assert refused.exit_code == 2 and "advisor" in refused.output
    assert not (tmp_path / "reports").exists()
    for reader in (OFFICER, DECISION_MAKER):
        report = grants("delegation-report", *period, "--as", reader)
        assert report.exit_code == 0 and "1 decision(s)" in report.output, report.output


def test_a_conflicted_officer_sees_nothing_of_the_case(
    officer_conflicted: Path, tmp_path: Path
) -> None:
    listing = grants("status", "--as", OFFICER)
    assert listing.exit_code == 0
    assert "7 case(s)" in listing.output and CONFLICTED + " " not in listing.output
    assert "conflict of interest" not in listing.output

    one = grants("status", CONFLICTED, "--as", OFFICER, ok=False)
    assert one.exit_code == 2 and "conflict of interest" in one.output

    exported = grants("export-letters", str(tmp_path / "letters"), "--as", OFFICER)
    assert exported.exit_code == 0, exported.output
    names = [p.name for p in (tmp_path / "letters").iterdir()]
    assert names and not [n for n in names if n.startswith(CONFLICTED + "-")]

    today = date.today().isoformat()
    reports = tmp_path / "reports"
    report = grants(
        "delegation-report", "--from", today, "--to", today, "--out", str(reports), "--as", OFFICER
    )
    assert report.exit_code == 0 and "0 decision(s)" in report.output, report.output
    [written] = reports.glob("*.csv")
    assert list(csv.DictReader(written.open(encoding="utf-8"))) == []

    with sqlite3.connect(officer_conflicted / "grants.db", isolation_level=None) as db:
        db.execute(
            "UPDATE letters SET recipient = 'x@example.se', attempts = 1, "
            "delivery_state = 'failed', last_error = '550 no' WHERE id = 1"
        )
        db.execute("UPDATE decisions SET amount = 1 WHERE status = 'signed'")
    undelivered = grants("undelivered", "--as", OFFICER)
    assert "0 letter(s) not delivered" in undelivered.output
    verified = grants("verify", "--as", OFFICER, ok=False)
    assert verified.exit_code == 1 and CONFLICTED not in verified.output
    assert CONFLICTED in grants("verify", "--as", DECISION_MAKER, ok=False).output
    assert CONFLICTED not in grants("tasks", "--as", OFFICER).output


def test_an_advisor_reads_only_the_cases_they_review_on_every_edge(decided: Path) -> None:  # noqa: F811
    """Need to know: the command line lists and shows an advisor exactly the cases the office
    shows them, those with their review task."""
    with sqlite3.connect(decided / "grants.db") as db:
        references = [row[0] for row in db.execute("SELECT case_reference FROM cases")]
        reviewing = {
            row[0]
            for row in db.execute(
                "SELECT c.case_reference FROM cases c JOIN review_tasks t ON t.case_id = c.id "
                "JOIN people p ON p.id = t.reviewer_id WHERE p.email = ?",
                (ACTIVA,),
            )
        }
    others = [reference for reference in references if reference not in reviewing]
    assert reviewing and others, "the fixture must hold cases on both sides"

    listing = grants("status", "--as", ACTIVA)
    assert listing.exit_code == 0, listing.output
    assert f"{len(reviewing)} case(s)" in listing.output
    assert all(f"{reference} " in listing.output for reference in reviewing)
    assert not [reference for reference in others if f"{reference} " in listing.output]

    refused = grants("status", others[0], "--as", ACTIVA, ok=False)
    assert refused.exit_code == 2 and "no case" in refused.output, refused.output
    shown = grants("status", sorted(reviewing)[0], "--as", ACTIVA)
    assert shown.exit_code == 0, shown.output
