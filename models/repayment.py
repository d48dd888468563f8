"""Repayment (återkrav): money of a grant unused or misused, claimed back by a decision of
its own.

The case officer drafts the claim on a granted case (an amount no larger than the grant, and
the reason in words) and communicates it to the grantee (FL 25 §) with a deadline in working
days; the grantee answers through the personal link in the e-mail, or the case officer
registers a reply that came otherwise. After the reply or the deadline the decision maker,
never the one who drafted it, decides it: a decision that can be appealed by
laglighetsprövning, whose letter gives the amount, the Region's bankgiro, the claim's OCR
reference and a due date on a working day. Or the claim is withdrawn, with a reason. What is
paid back is registered by hand (a case officer or the finance department) or from the
bank's camt.054 by its OCR reference; a partial payment leaves the rest owed. A claim unpaid
after its due date gets one reminder and stands on the finance department's list.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

from sqlmodel import Session, col, select

from models.access import require_role
from models.audit import SYSTEM, Actor, record
from models.decisions import _who, signed_grant
from models.errors import Refused
from models.identifiers import IdentifierError, bankgiro, ocr_reference
from models.letters import (
    REPAYMENT_COMMUNICATION,
    REPAYMENT_DECISION,
    REPAYMENT_REMINDER,
    REPAYMENT_WITHDRAWAL,
    letter_key,
    order_letter,
)
from models.rules import Rules
from models.tables import (
    Case,
    Letter,
    Person,
    RepaymentClaim,
    RepaymentStatus,
    Role,
    local_date,
    utcnow,
)
from models.working_days import add_working_days, next_working_day

R = RepaymentStatus
LIVE = (R.drafted, R.communicated, R.decided, R.settled)  # claims that count against the grant
REASON_KINDS = ("unused", "misused")


class RepaymentRefused(Refused, ValueError):
    """The repayment claim cannot be taken as given; the refusal says why."""

    messages: ClassVar[dict[str, str]] = {
        "repayment.not_granted": "case {case_reference} has no signed grant to claim back",
        "repayment.amount": "amount = {amount}: a repayment claim is a whole number of kronor "
        "more than 0",
        "repayment.over_granted": "amount = {amount}: more than the {left} kr of the {granted} "
        "kr granted that is not already claimed back",
        "repayment.reason_kind": "reason_kind = '{reason_kind}': the money is either {kinds:'or'}",
        "repayment.reason": "reason = '': say in words why the money is claimed back",
        "repayment.no_claim": "case {case_reference} has no repayment claim {number}",
        "repayment.wrong_status": "repayment claim {number} of case {case_reference} is "
        "'{status}'; this is done while it is {wanted:'or'}",
        "repayment.reply_empty": "reply = '': write what the grantee said",
        "repayment.deadline_running": "repayment claim {number} of case {case_reference}: "
        "the grantee may comment until {deadline} and has not yet; decide after that",
        "repayment.assessment": "reply_assessment = '': the grantee commented; say what was "
        "made of the comments (FL 25 §), the decision states it",
        "repayment.drafted_it": "{email} drafted repayment claim {number} of case "
        "{case_reference}; another must decide it",
        "repayment.no_bankgiro": "bankgiro = '{bankgiro}': the Region's bankgiro for "
        "repayments is not configured or not a bankgiro number",
        "repayment.withdrawal_reason": "reason = '': say why the claim is withdrawn",
        "repayment.withdraw_decided": "repayment claim {number} of case {case_reference} is "
        "decided; only a decision maker withdraws it",
        "repayment.paid_amount": "amount = {amount}: a payment is a whole number of kronor "
        "more than 0 and at most the {owed} kr still owed",
        "repayment.paid_on": "paid_on = {paid_on}: a payment is registered on or before today "
        "({today})",
    }


@dataclass(frozen=True)
class Overdue:
    """A decided claim unpaid past its due date, as the finance department's list shows it."""

    case_reference: str
    organisation: str
    number: int
    ocr_reference: str
    amount: int
    owed: int
    due_on: date
    reminded: bool


def owed(claim: RepaymentClaim) -> int:
    """What the grantee still owes on a decided claim: its amount less what was paid."""
    return 0 if claim.status is R.settled else claim.amount - claim.paid_amount


def granted(session: Session, case: Case) -> int | None:
    """The amount the case's signed decision granted, None if it granted nothing."""
    decision = signed_grant(session, case)
    return decision.amount if decision is not None else None


def claims(session: Session, case: Case) -> list[RepaymentClaim]:
    """The case's repayment claims, first first."""
    query = select(RepaymentClaim).where(RepaymentClaim.case_id == case.id)
    return list(session.exec(query.order_by(col(RepaymentClaim.number))))


