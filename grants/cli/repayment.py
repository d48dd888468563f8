"""`grants repayment`: a repayment claim (återkrav) from draft to settlement, each command
taking its declared step by name (`grants.steps.repayment`), and the finance department's
list of claims unpaid past their due date."""

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from grants.cli.common import AsOption, CaseArg, act, fail, out, settings_checked
from grants.cli.refusals import worded
from grants.render import format_date
from grants.steps import Taken, reading
from grants.steps.repayment import OVERDUE_READERS
from models import clock
from models.access import visible_cases
from models.errors import Refused
from models.repayment import REASON_KINDS, overdue_list, owed

app = typer.Typer(help="Repayment claims (återkrav).", no_args_is_help=True)

NumberOption = Annotated[
    int, typer.Option(help="The claim's number on the case (1 for the first).")
]


@app.command("draft")
def draft_command(
    case_reference: CaseArg,
    amount: Annotated[int, typer.Option(help="Whole kronor to claim back.")],
    reason: Annotated[str, typer.Option(help="Why, in words, in the case's language.")],
    kind: Annotated[
        str, typer.Option(help=f"What became of the money: {' or '.join(REASON_KINDS)}.")
    ] = "unused",
    actor: AsOption = None,
) -> None:
    """Draft a repayment claim on a granted case (the case officer)."""

    def said(taken: Taken) -> str:
        claim = taken.result
        return (
            f"{case_reference}: repayment claim {claim.number} drafted: {claim.amount} kr "
            f"({claim.reason_kind}), OCR reference {claim.ocr_reference}"
        )

    act(
        "repayment_draft",
        case_reference,
        actor,
        said,
        amount=amount,
        reason_kind=kind,
        reason=reason,
    )


@app.command("communicate")
def communicate_command(
    case_reference: CaseArg, number: NumberOption = 1, actor: AsOption = None
) -> None:
    """Send the drafted claim to the grantee for comments (FL 25 §)."""

    def said(taken: Taken) -> str:
        claim = taken.result
        return (
            f"{case_reference}: repayment claim {claim.number} communicated; comments by "
            f"{claim.communication_deadline}"
        )

    act("repayment_communicate", case_reference, actor, said, number=number)


@app.command("reply")
def reply_command(
    case_reference: CaseArg,
    reply: Annotated[str, typer.Option(help="What the grantee said, in their words.")],
    number: NumberOption = 1,
    actor: AsOption = None,
) -> None:
    """Register the grantee's comments that came by e-mail, post or telephone."""

    def said(taken: Taken) -> str:
        return f"{case_reference}: reply to repayment claim {taken.result.number} registered"

    act("repayment_reply", case_reference, actor, said, number=number, reply=reply)


@app.command("decide")
def decide_command(
    case_reference: CaseArg,
    number: NumberOption = 1,
    reply_assessment: Annotated[
        str, typer.Option(help="What was made of the grantee's comments (FL 25 §).")
    ] = "",
    actor: AsOption = None,
) -> None:
    """Decide the communicated claim (the decision maker): the grantee owes the amount."""

    def said(taken: Taken) -> str:
        claim = taken.result
        return (
            f"{case_reference}: repayment claim {claim.number} decided: {claim.amount} kr, "
            f"OCR reference {claim.ocr_reference}, due {claim.due_on}"
        )

    act(
        "repayment_decide",
        case_reference,
        actor,
        said,
        number=number,
        reply_assessment=reply_assessment,
    )


@app.command("withdraw")
def withdraw_command(
    case_reference: CaseArg,
    reason: Annotated[str, typer.Option(help="Why the claim is not pursued.")],
    number: NumberOption = 1,
    actor: AsOption = None,
) -> None:
    """Withdraw the claim, with the reason."""

    def said(taken: Taken) -> str:
        return f"{case_reference}: repayment claim {taken.result.number} withdrawn"

    act("repayment_withdraw", case_reference, actor, said, number=number, reason=reason)


@app.command("paid")
def paid_command(
    case_reference: CaseArg,
    amount: Annotated[int, typer.Option(help="Whole kronor paid back.")],
    paid_on: Annotated[str, typer.Option("--date", help="The day it was paid, YYYY-MM-DD.")],
    number: NumberOption = 1,
    actor: AsOption = None,
) -> None:
    """Register money paid back, by hand (a case officer or the finance department)."""
    try:
        day = date.fromisoformat(paid_on)
    except ValueError:
        raise fail(f"--date {paid_on!r}: write the date as YYYY-MM-DD") from None

    def said(taken: Taken) -> str:
        claim = taken.result
        if claim.status == "settled":
            return f"{case_reference}: repayment claim {claim.number} settled on {day}"
        return (
            f"{case_reference}: repayment claim {claim.number}: {claim.paid_amount} kr of "
            f"{claim.amount} kr paid, {owed(claim)} kr still owed"
        )

    act("repayment_paid", case_reference, actor, said, number=number, paid_on=day, amount=amount)


@app.command("overdue")
def overdue_command(actor: AsOption = None) -> None:
    """The claims unpaid past their due date, for the finance department."""
    settings = settings_checked()
    today = clock.today()
    try:
        with reading(settings, actor, OVERDUE_READERS) as (session, reader):
            visible = {case.id for case in visible_cases(session, reader)}
            rows = overdue_list(session, today, visible)
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    if not rows:
        out.print("No repayment claim is overdue.")
        return
    table = Table("Case", "Organisation", "Claim", "OCR reference", "Owed", "Due", "Reminded")
    for row in rows:
        table.add_row(
            row.case_reference,
            row.organisation,
            str(row.number),
            row.ocr_reference,
            f"{row.owed} kr",
            format_date(row.due_on, "en"),
            "yes" if row.reminded else "no",
        )
    out.print(table)
