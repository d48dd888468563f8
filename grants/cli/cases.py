"""Commands on the call's cases as a whole: intake, the case list and a case in full,
delivery, the letters' archive, and the demo."""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import select

from grants.cli.closing import print_gates
from grants.cli.common import (
    AsOption,
    delivery_said,
    fail,
    options,
    out,
    run_flow,
    say_undelivered,
    settings_checked,
    shown,
    start_renderers,
)
from grants.cli.refusals import worded
from grants.intake_files import UnreadableFile, open_export
from grants.logs import log_file
from grants.render import format_amount
from grants.settings import SAMPLES, Settings
from grants.steps import OFFICERS, reading, take
from models import clock
from models.access import case_to_read, visible_cases
from models.audit import history
from models.cases import assessment_record, letter_counts, letters_of
from models.db import transaction
from models.delivery import failed_letters, notices_undelivered, on_the_way, undelivered
from models.errors import Refused
from models.reference_data import open_office
from models.tables import DeliveryState, Person, Role, local_time
from models.validation import WARNINGS, Fault

app = typer.Typer()


def _check_actor(settings: Settings, actor_email: str | None, role: Role) -> Person:
    """Refuse an unknown person or a wrong role before any flow starts."""
    with transaction(settings.db_url) as session:
        return open_office(session, settings.file, actor_email, role, sole_holder_may_omit=True)[1]


def _intake(settings: Settings, path: Path, actor_email: str | None, letters: bool) -> int:
    """Take one file in; print its report; return the number of refused records and of
    acknowledgements that could not be delivered."""
    from flows.intake import intake

    try:
        export = open_export(path)  # counted without holding the file
        officer = _check_actor(settings, actor_email, Role.case_officer)
    except UnreadableFile as error:
        raise fail(str(error)) from None
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    out.print(f"Intake of {path} by {officer.name} <{officer.email}>", highlight=False)
    if letters:
        start_renderers(settings, export.count)
    report = run_flow(intake, path=str(path), actor_email=officer.email, send_letters=letters)
    refused = _print_report(report)
    if letters:
        with transaction(settings.db_url) as session:
            missing = undelivered(session, case_references=report["new_cases"])
        if report["letters"].get("workers"):  # the pool makes and sends them from now on
            missing = [letter for letter in missing if not on_the_way(letter)]
        refused += say_undelivered(missing)
    return refused


def _print_report(report: dict[str, Any]) -> int:
    results, counts = report["results"], report["counts"]
    for note in report["notes"]:
        out.print(f"[yellow]Note:[/] {shown(note)}", highlight=False)
    for result in (r for r in results if r["status"] == "refused"):
        who = result.get("submission_id") or result.get("organisation") or ""
        out.print(f"[red]Refused[/] {shown(result['record'])} {shown(who)}:", highlight=False)
        for fault in result["faults"]:
            out.print(f"    {shown(Fault(**fault))}", highlight=False)
    for result in (r for r in results if r["status"] == "registered"):
        for code in result["warnings"]:
            out.print(f"[yellow]Warning[/] {result['case_reference']}: {WARNINGS[code]}")
    letters = report["letters"]
    said = (
        f"handed to {letters['workers']} worker(s) of the pool"
        if letters.get("workers")
        else f"{letters['created']} created, {letters['sent']} delivered, "
        f"{letters['failed']} not delivered"
    )
    out.print(
        f"{report['read']} application(s) read: {counts.get('registered', 0)} registered, "
        f"{counts.get('already registered', 0)} already registered, "
        f"{counts.get('refused', 0)} refused. Letters: {said}.",
        highlight=False,
    )
    return counts.get("refused", 0)


@app.command("intake")
def intake_command(
    file: Annotated[Path, typer.Argument(help="A form export: .json or .csv.")],
    actor: AsOption = None,
    letters: Annotated[
        bool,
        typer.Option(help="Render and send the acknowledgements now (else: at `grants deliver`)."),
    ] = True,
) -> None:
    """Register the applications in FILE and acknowledge each new case.

    Exits 0 when every record is registered (or already was) and acknowledged, 1 when some
    were refused (the valid ones are registered all the same) or their acknowledgements
    could not be delivered, 2 when nothing could be done.
    """
    settings = settings_checked()
    faults = _intake(settings, file, actor, letters)
    raise typer.Exit(1 if faults else 0)


