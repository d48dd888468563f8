"""What a person has to do: their open review tasks and, for case officers, their cases'
next steps. Oldest first, with due dates where there are any."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from models import clock
from models.delays import UNDECIDED, is_old
from models.states import CaseState
from models.supplements import open_request
from models.tables import Case, Person, ReviewTask, Role, TaskStatus

OFFICER_STEPS = {
    CaseState.received: "eligibility checklist (grants checklist)",
    CaseState.awaiting_supplement: "waiting for the supplement (grants supplement when it comes)",
    CaseState.applicant_meeting: "book, document or skip the applicant meeting (grants meeting)",
}


@dataclass(frozen=True)
class Task:
    case_reference: str
    project_title: str
    what: str
    since: date
    due: date | None


def open_tasks(session: Session, person: Person, today: date | None = None) -> list[Task]:
    """Open review tasks; for a case officer also their cases' next steps and the cases
    older than six months (FL 12 §)."""
    today = today or clock.today()
    tasks = [
        Task(
            t.case.case_reference,
            t.case.project_title,
            "review: declare conflicts first" if t.conflict is None else "review",
            t.created_at.date(),
            t.due,
        )
        for t in session.exec(
            select(ReviewTask)
            .join(Case)
            .where(
                ReviewTask.reviewer_id == person.id,
                ReviewTask.status == TaskStatus.open,
                Case.state == CaseState.in_review,
            )
        )
    ]
    if person.role is Role.case_officer:
        cases = session.exec(
            select(Case).where(
                Case.case_officer_id == person.id, col(Case.state).in_(list(OFFICER_STEPS))
            )
        )
        for case in cases:
            request = open_request(session, case)
            tasks.append(
                Task(
                    case.case_reference,
                    case.project_title,
                    OFFICER_STEPS[case.state],
                    case.registered_at.date(),
                    request.deadline if request else None,
                )
            )
        tasks += [
            Task(
                case.case_reference,
                case.project_title,
                "older than six months: the applicant may ask for a decision, which must then "
                "come within four weeks (FL 12 §)",
                case.date_received,
                None,
            )
            for case in session.exec(
                select(Case).where(
                    Case.case_officer_id == person.id, col(Case.state).in_(UNDECIDED)
                )
            )
            if is_old(case, today)
        ]
    return sorted(tasks, key=lambda t: (t.since, t.case_reference))