def claim(session: Session, case: Case, number: int) -> RepaymentClaim:
    """The case's repayment claim `number`; refused if it has none by that number."""
    found = session.exec(
        select(RepaymentClaim).where(
            RepaymentClaim.case_id == case.id, RepaymentClaim.number == number
        )
    ).first()
    if found is None:
        raise RepaymentRefused(
            "repayment.no_claim", case_reference=case.case_reference, number=number
        )
    return found


def draft_claim(
    session: Session, case: Case, officer: Person, amount: int, reason_kind: str, reason: str
) -> RepaymentClaim:
    """The case officer's draft: on a signed grant, an amount in whole kronor above 0 and
    no larger than what was granted and not already claimed, and why (unused or misused, in
    words). It gets its OCR reference now, so that the communication can name it."""
    require_role(officer, "draft a repayment claim", Role.case_officer)
    grant = granted(session, case)
    if grant is None:
        raise RepaymentRefused("repayment.not_granted", case_reference=case.case_reference)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise RepaymentRefused("repayment.amount", amount=amount)
    existing = claims(session, case)
    left = grant - sum(c.amount for c in existing if c.status in LIVE)
    if amount > left:
        raise RepaymentRefused("repayment.over_granted", amount=amount, left=left, granted=grant)
    if reason_kind not in REASON_KINDS:
        raise RepaymentRefused(
            "repayment.reason_kind", reason_kind=reason_kind, kinds=list(REASON_KINDS)
        )
    if not reason.strip():
        raise RepaymentRefused("repayment.reason")
    number = max((c.number for c in existing), default=0) + 1
    drafted = RepaymentClaim(
        case_id=case.id,
        number=number,
        amount=amount,
        reason_kind=reason_kind,
        reason=reason.strip(),
        ocr_reference=ocr_reference(case.case_reference, number),
        drafted_by=officer.email,
    )
    session.add(drafted)
    record(
        session,
        case,
        Actor.of(officer),
        "repayment_drafted",
        number=number,
        amount=amount,
        reason_kind=reason_kind,
        reason=drafted.reason,
        ocr_reference=drafted.ocr_reference,
    )
    return drafted


def communicate_claim(
    session: Session, case: Case, officer: Person, number: int, rules: Rules, today: date
) -> RepaymentClaim:
    """FL 25 §: the grantee gets the drafted claim, with its reason and amount, and may
    comment within the communication's working days."""
    require_role(officer, "communicate a repayment claim", Role.case_officer)
    drafted = _in_status(case, claim(session, case, number), R.drafted)
    drafted.status = R.communicated
    drafted.communicated_at = utcnow()
    drafted.communication_deadline = add_working_days(today, rules.communication_working_days)
    session.add(drafted)
    record(
        session,
        case,
        Actor.of(officer),
        "repayment_communicated",
        number=number,
        deadline=drafted.communication_deadline.isoformat(),
    )
    order_letter(
        session, case, REPAYMENT_COMMUNICATION, _facts(session, case, drafted), drafted.number
    )
    return drafted


def open_claim(session: Session, case: Case, number: int) -> RepaymentClaim | None:
    """The claim `number`, if it waits for the grantee's comments: communicated, no reply."""
    found = session.exec(
        select(RepaymentClaim).where(
            RepaymentClaim.case_id == case.id, RepaymentClaim.number == number
        )
    ).first()
    if found is None or found.status is not R.communicated or found.replied_at is not None:
        return None
    return found


def register_claim_reply(
    session: Session, case: Case, officer: Person, number: int, reply: str
) -> RepaymentClaim:
    """The grantee's comments that came by e-mail, post or telephone, registered by the case
    officer in the grantee's words."""
    require_role(officer, "register a reply to a repayment claim", Role.case_officer)
    return receive_claim_reply(session, case, Actor.of(officer), number, reply)


def receive_claim_reply(
    session: Session, case: Case, actor: Actor, number: int, reply: str
) -> RepaymentClaim:
    """The grantee's comments on the communicated claim, registered by the case officer or
    sent through the link in the communication's e-mail: once; the decision may follow."""
    communicated = _in_status(case, claim(session, case, number), R.communicated)
    if communicated.replied_at is not None:
        raise RepaymentRefused(
            "repayment.wrong_status",
            case_reference=case.case_reference,
            number=number,
            status="replied",
            wanted=[R.communicated],
        )
    if not reply.strip():
        raise RepaymentRefused("repayment.reply_empty")
    communicated.reply = reply.strip()
    communicated.replied_at = utcnow()
    session.add(communicated)
    record(session, case, actor, "repayment_reply", number=number, reply=communicated.reply)
    return communicated


