"""Advisory group review: a task per member, the conflict declaration first, then the review.

When enough non-conflicted reviewers have submitted (the quorum), the case moves on to
the applicant meeting. If declared conflicts leave too few reviewers to reach the
quorum, the case officer is told, once per conflict.
"""

from datetime import date
from typing import Any, ClassVar

from sqlmodel import Session, col, select

from models.audit import SYSTEM, Actor, move, record
from models.errors import Refused
from models.notices import order_notice
from models.people import advisory_group
from models.reference_data import NotAllowed
from models.rules import Rules
from models.states import CaseState
from models.tables import (
    Call,
    Case,
    ConflictGround,
    Criterion,
    Person,
    Recommendation,
    ReviewTask,
    Role,
    TaskStatus,
    utcnow,
)
from models.working_days import add_working_days


class ReviewError(Refused, ValueError):
    """The review cannot be taken as given; the refusal names the field and why."""

    messages: ClassVar[dict[str, str]] = {
        "review.conflicted_reviewer": "{name} declared a conflict of interest in "
        "{case_reference} and cannot be brought back (FL 16–18 §§)",
        "review.has_task": "{name} already has a review task for {case_reference}",
        "review.declared": "{name} declared '{ground}' for {case_reference} on {declared_on}; "
        "a declaration is not changed afterwards",
        "review.own_organisation_applicant": "conflict = 'none': {organisation}, {name}'s own "
        "organisation, is the applicant in {case_reference}; declare the conflict "
        "(own_organisation)",
        "review.own_organisation_partner": "conflict = 'none': {organisation}, {name}'s own "
        "organisation, is a partner in {case_reference}; declare the conflict "
        "(own_organisation)",
        "review.conflict_note": "note = '': say what the conflict ({ground}) consists of",
        "review.undeclared": "{name} must first declare any conflict of interest for "
        "{case_reference}",
        "review.submitted": "{name} submitted a review of {case_reference} on {submitted_on}; "
        "it is part of the record",
        "review.reasons_missing": "reasons: give the reasons for every basic requirement; "
        "missing: {missing}",
        "review.not_in_review": "case {case_reference} is '{state}': reviews are given while "
        "it is 'in_review'",
        "review.no_amount": "amount = {amount}: no amount goes with '{recommendation}'",
        "review.granted_is_requested": "amount = {amount}: 'granted' is the amount applied for "
        "({requested}); use partly_granted for less",
        "review.amount_needed": "amount: 'partly_granted' needs the proposed amount",
        "review.amount_out_of_range": "amount = {amount}: must be at least {minimum} and less "
        "than the {requested} applied for",
    }


def reviewers(session: Session, case: Case) -> list[Person]:
    """The advisory group for this case: its active members and the case officer."""
    group = advisory_group(session)
    found = list(group.members)
    officer = case.case_officer
    if group.include_case_officer and officer and officer.active and officer not in found:
        found.append(officer)
    return found


def tasks_of(session: Session, case: Case) -> list[ReviewTask]:
    return list(session.exec(select(ReviewTask).where(ReviewTask.case_id == case.id)))


def start_review(
    session: Session,
    case: Case,
    rules: Rules,
    today: date,
    actor: Actor,
    action: str,
    **detail: Any,
) -> None:
    """Move the case to review and give each reviewer without a task a task with a due date."""
    move(session, case, CaseState.in_review, actor, action, **detail)
    have = {task.reviewer_id for task in tasks_of(session, case)}
    due = add_working_days(today, rules.review_working_days)
    new = [person for person in reviewers(session, case) if person.id not in have]
    for person in new:
        session.add(ReviewTask(case_id=case.id, reviewer_id=person.id, due=due))
    session.flush()
    if new:
        record(
            session,
            case,
            SYSTEM,
            "review_tasks_created",
            due=due.isoformat(),
            reviewers=[p.email for p in new],
        )
    _move_on_if_quorum(session, case)


