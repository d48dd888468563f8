"""The finance department's steps with the bank, each declared once: the payment file out
(`export_payments`) and the bank's reports in (`import_bank_report`). Both are on no case:
a payment file pays many cases, and a report may answer for many.

The database is the truth: the export keeps the file whole in it, in the step's
transaction, and only then are the files written to GRANTS_HOME/payments
(`write_payment_files`, which writes again any the disk lacks: after a crash between the
commit and the disk, the next export or a visit to the finance page puts it right).
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import col, select

from grants.payment_files import (
    Debtor,
    pain001,
    payment_order_csv,
    payment_order_pdf,
    read_bank_report,
    read_pain001,
    schema_problems,
    sha256,
)
from grants.settings import Settings
from grants.steps.layer import FINANCE, At, declare
from models import clock
from models.bank_files import (
    BankFileRefused,
    Registered,
    held_orders,
    next_message_id,
    orders_in,
    payment_lines,
    ready_to_export,
    record_payment_file,
    register_report,
)
from models.db import transaction
from models.people import find_person
from models.tables import PaymentFile, local_time
from models.working_days import add_working_days

SUFFIXES = (".xml", ".pdf", ".csv")  # the payment file, its payment order, its lines


@declare("export_payments", FINANCE)
def payments_exported(at: At) -> PaymentFile:
    """Every attested order whose case's account is not on hold, in one payment file."""
    configured = at.settings.config_file.payments
    if configured is None:
        raise BankFileRefused("payments.not_configured")
    orders = ready_to_export(at.session)
    if not orders:
        raise BankFileRefused("payments.nothing_to_export", held=len(held_orders(at.session)))
    debtor = Debtor(
        configured.debtor_name,
        configured.organisation_number,
        configured.iban,
        configured.bic,
        configured.agreement_id,
    )
    today = clock.today()
    message_id = next_message_id(at.session, today)
    content = pain001(
        message_id,
        local_time(clock.now()),
        execution_date(today),
        debtor,
        payment_lines(at.session, orders),
    )
    problems = schema_problems(content)
    if problems:  # our own file: a fault here is ours, never the bank's to find
        raise ValueError(f"payment file {message_id} is not valid pain.001: {problems[0]}")
    return record_payment_file(at.session, at.person, orders, message_id, content, sha256(content))


def execution_date(today: date) -> date:
    """The banking day the bank is asked to pay on: the first after today, so that a file
    sent during the day is at the bank before that day's cut-off."""
    return add_working_days(today, 1)


@declare("import_bank_report", FINANCE)
def bank_report_imported(at: At, *, content: bytes) -> Registered:
    """A pain.002 status report or a camt.054 notification, registered all or nothing."""
    message = read_bank_report(content)
    return register_report(at.session, at.person, message, content, sha256(content))


@dataclass(frozen=True)
class Written:
    """A payment file's files on disk: the pain.001, its payment order as PDF and CSV."""

    message_id: str
    paths: tuple[Path, ...]


def payments_dir(settings: Settings) -> Path:
    """Where the payment files are written: GRANTS_HOME/payments."""
    return (settings.home / "payments").resolve()


def write_payment_files(settings: Settings) -> list[Written]:
    """Write to GRANTS_HOME/payments every payment file the database keeps and the disk
    lacks (any of its three files), whole or not at all; return those written."""
    folder = payments_dir(settings)
    written = []
    with transaction(settings.db_url) as session:
        for payment_file in session.exec(select(PaymentFile).order_by(col(PaymentFile.id))):
            paths = tuple(folder / f"{payment_file.message_id}{suffix}" for suffix in SUFFIXES)
            if all(path.exists() for path in paths):
                continue
            lines = payment_lines(session, orders_in(session, payment_file))
            creator = find_person(session, payment_file.created_by)
            read = read_pain001(payment_file.content)
            contents = (
                payment_file.content,
                payment_order_pdf(
                    settings.config_file.authority,
                    read,
                    creator.name if creator else payment_file.created_by,
                    lines,
                ),
                payment_order_csv(lines),
            )
            folder.mkdir(parents=True, exist_ok=True)
            for path, content in zip(paths, contents, strict=True):
                _write_whole(path, content)
            written.append(Written(payment_file.message_id, paths))
    return written


def _write_whole(path: Path, content: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    partial.replace(path)
