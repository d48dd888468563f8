"""The `grants` command line: one Typer program made of one app per area.

Each area module (cases, assessment, decisions, records, office, worker) parses its commands'
arguments, takes the person's step through the step layer (`grants.steps`) and words the
result; what every command shares is in `grants.cli.common`.
"""

from typing import Annotated, Any

import typer

from grants.cli import (
    acceptance,
    assessment,
    backups,
    cases,
    closing,
    decisions,
    facts,
    final_report,
    health,
    impact,
    office,
    open_data,
    payments,
    people,
    records,
    repayment,
    statistics,
    talks,  # noqa: F401 (imported, its commands join `grants talk`)
    worker,
)
from grants.cli.common import options
from grants.logs import after_the_command
from grants.processes import guard_process_tree


class _Program(typer.Typer):
    """The `grants` program. Run as a program (not invoked by a test's runner), what it
    starts dies with it, however it ends (grants.processes), and once a command has ended
    as it meant to (an exit status, not a crash's traceback), Prefect's shutdown goes to
    the log file (grants.logs.after_the_command)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        guard_process_tree()
        try:
            return super().__call__(*args, **kwargs)
        except SystemExit:
            after_the_command()
            raise


app = _Program(
    help="Grant processing for Region Örebro län's call for social innovation.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _options(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            envvar="GRANTS_VERBOSE",
            help="Show Prefect's run logs on the console too (they always go to "
            "GRANTS_HOME/logs/grants.log).",
        ),
    ] = False,
) -> None:
    """Options for every command, given before its name: grants --verbose demo."""
    options.verbose = verbose


for area in (
    cases,
    assessment,
    decisions,
    acceptance,
    closing,
    facts,
    office,
    open_data,
    impact,
    payments,
    people,
    records,
    statistics,
    backups,
    worker,
    health,
):
    app.add_typer(area.app)
app.add_typer(repayment.app, name="repayment")
app.add_typer(final_report.app, name="final-reports")
