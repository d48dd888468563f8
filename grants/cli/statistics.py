"""`grants statistics`: the committee's figures of a calendar year, printed, and written as
the annual report (PDF, in Swedish) and its CSV; read by the case officers, the decision
maker and the members of the committee."""

from pathlib import Path
from typing import Annotated

import typer

from grants.cli.common import AsOption, fail, out, settings_checked, shown
from grants.cli.refusals import worded
from grants.statistics import SUPPRESSION_NOTE, Wording, statistics_csv, statistics_pdf
from grants.steps.statistics import read_statistics
from models import clock
from models.errors import Refused
from models.statistics import calendar_year

app = typer.Typer()
FIRST_YEAR, LAST_YEAR = 2000, 2100  # years a grant of this system can have been decided in


@app.command("statistics")
def statistics_command(
    year: Annotated[
        int | None, typer.Option("--year", help="The calendar year [default: this year].")
    ] = None,
    pdf: Annotated[
        Path | None, typer.Option("--pdf", help="Write the annual report (PDF) here.")
    ] = None,
    table: Annotated[
        Path | None, typer.Option("--csv", help="Write the figures as CSV here.")
    ] = None,
    actor: AsOption = None,
) -> None:
    """The committee's statistics of a year: applications received by call and
    municipality, decisions by outcome, days to decision against the promised day, granted
    and paid by municipality, Community Talks. A figure that counts fewer than five is not
    shown (case officers, the decision maker and the committee)."""
    chosen = clock.today().year if year is None else year
    if not FIRST_YEAR <= chosen <= LAST_YEAR:
        raise fail(f"--year {year}: give a year from {FIRST_YEAR} to {LAST_YEAR}")
    settings = settings_checked()
    try:
        figures = read_statistics(settings, actor, *calendar_year(chosen))
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    words = Wording("en")
    out.print(
        f"Statistics {figures.first.isoformat()} to {figures.last.isoformat()}", highlight=False
    )
    for worded_table in words.tables(figures):
        out.print(f"\n{worded_table.heading}", highlight=False)
        lines = [*worded_table.rows, *([worded_table.total] if worded_table.total else [])]
        for line in lines:
            out.print("  " + " | ".join(shown(value) for value in line), highlight=False)
    out.print(f"\n{words(SUPPRESSION_NOTE)}", highlight=False, soft_wrap=True)
    if pdf is not None:
        pdf.write_bytes(statistics_pdf(settings, figures))
        out.print(f"Annual report: {shown(pdf)}", highlight=False, soft_wrap=True)
    if table is not None:
        table.write_bytes(statistics_csv(figures))
        out.print(f"Figures (CSV): {shown(table)}", highlight=False, soft_wrap=True)
