"""The bank's files: the payment file out (pain.001.001.03, validated against the ISO schema
and read back), its payment order for the finance department (PDF and CSV), and the bank's
reports in (pain.002 rejections back to the case officer, camt.054 payments paid and
repayments settled), each once, and a hostile or unknown file refused with nothing changed."""

import csv
import io
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import col, select

from grants import bank_simulator as bank
from grants.payment_files import (
    Debtor,
    pain001,
    read_bank_report,
    read_pain001,
    schema_problems,
)
from grants.settings import load
from grants.steps import take
from models import clock
from models.bank_files import BankFileRefused, PaymentLine
from models.db import transaction
from models.tables import (
    AccountKind,
    AuditEvent,
    Case,
    PayeeAccount,
    PaymentFile,
    PaymentOrder,
    PaymentStatus,
    RepaymentClaim,
    RepaymentStatus,
)
from models.working_days import is_working_day
from tests.bank_orders import attested_orders, finance_person
from tests.conftest import SAMPLES
from tests.helpers import OFFICER, database_dump, grants, pdf_pages
from tests.office import sign_in
from tests.test_config import configured, without_section

DEBTOR = Debtor("Region Örebro län", "232100-0164", "SE4550000000058398257466", "ESSESESS", "R1")


def line(number: int, kind: AccountKind, amount: int, clearing: str = "") -> PaymentLine:
    default_clearing, account = {
        AccountKind.bankgiro: (None, "54029681"),
        AccountKind.plusgiro: (None, "41095"),
        AccountKind.bank_account: ("8327", "9123456789"),
    }[kind]
    return PaymentLine(
        f"26RS{number}-1",
        f"26RS{number}",
        f"Förening {number} & Co <ideell>\x0b\x01",
        "802476-3156" if number % 2 else None,
        kind.value,
        clearing or default_clearing,
        account,
        amount,
        "Maria Lindqvist",
        "Karin Sjöberg",
    )


MADE = {
    "one bankgiro": [line(1, AccountKind.bankgiro, 50_000)],
    "one plusgiro": [line(2, AccountKind.plusgiro, 20_000)],
    "one bank account": [line(3, AccountKind.bank_account, 35_000)],
    # Swedbank's 8xxx-x: the bank is named by the four digits, the fifth checks them alone
    "a five-digit clearing": [line(4, AccountKind.bank_account, 25_000, clearing="83279")],
    "many of every kind": [line(n, list(AccountKind)[n % 3], 10_000 + n) for n in range(1, 40)],
}
CLEARING = {"bankgiro": "9900", "plusgiro": "9960"}


@pytest.mark.parametrize("lines", MADE.values(), ids=MADE.keys())
def test_every_payment_file_is_valid_pain001_and_reads_back(lines: list[PaymentLine]) -> None:
    content = pain001(
        "GRANTS-20261207-1", datetime(2026, 12, 7, 9, 30), date(2026, 12, 8), DEBTOR, lines
    )

    assert schema_problems(content) == []
    read = read_pain001(content)
    assert read.count == len(lines) == len(read.payments)
    assert read.control_sum == sum(Decimal(x.amount) for x in lines)
    assert str(read.control_sum).endswith(".00")
    assert (read.debtor_iban, read.execution_date) == (DEBTOR.iban, date(2026, 12, 8))
    for made, paid in zip(lines, read.payments, strict=True):
        assert paid.end_to_end_id == made.end_to_end_id
        assert paid.amount == Decimal(made.amount)
        assert paid.account == made.account_number
        assert paid.account_scheme == ("BGNR" if made.account_kind == "bankgiro" else "BBAN")
        assert paid.clearing == CLEARING.get(made.account_kind, (made.clearing or "")[:4])
        assert made.case_reference in paid.remittance
    text = content.decode()
    assert "<InitgPty>" in text and "<Cd>BANK</Cd>" in text and "<Id>R1</Id>" in text
    assert "<Cd>SESBA</Cd>" in text and "<Ccy>SEK</Ccy>" in text


def test_an_amount_that_is_not_whole_kronor_is_never_written() -> None:
    with pytest.raises(ValueError, match="not whole kronor"):
        pain001(
            "M",
            datetime(2026, 12, 7),
            date(2026, 12, 8),
            DEBTOR,
            [line(1, AccountKind.bankgiro, 1.5)],
        )  # type: ignore[arg-type]


