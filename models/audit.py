"""The audit trail and the one way a case changes state.

Every change of a case is written here in the same transaction as the change itself,
so the trail can never disagree with the case. The trail is a hash chain: each event
carries the hash of the one before it, so an event edited or removed in the database
itself is found when the chain is verified (models.integrity).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select as core_select
from sqlalchemy import text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.attributes import instance_state
from sqlmodel import Session, select

from models.states import CaseState, check_transition
from models.tables import AuditEvent, Case, Person, Role


@dataclass(frozen=True)
class Actor:
    """Who acts, and in which role: a person's e-mail, the applicant's, or "grants" for
    automated work."""

    who: str
    role: Role

    @classmethod
    def of(cls, person: Person) -> "Actor":
        return cls(person.email, person.role)

    @classmethod
    def applicant_of(cls, case: Case) -> "Actor":
        """The applicant, answering through the personal link its letter carried: it has no
        account, so it is named by the organisation's address the letter went to."""
        return cls(case.organisation.email, Role.applicant)


SYSTEM = Actor("grants", Role.system)


def record(session: Session, case: Case, actor: Actor, action: str, **detail: Any) -> AuditEvent:
    """Append an event that leaves the state as it is."""
    return _append(session, case, actor, action, case.state, detail)


def move(
    session: Session, case: Case, to: CaseState, actor: Actor, action: str, **detail: Any
) -> AuditEvent:
    """Move the case to `to` if the state machine allows it; raise IllegalTransition if not."""
    check_transition(case.case_reference, case.state, to)
    event = _append(session, case, actor, action, to, detail)
    case.state = to
    session.add(case)
    return event


def _append(
    session: Session,
    case: Case,
    actor: Actor,
    action: str,
    state_after: CaseState,
    detail: dict[str, Any],
) -> AuditEvent:
    event = AuditEvent(
        case_id=case.id,
        actor=actor.who,
        role=actor.role,
        action=action,
        state_before=case.state,
        state_after=state_after,
        detail=detail,
    )
    session.add(event)
    return event


def history(session: Session, case: Case) -> list[AuditEvent]:
    """The case's trail, oldest first."""
    return list(
        session.exec(
            select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id)
        )
    )


# The trail as a hash chain (issue 9): each event carries the hash of the one before and its
# own, computed when it is written. Writers take turns while they append (SQLite: the write
# lock every transaction takes; PostgreSQL: an advisory lock held to the end of the
# transaction), so the chain is the order of the events' ids.
CHAIN_LOCK = 0x6772616E7473  # "grants"


def chain_hash(event: AuditEvent, case_reference: str | None, prev_hash: str | None) -> str:
    """SHA-256 over the hash before and everything the event says, in a fixed form."""
    moment = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
    content = [
        prev_hash or "",
        case_reference or "",
        moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds"),
        event.actor,
        str(event.role),
        event.action,
        str(event.state_before or ""),
        str(event.state_after or ""),
        event.detail,
    ]
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@sa_event.listens_for(OrmSession, "before_flush")
def _chain_new_events(session: OrmSession, _context: Any, _instances: Any) -> None:
    """Link the events about to be written to the last one written, in the order added."""
    new = [item for item in session.new if isinstance(item, AuditEvent)]
    if not new:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    table = AuditEvent.__table__
    previous = connection.execute(
        core_select(table.c.hash).order_by(table.c.id.desc()).limit(1)
    ).scalar()
    for event in sorted(new, key=_insert_order):
        event.prev_hash = previous or ""
        event.hash = chain_hash(event, _reference(session, event), event.prev_hash)
        previous = event.hash


def _insert_order(event: AuditEvent) -> int:
    """The order the unit of work will insert the events in: the order they were added."""
    return instance_state(event).insert_order or 0


def _reference(session: OrmSession, event: AuditEvent) -> str | None:
    with session.no_autoflush:
        case = event.case or (session.get(Case, event.case_id) if event.case_id else None)
    return case.case_reference if case is not None else None
