"""The bank's files: the payment file out (ISO 20022 pain.001.001.03), and the bank's status
report (pain.002.001.03) and debit/credit notification (camt.054.001.02) in.

The payment file follows the Swedish banks' common interpretation of pain.001 (Svenska
Bankföreningen's "Swedish Common Interpretation of ISO 20022 Payment Messages"):

- the initiating party is identified by the agreement id the bank gave the Region
  (`InitgPty/Id/OrgId/Othr/Id`, scheme `BANK`), the debtor by its name and organisation
  number (scheme `COID`, an organisation identification given by the country's authority);
- the debtor account is the Region's bank account as IBAN, with its bank's BIC
  (`DbtrAgt`). A bank debits an account; a bankgiro number is an address that points to
  one, and not every bank takes it as the debtor of a supplier payment file, while every
  Swedish bank takes the IBAN;
- a bankgiro payee is `CdtrAcct/Id/Othr/Id` with `SchmeNm/Prtry` `BGNR` and the creditor
  agent `ClrSysMmbId` `SESBA`/`9900`; a plusgiro payee its number (`BBAN`) with `9960`; a
  bank account its account number (`BBAN`) with its clearing number as `ClrSysMmbId`;
- the case reference goes in the unstructured remittance information and the end-to-end
  id (PaymentOrder.end_to_end_id), which the bank's reports carry back;
- one payment information block, non-urgent (`NURG`), supplier payment (`SUPP`), each
  payment booked on its own (`BtchBookg` false), so the debit notification names each.

Amounts are whole kronor (int) written with two decimals, never through a float. The
schemas are the ISO 20022 ones, kept in grants/xsd/ (README there): nothing is fetched at
run time. The bank's files are read with entities off, no DTD and no network: a file that
declares a document type is refused unread (billion laughs, XXE).
"""

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from grants.render import render_pdf
from models.acceptance import account_number_text
from models.bank_files import (
    BankFileRefused,
    BankMessage,
    Entry,
    Notification,
    PaymentLine,
    Rejection,
    StatusReport,
)
from models.tables import AccountKind

XSD = Path(__file__).parent / "xsd"
PAIN_001 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
PAIN_002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"
CAMT_054 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
SCHEMAS = {PAIN_001: "pain.001.001.03.xsd", CAMT_054: "camt.054.001.02.xsd"}
KINDS = {PAIN_001: "pain.001", PAIN_002: "pain.002", CAMT_054: "camt.054"}
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
MAX_REPORT = 20 * 1024 * 1024  # bytes: a day's reports for a region are far smaller
BANKGIRO_CLEARING = "9900"  # Bankgirot's member id in the Swedish clearing (SESBA)
PLUSGIRO_CLEARING = "9960"  # PlusGirot's (Nordea)
CSV_COLUMNS = (
    "end_to_end_id",
    "case_reference",
    "organisation",
    "organisation_number",
    "account_kind",
    "clearing",
    "account_number",
    "amount",
    "prepared_by",
    "attested_by",
)


@dataclass(frozen=True)
class Debtor:
    """The Region as the payer: from the configuration's [payments] section."""

    name: str
    organisation_number: str  # NNNNNN-NNNN
    iban: str
    bic: str
    agreement_id: str


@dataclass(frozen=True)
class PaymentFileRead:
    """A pain.001 read back: its header, its totals as written, and its payments."""

    message_id: str
    created_at: str
    count: int
    control_sum: Decimal
    execution_date: date
    debtor_name: str
    debtor_iban: str
    payments: tuple["PaymentRead", ...]


@dataclass(frozen=True)
class PaymentRead:
    end_to_end_id: str
    amount: Decimal
    creditor: str
    account: str
    account_scheme: str  # BGNR or BBAN
    clearing: str
    remittance: str


