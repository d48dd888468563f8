"""Commands for the draft decision, the delegated decision and what follows it; each takes
its declared step by name (`grants.steps`)."""

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
    criterion_pairs,
    fail,
    out,
    read_file_argument,
    settings_checked,
    show_case,
)
from grants.cli.refusals import worded
from grants.reports import delegation_report_csv, delegation_report_name, delegation_report_pdf
from grants.steps import DECISION_MAKERS, OFFICERS, Taken, reading
from models.access import visible_cases
from models.decisions import (
    co_financing,
    delegation_rows,
    requirement_inputs,
)
from models.errors import Refused
from models.tables import Case, Outcome
from models.vocabulary import criterion_name

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
    if not (reason or outcome or amount or decisive or not_met or condition):
        show_case(case_reference, actor, OFFICERS, _show_draft_form)
        return

    def said(taken: Taken) -> str:
        draft = taken.result
        amount_text = f" {draft.amount} kr" if draft.amount else ""
        return (
            f"{case_reference}: draft decision version {draft.version}: "
            f"{draft.outcome}{amount_text}. Next: grants submit-draft."
        )

    act(
        "prepare_draft",
        case_reference,
        actor,
        said,
        outcome=outcome,
        amount=amount,
        reasons={c.value: text for c, text in criterion_pairs(reason, "--reason").items()},
        decisive=decisive,
        conditions=condition or [],
        not_met=not_met,
        reply_assessment=reply_assessment,
    )


def _show_draft_form(session: Session, case: Case) -> str:
    table = Table(
        title=f"{case.case_reference} {case.project_title}: findings to word the decision from",
        title_justify="left",
    )
    for column in ("Requirement", "Who", "Finding"):
        table.add_column(column, overflow="fold")
    for criterion, rows in requirement_inputs(session, case).items():
        for number, (who, text) in enumerate(rows):
            table.add_row(criterion_name(criterion, "en") if number == 0 else "", who, text)
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
    nothing_new_from_others: Annotated[
        bool,
        typer.Option(
            help="For a draft changed after the communication: record that it adds no "
            "material from others (FL 25 §); otherwise register it (grants material) and "
            "communicate again."
        ),
    ] = False,
) -> None:
    """Send the draft to the decision maker (a PDF by e-mail)."""
    act(
        "submit_draft",
        case_reference,
        actor,
        lambda taken: (
            f"{case_reference}: draft version {taken.result.version} is with the decision maker."
        ),
        no_communication_because=no_communication_because,
        nothing_new_from_others=nothing_new_from_others,
    )


@app.command("material")
def material_command(
    case_reference: CaseArg,
    source: Annotated[str, typer.Option(help="Who it comes from: 'Örebro kommun, …'.")],
    text: Annotated[str, typer.Option(help="The statement, or the document in short.")],
    file: Annotated[Path | None, typer.Option(help="The document, if there is one.")] = None,
    actor: AsOption = None,
) -> None:
    """Register material from others than the applicant that the draft rests on (FL 25 §):
    the next communication sends it; until then no decision rests on it."""
    act(
        "add_material",
        case_reference,
        actor,
        lambda taken: (
            f"{case_reference}: material from {taken.result.source} registered; "
            "communicate it before the draft goes on (grants communicate)."
        ),
        source=source,
        text=text,
        filename=file.name if file else "",
        content=read_file_argument(file) if file else b"",
    )


@app.command("sign")
def sign_command(case_reference: CaseArg, actor: AsOption = None) -> None:
    """Decide: sign the draft. Only the decision maker; the decision is then final."""

    def said(taken: Taken) -> str:
        decision = taken.result.decision
        return (
            f"{case_reference}: decided — {decision.outcome}"
            f"{f' {decision.amount} kr' if decision.amount else ''}. "
            f"The call has {taken.result.budget_left} kr left."
        )

    act("sign", case_reference, actor, said)


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
    act(
        "amend",
        case_reference,
        actor,
        lambda taken: f"{case_reference}: draft version {taken.result.version} ready to sign.",
        outcome=outcome,
        amount=amount,
        decisive=decisive,
        conditions=condition or [],
    )


