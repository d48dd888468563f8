"""The people who act in the office, the advisory group and its quorum, in the database.

The configuration file seeds them at the first start (models.reference_data.seed_people);
after that the case officer, who administers the office, adds people, changes them,
deactivates them and sets the group and its quorum, each change in the audit trail. A
deactivated person signs in no more and is assigned nothing, but keeps their row, so
every past record still names them. Whoever asks who reviews, and how many must, asks
`advisory_group`.
"""

from dataclasses import dataclass
from typing import Any, ClassVar

from sqlmodel import Session, col, select

from models.audit import Actor, record_office
from models.errors import Refused
from models.tables import AdvisoryGroup, Person, Role
from models.validation import FieldError, invalid, parse_email

STAFF_ROLES = (
    Role.case_officer,
    Role.advisor,
    Role.decision_maker,
    Role.finance,
    Role.organiser,
    Role.committee,
)
PERSON_FIELDS = ("name", "email", "role", "organisation", "title", "title_en", "phone")
DEFAULT_QUORUM = 2  # reviews that move a case on, until the office sets another
DEFAULT_INCLUDE_CASE_OFFICER = True


class PeopleRefused(Refused, ValueError):
    """A change to the people or the group that cannot be made; nothing was changed."""

    messages: ClassVar[dict[str, str]] = {
        "people.email_taken": "email = {email!r}: already the e-mail of {name}",
        "people.unknown": "email = {email!r}: no registered person has this e-mail",
        "people.quorum_above_group": "review_quorum = {quorum}: more than the {size} "
        "reviewer(s) of the advisory group",
        "people.own_account": "{name} cannot deactivate themselves or give up their own role",
        "people.nothing_changed": "{email}: nothing to change",
        "people.role": "role = {role!r}: not a role for people; one of {roles:or}",
    }


@dataclass(frozen=True)
class Group:
    """Who reviews every case and how many reviews move it on: the active members, and
    the case's officer too if `include_case_officer`."""

    members: tuple[Person, ...]
    include_case_officer: bool
    review_quorum: int

    @property
    def size(self) -> int:
        """Reviewers a case has before any conflict: the members and its officer."""
        return len(self.members) + self.include_case_officer


def advisory_group(session: Session) -> Group:
    """The advisory group as the database has it now: the one place it is read from."""
    row = session.exec(select(AdvisoryGroup)).first()
    query = select(Person).where(col(Person.in_advisory_group), col(Person.active))
    members = tuple(session.exec(query.order_by(col(Person.name))))
    if row is None:  # a database not yet seeded: the defaults
        return Group(members, DEFAULT_INCLUDE_CASE_OFFICER, DEFAULT_QUORUM)
    return Group(members, row.include_case_officer, row.review_quorum)


def people(session: Session) -> list[Person]:
    """Everyone registered, active first, by name."""
    query = select(Person).order_by(col(Person.active).desc(), col(Person.name))
    return list(session.exec(query))


def find_person(session: Session, email: str) -> Person | None:
    """The registered person with `email` (case does not matter; stored lower), active or
    not: the one place a person is looked up by their address (signing in, acting)."""
    return session.exec(select(Person).where(Person.email == email.strip().lower())).first()


def person_by_email(session: Session, email: str) -> Person:
    """The registered person with `email`; refused (naming it) if there is none."""
    person = find_person(session, email)
    if person is None:
        raise PeopleRefused("people.unknown", email=email)
    return person


def add_person(
    session: Session,
    admin: Person,
    *,
    values: dict[str, Any],
    in_advisory_group: bool,
    attestant: bool = False,
) -> Person:
    """A new person, checked like the configuration file's [[people]]: a name, an e-mail
    nobody else has, a role for people and an organisation (for conflicts of interest)."""
    checked = _checked(session, values, None)
    person = Person(**checked, in_advisory_group=in_advisory_group, attestant=attestant)
    session.add(person)
    session.flush()
    record_office(
        session,
        Actor.of(admin),
        "person_added",
        person=person.email,
        **_jsonable(checked),
        in_advisory_group=in_advisory_group,
        attestant=attestant,
    )
    return person


