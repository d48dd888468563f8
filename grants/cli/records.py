"""Commands about the records themselves: what has not been delivered, and whether what is
stored is still what was written."""

from datetime import timedelta

import typer
from rich.table import Table

from grants.anchors import read_anchors
from grants.cli.common import (
    AsOption,
    delivery_said,
    fail,
    out,
    settings_checked,
    shown,
)
from grants.cli.refusals import worded
from grants.render import embedded_facts, seal_check
from grants.steps import PEOPLE, reading
from models.access import visible_cases
from models.delivery import not_yet_sent, notices_undelivered, undelivered
from models.errors import Refused
from models.integrity import verify
from models.tables import Letter, Notice, Role

app = typer.Typer()


@app.command("undelivered")
def undelivered_command(actor: AsOption = None) -> None:
    """Letters that have not arrived: waiting for the mail server (they go by themselves as
    soon as it answers) or refused for good (`grants deliver --again CASE` once put right),
    with the last error; letters ordered longer ago than `[health] letters_warning_minutes`
    and still waiting to be made or sent (no worker, or the Prefect server away); and
    notices to staff that have not arrived.

    Exits 0 when there are none, 1 when there are some.
    """
    settings = settings_checked()
    late = timedelta(minutes=settings.config_file.health.letters_warning_minutes)
    try:
        with reading(settings, actor, PEOPLE) as (session, reader):
            visible = {case.id: case.case_reference for case in visible_cases(session, reader)}
            letters = [
                (visible[x.case_id], x.filename, x)
                for x in [*not_yet_sent(session, late), *undelivered(session)]
                if x.case_id in visible
            ]
            notices = [
                (visible.get(x.case_id, ""), x.kind.replace("_", " "), x)
                for x in notices_undelivered(session)
                if x.case_id is None or x.case_id in visible
            ]
            young = sum(
                1 for x in not_yet_sent(session, timedelta(0)) if x.case_id in visible
            ) - sum(1 for *_, x in letters if x.attempts == 0)
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    _print_table(f"{len(letters)} letter(s) not delivered", "Letter", letters)
    if notices:
        _print_table(f"{len(notices)} notice(s) to staff not delivered", "Notice", notices)
    if young > 0:
        out.print(
            f"{young} letter(s) ordered in the last {_minutes(late)} on their way "
            "(waiting to be made or sent).",
            highlight=False,
        )
    raise typer.Exit(1 if letters or notices else 0)


def _minutes(span: timedelta) -> str:
    return f"{span.total_seconds() / 60:.0f} minutes"


def _print_table(title: str, what: str, rows: list[tuple[str, str, Letter | Notice]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("Case", what, "To", "State", "Attempts", "Last error"):
        table.add_column(column, overflow="fold")
    for reference, name, item in rows:
        cells = (reference, name, item.recipient, delivery_said(item), str(item.attempts))
        table.add_row(*(shown(cell) for cell in (*cells, item.last_error or "")))
    out.print(table)


@app.command("verify")
def verify_command(actor: AsOption = None) -> None:
    """Check that what is stored is still what was written: every PDF against its SHA-256,
    every signed decision against its letter, the facts in its signed PDF and the audit
    trail, and the audit trail as a keyed hash chain (an edited or removed event breaks it)
    against its anchors outside the database (events removed at its end are counted).

    For case officers and the decision maker. Exits 0 when intact, 1 when something was
    found changed, 2 when the check cannot run.
    """
    settings = settings_checked()
    try:
        with reading(settings, actor, (Role.case_officer, Role.decision_maker)) as (
            session,
            reader,
        ):
            visible = {case.case_reference for case in visible_cases(session, reader)}
            found = verify(
                session,
                settings.audit_chain_key,
                read_anchors(settings),
                embedded_facts,
                seal_check(settings.seal),
            )
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    shown_to_reader = [m for m in found if m.case_reference in visible | {None}]
    for mismatch in shown_to_reader:
        out.print(f"[bold red]Mismatch:[/] {shown(mismatch)}", highlight=False, soft_wrap=True)
    if found:
        out.print(f"{len(found)} mismatch(es) found.", highlight=False)
        raise typer.Exit(1)
    out.print("Intact: every PDF, signed decision and audit event is as written.")
