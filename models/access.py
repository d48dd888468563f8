"""Who may see and act on a case: roles and conflicts of interest, checked in the domain.

Förvaltningslagen 16–18 §§: someone with a conflict of interest may not take part in the
handling of a case. Here that means: once declared, that person can neither read the
case's details nor act on it, whatever their role and whichever edge they come through.
"""

from typing import ClassVar

from sqlalchemy import ColumnElement, false, true
from sqlmodel import Session, col, select

from models.cases import CaseNotFound, find_case, list_cases
from models.reference_data import NotAllowed
from models.tables import Case, ConflictGround, Person, ReviewTask, Role, TaskStatus


class ConflictOfInterest(NotAllowed):
    """The person declared a conflict of interest in the case: for them it does not exist."""

    messages: ClassVar[dict[str, str]] = {
        "access.conflicted": "{name} <{email}> has declared a conflict of interest in case "
        "{case_reference} ({ground}) and may neither see nor act on it",
    }


class TalksOnly(NotAllowed):
    """The organiser of the Community Talks reads the Talks' programmes and no case."""

    messages: ClassVar[dict[str, str]] = {
        "access.talks_only": "{name} <{email}> arranges the Community Talks and may read "
        "their programmes, no case ({case_reference})",
    }


class StatisticsOnly(NotAllowed):
    """A member of the committee reads the statistics and the annual report, no case."""

    messages: ClassVar[dict[str, str]] = {
        "access.statistics_only": "{name} <{email}> reads the committee's statistics and "
        "annual report only, no case ({case_reference})",
    }


def reads_cases(person: Person) -> bool:
    """Whether `person` may read any case at all: the organiser and the committee may not,
    whatever the edge."""
    return person.role not in (Role.organiser, Role.committee)


def conflicted_case_ids(session: Session, person: Person) -> set[int]:
    """The cases `person` has declared a conflict in: to be hidden from them in any list."""
    query = select(ReviewTask.case_id).where(
        ReviewTask.reviewer_id == person.id, ReviewTask.status == TaskStatus.conflicted
    )
    return set(session.exec(query))


def readable_clause(session: Session, person: Person) -> ColumnElement[bool]:
    """`visible_cases`'s rule as a condition on `Case`, for lists the database filters,
    sorts and pages: no case the person declared a conflict in, and for an advisor only
    the cases they review."""
    if not reads_cases(person):
        return false()
    clause: ColumnElement[bool] = true()
    hidden = conflicted_case_ids(session, person)
    if hidden:
        clause = col(Case.id).not_in(hidden)
    if person.role is Role.advisor:
        reviewing = select(ReviewTask.case_id).where(ReviewTask.reviewer_id == person.id)
        clause = clause & col(Case.id).in_(reviewing)
    return clause


def case_for(session: Session, case_reference: str, person: Person, lock: bool = False) -> Case:
    """The case, if `person` may see it. `lock` holds its row until the transaction ends,
    so that two people acting on one case at once are taken one after the other."""
    return case_and_task(session, case_reference, person, lock)[0]


def case_to_read(session: Session, case_reference: str, person: Person) -> Case:
    """The case, if `person` may read it: an advisor only a case they review (need to
    know), and nobody a case in which they declared a conflict of interest."""
    case, task = case_and_task(session, case_reference, person)
    if person.role is Role.advisor and task is None:
        raise CaseNotFound("case.not_found", case_reference=case_reference)
    return case


def case_and_task(
    session: Session, case_reference: str, person: Person, lock: bool = False
) -> tuple[Case, ReviewTask | None]:
    """`case_for`, with the person's review task in the case (if any): the one that says
    whether they declared a conflict, read once. The organiser of the Talks and the
    committee are refused every case, before it is looked up."""
    if person.role is Role.committee:
        raise StatisticsOnly(
            "access.statistics_only",
            name=person.name,
            email=person.email,
            case_reference=case_reference,
        )
    if not reads_cases(person):
        raise TalksOnly(
            "access.talks_only",
            name=person.name,
            email=person.email,
            case_reference=case_reference,
        )
    case = find_case(session, case_reference, lock=lock)
    task = review_task(session, case, person)
    if task is not None and task.conflict not in (None, ConflictGround.none):
        raise ConflictOfInterest(
            "access.conflicted",
            name=person.name,
            email=person.email,
            case_reference=case.case_reference,
            ground=task.conflict,
        )
    return case, task


def review_task(session: Session, case: Case, person: Person) -> ReviewTask | None:
    query = select(ReviewTask).where(
        ReviewTask.case_id == case.id, ReviewTask.reviewer_id == person.id
    )
    return session.exec(query).first()


def require_role(person: Person, doing: str, *roles: Role) -> None:
    """Refuse `person` unless they hold one of `roles`. `doing` names the step in the
    neutral sentence (logs, the command line); an office page is the step itself."""
    if person.role not in roles:
        raise NotAllowed(
            "access.role_for_step",
            name=person.name,
            email=person.email,
            role=person.role,
            roles=roles,
            doing=doing,
        )


def visible_cases(session: Session, person: Person) -> list[Case]:
    """Every case `person` may read, oldest first, by the rule `case_to_read` keeps for one
    case: an advisor only the cases they review (need to know), and nobody a case in which
    they declared a conflict of interest. Every list, count, export and report, on every
    edge, starts from here. The organiser of the Talks reads none."""
    if not reads_cases(person):
        return []
    hidden = conflicted_case_ids(session, person)
    cases = [case for case in list_cases(session) if case.id not in hidden]
    if person.role is not Role.advisor:
        return cases
    reviewing = set(
        session.exec(select(ReviewTask.case_id).where(ReviewTask.reviewer_id == person.id))
    )
    return [case for case in cases if case.id in reviewing]
