"""The call brought in line with the configuration file, and the people seeded from it.

The configuration is the source of truth for the call: a region edits the file (a new
budget) and the next command picks it up. People, the advisory group and its quorum are
seeded from the file once, at the first start (of a new database, or of one upgraded from
before people were kept in the database); after that the database is the truth, changed in
the office (models.people).
"""

from typing import Any, ClassVar, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.errors import Refused
from models.people import find_person
from models.tables import AdvisoryGroup, Call, Person, Role

T = TypeVar("T", Call, Person, AdvisoryGroup)


def sync_call(session: Session, values: dict[str, Any]) -> Call:
    """Create or update the call identified by `values["code"]`."""
    query = select(Call).where(Call.code == values["code"])
    call = session.exec(query).first() or _created_once(session, Call(**values), query)
    for name, value in values.items():
        setattr(call, name, value)
    session.add(call)
    session.flush()
    return call


def sync_people(session: Session, people: list[dict[str, Any]]) -> None:
    """Create or update each configured person, found by e-mail."""
    known = {p.email: p for p in session.exec(select(Person))}
    for configured in people:
        values = configured | {"email": configured["email"].strip().lower()}
        role = Role(values["role"])
        if role in (Role.system, Role.applicant):
            raise ValueError(f"person {values['email']}: role '{role}' is not for people")
        person = known.get(values["email"]) or _created_once(
            session, Person(**values), select(Person).where(Person.email == values["email"])
        )
        for name, value in values.items():
            setattr(person, name, value)
        session.add(person)
    session.flush()


def seed_people(session: Session, config: dict[str, Any]) -> None:
    """At the first start only: the configured people (a person already registered, found
    by e-mail, takes the file's values, as when people were read from the file), the advisory
    group's members and its rules. The group's row marks the seeding done."""
    if session.exec(select(AdvisoryGroup)).first() is not None:
        return
    sync_people(session, config.get("people", []))
    group = config.get("advisory_group", {})
    members = {member.strip().lower() for member in group.get("members", ())}
    for person in session.exec(select(Person).where(col(Person.email).in_(members))):
        person.in_advisory_group = True
        session.add(person)
    quorum = config.get("assessment", {}).get("review_quorum", 2)
    including = group.get("include_case_officer", True)
    row = AdvisoryGroup(id=1, review_quorum=quorum, include_case_officer=including)
    _created_once(session, row, select(AdvisoryGroup))
    session.flush()


def sync(session: Session, config: dict[str, Any]) -> Call:
    """The call in the database as the configuration file has it now; the people as it
    had them at the first start."""
    call = sync_call(session, config["call"])
    seed_people(session, config)
    return call


def _created_once(session: Session, new: T, query: Any) -> T:
    """Insert `new`; if another command inserted the same row first (two first commands on a
    fresh database), take theirs instead of failing."""
    try:
        with session.begin_nested():
            session.add(new)
        return new
    except IntegrityError:
        return session.exec(query).one()


class NotAllowed(Refused, PermissionError):
    """The person may not do this; the refusal says who, what and why."""

    messages: ClassVar[dict[str, str]] = {
        "access.who_acts": "say who acts: the e-mail of a registered person",
        "access.not_registered": "{email!r} is not a registered person",
        "access.deactivated": "{name} <{email}> is deactivated and may no longer act",
        "access.role": "{name} <{email}> is {role}; only a {roles:or} may do this",
        "access.role_for_step": "{name} <{email}> is {role}; only a {roles:or} may {doing}",
        "access.not_a_reviewer": "{name} is {role}; reviewers are advisors or case officers",
        "access.no_review_task": "{name} <{email}> has no review task for {case_reference}",
    }


def open_office(
    session: Session,
    config: dict[str, Any],
    email: str | None,
    *roles: Role,
    sole_holder_may_omit: bool = False,
) -> tuple[Call, Person]:
    """The call and the people as configured, and the registered person acting."""
    call = sync(session, config)
    return call, acting_person(session, email, *roles, sole_holder_may_omit=sole_holder_may_omit)


def acting_person(
    session: Session, email: str | None, *roles: Role, sole_holder_may_omit: bool = False
) -> Person:
    """The registered person acting, who must hold one of `roles`.

    Decisions on a case say who takes them. A routine step (intake) in an office with a
    single holder of the role may leave it out (`sole_holder_may_omit`).
    """
    if email is None:
        query = select(Person).where(col(Person.role).in_(roles), col(Person.active))
        holders = list(session.exec(query))
        if sole_holder_may_omit and len(holders) == 1:
            return holders[0]
        raise NotAllowed("access.who_acts", roles=roles)
    person = find_person(session, email)
    if person is None:
        raise NotAllowed("access.not_registered", email=email)
    if not person.active:
        raise NotAllowed("access.deactivated", name=person.name, email=person.email)
    if person.role not in roles:
        raise NotAllowed(
            "access.role", name=person.name, email=person.email, role=person.role, roles=roles
        )
    return person
