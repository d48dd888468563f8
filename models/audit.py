"""The audit trail and the one way a case changes state.

Every change of a case is written here in the same transaction as the change itself,
so the trail can never disagree with the case.
"""

from dataclasses import dataclass
from typing import Any

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