def test_the_simulated_banks_reports_are_valid_and_read_back() -> None:
    content = pain001(
        "GRANTS-20261207-1",
        datetime(2026, 12, 7),
        date(2026, 12, 8),
        DEBTOR,
        MADE["many of every kind"],
    )
    notification = bank.debit_notification(content, date(2026, 12, 8), leave_out=["26RS2-1"])
    credits = bank.credit_notification(
        DEBTOR.iban, [bank.Credit("12345682", Decimal("1000.50"), date(2026, 12, 9))]
    )

    assert schema_problems(notification) == [] and schema_problems(credits) == []
    debits = read_bank_report(notification).entries
    assert len(debits) == 38 and "26RS2-1" not in {e.end_to_end_id for e in debits}
    assert {e.booked_on for e in debits} == {date(2026, 12, 8)}
    (credit,) = read_bank_report(credits).entries
    assert (credit.credit, credit.amount, credit.reference) == (
        True,
        Decimal("1000.50"),
        "12345682",
    )
    status = read_bank_report(bank.status_report(content, {"26RS2-1": "AC01"}))
    assert status.original_message_id == "GRANTS-20261207-1"
    assert [(r.end_to_end_id, r.reason) for r in status.rejections] == [
        ("26RS2-1", "AC01: Felaktigt kontonummer")
    ]


def references(count: int) -> list[str]:
    with transaction(load().db_url) as session:
        return list(session.exec(select(Case.case_reference).order_by(col(Case.id)).limit(count)))


def make_attested(refs: list[str], **kwargs) -> None:
    with transaction(load().db_url) as session:
        attested_orders(session, refs, **kwargs)


def orders() -> dict[str, PaymentOrder]:
    with transaction(load().db_url) as session:
        return {o.end_to_end_id: o for o in session.exec(select(PaymentOrder))}


def events(action: str) -> list[AuditEvent]:
    with transaction(load().db_url) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_export_pays_every_attested_order_not_on_hold_in_one_file(sample_call: Path) -> None:
    finance = finance_person()
    refs = references(4)
    make_attested(refs)
    with transaction(load().db_url) as session:  # the fourth case's account changed, unconfirmed
        held = session.exec(select(Case).where(Case.case_reference == refs[3])).one()
        session.add(
            PayeeAccount(
                case_id=held.id,
                kind=AccountKind.bankgiro,
                number="54029681",
                given_by="applicant",
                needs_confirmation=True,
            )
        )

    said = grants("payments", "export", "--as", finance).text

    with transaction(load().db_url) as session:
        (made,) = session.exec(select(PaymentFile)).all()
        wanted = {
            r: session.exec(select(Case).where(Case.case_reference == r)).one().requested_amount
            for r in refs
        }
    assert f"Payment file {made.message_id}: 3 payment(s)" in said
    assert made.total == sum(wanted[r] for r in refs[:3]) and made.payment_count == 3
    now = orders()
    assert {o.status for e, o in now.items() if e != f"{refs[3]}-1"} == {PaymentStatus.exported}
    assert {o.payment_file_id for e, o in now.items() if e != f"{refs[3]}-1"} == {made.id}
    assert now[f"{refs[3]}-1"].status is PaymentStatus.attested  # held
    assert len(events("payment_exported")) == 3

    folder = sample_call / "payments"
    xml = (folder / f"{made.message_id}.xml").read_bytes()
    assert xml == made.content and schema_problems(xml) == []
    read = read_pain001(xml)
    assert read.control_sum == Decimal(made.total) and read.count == 3
    assert is_working_day(read.execution_date)
    assert [p.end_to_end_id for p in read.payments] == [f"{r}-1" for r in refs[:3]]
    rows = list(csv.DictReader(io.StringIO((folder / f"{made.message_id}.csv").read_text("utf-8"))))
    assert [(r["case_reference"], int(r["amount"])) for r in rows] == [
        (r, wanted[r]) for r in refs[:3]
    ]
    assert {r["prepared_by"] for r in rows} == {"Maria Lindqvist"}
    assert {r["attested_by"] for r in rows} == {"Karin Sjöberg"}
    pages = " ".join(pdf_pages((folder / f"{made.message_id}.pdf").read_bytes()))
    assert "Utbetalningsorder" in pages and made.message_id in pages
    assert all(r in pages for r in refs[:3]) and refs[3] not in pages
    assert f"{wanted[refs[0]]:,}".replace(",", " ") + " kr" in pages
    total = f"{made.total:,}".replace(",", " ")
    assert f"Summa (3 betalningar) {total} kr" in pages
    months = "januari februari mars april maj juni juli augusti september oktober november december"
    day = read.execution_date
    assert f"{day.day} {months.split()[day.month - 1]} {day.year}" in pages
    assert "Maria Lindqvist" in pages and "Karin Sjöberg" in pages

    before = database_dump(sample_call)
    again = grants("payments", "export", "--as", finance, ok=False)
    assert again.exit_code == 2
    assert (
        "no attested payment order is ready" in again.text
        and "1 attested order(s) wait" in again.text
    )
    assert database_dump(sample_call) == before
    assert sorted(p.suffix for p in folder.iterdir()) == [".csv", ".pdf", ".xml"]


