"""Payment orders (utbetalningsorder): a grant paid in the instalments of the call's plan,
each prepared by one person and attested by another (four eyes).

The case officer prepares the instalments that are due: the grantee has accepted the
conditions, the organisation has a number and an account, and the instalment's event has
happened. Another person attests each order: the decision maker or a configured attestant,
never the one who prepared it. The rule is kept here, in the domain, so no edge can go
round it. A changed account that no second person has confirmed holds attestation
(`models.accounts.on_hold`). Finance sends attested orders to the bank; an order the bank
rejected goes back to the case officer, who prepares it again once the account is put
right, and it needs a new attestation. Every step is in the case's audit trail.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from sqlmodel import Session, col, func, select

from models import clock
from models.acceptance import acceptance_of
from models.access import readable_clause, require_role
from models.accounts import current_account, on_hold
from models.audit import Actor, record
from models.decisions import committed, signed_grant
from models.errors import Refused
from models.final_reports import final_report_approved as report_approved
from models.payment_plan import instalment_amounts
from models.reference_data import NotAllowed
from models.tables import (
    Call,
    Case,
    Decision,
    PaymentOrder,
    PaymentStatus,
    Person,
    RepaymentClaim,
    Role,
    utcnow,
)

ACCEPTANCE, FINAL_REPORT = "acceptance", "final_report"
EVENTS = (ACCEPTANCE, FINAL_REPORT)  # when an instalment of the payment plan may be paid
END_TO_END_MAX = 35  # ISO 20022 EndToEndId: at most 35 characters
# An order in these states stands: its instalment is not prepared again.
STANDING = (
    PaymentStatus.prepared,
    PaymentStatus.attested,
    PaymentStatus.exported,
    PaymentStatus.paid,
)
NOT_YET_EXPORTED = (PaymentStatus.prepared, PaymentStatus.attested)
P = PaymentStatus


class PaymentRefused(Refused, ValueError):
    """A payment step that cannot be taken now; nothing was changed."""

    messages: ClassVar[dict[str, str]] = {
        "payment.no_grant": "case {case_reference} has no signed grant to pay",
        "payment.not_accepted": "case {case_reference}: the grantee has not accepted the "
        "grant's conditions; nothing is paid before",
        "payment.no_organisation_number": "case {case_reference}: {organisation} has no "
        "organisation number; nothing is paid without one",
        "payment.no_account": "case {case_reference}: the grantee has given no account to pay to",
        "payment.report_not_approved": "case {case_reference}: instalment {instalment} is "
        "paid once the final report is approved, and it is not yet",
        "payment.already_prepared": "case {case_reference}: every instalment due is prepared "
        "already ({instalments})",
        "payment.same_account": "case {case_reference}: the bank rejected instalment "
        "{instalment} to this account; put the account right before it is prepared again",
        "payment.over_grant": "case {case_reference}: {amount} kr more would pay more than the "
        "{granted} kr granted ({standing} kr is prepared or paid already); the payment plan "
        "or the decision changed since",
        "payment.unknown_order": "there is no payment order {order} in case {case_reference}",
        "payment.not_attestant": "{name} <{email}> is {role} and no attestant; the decision "
        "maker or an attestant attests payment orders",
        "payment.own_order": "{name} prepared payment order {order}; another person attests "
        "it (four eyes)",
        "payment.not_prepared": "payment order {order} is '{status}'; only a prepared order "
        "is attested",
        "payment.account_on_hold": "payment order {order} of case {case_reference}: the "
        "account was changed and no second person has confirmed the change yet",
        "payment.account_changed": "payment order {order} of case {case_reference} names an "
        "account that is no longer the case's; cancel it and prepare it again",
        "payment.not_cancellable": "payment order {order} is '{status}'; only an order not "
        "yet sent to the bank is cancelled",
        "payment.cancel_reason": "reason = '': say why the payment order is cancelled",
        "payment.not_exported": "payment order {order} is '{status}'; only an order sent to "
        "the bank is registered as paid",
        "payment.paid_ahead": "on = {on}: a payment is registered once it is made",
    }


# Reading


def final_report_approved(session: Session, case: Case) -> bool:
    """Whether the case officer has approved the final report (`models.final_reports`), for
    the instalment paid after it."""
    return report_approved(session, case)


def orders_of(session: Session, case: Case) -> list[PaymentOrder]:
    query = select(PaymentOrder).where(PaymentOrder.case_id == case.id)
    return list(session.exec(query.order_by(col(PaymentOrder.instalment))))


def order_in(session: Session, case: Case, order_id: int) -> PaymentOrder:
    """The payment order `order_id` of `case`; refused if the case has no such order."""
    order = session.get(PaymentOrder, order_id)
    if order is None or order.case_id != case.id:
        raise PaymentRefused(
            "payment.unknown_order", order=order_id, case_reference=case.case_reference
        )
    return order


def case_reference_of(session: Session, order_id: int) -> str | None:
    """Which case a payment order is on, for an edge given the order alone."""
    order = session.get(PaymentOrder, order_id)
    return order.case.case_reference if order is not None else None


def orders_readable(session: Session, reader: Person) -> list[PaymentOrder]:
    """Every payment order on the cases `reader` may read, the newest first."""
    query = select(PaymentOrder).join(Case).where(readable_clause(session, reader))
    return list(session.exec(query.order_by(col(PaymentOrder.id).desc())))


def sent_to_the_bank(session: Session) -> list[PaymentOrder]:
    """The orders in a payment file that the bank has not yet reported paid or rejected."""
    query = select(PaymentOrder).where(PaymentOrder.status == P.exported)
    return list(session.exec(query.order_by(col(PaymentOrder.id))))


def may_attest(person: Person) -> bool:
    """The decision maker and configured attestants attest payment orders."""
    return person.role is Role.decision_maker or person.attestant


def to_attest(session: Session, person: Person) -> list[PaymentOrder]:
    """The prepared orders `person` may attest: none they prepared themselves, none on a
    case they may not see."""
    if not may_attest(person):
        return []
    query = (
        select(PaymentOrder)
        .join(Case)
        .where(
            PaymentOrder.status == P.prepared,
            PaymentOrder.prepared_by != person.email,
            readable_clause(session, person),
        )
    )
    return list(session.exec(query.order_by(col(PaymentOrder.prepared_at))))


# The steps


def every_instalment_standing(case: Case, orders: Iterable[PaymentOrder]) -> bool:
    """True when each instalment of the plan has an order that stands (prepared, attested,
    sent or paid): nothing is left to prepare, so the case page offers nothing."""
    standing = {order.instalment for order in orders if order.status in STANDING}
    return len(standing) >= len(case.call.payment_plan)


def prepare_orders(session: Session, case: Case, officer: Person) -> list[PaymentOrder]:
    """The case's instalments that are due, each a payment order to the case's account
    for another person to attest; an instalment whose order the bank rejected or that was
    cancelled is prepared again. Refused if nothing may be paid or nothing is due."""
    require_role(officer, "prepare a payment order", Role.case_officer)
    decision = _payable(session, case)
    account = current_account(session, case)
    plan = case.call.payment_plan
    standing = {o.instalment: o for o in orders_of(session, case)}
    due: list[int] = []
    for number, instalment in enumerate(plan, 1):
        order = standing.get(number)
        if order is not None and order.status in STANDING:
            continue
        if instalment["after"] == FINAL_REPORT and not final_report_approved(session, case):
            if not due:
                raise PaymentRefused(
                    "payment.report_not_approved",
                    case_reference=case.case_reference,
                    instalment=number,
                )
            break
        if order is not None and order.status is P.rejected and order.account_id == account.id:
            raise PaymentRefused(
                "payment.same_account", case_reference=case.case_reference, instalment=number
            )
        due.append(number)
    if not due:
        raise PaymentRefused(
            "payment.already_prepared",
            case_reference=case.case_reference,
            instalments=sorted(standing),
        )
    amounts = instalment_amounts(decision.amount or 0, plan)
    _within_grant(case, decision, standing.values(), [amounts[n - 1] for n in due])
    return [
        _prepared(session, case, officer, standing.get(n), n, amounts[n - 1], account.id)
        for n in due
    ]


def _within_grant(
    case: Case, decision: Decision, orders: Iterable[PaymentOrder], new: list[int]
) -> None:
    """Never more than the grant in all: the call's plan or the decision may have changed
    since the first instalment was prepared."""
    standing = sum(order.amount for order in orders if order.status in STANDING)
    granted = decision.amount or 0
    if standing + sum(new) > granted:
        raise PaymentRefused(
            "payment.over_grant",
            case_reference=case.case_reference,
            amount=sum(new),
            standing=standing,
            granted=granted,
        )


def _payable(session: Session, case: Case) -> Decision:
    """The signed grant, once the grantee accepted it and may be paid: an organisation
    number and an account."""
    decision = signed_grant(session, case)
    reference = case.case_reference
    if decision is None:
        raise PaymentRefused("payment.no_grant", case_reference=reference)
    if acceptance_of(session, case) is None:
        raise PaymentRefused("payment.not_accepted", case_reference=reference)
    if not case.organisation.organisation_number:
        raise PaymentRefused(
            "payment.no_organisation_number",
            case_reference=reference,
            organisation=case.organisation.name,
        )
    if current_account(session, case) is None:
        raise PaymentRefused("payment.no_account", case_reference=reference)
    return decision


def _prepared(
    session: Session,
    case: Case,
    officer: Person,
    order: PaymentOrder | None,
    instalment: int,
    amount: int,
    account_id: int | None,
) -> PaymentOrder:
    """A new order for the instalment, or its rejected or cancelled order prepared again:
    under a new end-to-end id (the bank tells the tries apart) and with no attestation."""
    again = order is not None
    before = {"status": order.status, "reason": order.bank_reason} if order else {}
    order = order or PaymentOrder(
        case_id=case.id, instalment=instalment, amount=amount, end_to_end_id="", prepared_by=""
    )
    order.end_to_end_id = _end_to_end_id(case, instalment, order.end_to_end_id)
    order.amount, order.account_id, order.status = amount, account_id, P.prepared
    order.prepared_by, order.prepared_at = officer.email, utcnow()
    order.attested_by = order.attested_at = order.payment_file_id = order.paid_on = None
    order.registered_by, order.bank_reason = None, ""
    session.add(order)
    session.flush()
    record(
        session,
        case,
        Actor.of(officer),
        "payment_order_prepared",
        order=order.id,
        instalment=instalment,
        amount=amount,
        end_to_end_id=order.end_to_end_id,
        **({"again_after": before} if again else {}),
    )
    return order


def _end_to_end_id(case: Case, instalment: int, earlier: str) -> str:
    """`26RS4-1` for instalment 1 of 26RS4; `26RS4-1-2`, `-3`, … each time it is prepared
    again. At most 35 characters, as ISO 20022 allows."""
    first = f"{case.case_reference}-{instalment}"
    tried = 0 if not earlier else 1 if earlier == first else int(earlier.rsplit("-", 1)[1])
    found = first if tried == 0 else f"{first}-{tried + 1}"
    if len(found) > END_TO_END_MAX:
        raise ValueError(f"end-to-end id {found!r} is longer than {END_TO_END_MAX} characters")
    return found


def attest_order(session: Session, case: Case, person: Person, order_id: int) -> PaymentOrder:
    """The second pair of eyes: the decision maker or an attestant, never the person who
    prepared the order, and not while the case's account waits for a confirmed change."""
    order = order_in(session, case, order_id)
    if not may_attest(person):
        raise PaymentRefused(
            "payment.not_attestant", name=person.name, email=person.email, role=person.role
        )
    if person.email == order.prepared_by:
        raise PaymentRefused(
            "payment.own_order", name=person.name, order=order.id, reference=order.end_to_end_id
        )
    if order.status is not P.prepared:
        raise PaymentRefused(
            "payment.not_prepared",
            order=order.id,
            reference=order.end_to_end_id,
            status=order.status,
        )
    account = current_account(session, case)
    reference = case.case_reference
    if on_hold(account):
        raise PaymentRefused(
            "payment.account_on_hold",
            order=order.id,
            reference=order.end_to_end_id,
            case_reference=reference,
        )
    if account is None or order.account_id != account.id:
        raise PaymentRefused(
            "payment.account_changed",
            order=order.id,
            reference=order.end_to_end_id,
            case_reference=reference,
        )
    order.status, order.attested_by, order.attested_at = P.attested, person.email, utcnow()
    session.add(order)
    record(
        session,
        case,
        Actor.of(person),
        "payment_order_attested",
        order=order.id,
        instalment=order.instalment,
        amount=order.amount,
        prepared_by=order.prepared_by,
    )
    return order


