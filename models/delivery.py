"""Delivery bookkeeping shared by letters (to applicants) and notices (to staff).

At most once: a delivery run claims an item (queued → sending) in a transaction of its
own before handing it to SMTP, so two runs never both send it; a failure puts it back
in the queue with the reason, for the next run.
"""

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from models.audit import SYSTEM, record
from models.tables import Case, DeliveryState, Letter, Notice, utcnow

Deliverable = Letter | Notice


def queued_ids(session: Session, model: type[Deliverable]) -> list[int]:
    query = select(model.id).where(model.delivery_state == DeliveryState.queued)
    return [i for i in session.exec(query.order_by(col(model.id))) if i is not None]


def claim(session: Session, model: type[Deliverable], item_id: int) -> Deliverable | None:
    """Take a queued item for this delivery run, or None if another run has it."""
    claimed = session.exec(
        update(model)
        .where(col(model.id) == item_id, col(model.delivery_state) == DeliveryState.queued)
        .values(delivery_state=DeliveryState.sending, attempts=model.attempts + 1)
    ).rowcount
    return session.get(model, item_id) if claimed else None


def mark_sent(session: Session, item: Deliverable, via: str) -> None:
    item.delivery_state = DeliveryState.sent
    item.sent_at = utcnow()
    item.delivered_via = via
    item.last_error = None
    session.add(item)
    _record(session, item, "sent", to=item.recipient, via=via)


def mark_failed(session: Session, item: Deliverable, error: str) -> None:
    """Back to the queue, with the reason, for the next delivery run to retry."""
    item.delivery_state = DeliveryState.queued
    item.last_error = error
    session.add(item)
    _record(session, item, "delivery_failed", error=error, attempt=item.attempts)


def _record(session: Session, item: Deliverable, what: str, **detail: Any) -> None:
    if item.case_id is None:
        return
    noun = "letter" if isinstance(item, Letter) else "notice"
    case = session.get(Case, item.case_id)
    record(session, case, SYSTEM, f"{noun}_{what}", kind=item.kind, **detail)


def pending(session: Session) -> int:
    """Letters to render or send and notices to send: whether a delivery run has work."""
    waiting = (DeliveryState.to_render, DeliveryState.queued)
    return sum(
        len(session.exec(select(model.id).where(col(model.delivery_state).in_(waiting))).all())
        for model in (Letter, Notice)
    )


def undelivered(session: Session) -> list[Letter]:
    """Letters not sent yet (being made, queued with a failure, or being sent), by case:
    what the case officer follows up."""
    query = select(Letter).where(Letter.delivery_state != DeliveryState.sent)
    return list(session.exec(query.order_by(col(Letter.case_id), col(Letter.id))))
