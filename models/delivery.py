"""Delivery bookkeeping shared by letters (to applicants) and notices (to staff).

At least once, never lost: a delivery run claims an item (queued → sending, with the time)
in a transaction committed before it hands the item to SMTP, so two runs never both send it
at once; that transaction also records what became of the item the run sent before it. A
claim older than twice the SMTP timeout was interrupted (the run crashed mid-send, or before
the next claim recorded the item sent) and may be claimed again: the item goes out again
with the same Message-ID, derived from the item alone, so a mail client folds a duplicate.

A temporary failure (4xx, network, no answer) puts the item back in the queue with its
reason, to be retried after a delay that doubles with each attempt (at most
`MAX_RETRY_DELAY`), for as long as it takes: a mail relay away for a weekend ends no letter.
Once a letter has waited the configured time, the case officer is told (once for each
stretch of failures); and as soon as the server answers again, everything waiting for it is
due at once (`make_due`). Only a permanent refusal (5xx for the recipient) or an item that
cannot be built is set aside: `failed`, with its reason, never blocking the others; for a
letter, the case officer gets one notice, and nothing that waits on the letter moves on
until a case officer sends it again (`send_again`).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import and_, func, or_, update
from sqlmodel import Session, col, select

from models.audit import SYSTEM, Actor, record
from models.errors import Refused
from models.letters import DECISION, DECISION_TRANSLATION, WITH_CONTEXT, letter_key
from models.notices import order_notice
from models.tables import (
    Case,
    DeliveryState,
    Letter,
    Notice,
    Person,
    local_date,
    local_time,
    utcnow,
)
from models.working_days import add_working_days

Deliverable = Letter | Notice
MAX_RETRY_DELAY = timedelta(hours=6)


@dataclass(frozen=True)
class RetryPolicy:
    """How long a claim may last, how long to wait before a retry, when to tell the case
    officer that a letter still waits."""

    stale_after: timedelta  # twice the SMTP timeout
    first_delay: timedelta  # after the first temporary failure; doubles each time
    tell_after: timedelta  # since the first failure of a stretch


def _claimable(model: type[Deliverable], policy: RetryPolicy, now: datetime) -> Any:
    due = or_(col(model.retry_at).is_(None), col(model.retry_at) <= now)
    interrupted = col(model.claimed_at) < now - policy.stale_after
    claimable = or_(
        and_(col(model.delivery_state) == DeliveryState.queued, due),
        and_(col(model.delivery_state) == DeliveryState.sending, interrupted),
    )
    if model is Letter:  # a decision's translation goes in the decision's e-mail only
        return and_(claimable, col(Letter.kind) != DECISION_TRANSLATION)
    return claimable


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
    if isinstance(item, Letter) and item.kind == DECISION:
        _sent_with(session, item, via)


def _sent_with(session: Session, decision: Letter, via: str) -> None:
    """The decision's translation, if it has one, sent in the decision's e-mail."""
    translation = session.exec(
        select(Letter).where(
            Letter.case_id == decision.case_id,
            Letter.kind == DECISION_TRANSLATION,
            col(Letter.delivery_state) != DeliveryState.sent,
        )
    ).first()
    if translation is not None:
        translation.delivery_state, translation.sent_at = DeliveryState.sent, utcnow()
        translation.delivered_via, translation.last_error = via, None
        session.add(translation)
        _record(session, translation, "sent", to=translation.recipient, via=via)


SERVER_AWAY = "mail server away: "  # begins the last error of an item waiting for the server


def mark_failed(
    session: Session, item: Deliverable, error: str, policy: RetryPolicy, away: bool = False
) -> None:
    """A temporary failure: back to the queue, retried after a delay that doubles with each
    attempt (at most MAX_RETRY_DELAY), however long it takes. A letter that has waited the
    policy's time gets its case officer told, once for this stretch of failures. `away`:
    no word from the server at all; the item is due again as soon as it answers (make_due),
    where a temporary refusal (4xx) keeps its back-off."""
    error = f"{SERVER_AWAY}{error}" if away else error
    now = utcnow()
    first = item.first_failed_at or now
    delay = min(policy.first_delay * 2 ** max(item.attempts - 1, 0), MAX_RETRY_DELAY)
    item.delivery_state = DeliveryState.queued
    item.last_error = error
    item.first_failed_at = first
    item.retry_at = now + delay
    session.add(item)
    _record(session, item, "delivery_failed", error=error, attempt=item.attempts)
    if isinstance(item, Letter) and _aware(first) + policy.tell_after <= now:
        _tell_officer(
            session, item, f"waiting/{first:%Y%m%dT%H%M%S}", "letter_waiting", error, since=first
        )


def set_aside(session: Session, item: Deliverable, error: str) -> None:
    """Refused for good (5xx for the recipient) or impossible to build: set the item aside
    with its reason; for a letter, tell the case officer, once for each time it is set
    aside (a letter sent again may be refused again)."""
    item.delivery_state = DeliveryState.failed
    item.last_error = error
    item.retry_at = None
    session.add(item)
    _record(session, item, "undeliverable", error=error, attempts=item.attempts)
    if isinstance(item, Letter):
        moment = f"undeliverable/{utcnow():%Y%m%dT%H%M%S%f}"
        _tell_officer(session, item, moment, "letter_undeliverable", error)


def _tell_officer(
    session: Session, letter: Letter, key: str, kind: str, error: str, **data: Any
) -> None:
    """Order a notice (`kind`) about the letter to its case's officer, once per `key`."""
    case = session.get(Case, letter.case_id)
    if case is None or case.case_officer is None:
        return
    order_notice(
        session,
        f"{letter.letter_key}/{key}",
        kind,
        case.case_officer,
        case,
        case_reference=case.case_reference,
        project_title=case.project_title,
        letter=letter.filename,
        recipient=letter.recipient,
        error=error,
        **{name: f"{local_time(value):%Y-%m-%d %H:%M}" for name, value in data.items()},
    )