@app.command("send-back")
def send_back_command(
    case_reference: CaseArg,
    comment: Annotated[str, typer.Option(help="What the case officer should look at.")],
    actor: AsOption = None,
) -> None:
    """Return the draft to the case officer with a comment."""
    act(
        "send_back",
        case_reference,
        actor,
        lambda _taken: f"{case_reference}: draft sent back to the case officer.",
        comment=comment,
    )


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
    act(
        "communicate",
        case_reference,
        actor,
        lambda taken: (
            f"{case_reference}: material sent; reply by {taken.result.deadline.isoformat()}."
        ),
    )


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
    act(
        "register_reply",
        case_reference,
        actor,
        lambda _taken: f"{case_reference}: reply registered; revise and submit the draft.",
        filename=file.name,
        content=read_file_argument(file),
        has_comments=not no_comments,
    )


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
    act(
        "register_withdrawal",
        case_reference,
        actor,
        lambda _taken: (
            f"{case_reference}: withdrawal registered; prepare the draft (grants draft), "
            "which closes the case, and submit it."
        ),
        filename=file.name,
        content=read_file_argument(file),
        reason=reason,
    )


talk_app = typer.Typer(help="Community Talks (Samhällssamtal).", no_args_is_help=True)
app.add_typer(talk_app, name="talk")


@talk_app.command("add")
def talk_add_command(
    held_on: Annotated[str, typer.Option("--date", help="YYYY-MM-DD.")],
    theme: Annotated[str, typer.Option(help="The theme, in Swedish.")],
    theme_en: Annotated[str, typer.Option(help="The theme, in English.")],
    venue: Annotated[str, typer.Option()],
    address: Annotated[str, typer.Option(help="The venue's street address.")],
    at: Annotated[str, typer.Option("--time", help="Time of day, HH:MM.")] = "14:00",
    ends: Annotated[
        str, typer.Option("--ends", help="When it ends, HH:MM. Default: two hours after --time.")
    ] = "",
    actor: AsOption = None,
) -> None:
    """Register a Community Talk (two a year); the sweep invites funded projects to it."""
    day = _date_option("--date", held_on)
    try:
        starts = time.fromisoformat(at)
    except ValueError:
        raise fail(f"--time {at!r}: write the time as HH:MM") from None
    try:
        ends_at = time.fromisoformat(ends) if ends else None
    except ValueError:
        raise fail(f"--ends {ends!r}: write the time as HH:MM") from None
    act(
        "register_talk",
        None,
        actor,
        lambda taken: (
            f"Community Talk on {taken.result.held_on.isoformat()} "
            f"{taken.result.starts_at}–{taken.result.ends_at}: "
            f"{taken.result.theme}, {taken.result.venue}, {taken.result.address}."
        ),
        held_on=day,
        theme=theme,
        venue=venue,
        starts_at=starts,
        theme_en=theme_en,
        address=address,
        ends_at=ends_at,
    )


@app.command("presented")
def presented_command(
    case_reference: CaseArg,
    on: Annotated[str, typer.Option(help="YYYY-MM-DD the project presented.")],
    actor: AsOption = None,
) -> None:
    """Record that a funded project presented at its Community Talk."""
    act(
        "record_presentation",
        case_reference,
        actor,
        lambda taken: f"{case_reference}: presentation recorded; the case is '{taken.state}'.",
        on=_date_option("--on", on),
    )


@app.command("final-report")
def final_report_command(
    case_reference: CaseArg,
    file: Annotated[Path, typer.Argument(help="The final report (slutrapport).")],
    actor: AsOption = None,
) -> None:
    """Register a funded project's final report."""
    act(
        "register_final_report",
        case_reference,
        actor,
        lambda taken: f"{case_reference}: final report registered; the case is '{taken.state}'.",
        filename=file.name,
        content=read_file_argument(file),
    )


def _date_option(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} {value!r}: write the date as YYYY-MM-DD") from None
