"""What every command shares: the consoles, the --as option, the checked settings, one-line
failures, and taking a person's step through the step layer."""

import os
import re
import sys
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from sqlmodel import Session

from grants.cli.refusals import worded
from grants.embedded import PrefectUnreachable, configure_prefect, server_mode
from grants.embedded import run_flow as run_embedded
from grants.render import start_workers
from grants.settings import SettingError, Settings, checked
from grants.steps import HandedOver, Taken, not_delivered, reading, send_follow_up, take
from models.access import case_to_read
from models.db import transaction
from models.delivery import on_the_way, waiting
from models.errors import Refused
from models.letters import waiting_to_render
from models.tables import (
    Case,
    Criterion,
    DeliveryState,
    FormalRequirement,
    Letter,
    Notice,
    Role,
    local_time,
)
from models.text import isolated

# Piped into a file or another program, keep table rows whole rather than 80 columns wide.
out = Console(width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 150)
err = Console(stderr=True)


class _Options:
    """The options given before a command's name (grants --verbose demo)."""

    verbose = False


options = _Options()

AsOption = Annotated[
    str | None,
    typer.Option("--as", envvar="GRANTS_AS", help="E-mail of the registered person acting."),
]
CaseArg = Annotated[str, typer.Argument(help="Case reference, e.g. 26RS12.")]


def settings_checked() -> Settings:
    """The settings, every one checked before the command does anything: a bad one is a
    one-line message naming it (exit 2), never a traceback."""
    try:
        settings = checked()
    except SettingError as error:
        raise fail(str(error)) from None
    configure_prefect(settings, options.verbose)
    return settings


CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def shown(value: object) -> str:
    """A value from outside as the terminal should show it: no bidi or control characters,
    no rich markup, and right-to-left script isolated (FSI … PDI) so it cannot reorder the
    line around it."""
    return escape(isolated(CONTROLS.sub(" ", str(value))))


