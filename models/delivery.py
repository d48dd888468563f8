"""Delivery bookkeeping shared by letters (to applicants) and notices (to staff).

At least once, never lost: a delivery run claims an item (queued → sending, with the time)
in a transaction committed before it hands the item to SMTP, so two runs never both send it
at once; that transaction also records what became of the item the run sent before it. A
claim older than twice the SMTP timeout was interrupted (the run crashed mid-send, or before
the next claim recorded the item sent) and may be claimed again: the item goes out again
with the same Message-ID, derived from the item alone, so a mail client folds a duplicate.

A temporary failure (4xx, network) puts the item back in the queue with its reason, to be
retried after a delay that doubles with each attempt; after the configured time it is
given up. A permanent one (5xx) or an item that cannot be built is given up at once. A
given-up item is `failed`, set aside with its reason, and never blocks the others; for a
letter, the case officer gets one notice, and nothing that waits on the letter moves on.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from models.audit import SYSTEM, record
from models.letters import WITH_CONTEXT, letter_key
from models.notices import order_notice
from models.tables import Case, DeliveryState, Letter, Notice, local_date, utcnow
from models.working_days import add_working_days

Deliverable = Letter | Notice
MAX_RETRY_DELAY = timedelta(hours=6)


@dataclass(frozen=True)
class RetryPolicy:
    """How long a claim may last, how long to wait before a retry, when to give up."""

    stale_after: timedelta  # twice the SMTP timeout
    first_delay: timedelta  # after the first temporary failure; doubles each time
    give_up_after: timedelta  # since the first failure


def _claimable(model: type[Deliverable], policy: RetryPolicy, now: datetime) -> Any:
    due = or_(col(model.retry_at).is_(None), col(model.retry_at) <= now)
    interrupted = col(model.claimed_at) < now - policy.stale_after
    return or_(
        and_(col(model.delivery_state) == DeliveryState.queued, due),
        and_(col(model.delivery_state) == DeliveryState.sending, interrupted),
    )


def due_ids(session: Session, model: type[Deliverable], policy: RetryPolicy) -> list[int]:
    """Items to send now: queued and due, or left `sending` by an interrupted run."""
    query = select(model.id).where(_claimable(model, policy, utcnow()))
    return [i for i in session.exec(query.order_by(col(model.id))) if i is not None]


def take(session: Session, model: type[Deliverable], item_id: int, policy: RetryPolicy) -> bool:
    """Take an item for this delivery run (queued → sending, with the time), unless another
    run has it (or sent it); return whether this run has it now."""
    now = utcnow()
    return bool(
        session.exec(
            update(model)
            .where(col(model.id) == item_id, _claimable(model, policy, now))
            .values(
                delivery_state=DeliveryState.sending, attempts=model.attempts + 1, claimed_at=now
            )
            .execution_options(synchronize_session=False)  # the session holds no item yet
        ).rowcount
    )


def claim(
    session: Session, model: type[Deliverable], item_id: int, policy: RetryPolicy
) -> Deliverable | None:
    """Take an item for this delivery run, or None if another run has it (or sent it); a
    letter comes with what its message says (models.letters.WITH_CONTEXT)."""
    if not take(session, model, item_id, policy):
        return None
    return session.get(model, item_id, options=WITH_CONTEXT if model is Letter else ())


def mark_sent(session: Session, item: Deliverable, via: str) -> None:
    """Record the item as sent. By a statement rather than through the item, which may come
    from an earlier transaction (the one that claimed it): what else its row says is left as
    the database has it, and the case's event is written with the case as it is now."""
    model = type(item)
    session.exec(
        update(model)
        .where(col(model.id) == item.id)
        .values(
            delivery_state=DeliveryState.sent,
            sent_at=utcnow(),
            delivered_via=via,
            last_error=None,
            retry_at=None,
        )
        .execution_options(synchronize_session=False)  # the item is not this session's
    )
    _record(session, item, "sent", to=item.recipient, via=via)


