"""Commands for the draft decision and the delegated decision."""

from datetime import date, time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import Session

from grants.cli.common import (
    AsOption,
    CaseArg,
    act,
    act_on_case,
    criterion_pairs,
    fail,
    out,
    read_file_argument,
    settings_checked,
)
from grants.cli.refusals import worded
from grants.reports import delegation_report_csv, delegation_report_name, delegation_report_pdf
from grants.settings import Settings
from grants.steps import DECISION_MAKERS, OFFICERS, reading
from models import clock
from models.access import visible_cases
from models.checklist import CRITERIA
from models.communication import communicate, register_reply
from models.community_talks import record_presentation, register_final_report, register_talk
from models.decisions import (
    amend,
    co_financing,
    delegation_rows,
    prepare_draft,
    remaining_budget,
    requirement_inputs,
    send_back,
    sign,
    submit_for_decision,
)
from models.errors import Refused
from models.rules import Rules
from models.tables import Case, Criterion, Outcome, Person
from models.withdrawal import register_withdrawal

app = typer.Typer()

OutcomeOption = Annotated[Outcome | None, typer.Option(help="Default: what the reviews say.")]
AmountOption = Annotated[int | None, typer.Option(help="Kronor granted.")]
ConditionOption = Annotated[
    list[str] | None, typer.Option("--condition", help="A condition beyond the standard ones.")
]


@app.command("draft")
def draft_command(
    case_reference: CaseArg,
    actor: AsOption = None,
    outcome: OutcomeOption = None,
    amount: AmountOption = None,
    reason: Annotated[
        list[str] | None,
        typer.Option(
            help="CRITERION=TEXT, once per basic requirement: the decision's own finding, in "
            "the case's language (the reviews are input, not the text)."
        ),
    ] = None,
    not_met: Annotated[
        list[str] | None,
        typer.Option(help="A requirement the draft finds not met (default: the checklist's)."),
    ] = None,
    decisive: Annotated[
        str, typer.Option(help="What was decisive (FL 32 §); for a cut, what it rests on.")
    ] = "",
    reply_assessment: Annotated[
        str, typer.Option(help="What was made of the applicant's comments (FL 25 §).")
    ] = "",
    condition: ConditionOption = None,
) -> None:
    """Prepare the draft decision in its own words (a new version). Without options: the
    draft form, each requirement's findings from the checklist and the reviews side by side."""
    reasons = {c.value: text for c, text in criterion_pairs(reason, "--reason").items()}
    showing = not (reason or outcome or amount or decisive or not_met or condition)

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> str:
        if showing:
            return _show_draft_form(session, case)
        draft = prepare_draft(
            session,
            case,
            officer,
            Rules.from_config(settings.file),
            outcome,
            amount,
            reasons,
            decisive,
            condition or [],
            not_met,
            reply_assessment,
        )
        amount_text = f" {draft.amount} kr" if draft.amount else ""
        return (
            f"{case.case_reference}: draft decision version {draft.version}: "
            f"{draft.outcome}{amount_text}. Next: grants submit-draft."
        )

    act_on_case(case_reference, actor, OFFICERS, step)


def _show_draft_form(session: Session, case: Case) -> str:
    table = Table(
        title=f"{case.case_reference} {case.project_title}: findings to word the decision from",
        title_justify="left",
    )
    for column in ("Requirement", "Who", "Finding"):
        table.add_column(column, overflow="fold")
    for criterion, rows in requirement_inputs(session, case).items():
        for number, (who, text) in enumerate(rows):
            table.add_row(CRITERIA[Criterion(criterion)] if number == 0 else "", who, text)
    found = co_financing(case, None)
    table.add_row(
        "co-financing",
        "intake",
        f"{found['cash']} kr + {found['hours']} h × {found['rate']} kr = {found['total']} kr",
    )
    out.print(table)
    language = "English" if case.language == "en" else "Swedish"
    return (
        f"State: {case.state}. Write the decision's findings in {language}: grants draft "
        f"{case.case_reference} --reason CRITERION=TEXT … [--not-met CRITERION] [--decisive …]"
    )


