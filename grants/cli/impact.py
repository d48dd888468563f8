"""`grants impact`: the impact register's figures per call and per year, and the register
itself as CSV (models.impact), read by a case officer or the decision maker."""

from pathlib import Path
from typing import Annotated

import typer

from grants.cli.common import AsOption, fail, out, settings_checked, shown
from grants.cli.refusals import worded
from grants.steps import DECISION_MAKERS, OFFICERS, reading
from models.errors import Refused
from models.impact import (
    ImpactFigures,
    calls_of,
    impact_register,
    period_of,
    register_csv,
    years_of,
)

app = typer.Typer()


@app.command("impact")
def impact_command(
    year: Annotated[
        int | None, typer.Option("--year", help="Grants decided in this year [default: all].")
    ] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Also write the register to this CSV file.")
    ] = None,
    actor: AsOption = None,
) -> None:
    """What the grants led to: per call and per year, the kronor granted, the further
    funding won and won per krona granted, projects, activities still running of those
    followed up a year after, and projects presented at a Community Talk."""
    if year is not None and not 1900 <= year <= 9999:
        raise fail(f"--year {year}: give a year such as 2027")
    settings = settings_checked()
    period = period_of(year)
    try:
        with reading(settings, actor, OFFICERS + DECISION_MAKERS) as (session, _reader):
            rows = impact_register(session, *period)
            per_call = [(call.name, figures) for call, figures in calls_of(session, rows, *period)]
            per_year = years_of(impact_register(session, *period_of(None)))
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    out.print(f"Grants decided in {year or 'all years'}: {len(rows)} funded project(s)")
    for name, figures in per_call:
        out.print(f"  {name}: {_line(figures)}", highlight=False, soft_wrap=True)
    out.print("Over the years:")
    for figures in per_year:
        out.print(f"  {figures.first.year}: {_line(figures)}", highlight=False, soft_wrap=True)
    if csv_file is not None:
        csv_file.write_bytes(register_csv(rows))
        out.print(f"Register: {shown(csv_file)}", highlight=False, soft_wrap=True)


def _line(figures: ImpactFigures) -> str:
    return (
        f"{figures.projects} project(s), {figures.granted} kr granted, "
        f"{figures.further_funding_won} kr further funding won, "
        f"{figures.leverage} kr won per krona granted, "
        f"{figures.still_running} of {figures.followed_up} followed up still running, "
        f"{figures.presented} presented at a Talk"
    )
