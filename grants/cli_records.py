"""Commands about the records themselves: what has not been delivered, and whether what is
stored is still what was written."""

import typer
from rich.table import Table

from grants.cli import AsOption, _fail, _settings, app, out, shown
from grants.steps import PEOPLE, reading
from models.access import conflicted_case_ids
from models.delivery import undelivered
from models.errors import Refused


@app.command("undelivered")
def undelivered_command(actor: AsOption = None) -> None:
    """Letters that have not arrived: tried and failing, or given up, with the last error.

    Exits 0 when there are none, 1 when there are some.
    """
    settings = _settings()
    try:
        with reading(settings, actor, PEOPLE) as (session, reader):
            hidden = conflicted_case_ids(session, reader)
            letters = [x for x in undelivered(session) if x.case_id not in hidden]
            rows = [
                (
                    x.case.case_reference,
                    x.filename,
                    x.recipient,
                    x.delivery_state.value,
                    str(x.attempts),
                    x.last_error or "",
                )
                for x in letters
            ]
    except Refused as refusal:
        raise _fail(str(refusal)) from None
    table = Table(title=f"{len(rows)} letter(s) not delivered", title_justify="left")
    for column in ("Case", "Letter", "To", "State", "Attempts", "Last error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(shown(cell) for cell in row))
    out.print(table)
    raise typer.Exit(1 if rows else 0)
