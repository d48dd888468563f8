"""Requests for supplement (komplettering): what is missing, the deadline, and what then.

The deadline is counted in Swedish working days. Before it, one reminder; after it, the
case moves on once, as the request said. By default it is examined as it stands: a missing
piece that bears on a requirement is a matter for the assessment, not a bar to it. Only
where the gap prevents examination at all may the officer choose, for that request and
with the reason stated in the letter, that the application is proposed for dismissal
(avvisning, Förvaltningslagen 20 §).
"""

import hashlib
from datetime import date
from typing import Any, ClassVar

from sqlmodel import Session, col, select

from models.audit import SYSTEM, Actor, move, record
from models.delivery import hold_deadline, running_deadline
from models.documents import ACCEPTED, MAX_DOCUMENT_BYTES, media_type_of, safe_filename
from models.errors import Refused
from models.letters import SUPPLEMENT_REMINDER, SUPPLEMENT_REQUEST, order_letter
from models.notices import order_notice
from models.reviews import start_review
from models.rules import Rules
from models.states import CaseState, check_transition
from models.tables import Case, Document, OnExpiry, Outcome, Person, SupplementRequest, utcnow
from models.working_days import add_working_days, subtract_working_days


class SupplementError(Refused, ValueError):
    """The supplement or its request cannot be taken as given; the refusal says why."""

    messages: ClassVar[dict[str, str]] = {
        "supplement.nothing_missing": "missing: say what the applicant must supplement",
        "supplement.dismissal_unreasoned": "dismiss_because = '': dismissal is only for a gap "
        "that prevents examining the application at all (FL 20 §); say why this one does, or "
        "let the case be examined as it stands",
        "supplement.dismissal_reason_unasked": "dismiss_because: given, but the request is to "
        "examine as it stands",
        "supplement.not_awaited": "case {case_reference} is '{state}' and waits for no supplement",
    }


def request_supplement(
    session: Session,
    case: Case,
    officer: Person,
    missing: list[dict[str, Any]],
    rules: Rules,
    today: date,
    on_expiry: OnExpiry | None = None,
    dismiss_because: str = "",
) -> SupplementRequest:
    """Ask the applicant for what is missing; the case waits until it comes or the deadline."""
    check_transition(case.case_reference, case.state, CaseState.awaiting_supplement)
    items = [m for m in missing if m.get("text", "").strip()]
    if not items:
        raise SupplementError("supplement.nothing_missing")
    on_expiry = on_expiry or OnExpiry.examine
    if on_expiry is OnExpiry.dismiss and not dismiss_because.strip():
        raise SupplementError("supplement.dismissal_unreasoned")
    if on_expiry is OnExpiry.examine and dismiss_because.strip():
        raise SupplementError("supplement.dismissal_reason_unasked")
    number = len(_requests(session, case)) + 1
    request = SupplementRequest(
        case_id=case.id,
        number=number,
        missing=items,
        deadline=add_working_days(today, rules.supplement_working_days),
        on_expiry=on_expiry,
        dismiss_because=dismiss_because.strip(),
        requested_by=officer.email,
    )
    session.add(request)
    move(
        session,
        case,
        CaseState.awaiting_supplement,
        Actor.of(officer),
        "supplement_requested",
        number=number,
        deadline=request.deadline.isoformat(),
        on_expiry=request.on_expiry,
        missing=[m["text"] for m in items],
    )
    order_letter(session, case, SUPPLEMENT_REQUEST, _letter_data(request), number)
    return request


def register_supplement(
    session: Session, case: Case, officer: Person, filename: str, content: bytes
) -> Document:
    """File what the applicant sent to the case officer and return the case to the checklist."""
    return receive_supplement(session, case, Actor.of(officer), filename, content)


def receive_supplement(
    session: Session,
    case: Case,
    actor: Actor,
    filename: str,
    content: bytes,
    media_type: str | None = None,
) -> Document:
    """File the supplement and return the case to the eligibility checklist: registered by
    the case officer, or sent by the applicant through its letter's link (`media_type`:
    as for `file_document`)."""
    request = open_request(session, case)
    if request is None:
        raise SupplementError(
            "supplement.not_awaited", case_reference=case.case_reference, state=case.state
        )
    document = file_document(session, case, actor, "supplement", filename, content, media_type)
    request.received_at = utcnow()
    session.add(request)
    move(
        session,
        case,
        CaseState.received,
        actor,
        "supplement_registered",
        number=request.number,
        file=document.filename,
        sha256=document.sha256,
    )
    return document


class DocumentRefused(SupplementError):
    """A file the case cannot take: empty, too large, or of no accepted kind."""

    messages: ClassVar[dict[str, str]] = {
        "document.empty": "file {filename!r} is empty",
        "document.too_large": "file {filename!r} is {size} bytes; at most {limit} are accepted",
        "document.unaccepted_kind": "file {filename!r}: its content is of no accepted kind "
        "({accepted})",
    }


