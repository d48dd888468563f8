"""Letters as records of the case: what is due, what was made, what was delivered.

A letter is created once per (case, kind) — its key is unique — and delivered at most
once: a delivery run claims it (queued → sending) in its own transaction before
sending, so two runs can never both send it, and a failure returns it to the queue.
"""

import hashlib
from datetime import date
from typing import Any

from sqlalchemy import exists, update
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from models.audit import SYSTEM, Actor, record
from models.tables import Case, DeliveryState, Letter, utcnow

ACKNOWLEDGEMENT = "acknowledgement"

# File names applicants see, per kind and language: ASCII, so every mail client copes.
FILENAMES = {
    (ACKNOWLEDGEMENT, "sv"): "mottagningsbekraftelse",
    (ACKNOWLEDGEMENT, "en"): "acknowledgement",
}


def letter_key(case: Case, kind: str) -> str:
    return f"{case.case_reference}/{kind}"


def cases_without_letter(session: Session, kind: str, limit: int | None = None) -> list[Case]:
    """Cases that have no letter of this kind yet, oldest first."""
    has_letter = exists().where(col(Letter.case_id) == Case.id, col(Letter.kind) == kind)
    query = (
        select(Case)
        .where(~has_letter)
        .order_by(col(Case.id))
        .limit(limit)
        .options(*(selectinload(r) for r in (Case.organisation, Case.call, Case.case_officer)))
    )
    return list(session.exec(query))


def letter_context(case: Case, authority: dict[str, Any], today: date) -> dict[str, Any]:
    """Everything a letter template may use, as plain data (it crosses process boundaries)."""
    officer = case.case_officer
    hours_value = case.co_financing_hours * case.call.co_financing_hourly_rate
    return {
        "language": case.language.value,
        "letter_date": today,
        "authority": authority,
        "case": case.model_dump(),
        "call": case.call.model_dump(),
        "organisation": case.organisation.model_dump(),
        "case_officer": {"name": officer.name, "email": officer.email} if officer else None,
        "hours_value": hours_value,
        "co_financing": case.co_financing_cash + hours_value,
        "warnings": list(case.warnings),
    }


def store_letter(
    session: Session, case: Case, kind: str, pdf: bytes, actor: Actor = SYSTEM
) -> Letter:
    """Register a rendered letter on the case; if it already exists, return that one."""
    key = letter_key(case, kind)
    existing = session.exec(select(Letter).where(Letter.letter_key == key)).first()
    if existing:
        return existing
    stem = FILENAMES[(kind, case.language.value)]
    letter = Letter(
        letter_key=key,
        case_id=case.id,
        kind=kind,
        language=case.language,
        recipient=case.organisation.email,
        filename=f"{case.case_reference}-{stem}.pdf",
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
    )
    session.add(letter)
    record(session, case, actor, "letter_created", kind=kind, sha256=letter.sha256)
    return letter


def queued_letter_ids(session: Session, limit: int | None = None) -> list[int]:
    query = (
        select(Letter.id)
        .where(Letter.delivery_state == DeliveryState.queued)
        .order_by(col(Letter.id))
        .limit(limit)
    )
    return [i for i in session.exec(query) if i is not None]


def claim_for_delivery(session: Session, letter_id: int) -> Letter | None:
    """Take a queued letter for this delivery run, or None if another run has it."""
    claimed = session.exec(
        update(Letter)
        .where(col(Letter.id) == letter_id, col(Letter.delivery_state) == DeliveryState.queued)
        .values(delivery_state=DeliveryState.sending, attempts=Letter.attempts + 1)
    ).rowcount
    return session.get(Letter, letter_id) if claimed else None


def mark_sent(session: Session, letter: Letter, via: str, actor: Actor = SYSTEM) -> None:
    letter.delivery_state = DeliveryState.sent
    letter.sent_at = utcnow()
    letter.delivered_via = via
    letter.last_error = None
    session.add(letter)
    case = session.get(Case, letter.case_id)
    record(session, case, actor, "letter_sent", kind=letter.kind, to=letter.recipient, via=via)


def mark_failed(session: Session, letter: Letter, error: str, actor: Actor = SYSTEM) -> None:
    """Back to the queue, with the reason, for the next delivery run to retry."""
    letter.delivery_state = DeliveryState.queued
    letter.last_error = error
    session.add(letter)
    case = session.get(Case, letter.case_id)
    record(
        session,
        case,
        actor,
        "letter_delivery_failed",
        kind=letter.kind,
        error=error,
        attempt=letter.attempts,
    )
