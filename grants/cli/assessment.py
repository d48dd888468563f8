"""Commands for the people who assess a case: the checklist, supplements, reviews, meetings.

Each parses what was typed and takes its declared step by name (`grants.steps`), which
checks who acts and takes the step in one transaction (all of it or none of it); then the
letters the step ordered are sent.
"""

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import Session

from grants.cli.common import (
    AsOption,
    CaseArg,
    act,
    criterion_pairs,
    fail,
    formal_pairs,
    out,
    read_file_argument,
    read_text,
    run_flow,
    settings_checked,
    show_case,
)
from grants.cli.refusals import worded
from grants.steps import OFFICERS, Taken, reading
from models import clock
from models.checklist import Finding, formal_checks, latest_findings, latest_formal
from models.errors import Refused
from models.tables import (
    STOCKHOLM,
    Answer,
    Case,
    ConflictGround,
    Criterion,
    FormalRequirement,
    OnExpiry,
    Recommendation,
)
from models.tasks import TaskKind, open_tasks
from models.vocabulary import criterion_name, formal_name

app = typer.Typer()

NoteOption = Annotated[
    list[str] | None,
    typer.Option(
        "--note",
        help="CRITERION=TEXT: why a requirement is not met or unclear. It goes to the "
        "applicant: write it in the case's language.",
    ),
]
IfNoReplyOption = Annotated[
    OnExpiry | None,
    typer.Option(help="If the supplement does not come: examine (the default) or dismiss."),
]
DismissBecauseOption = Annotated[
    str,
    typer.Option(
        help="With --if-no-reply dismiss: why the gap prevents examining the application "
        "(FL 20 §); the letter says so. Write it in the case's language."
    ),
]


@app.command("checklist")
def checklist_command(
    case_reference: CaseArg,
    actor: AsOption = None,
    benefit_to_society: Annotated[Answer | None, typer.Option()] = None,
    innovative: Annotated[Answer | None, typer.Option()] = None,
    new_locally: Annotated[Answer | None, typer.Option()] = None,
    anchored_with_partners: Annotated[Answer | None, typer.Option()] = None,
    note: NoteOption = None,
    missing: Annotated[
        list[str] | None,
        typer.Option(help="Anything else the applicant must supplement, in the case's language."),
    ] = None,
    if_no_reply: IfNoReplyOption = None,
    dismiss_because: DismissBecauseOption = "",
    formal: Annotated[
        list[str] | None,
        typer.Option(
            help="A formal requirement that is unclear, with what the applicant must send: "
            "REQUIREMENT=TEXT, REQUIREMENT one of identity, signatory, complete (FL 20 §; "
            "the others are met). Asked for under its own name, not under a basic requirement."
        ),
    ] = None,
) -> None:
    """The eligibility checklist. Without answers: show the formal checks and any findings."""
    given = {
        Criterion.benefit_to_society: benefit_to_society,
        Criterion.innovative: innovative,
        Criterion.new_locally: new_locally,
        Criterion.anchored_with_partners: anchored_with_partners,
    }
    if all(answer is None for answer in given.values()):
        show_case(case_reference, actor, OFFICERS, _show_checklist)
        return
    notes = criterion_pairs(note, "--note")
    act(
        "checklist",
        case_reference,
        actor,
        lambda taken: f"{case_reference}: checklist recorded; the case is now '{taken.state}'.",
        findings={c: Finding(a, notes.get(c, "")) for c, a in given.items() if a is not None},
        formal={r: Finding(Answer.unclear, text) for r, text in formal_pairs(formal).items()},
        missing=missing or [],
        if_no_reply=if_no_reply,
        dismiss_because=dismiss_because,
    )


def _show_checklist(session: Session, case: Case) -> str:
    table = Table(title=f"{case.case_reference} {case.project_title}", title_justify="left")
    for column in ("Check", "Result", "Detail"):
        table.add_column(column)
    for check, passed, detail in formal_checks(case):
        table.add_row(check, "ok" if passed else "CHECK", detail)
    findings = latest_findings(session, case)
    for criterion in Criterion:
        label = criterion_name(criterion, "en")
        found = findings.get(criterion)
        table.add_row(label, found.answer if found else "—", found.note if found else "")
    formal = latest_formal(session, case)
    for requirement in FormalRequirement:
        label = f"Formal: {formal_name(requirement, 'en')}"
        found = formal.get(requirement)
        table.add_row(label, found.answer if found else "—", found.note if found else "")
    out.print(table)
    language = "English" if case.language == "en" else "Swedish"
    return f"State: {case.state}. Letters to this applicant are in {language}: write notes so."


