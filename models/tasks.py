"""What waits for a person: their open review tasks, the next step of a case officer's
cases, and the drafts with the decision maker. Overdue first, then by due date, then oldest.

Every case that is not finished (FINISHED) is on someone's list: a case in review on its
reviewers' lists, and on its officer's when conflicts of interest left too few reviewers
to reach the quorum; a case no case officer may take, on the decision maker's
(tests/test_no_dead_ends.py walks every state and conflict).

A task says *what* is due (a step kind and its case); each edge says *how* in its own words
(the command line names a command, the office links to a page).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Row, exists, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models.access import conflicted_case_ids
from models.delays import UNDECIDED, is_old
from models.reviews import shortfalls
from models.states import CaseState
from models.tables import (
    Case,
    Communication,
    PaymentOrder,
    PaymentStatus,
    Person,
    RepaymentClaim,
    RepaymentStatus,
    ReviewTask,
    Role,
    SupplementRequest,
    TaskStatus,
    local_date,
)


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
    too_few_reviewers = "too_few_reviewers"  # conflicts left fewer reviewers than the quorum
    reporting = "reporting"  # a funded project's presentation and final report to record
    no_case_officer = "no_case_officer"  # every active case officer declared a conflict in it
    payment_rejected = "payment_rejected"  # the bank rejected a payment order (pain.002)
    decide_repayment = "decide_repayment"  # a repayment claim answered, or its deadline passed


# The decision is signed: the handling of the application is over. What may follow for a
# granted project (the invitation to a Community Talk) is the calendar's, by the sweep.
FINISHED = (CaseState.decided, CaseState.closed)


OFFICER_STEPS = {
    CaseState.received: TaskKind.checklist,
    CaseState.awaiting_supplement: TaskKind.await_supplement,
    CaseState.applicant_meeting: TaskKind.meeting,
    CaseState.drafting_decision: TaskKind.draft,
    CaseState.communication: TaskKind.await_reply,
    CaseState.reporting: TaskKind.reporting,
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


# What a task shows of its case: the columns alone, not whole cases with their texts (an
# officer's list holds hundreds of tasks).
LISTED = (
    Case.id,
    Case.case_reference,
    Case.project_title,
    Case.registered_at,
    Case.state,
    Case.date_received,
)


def open_tasks(session: Session, person: Person, today: date) -> list[Task]:
    """The person's tasks; a case in which they declared a conflict of interest is not one."""
    tasks = _review_tasks(session, person)
    if person.role is Role.case_officer:
        tasks += _officer_tasks(session, person, today)
    if person.role is Role.decision_maker:
        waiting = select(*LISTED).where(Case.state == CaseState.awaiting_decision)
        tasks += [_task(case, TaskKind.decide, None) for case in session.exec(waiting)]
        orphans = select(*LISTED).where(_without_a_case_officer())
        tasks += [_task(case, TaskKind.no_case_officer, None) for case in session.exec(orphans)]
        tasks += _repayments_to_decide(session, person, today)
    return _in_order(session, person, tasks, today)


def repayments_to_decide(session: Session, maker: Person, today: date) -> list[Task]:
    """The repayment claims waiting for the decision maker, as her task list has them."""
    return _in_order(session, maker, _repayments_to_decide(session, maker, today), today)


def _repayments_to_decide(session: Session, maker: Person, today: date) -> list[Task]:
    """The repayment claims the decision maker may decide now (models.repayment.decide_claim):
    communicated, and answered by the grantee or past the deadline for comments; not one she
    drafted herself. Since the answer, or the day after the deadline."""
    query = select(
        *LISTED,
        RepaymentClaim.replied_at,
        RepaymentClaim.communication_deadline,
        RepaymentClaim.drafted_by,
    ).join(RepaymentClaim)
    waiting = query.where(RepaymentClaim.status == RepaymentStatus.communicated)
    tasks = []
    for row in session.exec(waiting):
        deadline = row.communication_deadline
        if row.drafted_by == maker.email:
            continue
        if row.replied_at is not None:
            tasks.append(_task(row, TaskKind.decide_repayment, None, local_date(row.replied_at)))
        elif deadline is None or deadline < today:
            since = deadline + timedelta(days=1) if deadline else None
            tasks.append(_task(row, TaskKind.decide_repayment, None, since))
    return tasks


def _without_a_case_officer() -> ColumnElement[bool]:
    """A case not finished that no active case officer may take: each declared a conflict of
    interest in it (FL 16 §), or none is left. The decision maker, who can add a case
    officer, has it on their list."""
    conflicted = exists().where(
        ReviewTask.case_id == Case.id,
        ReviewTask.reviewer_id == Person.id,
        ReviewTask.status == TaskStatus.conflicted,
    )
    free = (
        select(Person.id)
        .where(Person.role == Role.case_officer, col(Person.active).is_(True), ~conflicted)
        .correlate(Case)
    )
    return col(Case.state).not_in(FINISHED) & ~exists(free)


