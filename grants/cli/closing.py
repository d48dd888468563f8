"""Closing a case when the law lets it (models.closing): `grants notice-board-day` starts
the time for appeal of the decisions its minutes reported, `grants appeal` and `grants
appeal-ruling` hold a case open and release it; `grants status CASE` lists the gates. The
sweep closes the cases whose gates are all open. Each command takes its declared step by
name (`grants.steps.closing`)."""

from datetime import date
from typing import Annotated, Any

import typer

from grants.cli.common import AsOption, CaseArg, act, fail, out
from grants.steps import Taken
from models import clock
from models.closing import gates

app = typer.Typer()


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} {value!r}: write the date as YYYY-MM-DD") from None


@app.command("notice-board-day")
def notice_board_day_command(
    announced_on: Annotated[
        str,
        typer.Option(
            "--announced-on",
            help="The day the notice board announced that the minutes were put up, YYYY-MM-DD.",
        ),
    ],
    covers_until: Annotated[
        str,
        typer.Option(
            "--covers-until",
            help="The minutes reported the delegated decisions signed up to this day, YYYY-MM-DD.",
        ),
    ],
    actor: AsOption = None,
) -> None:
    """Register the notice board's day: the time for appeal (three weeks) of the decisions
    signed up to --covers-until starts (the case officer)."""
    announced, covers = _day(announced_on, "--announced-on"), _day(covers_until, "--covers-until")

    def said(taken: Taken) -> str:
        return (
            f"Notice board {taken.result.announced_on}: the time for appeal of the decisions "
            f"signed up to {taken.result.covers_until} has started."
        )

    act(
        "register_notice_board_day",
        None,
        actor,
        said,
        announced_on=announced,
        covers_until=covers,
    )


@app.command("appeal")
def appeal_command(
    case_reference: CaseArg,
    appellant: Annotated[str, typer.Option(help="Who appealed.")],
    received_on: Annotated[
        str, typer.Option("--received-on", help="The day the appeal came in, YYYY-MM-DD.")
    ],
    court: Annotated[str, typer.Option(help="The administrative court that tries it.")],
    court_case_number: Annotated[
        str, typer.Option("--court-case-number", help="The court's case number.")
    ],
    actor: AsOption = None,
) -> None:
    """Register an appeal (laglighetsprövning) of the case's decision: the case stays open
    until the court's ruling is registered (the case officer)."""
    received = _day(received_on, "--received-on")

    def said(taken: Taken) -> str:
        return (
            f"{case_reference}: appeal {taken.result.number} registered "
            f"({taken.result.court}, {taken.result.court_case_number}); the case stays open "
            "until the ruling is registered."
        )

    act(
        "register_appeal",
        case_reference,
        actor,
        said,
        appellant=appellant,
        received_on=received,
        court=court,
        court_case_number=court_case_number,
    )


@app.command("appeal-ruling")
def appeal_ruling_command(
    case_reference: CaseArg,
    ruling: Annotated[str, typer.Option(help="What the court ruled: upheld or annulled.")],
    ruled_on: Annotated[str, typer.Option("--date", help="The day of the ruling, YYYY-MM-DD.")],
    number: Annotated[int, typer.Option(help="The appeal's number on the case.")] = 1,
    actor: AsOption = None,
) -> None:
    """Register the court's ruling on an appeal. Annulled: the case goes back to the case
    officer to be decided again."""
    day = _day(ruled_on, "--date")

    def said(taken: Taken) -> str:
        if taken.result.ruling == "annulled":
            return (
                f"{case_reference}: the court annulled the decision; the case is "
                f"'{taken.state}': prepare a new draft decision."
            )
        return f"{case_reference}: appeal {taken.result.number} ruled: the decision stands."

    act(
        "register_appeal_ruling",
        case_reference,
        actor,
        said,
        number=number,
        ruling=ruling,
        ruled_on=day,
    )


def print_gates(session: Any, case: Any) -> None:
    """What holds the case's closing, gate by gate, for `grants status CASE`."""
    found = gates(session, case, clock.today())
    if not found:
        return
    out.print("  Closing (the sweep closes the case once every gate says yes):", highlight=False)
    for gate in found:
        out.print(f"    {gate.text()}", highlight=False)