def assign_reviewer(
    session: Session, case: Case, officer: Person, reviewer: Person, rules: Rules, today: date
) -> ReviewTask:
    """The case officer adds a reviewer, e.g. when conflicts left too few."""
    _require_review_open(case)
    if reviewer.role not in (Role.advisor, Role.case_officer):
        raise NotAllowed("access.not_a_reviewer", name=reviewer.name, role=reviewer.role)
    if not reviewer.active:
        raise NotAllowed("access.deactivated", name=reviewer.name, email=reviewer.email)
    earlier = next((t for t in tasks_of(session, case) if t.reviewer_id == reviewer.id), None)
    if earlier is not None and earlier.status is TaskStatus.conflicted:
        raise ReviewError(
            "review.conflicted_reviewer", name=reviewer.name, case_reference=case.case_reference
        )
    if earlier is not None:
        raise ReviewError("review.has_task", name=reviewer.name, case_reference=case.case_reference)
    task = ReviewTask(
        case_id=case.id,
        reviewer_id=reviewer.id,
        due=add_working_days(today, rules.review_working_days),
    )
    session.add(task)
    record(
        session,
        case,
        Actor.of(officer),
        "reviewer_assigned",
        reviewer=reviewer.email,
        due=task.due.isoformat(),
    )
    return task


def declare_conflict(
    session: Session,
    case: Case,
    person: Person,
    ground: ConflictGround,
    note: str,
    rules: Rules,
) -> ReviewTask:
    """The first step of a review task: a conflict of interest, or none (FL 16–18 §§)."""
    task = _task(session, case, person)
    if task.conflict is not None:
        raise ReviewError(
            "review.declared",
            name=person.name,
            ground=task.conflict,
            case_reference=case.case_reference,
            declared_on=task.declared_at.date(),
        )
    involved = _own_organisation_involved(case, person)
    if ground is ConflictGround.none and involved:
        raise ReviewError(
            "review.own_organisation_applicant"
            if involved == "applicant"
            else "review.own_organisation_partner",
            organisation=person.organisation,
            name=person.name,
            case_reference=case.case_reference,
        )
    if ground is not ConflictGround.none and not note.strip():
        raise ReviewError("review.conflict_note", ground=ground)
    task.conflict, task.conflict_note, task.declared_at = ground, note.strip(), utcnow()
    if ground is not ConflictGround.none:
        task.status = TaskStatus.conflicted
    session.add(task)
    actor = Actor.of(person)
    if ground is ConflictGround.none:
        record(session, case, actor, "no_conflict_declared")
        return task
    record(session, case, actor, "conflict_declared", ground=ground, note=task.conflict_note)
    _warn_if_too_few(session, case)
    return task


def submit_review(
    session: Session,
    case: Case,
    person: Person,
    recommendation: Recommendation,
    amount: int | None,
    reasons: dict[Criterion, str],
    other_funding: list[str],
    comments: str,
    rules: Rules,
) -> ReviewTask:
    """The review itself; the case moves on when it completes the quorum."""
    task = _task(session, case, person)
    if task.conflict is None:
        raise ReviewError("review.undeclared", name=person.name, case_reference=case.case_reference)
    if task.status is TaskStatus.submitted:
        raise ReviewError(
            "review.submitted",
            name=person.name,
            case_reference=case.case_reference,
            submitted_on=task.submitted_at.date(),
        )
    task.proposed_amount = _checked_amount(recommendation, amount, case, case.call)
    missing = [c for c in Criterion if not reasons.get(c, "").strip()]
    if missing:
        raise ReviewError("review.reasons_missing", missing=missing)
    task.recommendation = recommendation
    task.reasons = {c.value: reasons[c].strip() for c in Criterion}
    task.other_funding = [f.strip() for f in other_funding if f.strip()]
    task.comments = comments.strip()
    task.status, task.submitted_at = TaskStatus.submitted, utcnow()
    session.add(task)
    record(
        session,
        case,
        Actor.of(person),
        "review_submitted",
        recommendation=recommendation,
        amount=task.proposed_amount,
    )
    session.flush()
    _move_on_if_quorum(session, case)
    return task