@app.command("status")
def status_command(
    case_reference: Annotated[str | None, typer.Argument(help="Show one case in full.")] = None,
    actor: AsOption = None,
) -> None:
    """List the cases with their state, or show one case's full history.

    Who reads must say so (--as); a case in which the reader declared a conflict of
    interest is neither listed nor counted, nor shown.
    """
    settings = settings_checked()
    try:
        with reading(settings, actor) as (session, reader):
            if case_reference is None:
                _print_cases(session, visible_cases(session, reader))
            else:
                _print_case(session, case_to_read(session, case_reference, reader))
    except Refused as refusal:
        raise fail(worded(refusal)) from None


def _print_cases(session: Any, cases: list[Any]) -> None:
    counts = letter_counts(session)
    table = Table(title=f"{len(cases)} case(s)", title_justify="left")
    table.add_column("Case", no_wrap=True)
    table.add_column("State", no_wrap=True)
    table.add_column("Received", no_wrap=True, min_width=10)
    table.add_column("Organisation", max_width=34, no_wrap=True, overflow="ellipsis")
    table.add_column("Project", max_width=44, no_wrap=True, overflow="ellipsis")
    table.add_column("Applied for", justify="right", no_wrap=True)
    table.add_column("Letters", no_wrap=True)
    for case in cases:
        letters = counts.get(case.id, {})
        queued = letters.get(DeliveryState.queued, 0) + letters.get(DeliveryState.sending, 0)
        table.add_row(
            case.case_reference,
            case.state,
            case.date_received.isoformat(),
            shown(case.organisation.name),
            shown(case.project_title),
            format_amount(case.requested_amount),
            f"{letters.get(DeliveryState.sent, 0)} sent"
            + (f", {queued} queued" if queued else "")
            + (f", {failed} failed" if (failed := letters.get(DeliveryState.failed, 0)) else ""),
        )
    out.print(table)


def _print_case(session: Any, case: Any) -> None:
    org = case.organisation
    out.print(f"[bold]{case.case_reference}[/] {shown(case.project_title)}", highlight=False)
    facts = {
        "State": case.state,
        "Organisation": f"{org.name} ({org.organisation_number or 'no organisation number'}), "
        f"{org.legal_form}, {org.municipality}",
        "Contact": f"{org.contact_person} <{org.email}>",
        "Received": case.date_received.isoformat(),
        "Applied for": format_amount(case.requested_amount),
        "Project period": f"{case.project_start.isoformat()} – {case.project_end.isoformat()}",
        "Case officer": case.case_officer.name if case.case_officer else "—",
        "Language": case.language,
        "Warnings": "; ".join(WARNINGS[w] for w in case.warnings) or "none",
    }
    for label, value in facts.items():
        out.print(f"  {label + ':':16} {shown(value)}", highlight=False)
    print_gates(session, case)
    letters = Table(title="Letters", title_justify="left")
    for column in ("File", "SHA-256", "Delivery", "Attempts", "Last error"):
        letters.add_column(column)
    for letter in letters_of(session, case):
        letters.add_row(
            letter.filename,
            f"{letter.sha256[:16]}…" if letter.sha256 else "not yet rendered",
            delivery_said(letter),
            str(letter.attempts),
            shown(letter.last_error or ""),
        )
    out.print(letters)
    _print_assessment(session, case)
    trail = Table(title="History", title_justify="left")
    for column in ("When", "Who", "Role", "What", "State", "Details"):
        trail.add_column(column, overflow="fold")
    names = {p.email: p.name for p in session.exec(select(Person))}
    for event in history(session, case):
        change = (
            f"{event.state_before or '—'} → {event.state_after}"
            if event.state_before != event.state_after
            else str(event.state_after)
        )
        details = ", ".join(f"{k}: {v}" for k, v in event.detail.items() if v not in (None, [], ""))
        trail.add_row(
            _local(event.at),
            shown(names.get(event.actor, event.actor)),
            event.role,
            event.action,
            change,
            shown(details),
        )
    out.print(trail)