def test_a_payment_file_lost_from_the_disk_is_written_again_from_the_database(
    sample_call: Path,
) -> None:
    finance = finance_person()
    make_attested(references(2))
    grants("payments", "export", "--as", finance)
    (xml,) = (sample_call / "payments").glob("*.xml")
    kept = xml.read_bytes()
    xml.unlink()
    (sample_call / "payments" / xml.with_suffix(".pdf").name).unlink()

    said = grants("payments", "export", "--as", finance, ok=False)

    assert said.exit_code == 2 and "written again from the database" in said.text
    assert xml.read_bytes() == kept and xml.with_suffix(".pdf").exists()


def test_only_the_finance_department_exports(sample_call: Path) -> None:
    finance_person()
    make_attested(references(1))
    before = database_dump(sample_call)

    refused = grants("payments", "export", "--as", OFFICER, ok=False)

    assert refused.exit_code == 2 and "finance" in refused.text
    assert database_dump(sample_call) == before
    assert not (sample_call / "payments").exists()


def exported(home: Path, count: int = 3) -> tuple[str, bytes, list[str]]:
    """`count` cases' orders exported by the finance person: their e-mail, the file, refs."""
    finance = finance_person()
    refs = references(count)
    make_attested(refs)
    grants("payments", "export", "--as", finance)
    (xml,) = (home / "payments").glob("*.xml")
    return finance, xml.read_bytes(), refs


def report(home: Path, name: str, content: bytes) -> str:
    path = home / name
    path.write_bytes(content)
    return str(path)


def test_a_rejection_goes_back_to_the_case_officer_and_a_debit_pays(sample_call: Path) -> None:
    finance, content, refs = exported(sample_call)
    rejected = f"{refs[1]}-1"
    status = report(sample_call, "status.xml", bank.status_report(content, {rejected: "AC01"}))

    said = grants("payments", "import", status, "--as", finance).text

    assert f"Rejected, back with the case officer: {refs[1]}" in said
    order = orders()[rejected]
    assert order.status is PaymentStatus.rejected
    assert order.bank_reason == "AC01: Felaktigt kontonummer" and order.registered_by == "bank"
    (event,) = events("payment_rejected")
    assert event.detail["reason"] == "AC01: Felaktigt kontonummer"
    tasks = grants("tasks", "--as", OFFICER).text
    assert refs[1] in tasks and "the bank rejected a payment" in tasks

    before = database_dump(sample_call)
    again = grants("payments", "import", status, "--as", finance).text
    assert "was imported before: nothing changed" in again
    assert database_dump(sample_call) == before

    booked = date(2026, 12, 8)
    debits = bank.debit_notification(content, booked, leave_out=[rejected])
    said = grants(
        "payments", "import", report(sample_call, "camt.xml", debits), "--as", finance
    ).text

    assert f"Paid: {refs[0]}, {refs[2]}" in said
    now = orders()
    assert [(now[f"{r}-1"].status, now[f"{r}-1"].paid_on) for r in (refs[0], refs[2])] == [
        (PaymentStatus.paid, booked)
    ] * 2
    assert now[rejected].status is PaymentStatus.rejected
    assert len(events("payment_paid")) == 2


def test_a_whole_file_rejected_rejects_every_payment_in_it(sample_call: Path) -> None:
    finance, content, _ = exported(sample_call, 2)
    status = report(sample_call, "status.xml", bank.status_report(content, whole_file="AC06"))

    grants("payments", "import", status, "--as", finance)

    assert {o.status for o in orders().values()} == {PaymentStatus.rejected}
    assert {o.bank_reason for o in orders().values()} == {"AC06: Kontot är spärrat"}


def claim(reference: str, ocr: str, amount: int) -> None:
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == reference)).one()
        session.add(
            RepaymentClaim(
                case_id=case.id,
                amount=amount,
                reason="Ej förbrukat",
                status=RepaymentStatus.decided,
                ocr_reference=ocr,
                drafted_by=OFFICER,
            )
        )