def mark_failed(session: Session, item: Deliverable, error: str, policy: RetryPolicy) -> bool:
    """A temporary failure: back to the queue, retried after a growing delay, until the
    policy's time is up (then given up). Return whether it stays queued."""
    now = utcnow()
    first = item.first_failed_at or now
    if _aware(first) + policy.give_up_after <= now:
        give_up(session, item, f"{error} (retried since {first:%Y-%m-%d %H:%M} UTC)")
        return False
    delay = min(policy.first_delay * 2 ** max(item.attempts - 1, 0), MAX_RETRY_DELAY)
    item.delivery_state = DeliveryState.queued
    item.last_error = error
    item.first_failed_at = first
    item.retry_at = now + delay
    session.add(item)
    _record(session, item, "delivery_failed", error=error, attempt=item.attempts)
    return True


def give_up(session: Session, item: Deliverable, error: str) -> None:
    """Set the item aside for good with its reason; for a letter, tell the case officer once."""
    item.delivery_state = DeliveryState.failed
    item.last_error = error
    item.retry_at = None
    session.add(item)
    _record(session, item, "undeliverable", error=error, attempts=item.attempts)
    if isinstance(item, Letter):
        case = session.get(Case, item.case_id)
        if case is not None and case.case_officer is not None:
            order_notice(
                session,
                f"{item.letter_key}/undeliverable",
                "letter_undeliverable",
                case.case_officer,
                case,
                case_reference=case.case_reference,
                project_title=case.project_title,
                letter=item.filename,
                recipient=item.recipient,
                error=error,
            )


def _aware(moment: datetime) -> datetime:
    """A stored time as UTC (SQLite returns it without a zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


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


def on_the_way(item: Deliverable) -> bool:
    """Still being made or sent: neither sent nor given up, nor waiting for a retry."""
    if item.delivery_state == DeliveryState.queued:
        return not item.attempts
    return item.delivery_state in (DeliveryState.to_render, DeliveryState.sending)


def undelivered(
    session: Session,
    letter_ids: list[int] | None = None,
    case_references: list[str] | None = None,
) -> list[Letter]:
    """Letters that have not arrived, oldest first: with no filter, those tried at least
    once or given up (what the office must see); else those among the letters given, or of
    the cases given (what one step or intake ordered), tried or not."""
    query = select(Letter).where(col(Letter.delivery_state) != DeliveryState.sent)
    if letter_ids is not None:
        query = query.where(col(Letter.id).in_(letter_ids))
    elif case_references is not None:
        query = query.join(Case).where(col(Case.case_reference).in_(case_references))
    else:
        query = query.where(
            or_(col(Letter.attempts) > 0, col(Letter.delivery_state) == DeliveryState.failed)
        )
    return list(session.exec(query.order_by(col(Letter.id))))


def running_deadline(
    session: Session, case: Case, kind: str, number: int, stated: date, working_days: int
) -> date | None:
    """The deadline the applicant must meet, counted from the delivery of the letter that set
    it (never earlier than the date it states); None while that letter has not arrived, so
    that nothing depending on it moves on."""
    letter = session.exec(select(Letter).where(Letter.letter_key == letter_key(case, kind, number)))
    found = letter.first()
    if found is None:
        return stated
    if found.delivery_state != DeliveryState.sent or found.sent_at is None:
        return None
    return max(stated, add_working_days(local_date(found.sent_at), working_days))


def hold_deadline(session: Session, case: Case, kind: str, number: int, stated: date) -> None:
    """The sweep would act on a deadline whose letter has not arrived: tell the case officer
    (once) instead."""
    key = letter_key(case, kind, number)
    letter = session.exec(select(Letter).where(Letter.letter_key == key)).first()
    if case.case_officer is None or letter is None:
        return
    order_notice(
        session,
        f"{key}/deadline_held",
        "deadline_held",
        case.case_officer,
        case,
        case_reference=case.case_reference,
        project_title=case.project_title,
        letter=letter.filename,
        delivery_state=letter.delivery_state.value,
        stated_deadline=stated.isoformat(),
    )