def open_review_tasks(session: Session, person: Person, today: date) -> list[Task]:
    """The person's review tasks alone (declarations and reviews), as `open_tasks` has them."""
    return _in_order(session, person, _review_tasks(session, person), today)


def _in_order(session: Session, person: Person, tasks: list[Task], today: date) -> list[Task]:
    """Without the cases `person` declared a conflict in; overdue first, then by due date."""
    ids = conflicted_case_ids(session, person)
    hidden = (
        set(session.exec(select(Case.case_reference).where(col(Case.id).in_(ids))))
        if ids
        else set()
    )
    return sorted(
        (t for t in tasks if t.case_reference not in hidden),
        key=lambda t: (not t.overdue(today), t.due or date.max, t.since, t.case_reference),
    )


def _task(case: Row[Any], kind: TaskKind, due: date | None, since: date | None = None) -> Task:
    """A task on the case of a row of LISTED."""
    return Task(
        case.case_reference,
        case.project_title,
        kind,
        since or local_date(case.registered_at),
        due,
    )


def _review_tasks(session: Session, person: Person) -> list[Task]:
    query = (
        select(*LISTED, ReviewTask.conflict, ReviewTask.due, ReviewTask.created_at)
        .join(ReviewTask)
        .where(
            ReviewTask.reviewer_id == person.id,
            ReviewTask.status == TaskStatus.open,
            Case.state == CaseState.in_review,
        )
    )
    return [
        _task(
            row,
            TaskKind.declare if row.conflict is None else TaskKind.review,
            row.due,
            local_date(row.created_at),
        )
        for row in session.exec(query)
    ]


def _officer_tasks(session: Session, person: Person, today: date) -> list[Task]:
    """The next step of each of the officer's cases, the cases in review that cannot reach
    the quorum, and the cases undecided six months."""
    query = select(*LISTED).where(_handled_by(person), col(Case.state).in_(list(OFFICER_STEPS)))
    cases = list(session.exec(query))
    due = _deadlines(session, [case.id for case in cases])
    tasks = [_task(case, OFFICER_STEPS[case.state], due.get(case.id)) for case in cases]
    reviewing = select(*LISTED).where(_handled_by(person), Case.state == CaseState.in_review)
    in_review = list(session.exec(reviewing))
    short = shortfalls(session, [case.id for case in in_review])
    tasks += [
        _task(case, TaskKind.too_few_reviewers, None) for case in in_review if case.id in short
    ]
    undecided = select(*LISTED).where(_handled_by(person), col(Case.state).in_(UNDECIDED))
    tasks += [
        _task(case, TaskKind.old_case, None, case.date_received)
        for case in session.exec(undecided)
        if is_old(case, today)
    ]
    rejected = (
        select(*LISTED, func.min(PaymentOrder.prepared_at).label("prepared_at"))
        .join(PaymentOrder)
        .where(_handled_by(person), PaymentOrder.status == PaymentStatus.rejected)
        .group_by(*LISTED)
    )
    return tasks + [
        _task(case, TaskKind.payment_rejected, None, local_date(case.prepared_at))
        for case in session.exec(rejected)
    ]


def _handled_by(officer: Person) -> ColumnElement[bool]:
    """The officer's own cases; and every case whose own officer cannot take its next step
    (deactivated, or none), or declared a conflict of interest in it (FL 16 §): any other
    case officer takes it."""
    theirs = aliased(Case)
    stepped_aside = (
        select(ReviewTask.case_id)
        .join(theirs, col(theirs.id) == ReviewTask.case_id)
        .where(
            ReviewTask.reviewer_id == theirs.case_officer_id,
            ReviewTask.status == TaskStatus.conflicted,
        )
    )
    gone = select(Person.id).where(col(Person.active).is_(False))
    return (
        (Case.case_officer_id == officer.id)
        | col(Case.case_officer_id).is_(None)
        | col(Case.case_officer_id).in_(gone)
        | col(Case.id).in_(stepped_aside)
    )


def _deadlines(session: Session, case_ids: list[int]) -> dict[int, date]:
    """Per case, the deadline it waits on, where it waits on one: the open request for
    supplement (the latest) of a case awaiting one, the open communication of a case in
    communication. Two queries for all the cases, not two a case."""
    if not case_ids:
        return {}
    requests = session.exec(
        select(SupplementRequest.case_id, SupplementRequest.deadline)
        .join(Case)
        .where(
            col(SupplementRequest.case_id).in_(case_ids),
            Case.state == CaseState.awaiting_supplement,
            col(SupplementRequest.received_at).is_(None),
            col(SupplementRequest.expired_at).is_(None),
        )
        .order_by(col(SupplementRequest.number))
    )
    communications = session.exec(
        select(Communication.case_id, Communication.deadline)
        .join(Case)
        .where(
            col(Communication.case_id).in_(case_ids),
            Case.state == CaseState.communication,
            col(Communication.replied_at).is_(None),
            col(Communication.expired_at).is_(None),
        )
        .order_by(col(Communication.id).desc())
    )
    return dict(requests.all()) | dict(communications.all())