def file_document(
    session: Session,
    case: Case,
    by: Actor,
    kind: str,
    filename: str,
    content: bytes,
    media_type: str | None = None,
) -> Document:
    """Keep what came in as it came, with its SHA-256 and its type as its content shows.

    Refused: an empty or oversized file, one whose content is of no accepted kind, and
    an archive that unpacks past the upload limit (`models.documents`). The name it came
    under is kept as a label, never used as a path. `media_type` is given only for what is
    not a file but words typed in our own form (`TEXT`): they are text whatever they begin
    with ("<Protokollet> skickas …"), so they are not judged as a file would be.
    """
    filename = safe_filename(filename)
    if not content.strip():
        raise DocumentRefused("document.empty", filename=filename)
    if len(content) > MAX_DOCUMENT_BYTES:
        raise DocumentRefused(
            "document.too_large", filename=filename, size=len(content), limit=MAX_DOCUMENT_BYTES
        )
    media_type = media_type or media_type_of(content, filename)
    if media_type is None:
        raise DocumentRefused("document.unaccepted_kind", filename=filename, accepted=ACCEPTED)
    document = Document(
        case_id=case.id,
        kind=kind,
        filename=filename,
        media_type=media_type,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        registered_by=by.who,
    )
    session.add(document)
    return document


def open_request(session: Session, case: Case) -> SupplementRequest | None:
    """The request the case is waiting on, if it is waiting."""
    if case.state is not CaseState.awaiting_supplement:
        return None
    return session.exec(
        select(SupplementRequest)
        .where(
            SupplementRequest.case_id == case.id,
            col(SupplementRequest.received_at).is_(None),
            col(SupplementRequest.expired_at).is_(None),
        )
        .order_by(col(SupplementRequest.number).desc())
    ).first()


def running_supplement_deadline(
    session: Session, request: SupplementRequest, rules: Rules
) -> date | None:
    """The deadline the applicant must meet, counted from the request's delivery
    (models.delivery.running_deadline); None while the letter has not arrived."""
    return running_deadline(
        session,
        request.case,
        SUPPLEMENT_REQUEST,
        request.number,
        request.deadline,
        rules.supplement_working_days,
    )


def reminder_day(deadline: date, rules: Rules) -> date:
    """The first day the applicant may be reminded, a few working days before the deadline.
    The sweep reminds once, on the first day it runs from then until the deadline: a sweep
    that does not run in those days sends no reminder, so whatever schedules it (the office's
    timer, the demo's clock) must wake it in them."""
    return subtract_working_days(deadline, rules.supplement_reminder_working_days)


def sweep_supplements(session: Session, today: date, rules: Rules) -> dict[str, int]:
    """Reminders due and deadlines passed, each acted on once however often this runs."""
    waiting = session.exec(
        select(SupplementRequest)
        .join(Case)
        .where(
            Case.state == CaseState.awaiting_supplement,
            col(SupplementRequest.received_at).is_(None),
            col(SupplementRequest.expired_at).is_(None),
        )
        .with_for_update()
    ).all()
    done = {"reminders": 0, "expired": 0, "held": 0}
    for request in waiting:
        deadline = running_supplement_deadline(session, request, rules)
        remind_from = reminder_day(deadline or request.deadline, rules)
        if deadline is None:  # the request has not reached the applicant: nothing runs
            if today >= remind_from:
                hold_deadline(
                    session, request.case, SUPPLEMENT_REQUEST, request.number, request.deadline
                )
                done["held"] += 1
        elif deadline < today:
            _expire(session, request, rules, today)
            done["expired"] += 1
        elif request.reminded_at is None and today >= remind_from:
            request.reminded_at = utcnow()
            session.add(request)
            order_letter(
                session, request.case, SUPPLEMENT_REMINDER, _letter_data(request), request.number
            )
            record(
                session, request.case, SYSTEM, "supplement_reminder_ordered", number=request.number
            )
            done["reminders"] += 1
    return done


def _expire(session: Session, request: SupplementRequest, rules: Rules, today: date) -> None:
    case = request.case
    request.expired_at = utcnow()
    session.add(request)
    detail = {"number": request.number, "deadline": request.deadline.isoformat()}
    if request.on_expiry is OnExpiry.examine:
        start_review(
            session, case, rules, today, SYSTEM, "supplement_deadline_passed_examined", **detail
        )
    else:
        case.proposed_outcome = Outcome.dismissed
        case.proposal_reason = request.dismiss_because
        move(
            session,
            case,
            CaseState.drafting_decision,
            SYSTEM,
            "supplement_deadline_passed_dismissal_proposed",
            **detail,
        )
    if case.case_officer:
        order_notice(
            session,
            f"{case.case_reference}/supplement_expired/{request.number}",
            "supplement_expired",
            case.case_officer,
            case,
            case_reference=case.case_reference,
            project_title=case.project_title,
            deadline=request.deadline.isoformat(),
            state=case.state,
        )


def _requests(session: Session, case: Case) -> list[SupplementRequest]:
    return list(session.exec(select(SupplementRequest).where(SupplementRequest.case_id == case.id)))


def _letter_data(request: SupplementRequest) -> dict[str, Any]:
    return {
        "number": request.number,
        "deadline": request.deadline.isoformat(),
        "missing": request.missing,
        "on_expiry": request.on_expiry.value,
        "dismiss_because": request.dismiss_because,
    }
