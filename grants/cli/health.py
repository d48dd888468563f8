"""`grants health`: one line per check and Nagios's exit status, for a monitor or cron."""

import typer

from grants.cli.common import options, out
from grants.embedded import configure_prefect
from grants.health import lines, report, worst
from grants.settings import SettingError, checked

app = typer.Typer()


@app.command("health")
def health_command() -> None:
    """Whether the case database, the Prefect server and its workers, the letters, the audit
    trail's anchor and the disk are as they should be: one line each, no personal data.

    Exits 0 when all are OK, 1 on a warning, 2 when something is failing (a setting, or the
    case database, that stops every command is one line too).
    """
    try:
        settings = checked()
    except SettingError as error:
        out.print(f"settings FAILING: {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    configure_prefect(settings, options.verbose)
    checks = report(settings)
    for line in lines(checks):
        out.print(line, highlight=False, soft_wrap=True)
    raise typer.Exit(int(worst(checks)))
