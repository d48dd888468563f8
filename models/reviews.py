"""Advisory group review: a task per member, the conflict declaration first, then the review.

When enough non-conflicted reviewers have submitted (the quorum), the case moves on to
the applicant meeting. If declared conflicts leave too few reviewers to reach the
quorum, the case officer is told, once per conflict, and the case is on their task list
until they name a substitute reviewer from outside the group or record, with a reason,
that it goes on with the reviews there are: no case waits for reviews nobody can give.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from sqlmodel import Session, col, select

from models.audit import SYSTEM, Actor, move, record
from models.errors import Refused
from models.notices import order_notice
from models.people import add_person, advisory_group, find_person
from models.reference_data import NotAllowed
from models.rules import Rules
from models.states import CaseState
from models.tables import (
    AuditEvent,
    Call,
    Case,
    ConflictGround,
    Criterion,
    FileNote,
    Person,
    Recommendation,
    ReviewTask,
    Role,
    TaskStatus,
    utcnow,
)
from models.validation import FieldError, invalid
from models.working_days import add_working_days

FEWER_REVIEWS = "fewer_reviews"  # the file note of a decision to go on with fewer reviews
WENT_ON_WITH_FEWER = "reviews_fewer_than_quorum"  # its audit event, which the decision reads


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
        "review.quorum_reachable": "{case_reference} can still reach its quorum: {able} "
        "reviewer(s) without a conflict of interest for {quorum} review(s)",
        "review.none_submitted": "no review of {case_reference} has been submitted yet: go on "
        "with at least one, or name a substitute reviewer",
    }


@dataclass(frozen=True)
class Shortfall:
    """Why a case in review cannot reach its quorum: `able` reviewers left who have not
    declared a conflict (and can still sign in), `submitted` of them have reviewed."""

    able: int
    submitted: int
    quorum: int


@dataclass(frozen=True)
class Substitute:
    """A substitute reviewer's task, and whether the person was registered already."""

    task: ReviewTask
    reused: bool


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


def add_substitute_reviewer(
    session: Session,
    case: Case,
    officer: Person,
    values: dict[str, str | None],
    rules: Rules,
    today: date,
) -> Substitute:
    """A reviewer from outside the advisory group for this case alone, when conflicts left
    too few: added as an advisor who is not a member of the group (so no other case is
    given to them), or the registered person with that e-mail. They declare any conflict
    of interest and review like any advisor."""
    _require_review_open(case)
    for name in ("name", "organisation"):
        if not (values.get(name) or "").strip():
            raise invalid(name, values.get(name) or "", FieldError("field.required"))
    person = find_person(session, values.get("email") or "")
    reused = person is not None
    if person is None:
        person = add_person(
            session,
            officer,
            values={**values, "role": Role.advisor.value},
            in_advisory_group=False,
        )
    task = assign_reviewer(session, case, officer, person, rules, today)
    task.reviewer = person  # loaded while the session is open: the edges name them
    record(
        session,
        case,
        Actor.of(officer),
        "substitute_reviewer",
        reviewer=person.email,
        registered_already=reused,
    )
    return Substitute(task, reused)


def shortfall(session: Session, case: Case) -> Shortfall | None:
    """Why the case's reviews cannot reach the quorum, or None if they still can (or the
    case is not in review)."""
    if case.state is not CaseState.in_review:
        return None
    return shortfalls(session, [case.id]).get(case.id)


def shortfalls(session: Session, case_ids: list[int]) -> dict[int, Shortfall]:
    """`shortfall` for many cases in review at once, in one query: the cases among them
    whose reviewers without a conflict (an open task of an active person, or a review
    submitted) are fewer than the quorum."""
    quorum = advisory_group(session).review_quorum
    able = {case_id: [0, 0] for case_id in case_ids}
    rows = session.exec(
        select(ReviewTask.case_id, ReviewTask.status, Person.active)
        .join(Person, col(Person.id) == ReviewTask.reviewer_id)
        .where(col(ReviewTask.case_id).in_(case_ids))
    )
    for case_id, status, active in rows:
        if status is TaskStatus.submitted or (status is TaskStatus.open and active):
            able[case_id][0] += 1
        able[case_id][1] += status is TaskStatus.submitted
    return {
        case_id: Shortfall(count, submitted, quorum)
        for case_id, (count, submitted) in able.items()
        if count < quorum
    }


def go_on_with_fewer(session: Session, case: Case, officer: Person, reason: str) -> FileNote:
    """The case officer's reasoned decision (a file note) that a case whose conflicts left
    too few reviewers goes on with the reviews submitted, as a reached quorum would move
    it; the decision states it. At least one review: with none, a substitute reviews."""
    _require_review_open(case)
    short = shortfall(session, case)
    if short is None:
        able = len([t for t in tasks_of(session, case) if t.status is not TaskStatus.conflicted])
        raise ReviewError(
            "review.quorum_reachable",
            case_reference=case.case_reference,
            able=able,
            quorum=advisory_group(session).review_quorum,
        )
    if not reason.strip():
        raise invalid("reason", reason, FieldError("field.required"))
    if short.submitted == 0:
        raise ReviewError("review.none_submitted", case_reference=case.case_reference)
    note = FileNote(case_id=case.id, kind=FEWER_REVIEWS, text=reason.strip(), author=officer.email)
    session.add(note)
    submitted = [t for t in tasks_of(session, case) if t.status is TaskStatus.submitted]
    move(
        session,
        case,
        CaseState.applicant_meeting,
        Actor.of(officer),
        WENT_ON_WITH_FEWER,
        reviews=len(submitted),
        quorum=short.quorum,
        reason=note.text,
        recommendations=[t.recommendation for t in submitted],
    )
    return note


def fewer_reviews(session: Session, case: Case) -> dict[str, Any] | None:
    """What a decision states when its case went on with fewer reviews than the quorum:
    how many, how many were needed and why (as the latest such decision recorded it);
    else None."""
    event = session.exec(
        select(AuditEvent)
        .where(AuditEvent.case_id == case.id, AuditEvent.action == WENT_ON_WITH_FEWER)
        .order_by(col(AuditEvent.id).desc())
    ).first()
    if event is None:
        return None
    return {key: event.detail[key] for key in ("reviews", "quorum", "reason")}


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