@app.command("request-supplement")
def request_supplement_command(
    case_reference: CaseArg,
    missing: Annotated[
        list[str],
        typer.Option(help="What the applicant must supplement, in the case's language."),
    ],
    actor: AsOption = None,
    if_no_reply: IfNoReplyOption = None,
    dismiss_because: DismissBecauseOption = "",
) -> None:
    """Ask for a supplement during review or before the meeting."""
    act(
        "request_supplement",
        case_reference,
        actor,
        lambda taken: (
            f"{case_reference}: supplement requested by {taken.result.deadline.isoformat()}."
        ),
        missing=missing,
        if_no_reply=if_no_reply,
        dismiss_because=dismiss_because,
    )


@app.command("supplement")
def supplement_command(
    case_reference: CaseArg,
    file: Annotated[Path, typer.Argument(help="What the applicant sent.")],
    actor: AsOption = None,
) -> None:
    """Register a supplement; the case returns to the eligibility checklist."""
    act(
        "register_supplement",
        case_reference,
        actor,
        lambda taken: (
            f"{case_reference}: supplement {taken.result.filename} registered "
            f"(SHA-256 {taken.result.sha256[:16]}…); the checklist is next."
        ),
        filename=file.name,
        content=read_file_argument(file),
    )


TASK_COMMANDS = {
    TaskKind.declare: "declare conflicts first (grants declare)",
    TaskKind.review: "review (grants review)",
    TaskKind.checklist: "eligibility checklist (grants checklist)",
    TaskKind.await_supplement: "waiting for the supplement (grants supplement when it comes)",
    TaskKind.meeting: "book, cancel, document or skip the applicant meeting (grants meeting)",
    TaskKind.draft: "draft decision (grants draft, grants communicate, grants submit-draft)",
    TaskKind.await_reply: "waiting for the applicant's reply (grants reply when it comes)",
    TaskKind.decide: "decide the draft (grants sign, grants amend, grants send-back)",
    TaskKind.old_case: "older than six months: the applicant may ask for a decision, which "
    "must then come within four weeks (FL 12 §)",
    TaskKind.too_few_reviewers: "too few reviewers without a conflict of interest: name a "
    "substitute (grants substitute-reviewer) or go on with fewer (grants go-on-with-fewer)",
    TaskKind.reporting: "record the presentation and the final report (grants presented, "
    "grants final-report)",
    TaskKind.no_case_officer: "every case officer declared a conflict of interest: add a case "
    "officer (grants people add --role case_officer)",
    TaskKind.payment_rejected: "the bank rejected a payment (its reason is in grants status CASE): "
    "check the account with the grantee and prepare the payment again",
    TaskKind.decide_repayment: "decide the repayment claim (grants repayment decide, grants "
    "repayment withdraw)",
}


@app.command("tasks")
def tasks_command(actor: AsOption = None) -> None:
    """Your open tasks, overdue first, with due dates."""
    settings = settings_checked()
    today = clock.today()
    try:
        with reading(settings, actor) as (session, person):
            tasks = open_tasks(session, person, today)
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    table = Table(title=f"Open tasks of {person.name} ({person.role})", title_justify="left")
    for column in ("Case", "Project", "To do", "Since", "Due"):
        table.add_column(column, overflow="fold")
    for task in tasks:
        due = task.due.isoformat() if task.due else ""
        if task.overdue(today):
            due += " OVERDUE"
        table.add_row(
            task.case_reference,
            task.project_title,
            TASK_COMMANDS[task.kind],
            task.since.isoformat(),
            due,
        )
    out.print(table)


