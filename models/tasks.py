"""What waits for a person: their open review tasks, the next step of a case officer's
cases, and the drafts with the decision maker. Overdue first, then by due date, then oldest.

A task says *what* is due (a step kind and its case); each edge says *how* in its own words
(the command line names a command, the office links to a page).
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlmodel import Session, col, select

from models.access import conflicted_case_ids
from models.delays import UNDECIDED, is_old
from models.states import CaseState
from models.supplements import open_request
from models.tables import Case, Communication, Person, ReviewTask, Role, TaskStatus, local_date


class TaskKind(StrEnum):
    declare = "declare"  # review task: the conflict-of-interest declaration first
    review = "review"
    checklist = "checklist"
    await_supplement = "await_supplement"
    meeting = "meeting"
    draft = "draft"
    await_reply = "await_reply"  # communication before decision: the applicant's reply
    decide = "decide"
    old_case = "old_case"  # FL 12 §: undecided six months; the applicant may ask for a decision


OFFICER_STEPS = {
    CaseState.received: TaskKind.checklist,
    CaseState.awaiting_supplement: TaskKind.await_supplement,
    CaseState.applicant_meeting: TaskKind.meeting,
    CaseState.drafting_decision: TaskKind.draft,
    CaseState.communication: TaskKind.await_reply,
}


@dataclass(frozen=True)
class Task:
    case_reference: str
    project_title: str
    kind: TaskKind
    since: date
    due: date | None

    def overdue(self, today: date) -> bool:
        return self.due is not None and self.due < today


def open_tasks(session: Session, person: Person, today: date) -> list[Task]:
    """The person's tasks; a case in which they declared a conflict of interest is not one."""
    tasks = _review_tasks(session, person)
    if person.role is Role.case_officer:
        tasks += _officer_tasks(session, person, today)
    if person.role is Role.decision_maker:
        waiting = select(Case).where(Case.state == CaseState.awaiting_decision)
        tasks += [_task(case, TaskKind.decide, None) for case in session.exec(waiting)]
    hidden = {c.case_reference for c in _cases(session, conflicted_case_ids(session, person))}
    return sorted(
        (t for t in tasks if t.case_reference not in hidden),
        key=lambda t: (not t.overdue(today), t.due or date.max, t.since, t.case_reference),
    )


def _cases(session: Session, ids: set[int]) -> list[Case]:
    return list(session.exec(select(Case).where(col(Case.id).in_(ids)))) if ids else []


def _task(case: Case, kind: TaskKind, due: date | None, since: date | None = None) -> Task:
    return Task(
        case.case_reference,
        case.project_title,
        kind,
        since or local_date(case.registered_at),
        due,
    )


def _review_tasks(session: Session, person: Person) -> list[Task]:
    query = (
        select(ReviewTask)
        .join(Case)
        .where(
            ReviewTask.reviewer_id == person.id,
            ReviewTask.status == TaskStatus.open,
            Case.state == CaseState.in_review,
        )
    )
    return [
        _task(
            t.case,
            TaskKind.declare if t.conflict is None else TaskKind.review,
            t.due,
            local_date(t.created_at),
        )
        for t in session.exec(query)
    ]


def _officer_tasks(session: Session, person: Person, today: date) -> list[Task]:
    """The next step of each of the officer's cases, and the cases undecided six months."""
    query = select(Case).where(
        Case.case_officer_id == person.id, col(Case.state).in_(list(OFFICER_STEPS))
    )
    tasks = [
        _task(case, OFFICER_STEPS[case.state], _due(session, case)) for case in session.exec(query)
    ]
    undecided = select(Case).where(
        Case.case_officer_id == person.id, col(Case.state).in_(UNDECIDED)
    )
    return tasks + [
        _task(case, TaskKind.old_case, None, case.date_received)
        for case in session.exec(undecided)
        if is_old(case, today)
    ]


def _due(session: Session, case: Case) -> date | None:
    """The deadline the case waits on, where it waits on one."""
    if case.state is CaseState.awaiting_supplement:
        request = open_request(session, case)
        return request.deadline if request else None
    if case.state is CaseState.communication:
        waiting = select(Communication).where(
            Communication.case_id == case.id,
            col(Communication.replied_at).is_(None),
            col(Communication.expired_at).is_(None),
        )
        communication = session.exec(waiting).first()
        return communication.deadline if communication else None
    return None