def change_person(
    session: Session,
    admin: Person,
    email: str,
    *,
    values: dict[str, Any],
    in_advisory_group: bool | None = None,
    active: bool | None = None,
    attestant: bool | None = None,
) -> Person:
    """Change what is given of a person (`values`: any of PERSON_FIELDS), their place in
    the advisory group, whether they attest payment orders, or whether they are active;
    the old and the new value of each change in the audit trail. The group must still
    reach its quorum after it."""
    person = person_by_email(session, email)
    checked = _checked(session, values, person)
    wanted: dict[str, Any] = dict(checked)
    if in_advisory_group is not None:
        wanted["in_advisory_group"] = in_advisory_group
    if active is not None:
        wanted["active"] = active
    if attestant is not None:
        wanted["attestant"] = attestant
    changed = {k: v for k, v in wanted.items() if getattr(person, k) != v}
    if not changed:
        raise PeopleRefused("people.nothing_changed", email=person.email)
    giving_up = changed.get("active") is False or "role" in changed
    if person.id == admin.id and giving_up:
        raise PeopleRefused("people.own_account", name=person.name)
    old = {name: getattr(person, name) for name in changed}
    for name, value in changed.items():
        setattr(person, name, value)
    session.add(person)
    session.flush()
    _quorum_reachable(session, advisory_group(session).review_quorum)
    record_office(
        session,
        Actor.of(admin),
        "person_changed",
        person=email.strip().lower(),
        old=_jsonable(old),
        new=_jsonable(changed),
    )
    return person


def change_advisory_group(
    session: Session,
    admin: Person,
    *,
    review_quorum: int | None = None,
    include_case_officer: bool | None = None,
) -> Group:
    """The group's quorum and whether the case officer reviews, refused if the group could
    not reach the quorum (a case would stand still for want of reviewers)."""
    row = session.exec(select(AdvisoryGroup)).first() or AdvisoryGroup(
        id=1,
        review_quorum=DEFAULT_QUORUM,
        include_case_officer=DEFAULT_INCLUDE_CASE_OFFICER,
    )
    old = {"review_quorum": row.review_quorum, "include_case_officer": row.include_case_officer}
    if review_quorum is not None:
        if review_quorum < 1:
            raise invalid("review_quorum", review_quorum, FieldError("field.negative"))
        row.review_quorum = review_quorum
    if include_case_officer is not None:
        row.include_case_officer = include_case_officer
    new = {"review_quorum": row.review_quorum, "include_case_officer": row.include_case_officer}
    session.add(row)
    session.flush()
    _quorum_reachable(session, row.review_quorum)
    record_office(session, Actor.of(admin), "advisory_group_changed", old=old, new=new)
    return advisory_group(session)


def _quorum_reachable(session: Session, quorum: int) -> None:
    size = advisory_group(session).size
    if quorum > size:
        raise PeopleRefused("people.quorum_above_group", quorum=quorum, size=size)


def _checked(session: Session, values: dict[str, Any], person: Person | None) -> dict[str, Any]:
    """The given values of PERSON_FIELDS, each checked (the field and the value named on
    a refusal); a new person needs name, email, role and organisation."""
    unknown = set(values) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"not fields of a person: {sorted(unknown)}")
    required = ("name", "email", "role", "organisation") if person is None else ()
    checked: dict[str, Any] = {}
    for name in PERSON_FIELDS:
        if name not in values and name not in required:
            continue
        value = values.get(name)
        text = value.strip() if isinstance(value, str) else value
        if name in ("title", "title_en", "phone"):
            checked[name] = text or None
        elif not text:
            raise invalid(name, value or "", FieldError("field.required"))
        elif name == "email":
            checked[name] = _email(session, text, person)
        elif name == "role":
            checked[name] = _role(text)
        else:
            checked[name] = text
    return checked


def _email(session: Session, text: str, person: Person | None) -> str:
    try:
        email = parse_email(text).lower()
    except FieldError as error:
        raise invalid("email", text, error) from None
    other = session.exec(select(Person).where(Person.email == email)).first()
    if other is not None and other is not person:
        raise PeopleRefused("people.email_taken", email=email, name=other.name)
    return email


def _role(text: Any) -> Role:
    if text not in STAFF_ROLES:
        raise PeopleRefused("people.role", role=text, roles=STAFF_ROLES)
    return Role(text)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {name: str(v) if isinstance(v, Role) else v for name, v in values.items()}
