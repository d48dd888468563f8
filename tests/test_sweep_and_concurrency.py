"""The sweep acts once however often it runs; two reviewers at once are both recorded."""

import threading
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlmodel import func, select

from flows.assessment import sweep
from flows.intake import intake
from grants.embedded import run_flow
from grants.settings import load
from models.access import case_for
from models.checklist import Finding, complete_checklist
from models.db import transaction
from models.errors import Refused
from models.reference_data import open_office
from models.reviews import declare_conflict, submit_review
from models.rules import Rules
from models.tables import (
    Answer,
    AuditEvent,
    Case,
    ConflictGround,
    Criterion,
    Letter,
    Notice,
    OnExpiry,
    Person,
    Recommendation,
    ReviewTask,
    Role,
)
from models.working_days import add_working_days, subtract_working_days
from tests.conftest import SAMPLES
from tests.helpers import ACTIVA, COOMPANION, OFFICER

REASONS = {criterion: "Väl beskrivet." for criterion in Criterion}


def checklist(submission_id: str, dismiss_because: str = "", **answers: Answer) -> str:
    """Complete the checklist of one sample case (all met unless said); its reference.
    With `dismiss_because`, the supplement request proposes dismissal if unanswered."""
    settings = load()
    with transaction(settings.db_url) as session:
        _, officer = open_office(session, settings.file, OFFICER, Role.case_officer)
        case = session.exec(select(Case).where(Case.submission_id == submission_id)).one()
        findings = {
            c: Finding(answers.get(c.value, Answer.met), "Oklart: beskriv mer.") for c in Criterion
        }
        complete_checklist(
            session,
            case,
            officer,
            findings,
            Rules.from_config(settings.file),
            date.today(),
            on_expiry=OnExpiry.dismiss if dismiss_because else None,
            dismiss_because=dismiss_because,
        )
        return case.case_reference


def count(model: type, **where: object) -> int:
    with transaction(load().db_url) as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.exec(query).one()


def test_supplement_reminder_and_deadline_happen_once(sample_call_acknowledged: Path) -> None:
    ref = checklist(
        "SI-2026-0103",
        "Utan lokal kan ansökan inte prövas: hela projektet är utlåning från lokalen.",
        anchored_with_partners=Answer.unclear,
    )
    deadline = add_working_days(date.today(), Rules().supplement_working_days)
    before_reminder = subtract_working_days(deadline, 4)
    assert run_flow(sweep, today=before_reminder)["reminders"] == 0

    reminder_day = subtract_working_days(deadline, 3)
    first = run_flow(sweep, today=reminder_day)
    second = run_flow(sweep, today=reminder_day)
    assert (first["reminders"], second["reminders"]) == (1, 0)
    assert count(Letter, kind="supplement_reminder") == 1
    reminders = list(
        (sample_call_acknowledged / "outbox").glob(f"{ref}-paminnelse-komplettering*.eml")
    )
    assert len(reminders) == 1
    message = message_from_bytes(reminders[0].read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("Påminnelse")

    assert run_flow(sweep, today=deadline)["expired"] == 0  # the last day is still open
    after = deadline + timedelta(days=1)
    assert [run_flow(sweep, today=after)["expired"] for _ in range(3)] == [1, 0, 0]
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        assert case.state == "drafting_decision" and case.proposed_outcome == "dismissed"
        expiries = session.exec(
            select(AuditEvent).where(
                AuditEvent.case_id == case.id,
                AuditEvent.action == "supplement_deadline_passed_dismissal_proposed",
            )
        ).all()
        assert len(expiries) == 1
    assert count(Notice, kind="supplement_expired") == 1


def test_examined_as_it_stands_by_default_dismissal_only_with_a_reason(
    sample_call_acknowledged: Path,
) -> None:
    """FL 20 §: dismissal is the officer's explicit choice for a gap that prevents examination,
    with its reason; without it an unanswered request leads to examination as it stands."""
    settings = load()
    rules = Rules.from_config(settings.file)
    findings = {c: Finding(Answer.met) for c in Criterion}
    findings[Criterion.new_locally] = Finding(Answer.unclear, "Finns liknande i Askersund?")
    with (
        pytest.raises(Refused, match="only for a gap that prevents examining"),
        transaction(settings.db_url) as session,
    ):
        _, officer = open_office(session, settings.file, OFFICER, Role.case_officer)
        case = session.exec(select(Case).where(Case.submission_id == "SI-2026-0106")).one()
        complete_checklist(
            session, case, officer, findings, rules, date.today(), on_expiry=OnExpiry.dismiss
        )
    with transaction(settings.db_url) as session:
        _, officer = open_office(session, settings.file, OFFICER, Role.case_officer)
        case = session.exec(select(Case).where(Case.submission_id == "SI-2026-0106")).one()
        complete_checklist(session, case, officer, findings, rules, date.today())
        deadline = add_working_days(date.today(), 10)
    run_flow(sweep, today=deadline + timedelta(days=1))
    run_flow(sweep, today=deadline + timedelta(days=2))
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.submission_id == "SI-2026-0106")).one()
        assert case.state == "in_review"
        assert len(session.exec(select(ReviewTask).where(ReviewTask.case_id == case.id)).all()) == 3


def test_overdue_reviews_are_reminded_once(sample_call_acknowledged: Path) -> None:
    checklist("SI-2026-0101")
    due = add_working_days(date.today(), Rules().review_working_days)
    assert run_flow(sweep, today=due)["review_reminders"] == 0
    late = due + timedelta(days=1)
    assert [run_flow(sweep, today=late)["review_reminders"] for _ in range(2)] == [3, 0]
    assert count(Notice, kind="review_overdue") == 3
    notices = list((sample_call_acknowledged / "outbox").glob("notices-*.eml"))
    assert len(notices) == 3 + count(Notice, kind="audit_anchor")  # and the trail's anchors
    text = b"".join(n.read_bytes() for n in notices).decode()
    assert "lena.holm@activa.example.se" in text


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_reviewers_submitting_at_once_are_both_recorded(
    database: str, request: pytest.FixtureRequest, grants_home: Path
) -> None:
    if database == "postgresql":
        request.getfixturevalue("on_postgres")
    run_flow(intake, path=str(SAMPLES / "applications.json"), send_letters=False)
    ref = checklist("SI-2026-0107")
    settings = load()
    rules = Rules.from_config(settings.file)
    reviewers = [ACTIVA, COOMPANION]
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        for email in reviewers:
            person = session.exec(select(Person).where(Person.email == email)).one()
            declare_conflict(session, case, person, ConflictGround.none, "", rules)
    barrier = threading.Barrier(2, timeout=60)
    errors: list[BaseException] = []

    def review(email: str) -> None:
        # Both transactions open at once; SQLite's BEGIN IMMEDIATE would queue the second
        # before the barrier, so there they start together instead.
        try:
            if database == "sqlite":
                barrier.wait()
            with transaction(settings.db_url) as session:
                person = session.exec(select(Person).where(Person.email == email)).one()
                if database == "postgresql":
                    barrier.wait()
                case = case_for(session, ref, person, lock=True)
                submit_review(
                    session, case, person, Recommendation.granted, None, REASONS, [], "", rules
                )
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=review, args=(email,)) for email in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        assert case.state == "applicant_meeting"
        tasks = session.exec(select(ReviewTask).where(ReviewTask.case_id == case.id)).all()
        assert sorted(t.status for t in tasks) == ["open", "submitted", "submitted"]
        moves = session.exec(
            select(AuditEvent).where(
                AuditEvent.case_id == case.id, AuditEvent.action == "reviews_complete"
            )
        ).all()
        assert len(moves) == 1