def kronor(amount: int) -> str:
    """Whole kronor as the file writes an amount: 50000 → "50000.00"."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"amount {amount!r} is not whole kronor")
    return f"{amount}.00"


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _add(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _path(parent: etree._Element, tags: str, text: str) -> etree._Element:
    """`A/B/C` under `parent` with `text` in C."""
    *outer, last = tags.split("/")
    for tag in outer:
        parent = _add(parent, tag)
    return _add(parent, last, text)


def _organisation_id(parent: etree._Element, identifier: str, scheme: str) -> None:
    other = _add(_add(_add(parent, "Id"), "OrgId"), "Othr")
    _add(other, "Id", identifier)
    _path(other, "SchmeNm/Cd", scheme)


def _clipped(text: str, length: int) -> str:
    """`text` in one line of at most `length` characters (ISO 20022's Max70Text, …), without
    the control characters XML cannot carry."""
    return re.sub(r"[\s\x00-\x1f\x7f]+", " ", text).strip()[:length]


def pain001(
    message_id: str,
    created_at: datetime,
    execution_date: date,
    debtor: Debtor,
    lines: list[PaymentLine],
) -> bytes:
    """The payment file for `lines`, paid from the debtor's account on `execution_date`
    (a banking day: the caller's). Raises ValueError for no lines."""
    if not lines:
        raise ValueError("a payment file needs one payment or more")
    count, total = str(len(lines)), kronor(sum(line.amount for line in lines))
    document = etree.Element("Document", nsmap={None: PAIN_001})
    initiation = _add(document, "CstmrCdtTrfInitn")
    header = _add(initiation, "GrpHdr")
    _add(header, "MsgId", message_id)
    _add(header, "CreDtTm", f"{created_at:%Y-%m-%dT%H:%M:%S}")
    _add(header, "NbOfTxs", count)
    _add(header, "CtrlSum", total)
    initiating = _add(header, "InitgPty")
    _add(initiating, "Nm", _clipped(debtor.name, 70))
    _organisation_id(initiating, debtor.agreement_id, "BANK")
    information = _add(initiation, "PmtInf")
    _add(information, "PmtInfId", f"{message_id}-1")
    _add(information, "PmtMtd", "TRF")
    _add(information, "BtchBookg", "false")
    _add(information, "NbOfTxs", count)
    _add(information, "CtrlSum", total)
    kind = _add(information, "PmtTpInf")
    _path(kind, "SvcLvl/Cd", "NURG")
    _path(kind, "CtgyPurp/Cd", "SUPP")
    _add(information, "ReqdExctnDt", execution_date.isoformat())
    payer = _add(information, "Dbtr")
    _add(payer, "Nm", _clipped(debtor.name, 70))
    _path(payer, "PstlAdr/Ctry", "SE")
    _organisation_id(payer, debtor.organisation_number.replace("-", ""), "COID")
    account = _add(information, "DbtrAcct")
    _path(account, "Id/IBAN", debtor.iban)
    _add(account, "Ccy", "SEK")
    _path(information, "DbtrAgt/FinInstnId/BIC", debtor.bic)
    for line in lines:
        _transaction(_add(information, "CdtTrfTxInf"), line)
    return DECLARATION + etree.tostring(document, encoding="UTF-8", pretty_print=True)


def _transaction(transaction: etree._Element, line: PaymentLine) -> None:
    _path(transaction, "PmtId/EndToEndId", line.end_to_end_id)
    _add(_add(transaction, "Amt"), "InstdAmt", kronor(line.amount)).set("Ccy", "SEK")
    member = _add(_add(_add(transaction, "CdtrAgt"), "FinInstnId"), "ClrSysMmbId")
    _path(member, "ClrSysId/Cd", "SESBA")
    _add(member, "MmbId", _clearing(line))
    creditor = _add(transaction, "Cdtr")
    _add(creditor, "Nm", _clipped(line.organisation, 70))
    if line.organisation_number:
        _organisation_id(creditor, line.organisation_number.replace("-", ""), "COID")
    other = _add(_add(_add(transaction, "CdtrAcct"), "Id"), "Othr")
    _add(other, "Id", line.account_number)
    scheme = _add(other, "SchmeNm")
    if line.account_kind == AccountKind.bankgiro:
        _add(scheme, "Prtry", "BGNR")
    else:
        _add(scheme, "Cd", "BBAN")
    _path(transaction, "RmtInf/Ustrd", _clipped(f"{line.case_reference} bidrag", 140))


def _clearing(line: PaymentLine) -> str:
    if line.account_kind == AccountKind.bankgiro:
        return BANKGIRO_CLEARING
    if line.account_kind == AccountKind.plusgiro:
        return PLUSGIRO_CLEARING
    if not line.clearing:
        raise ValueError(f"payment {line.end_to_end_id}: a bank account without clearing number")
    return line.clearing[:4]  # a Swedbank 8xxx-x: the fifth digit checks the clearing alone


@cache
def _schema(namespace: str) -> etree.XMLSchema:
    """The ISO 20022 schema of `namespace`, from grants/xsd/ (parsed once, ~50 ms)."""
    return etree.XMLSchema(etree.parse(str(XSD / SCHEMAS[namespace]), _parser()))


def _parser() -> etree.XMLParser:
    """A parser that expands no entity, loads no DTD and reaches no network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def schema_problems(content: bytes) -> list[str]:
    """What the schema of the document's namespace finds wrong with it ([] for nothing);
    a document of no schema kept here is refused."""
    root = _parse(content)
    namespace = etree.QName(root).namespace or ""
    if namespace not in SCHEMAS:
        raise BankFileRefused("bank.unknown_kind", kind=_kind_shown(root))
    schema = _schema(namespace)
    if schema.validate(root):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


def _parse(content: bytes) -> etree._Element:
    """The document's root, read safely: a DTD (and so any entity) is refused unread."""
    if len(content) > MAX_REPORT:
        raise BankFileRefused("bank.too_large", size=len(content), limit=MAX_REPORT)
    if re.search(rb"<!(DOCTYPE|ENTITY)", content[:4096] + content[-4096:], re.IGNORECASE):
        raise BankFileRefused("bank.hostile")
    try:
        tree = etree.fromstring(content, _parser()).getroottree()
    except etree.XMLSyntaxError as error:
        raise BankFileRefused("bank.not_xml", problem=str(error)) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise BankFileRefused("bank.hostile")
    return tree.getroot()


def _kind_shown(root: etree._Element) -> str:
    name = etree.QName(root)
    return f"{name.localname} in {name.namespace}" if name.namespace else name.localname


class _Reader:
    """Paths under an element, in one namespace, for the fields a report must have."""

    def __init__(self, namespace: str, kind: str) -> None:
        self.ns = {"d": namespace}
        self.kind = kind

    def all(self, element: etree._Element, path: str) -> list[etree._Element]:
        return element.xpath(self._xpath(path), namespaces=self.ns)

    def text(self, element: etree._Element, path: str) -> str | None:
        found = self.all(element, path)
        return (found[0].text or "").strip() if found else None

    def needed(self, element: etree._Element, path: str) -> str:
        value = self.text(element, path)
        if not value:
            raise BankFileRefused("bank.invalid", kind=self.kind, problem=f"no {path}")
        return value

    @staticmethod
    def _xpath(path: str) -> str:
        return "/".join(f"d:{step}" for step in path.split("/"))


def read_pain001(content: bytes) -> PaymentFileRead:
    """A payment file read back (tests, the bank simulator, the payment order written again
    from the database): header, totals and payments."""
    root = _parse(content)
    read = _Reader(PAIN_001, "pain.001")
    header = read.all(root, "CstmrCdtTrfInitn/GrpHdr")[0]
    information = read.all(root, "CstmrCdtTrfInitn/PmtInf")[0]
    payments = tuple(
        PaymentRead(
            end_to_end_id=read.needed(tx, "PmtId/EndToEndId"),
            amount=Decimal(read.needed(tx, "Amt/InstdAmt")),
            creditor=read.needed(tx, "Cdtr/Nm"),
            account=read.needed(tx, "CdtrAcct/Id/Othr/Id"),
            account_scheme=read.text(tx, "CdtrAcct/Id/Othr/SchmeNm/Prtry")
            or read.needed(tx, "CdtrAcct/Id/Othr/SchmeNm/Cd"),
            clearing=read.needed(tx, "CdtrAgt/FinInstnId/ClrSysMmbId/MmbId"),
            remittance=read.text(tx, "RmtInf/Ustrd") or "",
        )
        for tx in read.all(root, "CstmrCdtTrfInitn/PmtInf/CdtTrfTxInf")
    )
    return PaymentFileRead(
        message_id=read.needed(header, "MsgId"),
        created_at=read.needed(header, "CreDtTm"),
        count=int(read.needed(header, "NbOfTxs")),
        control_sum=Decimal(read.needed(header, "CtrlSum")),
        execution_date=date.fromisoformat(read.needed(information, "ReqdExctnDt")),
        debtor_name=read.needed(information, "Dbtr/Nm"),
        debtor_iban=read.needed(information, "DbtrAcct/Id/IBAN"),
        payments=payments,
    )


def read_bank_report(content: bytes) -> BankMessage:
    """A pain.002 status report or a camt.054 notification, read and checked. Refuses
    (BankFileRefused) a file that is not one, is not valid, or is hostile; reads nothing
    from outside the file."""
    root = _parse(content)
    namespace = etree.QName(root).namespace or ""
    if etree.QName(root).localname != "Document" or namespace not in (PAIN_002, CAMT_054):
        raise BankFileRefused("bank.unknown_kind", kind=_kind_shown(root))
    if namespace in SCHEMAS:
        problems = schema_problems(content)
        if problems:
            raise BankFileRefused("bank.invalid", kind=KINDS[namespace], problem=problems[0])
    if namespace == PAIN_002:
        return _status_report(root, _Reader(PAIN_002, "pain.002"))
    return _notification(root, _Reader(CAMT_054, "camt.054"))


def _rejection(read: _Reader, element: etree._Element, end_to_end_id: str) -> Rejection:
    code = read.text(element, "StsRsnInf/Rsn/Cd") or read.text(element, "StsRsnInf/Rsn/Prtry")
    text = " ".join(
        (info.text or "").strip() for info in read.all(element, "StsRsnInf/AddtlInf")
    ).strip()
    return Rejection(end_to_end_id, code or "NARR", text)


def _status_report(root: etree._Element, read: _Reader) -> StatusReport:
    body = read.all(root, "CstmrPmtStsRpt")
    if not body:
        raise BankFileRefused("bank.invalid", kind="pain.002", problem="no CstmrPmtStsRpt")
    report = body[0]
    original = read.all(report, "OrgnlGrpInfAndSts")
    if not original:
        raise BankFileRefused("bank.invalid", kind="pain.002", problem="no OrgnlGrpInfAndSts")
    group = original[0]
    file_rejected = None
    if read.text(group, "GrpSts") == "RJCT":
        file_rejected = _rejection(read, group, "")
    rejections = []
    for block in read.all(report, "OrgnlPmtInfAndSts"):
        if read.text(block, "PmtInfSts") == "RJCT" and file_rejected is None:
            file_rejected = _rejection(read, block, "")
        for transaction in read.all(block, "TxInfAndSts"):
            if read.text(transaction, "TxSts") == "RJCT":
                end_to_end_id = read.needed(transaction, "OrgnlEndToEndId")
                rejections.append(_rejection(read, transaction, end_to_end_id))
    return StatusReport(
        message_id=read.needed(report, "GrpHdr/MsgId"),
        original_message_id=read.needed(group, "OrgnlMsgId"),
        file_rejected=file_rejected,
        rejections=tuple(rejections),
    )


def _notification(root: etree._Element, read: _Reader) -> Notification:
    entries = []
    for entry in read.all(root, "BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry"):
        if read.text(entry, "Sts") != "BOOK":
            continue  # pending or information only: nothing has happened yet
        credit = read.needed(entry, "CdtDbtInd") == "CRDT"
        booked = read.text(entry, "BookgDt/Dt") or (read.text(entry, "BookgDt/DtTm") or "")[:10]
        if not booked:
            raise BankFileRefused("bank.invalid", kind="camt.054", problem="no BookgDt")
        details = read.all(entry, "NtryDtls/TxDtls") or [entry]
        for detail in details:
            amount = read.text(detail, "AmtDtls/TxAmt/Amt") or read.needed(entry, "Amt")
            end_to_end_id = read.text(detail, "Refs/EndToEndId")
            if not credit and not end_to_end_id:
                raise BankFileRefused(
                    "bank.invalid", kind="camt.054", problem="a debit without EndToEndId"
                )
            entries.append(
                Entry(
                    credit=credit,
                    amount=_amount(amount),
                    booked_on=date.fromisoformat(booked),
                    end_to_end_id=end_to_end_id,
                    reference=read.text(detail, "RmtInf/Strd/CdtrRefInf/Ref"),
                )
            )
    return Notification(
        message_id=read.needed(root, "BkToCstmrDbtCdtNtfctn/GrpHdr/MsgId"),
        entries=tuple(entries),
    )


def _amount(text: str) -> Decimal:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise BankFileRefused("bank.invalid", kind="camt.054", problem=f"amount {text!r}") from None
    if not amount.is_finite() or amount < 0:
        raise BankFileRefused("bank.invalid", kind="camt.054", problem=f"amount {text!r}")
    return amount


def payment_order_csv(lines: list[PaymentLine]) -> bytes:
    """The payment order as one line per payment, UTF-8 with a header, for the finance
    department's own systems; amounts in whole kronor."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        writer.writerow([_csv_safe(getattr(line, column)) for column in CSV_COLUMNS])
    return text.getvalue().encode("utf-8")


def _csv_safe(value: Any) -> Any:
    """A text a spreadsheet would take for a formula (=, +, -, @) is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def payment_order_pdf(
    authority: Any,
    read: PaymentFileRead,
    created_by: str,
    lines: list[PaymentLine],
) -> bytes:
    """The human-readable payment order (utbetalningsorder) that goes with a payment file:
    every payment with its case, payee, account and amount and who prepared and attested
    it, and the totals, in Swedish, as PDF/A."""
    return render_pdf(
        "reports/payment_order.html",
        {
            "authority": authority,
            "file": read,
            "created_by": created_by,
            "lines": lines,
            "total": sum(line.amount for line in lines),
            "account_number": account_number_text,  # as the grantee gave it
        },
    )
