"""The Community Talks on the command line, beside `grants talk add`: the Talks with their
ids, a Talk's programme (printed, and written as PDF and CSV for the organiser), and the
attendance the case officer registers after a Talk. The case officer and the organiser read
the programmes; the organiser reads nothing else."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from grants.cli.common import AsOption, CaseArg, act, fail, out, settings_checked
from grants.cli.decisions import talk_app
from grants.cli.refusals import worded
from grants.steps import reading
from grants.steps.talks import TALK_READERS
from grants.talk_programme import programme_csv, programme_pdf
from models.errors import Refused
from models.tables import CommunityTalk
from models.talk_answers import ProgrammeItem, programme, talks_held_and_coming


@talk_app.command("list")
def list_command(actor: AsOption = None) -> None:
    """Every Community Talk with its id, the latest first."""
    settings = settings_checked()
    try:
        with reading(settings, actor, TALK_READERS) as (session, _reader):
            table = Table(title="Community Talks", title_justify="left")
            for column in ("Id", "Date", "Time", "Theme", "Venue"):
                table.add_column(column)
            for talk in talks_held_and_coming(session):
                time = f"{talk.starts_at}–{talk.ends_at}" if talk.ends_at else talk.starts_at
                venue = ", ".join(part for part in (talk.venue, talk.address) if part)
                table.add_row(str(talk.id), talk.held_on.isoformat(), time, talk.theme, venue)
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    out.print(table)


@talk_app.command("programme")
def programme_command(
    talk_id: Annotated[int, typer.Option("--talk", help="The Talk's id (grants talk list).")],
    pdf: Annotated[
        Path | None, typer.Option("--pdf", help="Write the programme as PDF to this file.")
    ] = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Write the programme as CSV to this file.")
    ] = None,
    actor: AsOption = None,
) -> None:
    """A Talk's programme: the projects presenting, who presents, how many come."""
    settings = settings_checked()
    try:
        with reading(settings, actor, TALK_READERS) as (session, _reader):
            talk = session.get(CommunityTalk, talk_id)
            if talk is None:
                raise fail(f"--talk {talk_id}: no such Community Talk (grants talk list)")
            items = programme(session, talk)
            session.expunge(talk)
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    out.print(_table(talk, items))
    if pdf is not None:
        pdf.write_bytes(programme_pdf(settings, talk, items))
        out.print(f"Programme written: {pdf}", highlight=False)
    if csv is not None:
        csv.write_bytes(programme_csv(items))
        out.print(f"Programme written: {csv}", highlight=False)


def _table(talk: CommunityTalk, items: list[ProgrammeItem]) -> Table:
    where = ", ".join(part for part in (talk.venue, talk.address) if part)
    table = Table(
        title=f"{talk.held_on.isoformat()} {talk.starts_at}–{talk.ends_at} {talk.theme}\n{where}",
        title_justify="left",
    )
    for column in ("Organisation", "Project", "Presents", "Come", "Came", "Presented by"):
        table.add_column(column)
    for item in items:
        table.add_row(
            item.organisation,
            item.project_title,
            item.presenters or "(not answered)",
            _count(item.attendees),
            _count(item.came),
            "(did not present)" if item.presented_by == "" else item.presented_by or "",
        )
    return table


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


@talk_app.command("attendance")
def attendance_command(
    case_reference: CaseArg,
    came: Annotated[str, typer.Option("--came", help="How many came from the project.")],
    presented_by: Annotated[
        str, typer.Option("--presented-by", help="Who presented; leave out if nobody did.")
    ] = "",
    actor: AsOption = None,
) -> None:
    """After the Talk: how many came from a project and who presented (recorded on the
    case as its presentation)."""
    act(
        "record_talk_attendance",
        case_reference,
        actor,
        lambda taken: (
            f"{case_reference}: {taken.result.came} came"
            + (f", presented by {taken.result.presented_by}" if taken.result.presented_by else "")
            + f"; the case is '{taken.state}'."
        ),
        came=came,
        presented_by=presented_by,
    )