def waiting(item: Deliverable) -> bool:
    """Back in the queue after a temporary failure: waiting for the mail server."""
    return item.delivery_state == DeliveryState.queued and item.attempts > 0


def waiting_count(session: Session) -> int:
    """Letters and notices waiting for the mail server to answer, not due yet."""
    now = utcnow()
    away = [
        select(model.id).where(
            _waiting_not_due(model, now), col(model.last_error).startswith(SERVER_AWAY)
        )
        for model in (Letter, Notice)
    ]
    return sum(len(session.exec(query).all()) for query in away)


def make_due(session: Session) -> int:
    """The mail server answers again: everything that waits for it (not a temporary
    refusal, which keeps its back-off) is due now. Returns how many items that is."""
    now = utcnow()
    return sum(
        session.exec(
            update(model)
            .where(_waiting_not_due(model, now), col(model.last_error).startswith(SERVER_AWAY))
            .values(retry_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        for model in (Letter, Notice)
    )


def _waiting_not_due(model: type[Deliverable], now: datetime) -> Any:
    return and_(
        col(model.delivery_state) == DeliveryState.queued,
        col(model.attempts) > 0,
        col(model.retry_at) > now,
    )


class NothingToSendAgain(Refused, ValueError):
    """Sending again is for letters that could not be delivered; the case has none."""

    messages: ClassVar[dict[str, str]] = {
        "delivery.nothing_to_send_again": "case {case_reference} has no letter that could not "
        "be delivered; a letter waiting for the mail server goes by itself",
    }


def failed_letters(session: Session, case: Case) -> list[Letter]:
    """The case's letters that could not be delivered (refused for good, or impossible to
    build), oldest first; refused (NothingToSendAgain) when there are none."""
    query = select(Letter).where(
        Letter.case_id == case.id, Letter.delivery_state == DeliveryState.failed
    )
    letters = list(session.exec(query.order_by(col(Letter.id))))
    if not letters:
        raise NothingToSendAgain(
            "delivery.nothing_to_send_again", case_reference=case.case_reference
        )
    return letters


def send_again(session: Session, case: Case, person: Person) -> list[Letter]:
    """A case officer's choice (after the address was put right, say): the case's letters
    that could not be delivered go again, queued with a fresh attempt count (a letter never
    made is made first), each in the audit trail with who chose it and why it had failed.
    The letter is the same, so is its Message-ID: a copy that did arrive is folded."""
    letters = failed_letters(session, case)
    queue_again(session, case, person, letters)
    return letters


def queue_again(session: Session, case: Case, person: Person, letters: list[Letter]) -> None:
    """`letters`, set aside, queued again by `person`'s choice, each in the audit trail
    with its recipient (perhaps corrected since) and why it had failed."""
    for letter in letters:
        record(
            session,
            case,
            Actor.of(person),
            "letter_sent_again",
            kind=letter.kind,
            letter=letter.filename,
            to=letter.recipient,
            error=letter.last_error,
            attempts=letter.attempts,
        )
        made = letter.pdf is not None
        letter.delivery_state = DeliveryState.queued if made else DeliveryState.to_render
        letter.attempts = 0
        letter.last_error = None
        letter.first_failed_at = letter.retry_at = letter.claimed_at = None
        session.add(letter)


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
    """Still being made or sent: neither sent nor set aside, nor waiting for a retry."""
    if item.delivery_state == DeliveryState.queued:
        return not item.attempts
    return item.delivery_state in (DeliveryState.to_render, DeliveryState.sending)


def undelivered(
    session: Session,
    letter_ids: list[int] | None = None,
    case_references: list[str] | None = None,
) -> list[Letter]:
    """Letters that have not arrived, oldest first: with no filter, those tried at least
    once or set aside (what the office must see); else those among the letters given, or of
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


def notices_undelivered(session: Session) -> list[Notice]:
    """Notices to staff tried at least once and not delivered, oldest first: when the mail
    server is away, the office shows what its own notices could not say."""
    query = select(Notice).where(
        col(Notice.delivery_state) != DeliveryState.sent,
        or_(col(Notice.attempts) > 0, col(Notice.delivery_state) == DeliveryState.failed),
    )
    return list(session.exec(query.order_by(col(Notice.id))))


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


@dataclass(frozen=True)
class Backlog:
    """Letters not yet at the applicant, as a monitor reads them: how many wait to be made
    (ordered by a step, no PDF yet), how many wait to be sent (made, queued or being handed
    to SMTP), when the oldest of them was ordered, and how many letters and notices to staff
    were set aside (refused for good: a person must act)."""

    to_make: int
    to_send: int
    oldest: datetime | None
    failed_letters: int
    failed_notices: int


def backlog(session: Session) -> Backlog:
    """The letters waiting and set aside, counted by the database (indexed by state)."""
    waiting = (DeliveryState.to_render, DeliveryState.queued, DeliveryState.sending)
    counts = dict(
        session.exec(
            select(Letter.delivery_state, func.count())
            .where(col(Letter.delivery_state).in_([*waiting, DeliveryState.failed]))
            .group_by(col(Letter.delivery_state))
        ).all()
    )
    oldest = session.exec(
        select(func.min(Letter.created_at)).where(col(Letter.delivery_state).in_(waiting))
    ).one()
    failed_notices = session.exec(
        select(func.count()).where(col(Notice.delivery_state) == DeliveryState.failed)
    ).one()
    return Backlog(
        to_make=counts.get(DeliveryState.to_render, 0),
        to_send=counts.get(DeliveryState.queued, 0) + counts.get(DeliveryState.sending, 0),
        oldest=_aware(oldest) if oldest is not None else None,
        failed_letters=counts.get(DeliveryState.failed, 0),
        failed_notices=failed_notices,
    )


def not_yet_sent(session: Session, older_than: timedelta) -> list[Letter]:
    """Letters never tried yet, made or not, ordered longer ago than `older_than`, oldest
    first: what the follow-up of a step and the scheduled send-letters should have sent by
    now (the Prefect server away, no worker running)."""
    query = select(Letter).where(
        col(Letter.delivery_state).in_([DeliveryState.to_render, DeliveryState.queued]),
        col(Letter.attempts) == 0,
        col(Letter.created_at) < utcnow() - older_than,
    )
    return list(session.exec(query.order_by(col(Letter.id))))