@app.command("declare")
def declare_command(
    case_reference: CaseArg,
    actor: AsOption = None,
    no_conflict: Annotated[bool, typer.Option(help="No conflict of interest.")] = False,
    conflict: Annotated[
        ConflictGround | None, typer.Option(help="The ground of a conflict (FL 16 §).")
    ] = None,
    note: Annotated[str, typer.Option(help="What the conflict consists of.")] = "",
) -> None:
    """The first step of a review task: declare a conflict of interest, or none."""
    if no_conflict == (conflict is not None and conflict is not ConflictGround.none):
        raise fail("say either --no-conflict or --conflict GROUND (with --note)")
    ground = ConflictGround.none if no_conflict else conflict
    removed = (
        f"{case_reference}: conflict of interest ({ground}) recorded; you are removed from the "
        "case."
    )
    act(
        "declare_conflict",
        case_reference,
        actor,
        lambda _taken: (
            f"{case_reference}: no conflict of interest declared; the review is next."
            if ground is ConflictGround.none
            else removed
        ),
        ground=ground,
        note=note,
    )


@app.command("review")
def review_command(
    case_reference: CaseArg,
    recommend: Annotated[Recommendation, typer.Option(help="The review's recommendation.")],
    actor: AsOption = None,
    amount: Annotated[int | None, typer.Option(help="Proposed amount (partly_granted).")] = None,
    reason: Annotated[
        list[str] | None,
        typer.Option(
            help="CRITERION=TEXT, once for each of the four basic requirements, in the case's "
            "language (the applicant may read it)."
        ),
    ] = None,
    other_funding: Annotated[
        list[str] | None, typer.Option(help="Other sources of funding to suggest.")
    ] = None,
    comments: Annotated[str, typer.Option()] = "",
) -> None:
    """Submit a review (after declaring any conflict of interest)."""
    act(
        "submit_review",
        case_reference,
        actor,
        lambda taken: f"{case_reference}: review recorded; the case is now '{taken.state}'.",
        recommendation=recommend,
        amount=amount,
        reasons=criterion_pairs(reason, "--reason"),
        other_funding=other_funding or [],
        comments=comments,
    )


@app.command("assign-reviewer")
def assign_reviewer_command(
    case_reference: CaseArg,
    reviewer: Annotated[str, typer.Argument(help="E-mail of the advisor to add.")],
    actor: AsOption = None,
) -> None:
    """Add a reviewer to a case (when conflicts of interest left too few)."""
    act(
        "assign_reviewer",
        case_reference,
        actor,
        lambda taken: (
            f"{case_reference}: {taken.result.reviewer.name} reviews, due "
            f"{taken.result.due.isoformat()}."
        ),
        reviewer=reviewer,
    )


@app.command("substitute-reviewer")
def substitute_reviewer_command(
    case_reference: CaseArg,
    name: Annotated[str, typer.Option(help="The substitute's name.")],
    email: Annotated[str, typer.Option(help="Their e-mail: they sign in with it.")],
    organisation: Annotated[
        str, typer.Option(help="Their own organisation (for conflicts of interest).")
    ],
    actor: AsOption = None,
    title: Annotated[str | None, typer.Option(help="Their title (optional).")] = None,
) -> None:
    """Name a reviewer from outside the advisory group for this case alone (when conflicts
    of interest left too few). A registered person with that e-mail is reused."""

    def said(taken: Taken) -> str:
        task = taken.result.task
        how = (
            "was registered already"
            if taken.result.reused
            else "added as an advisor outside the advisory group"
        )
        return (
            f"{case_reference}: {task.reviewer.name} <{task.reviewer.email}> ({how}) reviews "
            f"this case, due {task.due.isoformat()}."
        )

    act(
        "substitute_reviewer",
        case_reference,
        actor,
        said,
        values={"name": name, "email": email, "organisation": organisation, "title": title},
    )


@app.command("go-on-with-fewer")
def go_on_with_fewer_command(
    case_reference: CaseArg,
    reason: Annotated[
        str, typer.Option(help="Why the case goes on with fewer reviews than the quorum.")
    ],
    actor: AsOption = None,
) -> None:
    """Go on with the reviews there are when conflicts of interest left fewer reviewers
    than the quorum: a file note; the decision says so."""
    act(
        "go_on_with_fewer_reviews",
        case_reference,
        actor,
        lambda taken: (
            f"{case_reference}: goes on with fewer reviews than the quorum; the case is now "
            f"'{taken.state}'."
        ),
        reason=reason,
    )