def test_a_credit_with_the_claims_ocr_settles_it_and_less_does_not(sample_call: Path) -> None:
    finance = finance_person()
    first, second = references(2)
    claim(first, "1234566", 5_000)
    claim(second, "7654328", 8_000)
    booked = date(2026, 12, 10)
    credits = bank.credit_notification(
        DEBTOR.iban,
        [
            bank.Credit("1234566", Decimal("5000.00"), booked),
            bank.Credit("7654328", Decimal("7999.50"), booked),
            bank.Credit("999", Decimal("120.00"), booked),  # someone else's money
        ],
    )

    said = grants(
        "payments", "import", report(sample_call, "in.xml", credits), "--as", finance
    ).text

    assert f"Repayment claims settled: {first}" in said
    assert (
        f"short of their claim (not settled): {second}" in said
        and "not a repayment claim's: 1" in said
    )
    with transaction(load().db_url) as session:
        claims = {c.ocr_reference: c for c in session.exec(select(RepaymentClaim))}
    assert (
        claims["1234566"].status,
        claims["1234566"].settled_on,
        claims["1234566"].settled_by,
    ) == (RepaymentStatus.settled, booked, "bank")
    assert (
        claims["7654328"].status is RepaymentStatus.decided and claims["7654328"].settled_on is None
    )


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">&lol3;</Document>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>
<GrpHdr><MsgId>&secret;</MsgId></GrpHdr></CstmrPmtStsRpt></Document>"""


def test_a_hostile_unknown_or_broken_report_is_refused_and_changes_nothing(
    sample_call: Path,
) -> None:
    finance, content, refs = exported(sample_call, 2)
    unknown = bank.debit_notification(content, date(2026, 12, 8)).replace(
        f"{refs[1]}-1".encode(), b"26RS999-1"
    )
    files = {
        "bomb.xml": (BILLION_LAUGHS, "declares a document type (DTD) or entities"),
        "xxe.xml": (XXE, "declares a document type (DTD) or entities"),
        "broken.xml": (b"<Document><unclosed>", "not an XML document"),
        "ours.xml": (content, "is not a pain.002.001.03 status report or a camt.054.001.02"),
        "unknown.xml": (unknown, "names payment 26RS999-1, which is in no payment file made here"),
        "invalid.xml": (
            bank.debit_notification(content, date(2026, 12, 8)).replace(b"<Sts>BOOK</Sts>", b""),
            "not a valid camt.054",
        ),
    }
    before = database_dump(sample_call)
    for name, (hostile, why) in files.items():
        refused = grants(
            "payments", "import", report(sample_call, name, hostile), "--as", finance, ok=False
        )
        assert refused.exit_code == 2, name
        assert name in refused.text and why in " ".join(refused.text.split()), refused.text
        assert "root:" not in refused.text
    assert database_dump(sample_call) == before
    with pytest.raises(BankFileRefused):
        read_bank_report(BILLION_LAUGHS)


def test_without_the_regions_account_no_payment_file_is_made(
    sample_call: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    finance = finance_person()
    make_attested(references(2))
    before = database_dump(sample_call)
    configured(tmp_path, monkeypatch, without_section("payments"))

    refused = grants("payments", "export", "--as", finance, ok=False)

    assert refused.exit_code == 2 and "needs its [payments] section" in refused.text
    assert database_dump(sample_call) == before
    assert not (sample_call / "payments").exists()


def test_the_case_officer_sees_the_banks_rejection_in_the_office(sample_call: Path, office) -> None:
    finance, content, refs = exported(sample_call, 2)
    status = bank.status_report(content, {f"{refs[1]}-1": "BE06"})
    grants("payments", "import", report(sample_call, "status.xml", status), "--as", finance)

    sign_in(office, OFFICER)
    tasks = office.get("/tasks").text
    case = office.get(f"/cases/{refs[1]}").text

    assert f"/cases/{refs[1]}" in tasks
    assert "Banken avvisade en utbetalning: kontrollera kontot" in tasks
    assert "Banken avvisade betalningen: BE06: Mottagaren är okänd" in case


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_exports_at_once_pay_each_order_once(
    database: str, request: pytest.FixtureRequest, grants_home: Path
) -> None:
    if database == "postgresql":
        request.getfixturevalue("on_postgres")
    grants("intake", str(SAMPLES / "applications.json"), "--as", OFFICER, "--no-letters")
    finance = finance_person()
    make_attested(references(8))
    settings = load()
    barrier = threading.Barrier(2, timeout=60)
    outcomes: list[str] = []

    def export() -> None:
        barrier.wait()
        try:
            outcomes.append(take(settings, "export_payments", finance).result.message_id)
        except BankFileRefused as refusal:
            outcomes.append(refusal.code)

    threads = [threading.Thread(target=export) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    first = f"GRANTS-{clock.today():%Y%m%d}-1"
    assert sorted(outcomes) == [first, "payments.nothing_to_export"]
    with transaction(settings.db_url) as session:
        (made,) = session.exec(select(PaymentFile)).all()
        paid = select(PaymentOrder).where(PaymentOrder.payment_file_id == made.id)
        exported = session.exec(paid).all()
    assert made.payment_count == len(exported) == 8
