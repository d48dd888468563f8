"""The audit trail and the one way a case changes state.

Every change of a case is written here in the same transaction as the change itself,
so the trail can never disagree with the case. The trail is a hash chain: each event
carries the hash of the one before it, so an event edited or removed in the database
itself is found when the chain is verified (models.integrity).

Since the release of December 2026 the chain is keyed (HMAC-SHA256): the key is kept
outside the database (grants.settings gives it, `use_chain_key`), so someone who can rewrite
the database can recompute plain hashes but not keyed ones. Events written before keep
their plain SHA-256 and are verified as such; a keyed hash says so by its prefix (`KEYED`).
"""

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select as core_select
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
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


def record_office(session: Session, actor: Actor, action: str, **detail: Any) -> AuditEvent:
    """Append an event about the office itself (a person added, the quorum changed): in the
    same chained trail as every case's, on no case."""
    event = AuditEvent(case_id=None, actor=actor.who, role=actor.role, action=action, detail=detail)
    session.add(event)
    return event


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


# The trail as a hash chain: each event carries the hash of the one before and its
# own, computed when it is written. Writers take turns while they append (SQLite: the write
# lock every transaction takes; PostgreSQL: an advisory lock held to the end of the
# transaction), so the chain is the order of the events' ids.
CHAIN_LOCK = 0x6772616E7473  # "grants"


KEYED = "hmac-sha256:"  # the prefix of a keyed hash; a plain one (an older event) has none


def chain_hash(event: AuditEvent, case_reference: str | None, prev_hash: str | None) -> str:
    """SHA-256 over the hash before and everything the event says, in a fixed form: the
    chain as it was before it was keyed, still verified for the events written then."""
    return hashlib.sha256(_content(event, case_reference, prev_hash)).hexdigest()


def keyed_chain_hash(
    event: AuditEvent, case_reference: str | None, prev_hash: str | None, key: bytes
) -> str:
    """HMAC-SHA256 with the chain key over what `chain_hash` covers: without the key, a
    rewritten trail cannot be given hashes that verify."""
    digest = hmac.new(key, _content(event, case_reference, prev_hash), hashlib.sha256)
    return KEYED + digest.hexdigest()


def _content(event: AuditEvent, case_reference: str | None, prev_hash: str | None) -> bytes:
    """Everything the event says and the hash before it, in a fixed form."""
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
    return json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()


_CHAIN_KEYS: dict[str, Callable[[], bytes]] = {}  # by database URL, as the engine renders it


def use_chain_key(database_url: str, key: Callable[[], bytes]) -> None:
    """Have the events written to this database keyed with `key()` (asked for when the
    first event is written: the key is kept outside the database, and the domain reads no
    file)."""
    _CHAIN_KEYS[_url(database_url)] = key


def chain_key(database_url: str | URL) -> bytes:
    """The key the events of this database are chained with; a process that was never told
    the key refuses to write an event rather than write one that would not verify."""
    key = _CHAIN_KEYS.get(_url(database_url))
    if key is None:
        raise RuntimeError("no audit chain key for this database (see grants.settings)")
    return key()


def _url(database_url: str | URL) -> str:
    """One spelling of a database URL; one that is no URL as it is (it opens nothing)."""
    try:
        return make_url(database_url).render_as_string(hide_password=False)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return str(database_url)


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
    key = chain_key(connection.engine.url)
    for event in sorted(new, key=_insert_order):
        event.prev_hash = previous or ""
        event.hash = keyed_chain_hash(event, _reference(session, event), event.prev_hash, key)
        previous = event.hash


def _insert_order(event: AuditEvent) -> int:
    """The order the unit of work will insert the events in: the order they were added."""
    return instance_state(event).insert_order or 0


def _reference(session: OrmSession, event: AuditEvent) -> str | None:
    with session.no_autoflush:
        case = event.case or (session.get(Case, event.case_id) if event.case_id else None)
    return case.case_reference if case is not None else None