@app.command("submit-draft")
def submit_draft_command(
    case_reference: CaseArg,
    actor: AsOption = None,
    no_communication_because: Annotated[
        str,
        typer.Option(
            help="For a draft against the applicant that was not communicated: why that is "
            "obviously unnecessary (FL 25 §). Goes into the file."
        ),
    ] = "",
) -> None:
    """Send the draft to the decision maker (a PDF by e-mail)."""

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> str:
        draft = submit_for_decision(
            session, case, officer, Rules.from_config(settings.file), no_communication_because
        )
        return f"{case.case_reference}: draft version {draft.version} is with the decision maker."

    act_on_case(case_reference, actor, OFFICERS, step)


@app.command("sign")
def sign_command(case_reference: CaseArg, actor: AsOption = None) -> None:
    """Decide: sign the draft. Only the decision maker; the decision is then final."""

    def step(session: Session, settings: Settings, maker: Person, case: Case) -> str:
        decision = sign(session, case, maker, Rules.from_config(settings.file))
        left = remaining_budget(session, case.call)
        return (
            f"{case.case_reference}: decided — {decision.outcome}"
            f"{f' {decision.amount} kr' if decision.amount else ''}. "
            f"The call has {left} kr left."
        )

    act_on_case(case_reference, actor, DECISION_MAKERS, step)


@app.command("amend")
def amend_command(
    case_reference: CaseArg,
    actor: AsOption = None,
    outcome: OutcomeOption = None,
    amount: AmountOption = None,
    decisive: Annotated[str, typer.Option(help="What was decisive.")] = "",
    condition: ConditionOption = None,
) -> None:
    """Change the draft before signing it (a new version)."""

    def step(session: Session, settings: Settings, maker: Person, case: Case) -> str:
        draft = amend(
            session,
            case,
            maker,
            Rules.from_config(settings.file),
            outcome,
            amount,
            decisive,
            condition or [],
        )
        return f"{case.case_reference}: draft version {draft.version} ready to sign."

    act_on_case(case_reference, actor, DECISION_MAKERS, step)


@app.command("send-back")
def send_back_command(
    case_reference: CaseArg,
    comment: Annotated[str, typer.Option(help="What the case officer should look at.")],
    actor: AsOption = None,
) -> None:
    """Return the draft to the case officer with a comment."""

    def step(session: Session, settings: Settings, maker: Person, case: Case) -> str:
        send_back(session, case, maker, comment)
        return f"{case.case_reference}: draft sent back to the case officer."

    act_on_case(case_reference, actor, DECISION_MAKERS, step)


@app.command("delegation-report")
def delegation_report_command(
    first: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    last: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the PDF and the CSV.")] = Path(
        "."
    ),
    actor: AsOption = None,
) -> None:
    """The delegated decisions of a period, for the committee: a PDF and a CSV (case officers
    and the decision maker; without the cases the reader declared a conflict of interest in)."""
    try:
        period = (date.fromisoformat(first), date.fromisoformat(last))
    except ValueError:
        raise fail(f"--from {first!r} / --to {last!r}: write dates as YYYY-MM-DD") from None
    if period[1] < period[0]:
        raise fail(f"--to {last} is before --from {first}")
    settings = settings_checked()
    try:
        with reading(settings, actor, OFFICERS + DECISION_MAKERS) as (session, reader):
            visible = {case.case_reference for case in visible_cases(session, reader)}
            rows = [r for r in delegation_rows(session, *period) if r["case_reference"] in visible]
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / delegation_report_name(*period, "")
    stem.with_suffix(".csv").write_bytes(delegation_report_csv(rows))
    stem.with_suffix(".pdf").write_bytes(delegation_report_pdf(settings, *period, rows))
    out.print(f"{len(rows)} decision(s): {stem}.pdf and {stem}.csv", highlight=False)


