"""The call and the people, brought in line with the configuration file.

The configuration is the source of truth for these: a region edits the file (a new
budget, a new advisor) and the next command picks it up.
"""

from typing import Any

from sqlmodel import Session, select

from models.tables import Call, Person, Role


def sync_call(session: Session, values: dict[str, Any]) -> Call:
    """Create or update the call identified by `values["code"]`."""
    call = session.exec(select(Call).where(Call.code == values["code"])).first() or Call(**values)
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
        if role is Role.system:
            raise ValueError(f"person {values['email']}: role 'system' is not for people")
        person = known.get(values["email"]) or Person(**values)
        for name, value in values.items():
            setattr(person, name, value)
        session.add(person)
    session.flush()


class NotAllowed(PermissionError):
    """The person may not do this; the message says who, what and why."""


def open_office(
    session: Session, config: dict[str, Any], email: str | None, role: Role
) -> tuple[Call, Person]:
    """The call and the people as configured, and the registered person acting in `role`."""
    call = sync_call(session, config["call"])
    sync_people(session, config.get("people", []))
    return call, acting_person(session, email, role)


def acting_person(session: Session, email: str | None, role: Role) -> Person:
    """The registered person acting in `role`.

    With no e-mail given, an office with a single person in that role needs no more
    words; otherwise the person must say who they are.
    """
    if email is None:
        holders = list(session.exec(select(Person).where(Person.role == role)))
        if len(holders) == 1:
            return holders[0]
        raise NotAllowed(
            f"say who acts (--as EMAIL or GRANTS_AS): {len(holders)} people have the role {role}"
        )
    person = session.exec(select(Person).where(Person.email == email.strip().lower())).first()
    if person is None:
        raise NotAllowed(
            f"{email!r} is not a registered person; see the people in the configuration file"
        )
    if person.role != role:
        raise NotAllowed(
            f"{person.name} <{person.email}> is {person.role}; only a {role} may do this"
        )
    return person