def remind_overdue(session: Session, today: date) -> int:
    """Order one reminder per review task past its due date; return how many."""
    overdue = session.exec(
        select(ReviewTask)
        .join(Case)
        .where(
            Case.state == CaseState.in_review,
            ReviewTask.status == TaskStatus.open,
            col(ReviewTask.due) < today,
            col(ReviewTask.reminded_at).is_(None),
        )
        .with_for_update()
    ).all()
    for task in overdue:
        case = task.case
        order_notice(
            session,
            f"{case.case_reference}/review_overdue/{task.reviewer.email}",
            "review_overdue",
            task.reviewer,
            case,
            case_reference=case.case_reference,
            project_title=case.project_title,
            due=task.due.isoformat(),
        )
        task.reminded_at = utcnow()
        session.add(task)
        record(session, case, SYSTEM, "review_reminder_ordered", reviewer=task.reviewer.email)
    return len(overdue)


def _require_review_open(case: Case) -> None:
    if case.state is not CaseState.in_review:
        raise ReviewError(
            "review.not_in_review", case_reference=case.case_reference, state=case.state
        )


def _task(session: Session, case: Case, person: Person) -> ReviewTask:
    _require_review_open(case)
    task = session.exec(
        select(ReviewTask).where(ReviewTask.case_id == case.id, ReviewTask.reviewer_id == person.id)
    ).first()
    if task is None:
        raise NotAllowed(
            "access.no_review_task",
            name=person.name,
            email=person.email,
            case_reference=case.case_reference,
        )
    return task


def _own_organisation_involved(case: Case, person: Person) -> str | None:
    """'applicant' or 'partner' when the person's organisation is one, else None."""
    own = person.organisation.casefold()
    if case.organisation.name.casefold() == own:
        return "applicant"
    if any(partner["name"].casefold() == own for partner in case.partners):
        return "partner"
    return None


def _checked_amount(
    recommendation: Recommendation, amount: int | None, case: Case, call: Call
) -> int | None:
    if recommendation in (Recommendation.refused, Recommendation.needs_supplement):
        if amount is not None:
            raise ReviewError("review.no_amount", amount=amount, recommendation=recommendation)
        return None
    if recommendation is Recommendation.granted:
        if amount not in (None, case.requested_amount):
            raise ReviewError(
                "review.granted_is_requested", amount=amount, requested=case.requested_amount
            )
        return case.requested_amount
    if amount is None:
        raise ReviewError("review.amount_needed")
    if not call.minimum_grant <= amount < case.requested_amount:
        raise ReviewError(
            "review.amount_out_of_range",
            amount=amount,
            minimum=call.minimum_grant,
            requested=case.requested_amount,
        )
    return amount


def _move_on_if_quorum(session: Session, case: Case) -> None:
    tasks = tasks_of(session, case)
    submitted = [t for t in tasks if t.status is TaskStatus.submitted]
    quorum = advisory_group(session).review_quorum
    if case.state is CaseState.in_review and len(submitted) >= quorum:
        move(
            session,
            case,
            CaseState.applicant_meeting,
            SYSTEM,
            "reviews_complete",
            recommendations=[t.recommendation for t in submitted],
        )


def _warn_if_too_few(session: Session, case: Case) -> None:
    tasks = tasks_of(session, case)
    able = [t for t in tasks if t.status is not TaskStatus.conflicted]
    quorum = advisory_group(session).review_quorum
    if len(able) >= quorum or case.case_officer is None:
        return
    conflicted = len(tasks) - len(able)
    order_notice(
        session,
        f"{case.case_reference}/too_few_reviewers/{conflicted}",
        "too_few_reviewers",
        case.case_officer,
        case,
        case_reference=case.case_reference,
        project_title=case.project_title,
        able=len(able),
        quorum=quorum,
    )
    record(session, case, SYSTEM, "too_few_reviewers", able=len(able), quorum=quorum)
