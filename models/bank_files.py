"""The bank's files, as the domain sees them: which attested payment orders go into the next
payment file, the file kept as sent, and what the bank's reports change.

The files themselves (pain.001 out; pain.002 and camt.054 in) are written and read by the
adapter `grants.payment_files`; here they are plain values. The database is the truth: a
payment file is kept whole in it (`PaymentFile.content`) before anyone sees it on disk, and
a bank report is kept as imported (`BankReport`), once: the same report again changes
nothing. A report that names a payment not sent from here, or says something the orders
cannot take, is refused whole.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import ClassVar

from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, func, select

from models.accounts import on_hold
from models.audit import SYSTEM, Actor, record
from models.errors import Refused
from models.people import find_person
from models.repayment import paid_back
from models.tables import (
    BankReport,
    Case,
    PayeeAccount,
    PaymentFile,
    PaymentOrder,
    PaymentStatus,
    Person,
    RepaymentClaim,
    RepaymentStatus,
)

BANK = "bank"  # who registered a payment paid, rejected or a claim settled from a report


class BankFileRefused(Refused):
    """A payment file that cannot be made, or a bank report that cannot be taken."""

    messages: ClassVar[dict[str, str]] = {
        "payments.not_configured": "the Region's account for payments is not configured: "
        "the configuration needs its [payments] section",
        "payments.nothing_to_export": "no attested payment order is ready for a payment file "
        "({held} attested order(s) wait for a confirmed account)",
        "bank.too_large": "the file is {size} bytes; a bank report is at most {limit}",
        "bank.not_xml": "the file is not an XML document: {problem}",
        "bank.hostile": "the file declares a document type (DTD) or entities; a bank report "
        "never does, and it was not read",
        "bank.unknown_kind": "the file is not a pain.002.001.03 status report or a "
        "camt.054.001.02 notification (its document is {kind})",
        "bank.invalid": "the file is not a valid {kind}: {problem}",
        "bank.unknown_file": "the status report answers payment file {message_id}, which was "
        "not made here",
        "bank.unknown_payment": "the report names payment {end_to_end_id}, which is in no "
        "payment file made here",
        "bank.not_sent": "payment {end_to_end_id} ({case_reference}) is '{status}', not sent "
        "to the bank: the report cannot change it",
        "bank.amount_differs": "the bank reports payment {end_to_end_id} ({case_reference}) "
        "debited with {reported} kr, but the order is for {amount} kr",
    }


@dataclass(frozen=True)
class PaymentLine:
    """One payment of a payment file as the file, the payment order and its CSV say it."""

    end_to_end_id: str
    case_reference: str
    organisation: str
    organisation_number: str | None
    account_kind: str
    clearing: str | None
    account_number: str
    amount: int  # kronor
    prepared_by: str  # the person's name
    attested_by: str


@dataclass(frozen=True)
class Rejection:
    """A payment the bank refused (pain.002 TxSts RJCT), with its reason code and text."""

    end_to_end_id: str
    code: str
    text: str

    @property
    def reason(self) -> str:
        return f"{self.code}: {self.text}" if self.text else self.code


@dataclass(frozen=True)
class StatusReport:
    """A pain.002 status report on a payment file: the file refused whole (`file_rejected`,
    with its reason), or the payments it refused one by one."""

    message_id: str
    original_message_id: str
    file_rejected: Rejection | None
    rejections: tuple[Rejection, ...]
    kind: ClassVar[str] = "pain.002"


@dataclass(frozen=True)
class Entry:
    """One booked entry of a camt.054: a debit (a payment of ours, by its EndToEndId) or a
    credit (money in, by its structured reference, as a repayment claim's OCR)."""

    credit: bool
    amount: Decimal  # kronor, as the bank writes it (öre possible)
    booked_on: date
    end_to_end_id: str | None
    reference: str | None


@dataclass(frozen=True)
class Notification:
    """A camt.054 debit/credit notification."""

    message_id: str
    entries: tuple[Entry, ...]
    kind: ClassVar[str] = "camt.054"


BankMessage = StatusReport | Notification


@dataclass
class Registered:
    """What a bank report changed, by case reference, or (`already`) that it was imported
    before and changed nothing now."""

    kind: str
    message_id: str
    already: bool = False
    paid: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    short: list[str] = field(default_factory=list)  # a credit less than its claim
    other_credits: int = 0  # money in that is no claim of ours


def ready_to_export(session: Session) -> list[PaymentOrder]:
    """The attested orders whose case's account is not on hold, locked for this
    transaction (two exports at once cannot both take one order), oldest first."""
    orders = _attested(session, lock=True)
    accounts = accounts_now(session, [order.case_id for order in orders])
    return [order for order in orders if not on_hold(accounts.get(order.case_id))]


def held_orders(session: Session) -> list[PaymentOrder]:
    """The attested orders that wait for their case's changed account to be confirmed."""
    orders = _attested(session, lock=False)
    accounts = accounts_now(session, [order.case_id for order in orders])
    return [order for order in orders if on_hold(accounts.get(order.case_id))]


def _attested(session: Session, lock: bool) -> list[PaymentOrder]:
    query = (
        select(PaymentOrder)
        .where(PaymentOrder.status == PaymentStatus.attested)
        .order_by(col(PaymentOrder.attested_at), col(PaymentOrder.id))
        .options(selectinload(PaymentOrder.case).selectinload(Case.organisation))  # type: ignore[arg-type]
    )
    return list(session.exec(query.with_for_update() if lock else query))


def accounts_now(session: Session, case_ids: list[int]) -> dict[int, PayeeAccount]:
    """Each case's account now (its newest, as `models.accounts.current_account`), for many
    cases in one query."""
    newest: dict[int, PayeeAccount] = {}
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        query = (
            select(PayeeAccount)
            .where(col(PayeeAccount.case_id).in_(chunk))
            .order_by(col(PayeeAccount.id))
        )
        newest.update((account.case_id, account) for account in session.exec(query))
    return newest


def payment_lines(session: Session, orders: list[PaymentOrder]) -> list[PaymentLine]:
    """The orders as the payment file says them: an order not yet in a file to its case's
    account now (a changed one only once confirmed: `ready_to_export`), an exported one to
    the account it was paid to."""
    names: dict[str, str] = {}
    accounts = accounts_now(session, [o.case_id for o in orders if o.payment_file_id is None])
    lines = []
    for order in orders:
        account = accounts.get(order.case_id) or order.account
        if account is None:
            raise ValueError(f"payment order {order.end_to_end_id} has no account")
        organisation = order.case.organisation
        lines.append(
            PaymentLine(
                end_to_end_id=order.end_to_end_id,
                case_reference=order.case.case_reference,
                organisation=organisation.name,
                organisation_number=organisation.organisation_number,
                account_kind=account.kind.value,
                clearing=account.clearing,
                account_number=account.number,
                amount=order.amount,
                prepared_by=_name(session, names, order.prepared_by),
                attested_by=_name(session, names, order.attested_by or ""),
            )
        )
    return lines


def orders_in(session: Session, payment_file: PaymentFile) -> list[PaymentOrder]:
    """The orders a payment file paid, in the file's order."""
    query = (
        select(PaymentOrder)
        .where(PaymentOrder.payment_file_id == payment_file.id)
        .order_by(col(PaymentOrder.attested_at), col(PaymentOrder.id))
        .options(selectinload(PaymentOrder.case).selectinload(Case.organisation))  # type: ignore[arg-type]
    )
    return list(session.exec(query))


def _name(session: Session, names: dict[str, str], email: str) -> str:
    if email not in names:
        person = find_person(session, email) if email else None
        names[email] = person.name if person else email
    return names[email]


def next_message_id(session: Session, today: date) -> str:
    """The next payment file's MsgId (at most 35 characters, unique for the bank): the
    day and the file's number, as GRANTS-20261122-7."""
    count = session.exec(select(func.count()).select_from(PaymentFile)).one()
    return f"GRANTS-{today:%Y%m%d}-{count + 1}"


def record_payment_file(
    session: Session,
    person: Person,
    orders: list[PaymentOrder],
    message_id: str,
    content: bytes,
    sha256: str,
) -> PaymentFile:
    """Keep the payment file as made and mark its orders exported, each paid to the account
    it names; an event on each case."""
    paid_to = accounts_now(session, [order.case_id for order in orders])
    payment_file = PaymentFile(
        message_id=message_id,
        created_by=person.email,
        payment_count=len(orders),
        total=sum(order.amount for order in orders),
        sha256=sha256,
        content=content,
    )
    session.add(payment_file)
    session.flush()
    for order in orders:
        account = paid_to.get(order.case_id)
        order.status = PaymentStatus.exported
        order.payment_file_id = payment_file.id
        order.account_id = account.id if account else order.account_id
        session.add(order)
        record(
            session,
            order.case,
            Actor.of(person),
            "payment_exported",
            instalment=order.instalment,
            amount=order.amount,
            end_to_end_id=order.end_to_end_id,
            message_id=message_id,
        )
    return payment_file


def register_report(
    session: Session, person: Person, message: BankMessage, content: bytes, sha256: str
) -> Registered:
    """What the bank's report says, registered: rejected payments back with their case
    officer, paid ones with the bank's date, repayment claims settled. All or nothing; the
    same report again changes nothing."""
    result = Registered(message.kind, message.message_id)
    known = session.exec(select(BankReport).where(BankReport.message_id == message.message_id))
    if known.first() is not None:
        result.already = True
        return result
    if isinstance(message, StatusReport):
        _register_status(session, message, result)
    else:
        _register_notification(session, message, result)
    session.add(
        BankReport(
            kind=message.kind,
            message_id=message.message_id,
            imported_by=person.email,
            sha256=sha256,
            content=content,
        )
    )
    return result


def _order(session: Session, end_to_end_id: str) -> PaymentOrder:
    query = select(PaymentOrder).where(PaymentOrder.end_to_end_id == end_to_end_id)
    order = session.exec(query.with_for_update()).first()
    if order is None or order.payment_file_id is None:
        raise BankFileRefused("bank.unknown_payment", end_to_end_id=end_to_end_id)
    return order


def _register_status(session: Session, report: StatusReport, result: Registered) -> None:
    query = select(PaymentFile).where(PaymentFile.message_id == report.original_message_id)
    payment_file = session.exec(query).first()
    if payment_file is None:
        raise BankFileRefused("bank.unknown_file", message_id=report.original_message_id)
    rejections = list(report.rejections)
    if report.file_rejected is not None:
        in_file = select(PaymentOrder).where(PaymentOrder.payment_file_id == payment_file.id)
        rejections += [
            Rejection(order.end_to_end_id, report.file_rejected.code, report.file_rejected.text)
            for order in session.exec(in_file)
        ]
    for rejection in rejections:
        order = _order(session, rejection.end_to_end_id)
        if order.payment_file_id != payment_file.id:
            raise BankFileRefused("bank.unknown_payment", end_to_end_id=rejection.end_to_end_id)
        if order.status is PaymentStatus.rejected:
            continue
        _must_be_sent(order)
        order.status = PaymentStatus.rejected
        order.bank_reason = rejection.reason
        order.registered_by = BANK
        session.add(order)
        record(
            session,
            order.case,
            SYSTEM,
            "payment_rejected",
            instalment=order.instalment,
            amount=order.amount,
            end_to_end_id=order.end_to_end_id,
            reason=rejection.reason,
            report=report.message_id,
        )
        result.rejected.append(order.case.case_reference)


def _must_be_sent(order: PaymentOrder) -> None:
    if order.status is not PaymentStatus.exported:
        raise BankFileRefused(
            "bank.not_sent",
            end_to_end_id=order.end_to_end_id,
            case_reference=order.case.case_reference,
            status=order.status,
        )


def _register_notification(session: Session, report: Notification, result: Registered) -> None:
    for entry in report.entries:
        if entry.credit:
            _register_credit(session, report, entry, result)
        else:
            _register_debit(session, report, entry, result)


def _register_debit(
    session: Session, report: Notification, entry: Entry, result: Registered
) -> None:
    order = _order(session, entry.end_to_end_id or "")
    if order.status is PaymentStatus.paid:
        return
    _must_be_sent(order)
    if entry.amount != Decimal(order.amount):
        raise BankFileRefused(
            "bank.amount_differs",
            end_to_end_id=order.end_to_end_id,
            case_reference=order.case.case_reference,
            reported=entry.amount,
            amount=order.amount,
        )
    order.status = PaymentStatus.paid
    order.paid_on = entry.booked_on
    order.registered_by = BANK
    session.add(order)
    record(
        session,
        order.case,
        SYSTEM,
        "payment_paid",
        instalment=order.instalment,
        amount=order.amount,
        end_to_end_id=order.end_to_end_id,
        paid_on=entry.booked_on.isoformat(),
        report=report.message_id,
    )
    result.paid.append(order.case.case_reference)


def _register_credit(
    session: Session, report: Notification, entry: Entry, result: Registered
) -> None:
    """Money in: a repayment claim's when its OCR reference is the entry's structured
    reference, paid back on it as a payment registered by hand is (models.repayment), settled
    when nothing more is owed. Other money in is not ours to register (counted, nothing
    changed), nor money on a claim not decided: a person looks at it."""
    claim = None
    if entry.reference:
        query = select(RepaymentClaim).where(RepaymentClaim.ocr_reference == entry.reference)
        claim = session.exec(query.with_for_update()).first()
    if claim is None or claim.status is not RepaymentStatus.decided:
        result.other_credits += 1  # not owed (not decided yet, withdrawn, settled): a person's
        return
    case: Case = claim.case
    paid_back(
        session,
        case,
        claim,
        SYSTEM,
        int(entry.amount),
        entry.booked_on,
        settled_by=BANK,
        reference=claim.ocr_reference,
        report=report.message_id,
    )
    if claim.status is not RepaymentStatus.settled:
        result.short.append(case.case_reference)
        return
    result.settled.append(case.case_reference)