def decide_claim(
    session: Session,
    case: Case,
    maker: Person,
    number: int,
    reply_assessment: str,
    region_bankgiro: str,
    rules: Rules,
    today: date,
) -> RepaymentClaim:
    """The decision maker's decision on the communicated claim, after the grantee's reply
    or the deadline: never by whoever drafted it. What the grantee said is answered in the
    decision (`reply_assessment`). It falls due `repayment_days` after the decision, on a
    working day, to the Region's bankgiro with the claim's OCR reference."""
    require_role(maker, "decide a repayment claim", Role.decision_maker)
    communicated = _in_status(case, claim(session, case, number), R.communicated)
    params = {"case_reference": case.case_reference, "number": number}
    if maker.email == communicated.drafted_by:
        raise RepaymentRefused("repayment.drafted_it", email=maker.email, **params)
    deadline = communicated.communication_deadline
    if communicated.replied_at is None and deadline is not None and today <= deadline:
        raise RepaymentRefused(
            "repayment.deadline_running", deadline=deadline.isoformat(), **params
        )
    if communicated.reply and not reply_assessment.strip():
        raise RepaymentRefused("repayment.assessment")
    try:
        account = bankgiro(region_bankgiro)
    except IdentifierError:
        raise RepaymentRefused("repayment.no_bankgiro", bankgiro=region_bankgiro) from None
    communicated.status = R.decided
    communicated.reply_assessment = reply_assessment.strip()
    communicated.decided_by, communicated.decided_at = maker.email, utcnow()
    communicated.due_on = next_working_day(today + timedelta(days=rules.repayment_days))
    session.add(communicated)
    record(
        session,
        case,
        Actor.of(maker),
        "repayment_decided",
        number=number,
        amount=communicated.amount,
        ocr_reference=communicated.ocr_reference,
        due_on=communicated.due_on.isoformat(),
    )
    facts = _facts(session, case, communicated) | {
        "bankgiro": account,
        "due_on": communicated.due_on.isoformat(),
        "reply_assessment": communicated.reply_assessment,
        # The sealed PDF's facts (models.decision_letter.decision_facts): the claim's
        # number as the version, and "repayment" as the outcome.
        "version": number,
        "outcome": "repayment",
        "decided_at": communicated.decided_at.isoformat(),
        "decided_on": local_date(communicated.decided_at).isoformat(),
        "signed_by": maker.email,
        "decision_maker": _who(maker, case.language.value),
        "delegation_point": rules.delegation_point_en
        if case.language.value == "en"
        else rules.delegation_point,
    }
    order_letter(session, case, REPAYMENT_DECISION, facts, number)
    return communicated


def withdraw_claim(
    session: Session, case: Case, person: Person, number: int, reason: str
) -> RepaymentClaim:
    """The claim is not pursued, with the reason. A decided claim is withdrawn only by a
    decision maker (it undoes a decision); a draft or a communicated claim by the case
    officer too. A grantee who has seen the claim is told, with the reason."""
    require_role(person, "withdraw a repayment claim", Role.case_officer, Role.decision_maker)
    found = _in_status(case, claim(session, case, number), R.drafted, R.communicated, R.decided)
    if found.status is R.decided and person.role is not Role.decision_maker:
        raise RepaymentRefused(
            "repayment.withdraw_decided", case_reference=case.case_reference, number=number
        )
    if not reason.strip():
        raise RepaymentRefused("repayment.withdrawal_reason")
    before = found.status
    found.status = R.withdrawn
    found.withdrawal_reason = reason.strip()
    session.add(found)
    record(
        session,
        case,
        Actor.of(person),
        "repayment_withdrawn",
        number=number,
        status_before=before.value,
        reason=found.withdrawal_reason,
    )
    if before is not R.drafted:  # the grantee has seen it: they are told it is not pursued
        facts = _facts(session, case, found) | {"withdrawal_reason": found.withdrawal_reason}
        order_letter(session, case, REPAYMENT_WITHDRAWAL, facts, number)
    return found


