"""Commands for paying a grant: the case officer prepares the due instalments as payment
orders, another person attests each (four eyes), the case officer may cancel one not yet
sent, and finance registers one paid by hand. Each is a step of the step layer
(`grants.steps.payments`); who may attest is the domain's rule (`models.payments`)."""

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from grants.cli.bank import add_bank_commands
from grants.cli.common import AsOption, CaseArg, act, fail, out, settings_checked, shown
from grants.cli.refusals import worded
from grants.steps import PEOPLE, reading
from models.errors import Refused
from models.payments import call_money, case_reference_of, orders_readable, to_attest
from models.tables import PaymentOrder

app = typer.Typer(help="Payment orders: prepare, attest, cancel, register paid.")
payments_app = typer.Typer(
    help="Pay a grant: payment orders prepared by the case officer and attested by another "
    "person (the decision maker or an attestant), never the one who prepared them.",
    no_args_is_help=True,
)
app.add_typer(payments_app, name="payments")
add_bank_commands(payments_app)

OrderArg = Annotated[int, typer.Argument(help="The payment order's number (grants payments list).")]


def _case_of(order_id: int, actor: str | None) -> str:
    """The case a payment order is on, read as the person acting may read."""
    settings = settings_checked()
    try:
        with reading(settings, actor, PEOPLE) as (session, _reader):
            reference = case_reference_of(session, order_id)
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    if reference is None:
        raise fail(f"payment order {order_id}: there is no such order (grants payments list)")
    return reference


def _order_said(order: PaymentOrder, case_reference: str) -> str:
    return (
        f"payment order {order.id}, {case_reference} instalment {order.instalment}: "
        f"{order.amount} kr"
    )


@payments_app.command("prepare")
def prepare_command(case_reference: CaseArg, actor: AsOption = None) -> None:
    """Prepare the case's due instalments as payment orders, for another person to attest."""
    act(
        "prepare_payment_orders",
        case_reference,
        actor,
        lambda taken: "\n".join(
            f"Prepared {_order_said(order, case_reference)} ({order.end_to_end_id}); another "
            "person attests it."
            for order in taken.result
        ),
    )


@payments_app.command("attest")
def attest_command(order_id: OrderArg, actor: AsOption = None) -> None:
    """Attest a payment order someone else prepared (the decision maker or an attestant)."""
    reference = _case_of(order_id, actor)
    act(
        "attest_payment_order",
        reference,
        actor,
        lambda taken: (
            f"Attested {_order_said(taken.result, reference)}; it goes in the next payment file."
        ),
        order_id=order_id,
    )


@payments_app.command("cancel")
def cancel_command(
    order_id: OrderArg,
    reason: Annotated[str, typer.Option("--reason", help="Why the order is cancelled.")],
    actor: AsOption = None,
) -> None:
    """Cancel a payment order not yet sent to the bank; its instalment can be prepared again."""
    reference = _case_of(order_id, actor)
    act(
        "cancel_payment_order",
        reference,
        actor,
        lambda taken: f"Cancelled {_order_said(taken.result, reference)}.",
        order_id=order_id,
        reason=reason,
    )


@payments_app.command("paid")
def paid_command(
    order_id: OrderArg,
    on: Annotated[str, typer.Option("--on", help="YYYY-MM-DD the bank paid it.")],
    actor: AsOption = None,
) -> None:
    """Register by hand that a payment order sent to the bank was paid (finance)."""
    try:
        paid_on = date.fromisoformat(on)
    except ValueError:
        raise fail(f"--on {on!r}: write the date as YYYY-MM-DD") from None
    reference = _case_of(order_id, actor)
    act(
        "register_payment_paid",
        reference,
        actor,
        lambda taken: (
            f"Registered {_order_said(taken.result, reference)} as paid on {paid_on.isoformat()}."
        ),
        order_id=order_id,
        on=paid_on,
    )


COLUMNS = ("Order", "Case", "Instalment", "Payee", "Account", "Amount (kr)", "Status")


@payments_app.command("list")
def list_command(
    attesting: Annotated[
        bool, typer.Option("--to-attest", help="Only the orders you may attest now.")
    ] = False,
    actor: AsOption = None,
) -> None:
    """The payment orders on the cases you may read, newest first; with --to-attest
    those waiting for your attestation."""
    settings = settings_checked()
    try:
        with reading(settings, actor, PEOPLE) as (session, reader):
            orders = to_attest(session, reader) if attesting else orders_readable(session, reader)
            rows = [
                (
                    str(o.id),
                    o.case.case_reference,
                    str(o.instalment),
                    o.case.organisation.name,
                    _account(o),
                    str(o.amount),
                    o.status.value,
                    o.prepared_by,
                    o.attested_by or "",
                )
                for o in orders
            ]
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    title = f"{len(rows)} payment order(s)" + (" to attest" if attesting else "")
    table = Table(title=title, title_justify="left")
    for column in (*COLUMNS, "Prepared by", "Attested by"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(shown(cell) for cell in row))
    out.print(table)


def _account(order: PaymentOrder) -> str:
    account = order.account
    if account is None:
        return ""
    number = f"{account.clearing}-{account.number}" if account.clearing else account.number
    return f"{account.kind.value} {number}"


@payments_app.command("budget")
def budget_command(actor: AsOption = None) -> None:
    """Each call's money: its budget, granted, paid out, paid back and left to grant."""
    settings = settings_checked()
    try:
        with reading(settings, actor, PEOPLE) as (session, _reader):
            figures = [(m.call.code, m) for m in call_money(session)]
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    table = Table(title="Budget (kr)", title_justify="left")
    for column in ("Call", "Budget", "Granted", "Paid", "Reclaimed", "Left"):
        table.add_column(column, justify="right")
    for code, m in figures:
        cells = (code, m.budget, m.granted, m.paid, m.reclaimed, m.left)
        table.add_row(*(shown(cell) for cell in cells))
    out.print(table)
