"""The finance department's commands with the bank: `grants payments export` makes the
payment file of every attested order whose account is not on hold, `grants payments import
FILE` registers the bank's status report (pain.002) or notification (camt.054). Both go
through the step layer (`export_payments`, `import_bank_report`)."""

from pathlib import Path
from typing import Annotated

import typer

from grants.cli.common import AsOption, fail, out, read_file_argument, settings_checked, shown
from grants.cli.refusals import worded
from grants.render import format_amount
from grants.settings import Settings
from grants.steps import take
from grants.steps.bank import write_payment_files
from models.bank_files import Registered
from models.errors import Refused
from models.tables import PaymentFile

ReportArg = Annotated[
    Path, typer.Argument(help="The bank's report: a pain.002 status report or a camt.054.")
]


def export_command(actor: AsOption = None) -> None:
    """Make the payment file (pain.001) of every attested order not on hold.

    With its payment order as PDF and CSV, in GRANTS_HOME/payments (the finance
    department's). A payment file the disk lacks is written again from the database.
    """
    settings = settings_checked()
    try:
        taken = take(settings, "export_payments", actor)
    except Refused as refusal:
        if refusal.code == "payments.nothing_to_export":  # a finance person: put the disk right
            _written_again(settings)
        raise fail(worded(refusal)) from None
    made: PaymentFile = taken.result
    paths = _written_again(settings, announce=False).get(made.message_id, ())
    out.print(
        f"Payment file {made.message_id}: {made.payment_count} payment(s), "
        f"{format_amount(made.total, 'en')} in all.",
        highlight=False,
    )
    for path in paths:
        out.print(f"  {shown(path)}", highlight=False, soft_wrap=True)


def _written_again(settings: Settings, announce: bool = True) -> dict[str, tuple[Path, ...]]:
    """The payment files the disk lacked, written from the database; said if `announce`."""
    written = {item.message_id: item.paths for item in write_payment_files(settings)}
    if announce:
        for message_id, paths in written.items():
            out.print(
                f"Payment file {message_id} written again from the database: "
                f"{', '.join(shown(path) for path in paths)}",
                highlight=False,
                soft_wrap=True,
            )
    return written


def import_command(report: ReportArg, actor: AsOption = None) -> None:
    """Register the bank's report: a pain.002 status report or a camt.054 notification.

    A pain.002 sends rejected payments back to their case officer with the bank's reason;
    a camt.054 registers payments paid with the bank's date, and repayments received
    against their claims' OCR references. The same report again changes nothing.
    """
    content = read_file_argument(report)
    settings = settings_checked()
    try:
        taken = take(settings, "import_bank_report", actor, content=content)
    except Refused as refusal:
        raise fail(f"{report.name}: {worded(refusal)}") from None
    out.print(said(taken.result), highlight=False, soft_wrap=True)


def said(result: Registered) -> str:
    """What a bank report changed, in one or a few lines."""
    if result.already:
        return f"{result.kind} {result.message_id} was imported before: nothing changed."
    lines = [f"{result.kind} {result.message_id} registered."]
    for label, references in (
        ("Paid", result.paid),
        ("Rejected, back with the case officer", result.rejected),
        ("Repayment claims settled", result.settled),
        ("Repayments short of their claim (not settled)", result.short),
    ):
        if references:
            lines.append(f"{label}: {', '.join(references)}")
    if result.other_credits:
        lines.append(f"Other money in, not a repayment claim's: {result.other_credits}")
    if len(lines) == 1:
        lines.append("Nothing in it changes a payment or a claim.")
    return "\n".join(lines)


def add_bank_commands(group: typer.Typer) -> None:
    """`export` and `import` in the `payments` group, beside the commands that prepare and
    attest the payment orders."""
    group.command("export")(export_command)
    group.command("import")(import_command)