def fail(message: str) -> typer.Exit:
    err.print(f"[bold red]Error:[/] {shown(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def run_flow(flow: Callable[..., Any], **parameters: Any) -> Any:
    """The flow run here (grants.embedded.run_flow), with a Prefect server that does not
    answer said in one line (exit 2)."""
    try:
        return run_embedded(flow, **parameters)
    except PrefectUnreachable as error:
        raise fail(str(error)) from None


def start_renderers(settings: Settings, letters: int | None = None) -> None:
    """Start the render workers now, while Prefect starts (seconds), when a batch is to be
    rendered here: `letters` about to be ordered, else those waiting in the database. In
    server mode the pool's workers render a batch."""
    if server_mode():
        return
    if letters is None:
        with transaction(settings.db_url) as session:
            letters = len(waiting_to_render(session, 100))  # enough to tell a batch
    start_workers(letters, settings.render_workers)


def delivery_said(item: Letter | Notice, in_full: bool = False) -> str:
    """Where a letter or notice stands, as a person reads it (`in_full`: with what comes of
    it): one that waits for the mail server is not said to have failed."""
    if waiting(item):
        if not in_full or item.retry_at is None:
            return "waiting for the mail server"
        return f"waiting for the mail server, next try {local_time(item.retry_at):%Y-%m-%d %H:%M}"
    if item.delivery_state == DeliveryState.failed:
        return "failed: refused for good, or cannot be made" if in_full else "failed"
    if item.delivery_state == DeliveryState.to_render:
        return "waiting to be made"
    if item.delivery_state == DeliveryState.queued:
        return "waiting to be sent"
    return item.delivery_state.value.replace("_", " ")


def say_undelivered(letters: list[Letter], notices: list[Notice] = ()) -> int:
    """Tell the person which letters (and notices to staff) have not arrived, and what
    comes of them; return how many."""
    for item in [*letters, *notices]:
        name = item.filename if isinstance(item, Letter) else f"notice {item.notice_key}"
        err.print(
            f"[bold red]Not delivered:[/] {shown(name)} to {shown(item.recipient)} "
            f"({delivery_said(item, in_full=True)}, {item.attempts} attempt(s)): "
            f"{shown(item.last_error or 'not tried yet')}",
            highlight=False,
            soft_wrap=True,
        )
    failed = sum(1 for x in letters if x.delivery_state == DeliveryState.failed)
    if failed:
        err.print(
            f"{failed} letter(s) could not be delivered; see `grants undelivered`; once put "
            "right, send them again: `grants deliver --again CASE…`.",
            highlight=False,
        )
    if len(letters) > failed:
        err.print(
            f"{len(letters) - failed} letter(s) have not arrived yet; one waiting for the mail "
            "server goes by itself as soon as it answers.",
            highlight=False,
        )
    if notices:
        err.print(
            f"{len(notices)} notice(s) to staff have not arrived; they go once the mail "
            "server answers.",
            highlight=False,
        )
    return len(letters) + len(notices)


HANDED_OVER_WAIT = 30.0  # seconds to wait for the office or a worker to send the letters


def act(
    name: str,
    case_reference: str | None,
    actor_email: str | None,
    said: Callable[[Taken], str],
    **parameters: Any,
) -> None:
    """Take the declared step `name` through the step layer; print what it did (`said`) or
    why it was refused (exit 2, nothing changed); then send the letters it ordered, and say
    so and exit 1 if any of them could not be delivered (the step itself stands)."""
    settings = settings_checked()
    if server_mode():
        # Prefect and the flows (3 s cold) before the step, not between its commit and the
        # hand-over: its letters follow it within a second, and a command stopped meanwhile
        # leaves nothing for the schedule.
        import_module("flows.letters")
    try:
        taken = take(settings, name, actor_email, case_reference, **parameters)
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    out.print(said(taken), highlight=False)
    wait = 0.0
    if taken.to_send:
        sent = send_follow_up(settings)
        if isinstance(sent, HandedOver) and sent.to is None:
            out.print(
                f"Letters: the scheduled send-letters will make and send them ({sent.why}).",
                highlight=False,
                soft_wrap=True,
            )
        elif isinstance(sent, HandedOver):
            out.print(f"Letters: handed to {sent.to} to make and send.", highlight=False)
            wait = HANDED_OVER_WAIT
        else:
            out.print(
                f"Letters: {sent['created']} made, {sent['sent']} sent; notices: "
                f"{sent['notices_sent']} sent; {sent['failed'] + sent['notices_failed']} "
                "not delivered."
            )
    letters = not_delivered(settings, taken.letters, wait)
    on_their_way = [letter for letter in letters if on_the_way(letter)]
    if on_their_way:
        out.print(
            f"{len(on_their_way)} letter(s) still on their way; `grants status` shows when "
            "they are sent.",
            highlight=False,
        )
    if say_undelivered([letter for letter in letters if not on_the_way(letter)]):
        raise typer.Exit(1)  # the step is taken; its letters have not arrived


def show_case(
    case_reference: str,
    actor_email: str | None,
    roles: tuple[Role, ...],
    shown_as: Callable[[Session, Case], str],
) -> None:
    """Print what `shown_as` makes of a case that a named person with one of `roles` may
    read (a form's findings, say); refused, one line and exit 2."""
    settings = settings_checked()
    try:
        with reading(settings, actor_email, roles) as (session, reader):
            case = case_to_read(session, case_reference, reader)
            out.print(shown_as(session, case), highlight=False)
    except Refused as refusal:
        raise fail(worded(refusal)) from None


def criterion_pairs(values: list[str] | None, option: str) -> dict[Criterion, str]:
    """--note benefit_to_society=TEXT … as {criterion: text}; a bad key is refused."""
    pairs: dict[Criterion, str] = {}
    for value in values or []:
        key, sep, text = value.partition("=")
        if not sep or key.strip() not in Criterion.__members__:
            raise fail(
                f"{option} {value!r}: write CRITERION=TEXT with CRITERION one of "
                f"{', '.join(Criterion)}"
            )
        pairs[Criterion(key.strip())] = text.strip()
    return pairs


def formal_pairs(values: list[str] | None) -> dict[FormalRequirement, str]:
    """--formal signatory=TEXT … as {requirement: text}; a bad key or no text is refused."""
    pairs: dict[FormalRequirement, str] = {}
    for value in values or []:
        key, sep, text = value.partition("=")
        if not sep or key.strip() not in FormalRequirement.__members__ or not text.strip():
            raise fail(
                f"--formal {value!r}: write REQUIREMENT=TEXT with REQUIREMENT one of "
                f"{', '.join(FormalRequirement)} and TEXT what the applicant must send"
            )
        pairs[FormalRequirement(key.strip())] = text.strip()
    return pairs


def read_file_argument(path: Path) -> bytes:
    """A document someone sent, as bytes; a missing file is refused before anything starts."""
    if not path.is_file():
        raise fail(f"file {str(path)!r}: no such file")
    return path.read_bytes()


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"file {str(path)!r}: {error}") from None
