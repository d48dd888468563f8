"""What changed in a case since a person last looked at it.

Looking at a case (its page, the decision maker's page of its draft, a reviewer's page of
it) records how far its audit trail went then (`CaseLook`). What came in or went wrong
after that, by someone else, is new to the person: a supplement or a reply from the
applicant, a conflict of interest declared, a letter the recipient's server refused, a
draft sent back. Derived from the trail, so nothing else need remember to say so.
"""

from collections.abc import Iterable

from sqlalchemy import and_, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models.tables import AuditEvent, Case, CaseLook, Person, utcnow

# The audit trail's actions that tell a person something changed in a case, in the order a
# list names them.
CHANGES = (
    "supplement_registered",
    "communication_reply",
    "conflict_declared",
    "letter_undeliverable",
    "draft_sent_back",
)


def newest_event(session: Session, case: Case) -> int:
    """The id of the case's newest audit event (0 for none): how far a look at it goes."""
    query = select(func.max(AuditEvent.id)).where(AuditEvent.case_id == case.id)
    return session.exec(query).one() or 0


def looked(session: Session, person: Person, case_id: int, last_event_id: int) -> None:
    """Record that `person` looked at the case when its trail went to `last_event_id`. Two
    pages of one case open at once may finish in either order: a look never goes back."""
    values = {
        "person_id": person.id,
        "case_id": case_id,
        "looked_at": utcnow(),
        "last_event_id": last_event_id,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(CaseLook).values(**values)
    session.exec(
        insert.on_conflict_do_update(
            index_elements=["person_id", "case_id"],
            set_={"looked_at": values["looked_at"], "last_event_id": last_event_id},
            where=col(CaseLook.last_event_id) <= last_event_id,
        )
    )


def changes_since_looked(
    session: Session, person: Person, case_references: Iterable[str]
) -> dict[str, list[str]]:
    """Per case reference (of those given), what changed since `person` last looked at the
    case, or ever if they never did: the CHANGES actions by others, each named once."""
    wanted = set(case_references)
    if not wanted:
        return {}
    seen = and_(CaseLook.case_id == AuditEvent.case_id, CaseLook.person_id == person.id)
    query = (
        select(Case.case_reference, AuditEvent.action)
        .join(Case, col(Case.id) == AuditEvent.case_id)
        .outerjoin(CaseLook, seen)
        .where(
            col(Case.case_reference).in_(wanted),
            col(AuditEvent.action).in_(CHANGES),
            AuditEvent.actor != person.email,
            or_(col(CaseLook.id).is_(None), col(AuditEvent.id) > CaseLook.last_event_id),
        )
    )
    changes: dict[str, list[str]] = {}
    for case_reference, action in session.exec(query):
        changes.setdefault(case_reference, []).append(action)
    return {ref: [a for a in CHANGES if a in actions] for ref, actions in changes.items()}