def cancel_order(
    session: Session, case: Case, officer: Person, order_id: int, reason: str
) -> PaymentOrder:
    """Withdraw an order not yet sent to the bank, saying why; its instalment can then be
    prepared again."""
    require_role(officer, "cancel a payment order", Role.case_officer)
    order = order_in(session, case, order_id)
    if order.status not in NOT_YET_EXPORTED:
        raise PaymentRefused(
            "payment.not_cancellable",
            order=order.id,
            reference=order.end_to_end_id,
            status=order.status,
        )
    if not reason.strip():
        raise PaymentRefused("payment.cancel_reason")
    was = order.status
    order.status, order.bank_reason = P.cancelled, reason.strip()
    session.add(order)
    record(
        session,
        case,
        Actor.of(officer),
        "payment_order_cancelled",
        order=order.id,
        instalment=order.instalment,
        was=was,
        reason=order.bank_reason,
    )
    return order


def register_paid(
    session: Session, case: Case, person: Person, order_id: int, on: date
) -> PaymentOrder:
    """Finance registers by hand that an order sent to the bank was paid, on the bank's date."""
    if person.role is not Role.finance:
        raise NotAllowed(
            "access.role_for_step",
            name=person.name,
            email=person.email,
            role=person.role,
            roles=(Role.finance,),
            doing="register a payment as paid",
        )
    order = order_in(session, case, order_id)
    if order.status is not P.exported:
        raise PaymentRefused(
            "payment.not_exported",
            order=order.id,
            reference=order.end_to_end_id,
            status=order.status,
        )
    if on > clock.today():
        raise PaymentRefused("payment.paid_ahead", on=on)
    order.status, order.paid_on, order.registered_by = P.paid, on, person.email
    session.add(order)
    record(
        session,
        case,
        Actor.of(person),
        "payment_registered_paid",
        order=order.id,
        instalment=order.instalment,
        amount=order.amount,
        on=on.isoformat(),
    )
    return order