def _print_assessment(session: Any, case: Any) -> None:
    """The checklist, supplements, reviews, meetings and file notes, where there are any."""
    record = assessment_record(session, case)
    sections = {
        "Checklist": (
            ("Round", "Requirement", "Answer", "Note", "By"),
            [
                (str(a.round), a.criterion, a.answer, a.note, a.answered_by)
                for a in record["checklist"]
            ],
        ),
        "Supplement requests": (
            ("No.", "Deadline", "If no reply", "Missing", "Outcome"),
            [
                (
                    str(r.number),
                    r.deadline.isoformat(),
                    r.on_expiry,
                    "; ".join(m["text"] for m in r.missing),
                    "received" if r.received_at else "expired" if r.expired_at else "waiting",
                )
                for r in record["supplements"]
            ],
        ),
        "Reviews": (
            ("Reviewer", "Status", "Due", "Conflict", "Recommendation", "Amount", "Other funding"),
            [
                (
                    t.reviewer.name,
                    t.status,
                    t.due.isoformat(),
                    t.conflict or "not declared yet",
                    t.recommendation or "",
                    str(t.proposed_amount or ""),
                    "; ".join(t.other_funding),
                )
                for t in record["reviews"]
            ],
        ),
        "Meetings": (
            ("No.", "Status", "Starts", "Place"),
            [
                (str(m.number), m.status, _local(m.starts_at) if m.starts_at else "", m.place)
                for m in record["meetings"]
            ],
        ),
        "File notes": (
            ("Written", "By", "Kind", "Text"),
            [(_local(n.written_at), n.author, n.kind, n.text) for n in record["file_notes"]],
        ),
    }
    for title, (columns, rows) in sections.items():
        if not rows:
            continue
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(shown(cell) for cell in row))
        out.print(table)
    if case.proposed_outcome:
        out.print(
            f"Proposed outcome: {case.proposed_outcome} — {shown(case.proposal_reason)}",
            highlight=False,
        )


def _local(moment: Any) -> str:
    return local_time(moment).strftime("%Y-%m-%d %H:%M")


@app.command("deliver")
def deliver_command(
    case_references: Annotated[
        list[str] | None,
        typer.Argument(metavar="CASE", help="With --again: the cases, e.g. 26RS12."),
    ] = None,
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="First queue again every letter of these cases that could not be delivered "
            "(after the address was put right, say): a case officer's choice, in the audit trail.",
        ),
    ] = False,
    actor: AsOption = None,
) -> None:
    """Render any letter still without its PDF and send every queued one (retries included).

    Exits 0 when everything has arrived, 1 while something has not (a letter or notice
    waiting for the mail server, or a letter refused for good), saying what.
    """
    settings = settings_checked()
    if bool(case_references) != again:
        raise fail("--again CASE…: name the cases whose letters to send again, with --again")
    if again:
        _send_again(settings, case_references or [], actor)
    start_renderers(settings)
    from flows.letters import send_letters

    counts = run_flow(send_letters)
    if counts.get("workers"):
        out.print(f"A large batch: {counts['workers']} worker(s) of the pool render and send it.")
        return
    out.print(
        f"{counts['created']} letter(s) rendered, {counts['sent']} delivered, "
        f"{counts['failed']} not delivered; notices to staff: {counts['notices_sent']} "
        f"delivered, {counts['notices_failed']} not delivered."
    )
    with transaction(settings.db_url) as session:
        if say_undelivered(undelivered(session), notices_undelivered(session)):
            raise typer.Exit(1)


def _send_again(settings: Settings, case_references: list[str], actor: str | None) -> None:
    """Queue again the letters of these cases that could not be delivered: each case a step
    of its own, all checked first, so that one refused changes nothing."""
    try:
        with reading(settings, actor, OFFICERS) as (session, reader):
            for reference in case_references:
                failed_letters(session, case_to_read(session, reference, reader))
        for reference in case_references:
            letters = take(settings, "send_again", actor, reference).result
            names = ", ".join(letter.filename for letter in letters)
            out.print(f"{reference}: sent again: {names}", highlight=False)
    except Refused as refusal:
        raise fail(worded(refusal)) from None


@app.command("export-letters")
def export_letters_command(
    folder: Annotated[Path, typer.Argument(help="Where to write the PDFs.")],
    actor: AsOption = None,
) -> None:
    """Write every rendered letter's PDF, as archived on its case, to FOLDER (case officers;
    not the letters of a case in which the reader declared a conflict of interest)."""
    settings = settings_checked()
    try:
        with reading(settings, actor, OFFICERS) as (session, reader):
            letters = [
                letter
                for case in visible_cases(session, reader)
                for letter in letters_of(session, case)
                if letter.pdf is not None
            ]
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    folder.mkdir(parents=True, exist_ok=True)
    for letter in letters:
        (folder / letter.filename).write_bytes(letter.pdf)
    out.print(f"{len(letters)} letter(s) written to {folder.resolve()}")


def _print_money(settings: Settings) -> None:
    """The demo's money: per grant, who accepted it, where it was paid and when, a changed
    account held until confirmed, what was paid back; then each call's budget."""
    from grants import demo

    grants_money, calls = demo.money_summary(settings)
    table = Table(title="The money after the decisions", title_justify="left")
    for column in ("Case", "Accepted by", "Account", "Paid", "Account changed", "Paid back"):
        table.add_column(column, overflow="fold")
    for row in grants_money:
        table.add_row(
            row.case,
            row.accepted_by,
            row.account,
            f"{format_amount(row.paid)} on {row.paid_on}" if row.paid else "not yet",
            row.account_change,
            _paid_back(row.reclaimed, row.claimed),
        )
    if grants_money:
        out.print(table)
    for money in calls:
        out.print(
            f"Budget of {money.call.code}: {format_amount(money.budget)}; granted "
            f"{format_amount(money.granted)}, paid {format_amount(money.paid)}, paid back "
            f"{format_amount(money.reclaimed)}, left to grant {format_amount(money.left)}.",
            highlight=False,
        )