@app.command("communicate")
def communicate_command(case_reference: CaseArg, actor: AsOption = None) -> None:
    """FL 25 §: send the applicant the material the draft rests on, with a reply deadline."""

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> str:
        sent = communicate(session, case, officer, Rules.from_config(settings.file), clock.today())
        return f"{case.case_reference}: material sent; reply by {sent.deadline.isoformat()}."

    act_on_case(case_reference, actor, OFFICERS, step)


@app.command("reply")
def reply_command(
    case_reference: CaseArg,
    file: Annotated[Path, typer.Argument(help="The applicant's reply.")],
    actor: AsOption = None,
    no_comments: Annotated[
        bool, typer.Option(help="The applicant says they have no comments.")
    ] = False,
) -> None:
    """Register the applicant's reply to a communication; the draft is looked at again."""
    content = read_file_argument(file)

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> str:
        register_reply(session, case, officer, file.name, content, not no_comments)
        return f"{case.case_reference}: reply registered; revise and submit the draft."

    act_on_case(case_reference, actor, OFFICERS, step)


@app.command("withdraw")
def withdraw_command(
    case_reference: CaseArg,
    file: Annotated[Path, typer.Argument(help="The applicant's withdrawal (återkallelse).")],
    reason: Annotated[
        str, typer.Option(help="What closing the case rests on, in the case's language.")
    ],
    actor: AsOption = None,
) -> None:
    """The applicant withdraws: the case goes to a draft that closes it (avskrivs)."""
    content = read_file_argument(file)

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> str:
        register_withdrawal(session, case, officer, file.name, content, reason)
        return (
            f"{case.case_reference}: withdrawal registered; prepare the draft (grants draft), "
            "which closes the case, and submit it."
        )

    act_on_case(case_reference, actor, OFFICERS, step)


talk_app = typer.Typer(help="Community Talks (Samhällssamtal).", no_args_is_help=True)
app.add_typer(talk_app, name="talk")


@talk_app.command("add")
def talk_add_command(
    held_on: Annotated[str, typer.Option("--date", help="YYYY-MM-DD.")],
    theme: Annotated[str, typer.Option(help="The theme, in Swedish.")],
    theme_en: Annotated[str, typer.Option(help="The theme, in English.")],
    venue: Annotated[str, typer.Option()],
    at: Annotated[str, typer.Option("--time", help="Time of day, HH:MM.")] = "14:00",
    actor: AsOption = None,
) -> None:
    """Register a Community Talk (two a year); the sweep invites funded projects to it."""
    day = _date_option("--date", held_on)
    try:
        starts = time.fromisoformat(at)
    except ValueError:
        raise fail(f"--time {at!r}: write the time as HH:MM") from None

    def step(session: Session, settings: Settings, officer: Person) -> str:
        talk = register_talk(session, officer, day, theme, venue, clock.today(), starts, theme_en)
        return (
            f"Community Talk on {talk.held_on.isoformat()} at {talk.starts_at}: "
            f"{talk.theme}, {talk.venue}."
        )

    act(actor, OFFICERS, step)


@app.command("presented")
def presented_command(
    case_reference: CaseArg,
    on: Annotated[str, typer.Option(help="YYYY-MM-DD the project presented.")],
    actor: AsOption = None,
) -> None:
    """Record that a funded project presented at its Community Talk."""
    day = _date_option("--on", on)

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> str:
        record_presentation(session, case, officer, day)
        return f"{case.case_reference}: presentation recorded; the case is '{case.state}'."

    act_on_case(case_reference, actor, OFFICERS, step)


@app.command("final-report")
def final_report_command(
    case_reference: CaseArg,
    file: Annotated[Path, typer.Argument(help="The final report (slutrapport).")],
    actor: AsOption = None,
) -> None:
    """Register a funded project's final report."""
    content = read_file_argument(file)

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> str:
        register_final_report(session, case, officer, file.name, content)
        return f"{case.case_reference}: final report registered; the case is '{case.state}'."

    act_on_case(case_reference, actor, OFFICERS, step)


def _date_option(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} {value!r}: write the date as YYYY-MM-DD") from None