def register_payment(
    session: Session,
    case: Case,
    person: Person,
    number: int,
    paid_on: date,
    amount: int,
    today: date,
) -> RepaymentClaim:
    """What the grantee paid back, registered by hand by a case officer or the finance
    department (the bank's camt.054 settles a claim by its OCR reference): a payment of
    what is still owed settles the claim; a smaller one leaves the rest owed."""
    require_role(person, "register a repayment", Role.case_officer, Role.finance)
    decided = _in_status(case, claim(session, case, number), R.decided)
    still = owed(decided)
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= still:
        raise RepaymentRefused("repayment.paid_amount", amount=amount, owed=still)
    if paid_on > today:
        raise RepaymentRefused(
            "repayment.paid_on", paid_on=paid_on.isoformat(), today=today.isoformat()
        )
    return paid_back(session, case, decided, Actor.of(person), amount, paid_on)


def paid_back(
    session: Session,
    case: Case,
    decided: RepaymentClaim,
    actor: Actor,
    amount: int,
    paid_on: date,
    settled_by: str | None = None,
    **facts: Any,
) -> RepaymentClaim:
    """Money paid back on a decided claim, by hand or by the bank's notification
    (models.bank_files): what is owed goes down by it, and the claim settles when nothing
    is owed. More than is owed counts as what is owed (the rest is the finance
    department's to pay back). `settled_by`: who is named as settling it, if not the actor."""
    counted = min(amount, owed(decided))
    decided.paid_amount += counted
    settled = decided.paid_amount == decided.amount
    if settled:
        decided.status = R.settled
        decided.settled_on, decided.settled_by = paid_on, settled_by or actor.who
    session.add(decided)
    record(
        session,
        case,
        actor,
        "repayment_paid",
        number=decided.number,
        amount=amount,
        paid_on=paid_on.isoformat(),
        owed=owed(decided),
        settled=settled,
        **facts,
    )
    return decided


def overdue(session: Session, today: date) -> list[tuple[RepaymentClaim, Case]]:
    """Decided claims unpaid past their due date, the oldest due first."""
    query = (
        select(RepaymentClaim, Case)
        .join(Case)
        .where(RepaymentClaim.status == R.decided, col(RepaymentClaim.due_on) < today)
        .order_by(col(RepaymentClaim.due_on), col(RepaymentClaim.id))
    )
    return list(session.exec(query).all())


def overdue_list(session: Session, today: date, visible: set[int] | None = None) -> list[Overdue]:
    """The finance department's list of claims unpaid past their due date (of the cases in
    `visible`, when given: whoever reads it sees no case they may not)."""
    return [
        Overdue(
            case.case_reference,
            case.organisation.name,
            c.number,
            c.ocr_reference,
            c.amount,
            owed(c),
            c.due_on,
            c.reminded_at is not None,
        )
        for c, case in overdue(session, today)
        if visible is None or case.id in visible
    ]


def remind_overdue_claims(session: Session, today: date) -> int:
    """One reminder per decided claim unpaid past its due date: what is still owed, the
    same bankgiro and OCR reference, and a new date to pay by."""
    reminded = 0
    for unpaid, case in overdue(session, today):
        if unpaid.reminded_at is not None:
            continue
        unpaid.reminded_at = utcnow()
        session.add(unpaid)
        decided = _decision_facts(session, case, unpaid.number)
        order_letter(
            session,
            case,
            REPAYMENT_REMINDER,
            decided | {"owed": owed(unpaid), "paid": unpaid.paid_amount},
            unpaid.number,
        )
        record(
            session,
            case,
            SYSTEM,
            "repayment_reminder_ordered",
            number=unpaid.number,
            owed=owed(unpaid),
            due_on=unpaid.due_on.isoformat(),
        )
        reminded += 1
    return reminded


def _decision_facts(session: Session, case: Case, number: int) -> dict[str, Any]:
    """What the claim's decision letter said: the reminder repeats its account and dates."""
    letter = session.exec(
        select(Letter).where(Letter.letter_key == letter_key(case, REPAYMENT_DECISION, number))
    ).one()
    return dict(letter.data)


def _facts(session: Session, case: Case, found: RepaymentClaim) -> dict[str, Any]:
    """What every letter on the claim states beyond the case."""
    return {
        "number": found.number,
        "amount": found.amount,
        "granted": granted(session, case),
        "reason_kind": found.reason_kind,
        "reason": found.reason,
        "ocr_reference": found.ocr_reference,
        "deadline": found.communication_deadline.isoformat()
        if found.communication_deadline
        else None,
        "communicated_on": local_date(found.communicated_at).isoformat()
        if found.communicated_at
        else None,
        "reply": found.reply,
    }


def _in_status(case: Case, found: RepaymentClaim, *wanted: RepaymentStatus) -> RepaymentClaim:
    if found.status not in wanted:
        raise RepaymentRefused(
            "repayment.wrong_status",
            case_reference=case.case_reference,
            number=found.number,
            status=found.status,
            wanted=list(wanted),
        )
    return found