# The money of a call


@dataclass(frozen=True)
class Money:
    """A call's money: its budget, granted by signed decisions, paid out, reclaimed
    (what repayment claims received) and left to grant. Left is what the budget guard lets the
    decision maker grant (`models.decisions.remaining_budget`): money paid back does not
    return to the call by itself; the region raises the call's budget if it is to."""

    call: Call
    granted: int
    paid: int
    reclaimed: int

    @property
    def budget(self) -> int:
        return self.call.budget

    @property
    def left(self) -> int:
        return self.budget - self.granted


def call_money(session: Session) -> list[Money]:
    """Each call's money, in the order the calls were made."""
    calls = session.exec(select(Call).order_by(col(Call.id)))
    return [money(session, call) for call in calls]


def money(session: Session, call: Call) -> Money:
    return Money(
        call, committed(session, call), paid_in(session, call), reclaimed_in(session, call)
    )


def paid_in(session: Session, call: Call) -> int:
    """Kronor paid out on the call's cases."""
    query = (
        select(func.coalesce(func.sum(PaymentOrder.amount), 0))
        .join(Case)
        .where(Case.call_id == call.id, PaymentOrder.status == P.paid)
    )
    return int(session.exec(query).one())


def reclaimed_in(session: Session, call: Call) -> int:
    """Kronor paid back on the call's cases: what their repayment claims received, a claim
    paid in part counted with what it received."""
    query = (
        select(func.coalesce(func.sum(RepaymentClaim.paid_amount), 0))
        .join(Case)
        .where(Case.call_id == call.id)
    )
    return int(session.exec(query).one())


def paid_on_cases(session: Session, case_ids: list[int]) -> dict[int, int]:
    """Kronor paid out on each of these cases, by case id (one query for a whole report)."""
    if not case_ids:
        return {}
    query = (
        select(PaymentOrder.case_id, func.sum(PaymentOrder.amount))
        .where(col(PaymentOrder.case_id).in_(case_ids), PaymentOrder.status == P.paid)
        .group_by(col(PaymentOrder.case_id))
    )
    return {case_id: int(total) for case_id, total in session.exec(query)}
