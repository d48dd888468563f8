"""A bank, as far as the payment files go: given a pain.001 it answers as a Swedish bank
would, with a pain.002 status report (each payment accepted, or rejected with an ISO reason
code) and, once it has paid, a camt.054 debit notification with one booked entry per
payment; and it tells of money in (a repayment) with a camt.054 credit notification whose
structured reference is the payer's OCR.

For the demo, which has no bank, and for the tests; nothing of it is used to make or to
read the Region's own files (grants.payment_files reads what it makes, as it would read a
real bank's).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree

from grants.payment_files import CAMT_054, DECLARATION, PAIN_002, read_pain001
from models import clock
from models.tables import local_time

BANK_BIC = "ESSESESS"
REASONS = {  # ISO 20022 external status reason codes a bank gives a rejected payment
    "AC01": "Felaktigt kontonummer",
    "AC04": "Kontot är avslutat",
    "AC06": "Kontot är spärrat",
    "BE06": "Mottagaren är okänd",
}


@dataclass(frozen=True)
class Credit:
    """Money in to the Region's account: from whom, how much, when, and the structured
    reference (OCR) the payer gave."""

    reference: str
    amount: Decimal
    booked_on: date
    payer: str = "Inbetalare"


def _add(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _path(parent: etree._Element, tags: str, text: str) -> etree._Element:
    *outer, last = tags.split("/")
    for tag in outer:
        parent = _add(parent, tag)
    return _add(parent, last, text)


def _now() -> str:
    return f"{local_time(clock.now()):%Y-%m-%dT%H:%M:%S}"


def _bytes(document: etree._Element) -> bytes:
    return DECLARATION + etree.tostring(document, encoding="UTF-8", pretty_print=True)


def status_report(
    payment_file: bytes,
    rejected: Mapping[str, str] | None = None,
    message_id: str | None = None,
    whole_file: str | None = None,
) -> bytes:
    """The bank's pain.002 on `payment_file`: the payments whose EndToEndId is a key of
    `rejected` rejected with that reason code (AC01, …), the rest accepted; or, with
    `whole_file` a reason code, the whole file rejected."""
    read = read_pain001(payment_file)
    rejected = dict(rejected or {})
    document = etree.Element("Document", nsmap={None: PAIN_002})
    report = _add(document, "CstmrPmtStsRpt")
    header = _add(report, "GrpHdr")
    _add(header, "MsgId", message_id or f"STS-{read.message_id}")
    _add(header, "CreDtTm", _now())
    _path(header, "DbtrAgt/FinInstnId/BIC", BANK_BIC)
    group = _add(report, "OrgnlGrpInfAndSts")
    _add(group, "OrgnlMsgId", read.message_id)
    _add(group, "OrgnlMsgNmId", "pain.001.001.03")
    _add(group, "OrgnlNbOfTxs", str(read.count))
    _add(group, "OrgnlCtrlSum", f"{read.control_sum:.2f}")
    status = "RJCT" if whole_file else ("PART" if rejected else "ACCP")
    _add(group, "GrpSts", status)
    if whole_file:
        _reason(group, whole_file)
        return _bytes(document)
    block = _add(report, "OrgnlPmtInfAndSts")
    _add(block, "OrgnlPmtInfId", f"{read.message_id}-1")
    _add(block, "PmtInfSts", status)
    for number, payment in enumerate(read.payments, start=1):
        transaction = _add(block, "TxInfAndSts")
        _add(transaction, "StsId", f"{read.message_id}-{number}")
        _add(transaction, "OrgnlEndToEndId", payment.end_to_end_id)
        code = rejected.get(payment.end_to_end_id)
        _add(transaction, "TxSts", "RJCT" if code else "ACCP")
        if code:
            _reason(transaction, code)
    return _bytes(document)


def _reason(parent: etree._Element, code: str) -> None:
    information = _add(parent, "StsRsnInf")
    _path(information, "Rsn/Cd", code)
    _add(information, "AddtlInf", REASONS.get(code, "Avvisad av banken"))


def debit_notification(
    payment_file: bytes,
    booked_on: date,
    leave_out: Iterable[str] = (),
    message_id: str | None = None,
) -> bytes:
    """The bank's camt.054 once it has paid `payment_file` on `booked_on`: one booked
    debit entry per payment, but those whose EndToEndId is in `leave_out` (rejected)."""
    read = read_pain001(payment_file)
    skipped = set(leave_out)
    document, notification = _notification(message_id or f"DBT-{read.message_id}", read.debtor_iban)
    for number, payment in enumerate(read.payments, start=1):
        if payment.end_to_end_id in skipped:
            continue
        reference = f"{read.message_id}-{number}"
        entry = _entry(notification, payment.amount, "DBIT", booked_on, reference)
        details = _add(_add(entry, "NtryDtls"), "TxDtls")
        refs = _add(details, "Refs")
        _add(refs, "MsgId", read.message_id)
        _add(refs, "PmtInfId", f"{read.message_id}-1")
        _add(refs, "EndToEndId", payment.end_to_end_id)
        _amount(_add(_add(details, "AmtDtls"), "TxAmt"), payment.amount)
        _path(details, "RltdPties/Cdtr/Nm", payment.creditor)
        _path(details, "RmtInf/Ustrd", payment.remittance)
    return _bytes(document)


def credit_notification(
    account_iban: str, credits: list[Credit], message_id: str | None = None
) -> bytes:
    """The bank's camt.054 of money in to `account_iban`: one booked credit entry per
    payment, its OCR as the structured creditor reference."""
    stamp = f"{local_time(clock.now()):%Y%m%d%H%M%S}"
    document, notification = _notification(message_id or f"CDT-{stamp}", account_iban)
    for number, credit in enumerate(credits, start=1):
        entry = _entry(notification, credit.amount, "CRDT", credit.booked_on, f"{stamp}-{number}")
        details = _add(_add(entry, "NtryDtls"), "TxDtls")
        _amount(_add(_add(details, "AmtDtls"), "TxAmt"), credit.amount)
        _path(details, "RltdPties/Dbtr/Nm", credit.payer)
        reference = _add(_add(_add(details, "RmtInf"), "Strd"), "CdtrRefInf")
        _path(reference, "Tp/CdOrPrtry/Cd", "SCOR")
        _add(reference, "Ref", credit.reference)
    return _bytes(document)


def _notification(message_id: str, iban: str) -> tuple[etree._Element, etree._Element]:
    document = etree.Element("Document", nsmap={None: CAMT_054})
    body = _add(document, "BkToCstmrDbtCdtNtfctn")
    header = _add(body, "GrpHdr")
    _add(header, "MsgId", message_id)
    _add(header, "CreDtTm", _now())
    notification = _add(body, "Ntfctn")
    _add(notification, "Id", message_id)
    _add(notification, "CreDtTm", _now())
    account = _add(notification, "Acct")
    _path(account, "Id/IBAN", iban)
    _add(account, "Ccy", "SEK")
    return document, notification


def _amount(parent: etree._Element, amount: Decimal) -> None:
    _add(parent, "Amt", f"{Decimal(amount):.2f}").set("Ccy", "SEK")


def _entry(
    notification: etree._Element, amount: Decimal, direction: str, booked_on: date, ref: str
) -> etree._Element:
    entry = _add(notification, "Ntry")
    _add(entry, "NtryRef", ref)
    _amount(entry, amount)
    _add(entry, "CdtDbtInd", direction)
    _add(entry, "Sts", "BOOK")
    _path(entry, "BookgDt/Dt", booked_on.isoformat())
    _path(entry, "ValDt/Dt", booked_on.isoformat())
    _add(entry, "AcctSvcrRef", ref)
    code = _add(_add(entry, "BkTxCd"), "Domn")
    _add(code, "Cd", "PMNT")
    family = _add(code, "Fmly")
    _add(family, "Cd", "RCDT" if direction == "CRDT" else "ICDT")
    _add(family, "SubFmlyCd", "DMCT")
    return entry
