"""`grants open-data`: the grants decided in a period as open data, a 360Giving JSON package
and the same grants as CSV under the standard's column titles, through the step layer
(`publish_open_data`)."""

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from grants.cli.common import AsOption, fail, out, settings_checked, shown
from grants.cli.refusals import worded
from grants.steps import take
from grants.steps.open_data import OpenDataFiles, written
from models.errors import Refused

app = typer.Typer()


def _day(option: str, value: str) -> date:
    """A day as the option gives it, YYYY-MM-DD; anything else refused naming the option."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} {value!r}: write the day as YYYY-MM-DD") from None


@app.command("open-data")
def open_data_command(
    first: Annotated[str, typer.Option("--from", help="First day of the period, YYYY-MM-DD.")],
    last: Annotated[str, typer.Option("--to", help="Last day of the period, YYYY-MM-DD.")],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the files [default: GRANTS_HOME/open-data]."),
    ] = None,
    actor: AsOption = None,
) -> None:
    """The grants decided in a period as open data (the 360Giving Data Standard 1.4.3): a
    JSON package and a CSV, named after the prefix and the period. Grants only, dated the
    day their decision was signed; refusals, dismissals and write-offs, and people's names,
    are never published (case officers and the decision maker)."""
    period = (_day("--from", first), _day("--to", last))
    settings = settings_checked()
    try:
        taken = take(settings, "publish_open_data", actor, first=period[0], last=period[1])
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    files: OpenDataFiles = taken.result
    paths = written(settings, files, out_dir)
    awarded = sum(grant["amountAwarded"] for grant in files.package["grants"])
    out.print(f"{files.grants} grant(s), {awarded} SEK awarded:", highlight=False)
    for path in paths:
        out.print(f"  {shown(path)}", highlight=False, soft_wrap=True)