def _print_results(settings: Settings) -> None:
    """The demo's results: the final reports approved, the Talks' answers and attendance,
    the cases closed and on which days, the follow-up answered, the open data written."""
    from grants import demo

    found = demo.results_summary(settings)
    more = f" ({', '.join(found.more_asked)} after being asked to complete it)"
    unspent = "; ".join(
        f"{case} reported {format_amount(amount)} unspent, claimed back"
        for case, amount in found.unspent_claimed
    )
    days: dict[str, list[str]] = {}
    for case, day in found.closed:
        days.setdefault(day.isoformat(), []).append(case)
    closed = "; ".join(f"{day}: {', '.join(cases)}" for day, cases in days.items())
    out.print(
        f"The results after the projects:\n"
        f"  final reports approved: {len(found.reports_approved)}"
        f"{more if found.more_asked else ''}{'; ' + unspent if unspent else ''}\n"
        f"  Community Talks: {found.talk_answers} answer(s) through the grantees' links, "
        f"{found.attended} attendance(s) registered after the Talks\n"
        f"  cases closed: {len(found.closed)} of {found.cases} ({closed or 'none'})\n"
        f"  year-after follow-up answered: {', '.join(found.follow_ups_answered) or 'none'}\n"
        f"  open data (360Giving): {', '.join(found.open_data) or 'none'}",
        highlight=False,
    )


def _paid_back(reclaimed: int, claimed: int) -> str:
    return f"{format_amount(reclaimed)} of {format_amount(claimed)}" if claimed else ""


@app.command("demo")
def demo_command() -> None:
    """The main job: the eight seed projects and two more through the whole path, with
    scripted people on a simulated clock: every outcome (granted, partly granted, refused,
    dismissed, closed), communication before the adverse ones, letters, Community Talks; then
    the money: acceptance, payment orders, the payment file and the bank's answer, a held
    account, a repayment claim.
    """
    from grants import demo
    from grants.cli.progress import CallProgress

    settings = settings_checked()
    exports = ("applications.json", "demo_more.json")
    faults = 0
    # The call's weeks, from the next working morning on (or from where an earlier run
    # stopped), its stages shown as they go.
    with clock.simulated(), CallProgress(out, len(exports), options.verbose) as progress:
        clock.move_to(demo.resume_at(settings))
        for export in exports:
            faults += _intake(settings, SAMPLES / export, None, True)
            progress.intake_done()
        demo.run(settings, progress.round)
    rows = demo.summary(settings)
    table = Table(title="The call after the demo", title_justify="left")
    for column in ("Case", "Organisation", "Outcome", "Amount", "Letters sent", "State"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["case"],
            row["organisation"],
            row["outcome"],
            format_amount(row["amount"]) if row["amount"] else "",
            str(row["letters"]),
            row["state"],
        )
    out.print(table)
    _print_money(settings)
    _print_results(settings)
    export_letters_command(settings.home / "letters", demo.OFFICER)
    outbox = "SMTP server " + settings.smtp_host if settings.smtp_host else settings.outbox_dir
    out.print(
        f"Where to look:\n  letters (PDF): {(settings.home / 'letters').resolve()}\n"
        f"  payment files (pain.001, with their payment order as PDF and CSV): "
        f"{(settings.home / 'payments').resolve()}\n"
        f"  the bank's reports (camt.054): {(settings.home / 'bank').resolve()}\n"
        f"  open data (360Giving JSON and CSV): {(settings.home / 'open-data').resolve()}\n"
        f"  the committee's annual report and figures: {(settings.home / 'statistics').resolve()}\n"
        f"  the Community Talks' programmes: {(settings.home / 'talks').resolve()}\n"
        f"  e-mail: {outbox}\n  case database: {settings.db_url}\n"
        f"  Prefect's run logs: {log_file(settings.home)}\n"
        f"  one case in full: grants status {rows[0]['case'] if rows else 'CASE'}\n"
        f"  the committee's list: grants delegation-report --from YYYY-MM-DD --to YYYY-MM-DD",
        highlight=False,
    )
    with transaction(settings.db_url) as session:
        if say_undelivered(undelivered(session)) or faults:
            raise typer.Exit(1)