meeting_app = typer.Typer(help="The meeting with the applicant.", no_args_is_help=True)
app.add_typer(meeting_app, name="meeting")


def _meeting_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace(" kl. ", " ").replace(".", ":"))
    except ValueError:
        raise fail(f"--at {value!r}: write the time as YYYY-MM-DD HH:MM") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=STOCKHOLM)


@meeting_app.command("book")
def meeting_book_command(
    case_reference: CaseArg,
    at: Annotated[str, typer.Option(help="Start, Swedish time: 2026-12-03 10:00.")],
    place: Annotated[str, typer.Option(help="Address, or how to join.")],
    actor: AsOption = None,
    minutes: Annotated[int | None, typer.Option(help="Length (default: config).")] = None,
) -> None:
    """Book the meeting: the applicant gets an invitation with a calendar file."""
    act(
        "book_meeting",
        case_reference,
        actor,
        lambda taken: f"{case_reference}: meeting {taken.result.number} booked for {at}, {place}.",
        starts_at=_meeting_time(at),
        minutes=minutes,
        place=place,
    )


@meeting_app.command("note")
def meeting_note_command(
    case_reference: CaseArg,
    actor: AsOption = None,
    text: Annotated[
        str | None,
        typer.Option(help="What was said, in the case's language (the applicant may read it)."),
    ] = None,
    file: Annotated[Path | None, typer.Option(help="… or a text file with it.")] = None,
) -> None:
    """Document the meeting as a file note; the case goes on to the draft decision."""
    if (text is None) == (file is None):
        raise fail("give the file note as --text TEXT or --file FILE")
    act(
        "document_meeting",
        case_reference,
        actor,
        lambda taken: f"{case_reference}: file note recorded; the case is now '{taken.state}'.",
        text=text if text is not None else read_text(file),
    )


@meeting_app.command("cancel")
def meeting_cancel_command(
    case_reference: CaseArg,
    reason: Annotated[str, typer.Option(help="Why the meeting is cancelled (in the letter).")],
    actor: AsOption = None,
) -> None:
    """Cancel the booked meeting: the applicant gets a cancellation with its calendar file;
    a new meeting can then be booked."""
    act(
        "cancel_meeting",
        case_reference,
        actor,
        lambda taken: (
            f"{case_reference}: meeting {taken.result.number} cancelled; the cancellation is "
            "on its way. Book a new meeting, or skip it."
        ),
        reason=reason,
    )


@meeting_app.command("skip")
def meeting_skip_command(
    case_reference: CaseArg,
    reason: Annotated[str, typer.Option(help="Why no meeting is needed.")],
    actor: AsOption = None,
) -> None:
    """Go on without a meeting; the reason goes on record."""
    act(
        "skip_meeting",
        case_reference,
        actor,
        lambda taken: f"{case_reference}: meeting skipped; the case is now '{taken.state}'.",
        reason=reason,
    )


@app.command("sweep")
def sweep_command() -> None:
    """Do what the calendar made due: supplement reminders and deadlines, overdue reviews,
    closing the cases whose gates are all open; and check the records (as grants verify
    does)."""
    settings_checked()
    from flows.assessment import sweep

    done = run_flow(sweep)
    out.print(
        f"Sweep: {done['reminders']} supplement reminder(s), {done['expired']} supplement "
        f"deadline(s) passed, {done['review_reminders']} review reminder(s), "
        f"{done['communications_expired']} communication deadline(s) passed, "
        f"{done['talk_invitations']} Community Talk invitation(s), {done['delay_notices']} "
        f"delay notice(s), {done['held']} deadline(s) held for a letter not delivered, "
        f"{done['cases_closed']} case(s) closed, "
        f"{done['integrity_mismatches']} integrity mismatch(es) (grants verify); "
        f"{done['sent']} letter(s) and {done['notices_sent']} notice(s) sent, "
        f"{done['failed']} letter(s) not delivered (grants undelivered)."
    )
