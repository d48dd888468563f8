"""The final report (slutrapport) through the grantee's personal link, and its approval.

The grantee writes the report in a form it can save and come back to: what was done against
the plan, the results, how many took part (by the groups the call names), the partners, the
spending against the budget with the co-financing actually given (money, and hours valued at
the call's rate), what they learned, the further funding applied for and won, and
attachments. It submits once it is complete. The case officer approves it, or asks for more
with a reason: the grantee is told by letter, edits the report and submits it again. Every
submission and every request is kept in the report's `rounds`: nothing sent is lost. A report
that came on paper is registered by the case officer and goes through the same approval.

Only an approved report releases the instalment paid after it (`models.payments`). If the
report shows less of the grant spent than was paid, the approval says how much is unspent
and may start a repayment claim draft for it (`models.repayment.draft_claim`).

The sweep reminds a grantee that has not submitted: some working days before the due date,
on it and after it, each once.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from sqlmodel import Session, col, func, select

from models.access import require_role
from models.audit import SYSTEM, Actor, record
from models.decisions import signed_grant
from models.errors import Refused
from models.letters import FINAL_REPORT_MORE, FINAL_REPORT_REMINDER, letter_key, order_letter
from models.notices import order_notice
from models.repayment import draft_claim
from models.states import CaseState
from models.supplements import file_document
from models.tables import (
    Case,
    Decision,
    Document,
    FinalReport,
    FinalReportStatus,
    Letter,
    PaymentOrder,
    PaymentStatus,
    Person,
    RepaymentClaim,
    Role,
    utcnow,
)
from models.validation import (
    MAX_TEXT,
    FieldError,
    invalid,
    parse_amount,
    parse_date,
)
from models.working_days import add_working_days, next_working_day, subtract_working_days

S = FinalReportStatus
KIND = "final_report"  # the kind of its attachments and of a paper report on the case
TEXTS = ("done", "results", "partners", "learned")
NUMBERS = ("spent_grant", "co_financing_cash", "co_financing_hours")
REQUIRED = ("done", "results", "learned", "spent_grant")  # to submit; saved without them
FUNDING_STATUSES = ("applied", "won")
FUNDING_FIELDS = ("funder", "amount", "date", "status")
MAX_FUNDING_ROWS = 30
MAX_COUNT = 10**7  # more people than a county has is a typing error
MAX_ATTACHMENTS = 20
# The grantee may report while the grant stands; the step layer's states for the officer.
REPORTING_STATES = (CaseState.decided, CaseState.reporting)
# Reminders to a grantee that has not submitted: (stage, working days from the due date).
REMINDERS = (("before", -10), ("on", 0), ("after", 5))


class ReportRefused(Refused, ValueError):
    """A final report, or a step on it, that cannot be taken now; nothing was changed."""

    messages: ClassVar[dict[str, str]] = {
        "final_report.no_grant": "case {case_reference} has no signed grant to report on",
        "final_report.not_a_count": "must be a whole number of people, 0 or more",
        "final_report.funding_status": "must be applied or won",
        "final_report.too_many": "{count} {what}: at most {limit}",
        "final_report.incomplete": "the final report of {case_reference} is not complete: "
        "still empty: {fields}",
        "final_report.submitted": "the final report of {case_reference} was submitted on "
        "{submitted_at} and waits for the case officer; it is edited again only if more is "
        "asked for",
        "final_report.approved": "the final report of {case_reference} is approved already",
        "final_report.not_submitted": "case {case_reference} has no final report waiting for "
        "the case officer (its report is '{status}')",
        "final_report.more_reason": "reason = '': say what more the report needs",
        "final_report.nothing_unspent": "claim_unspent: the report of {case_reference} shows "
        "nothing unspent ({paid} kr paid, {spent} kr spent)",
    }


@dataclass(frozen=True)
class Typed:
    """The report's form as the grantee typed it, each value a string: the texts and sums by
    field name, the participants by group code, and the further funding's rows (funder,
    amount, date, status)."""

    fields: dict[str, str] = field(default_factory=dict)
    participants: dict[str, str] = field(default_factory=dict)
    funding: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Approval:
    """An approved report, the grant unspent by its account (None: the report gives no
    spending, as on paper), and the repayment claim drafted for it, if asked for."""

    report: FinalReport
    unspent: int | None
    claim: RepaymentClaim | None


# Reading


def report_of(session: Session, case: Case) -> FinalReport | None:
    return session.exec(select(FinalReport).where(FinalReport.case_id == case.id)).first()


def final_report_approved(session: Session, case: Case) -> bool:
    """Whether the case officer has approved the case's final report."""
    report = report_of(session, case)
    return report is not None and report.status is S.approved


def granted_report(session: Session, case: Case) -> Decision:
    """The signed grant the report accounts for; refused on a case without one."""
    decision = signed_grant(session, case)
    if decision is None:
        raise ReportRefused("final_report.no_grant", case_reference=case.case_reference)
    return decision


def paid_out(session: Session, case: Case) -> int:
    """The grant paid to the grantee so far: the payment orders the bank has paid."""
    query = select(func.coalesce(func.sum(PaymentOrder.amount), 0)).where(
        PaymentOrder.case_id == case.id, PaymentOrder.status == PaymentStatus.paid
    )
    return int(session.exec(query).one())


def unspent(session: Session, case: Case, report: FinalReport) -> int | None:
    """The grant paid and not spent by the report's account; None if it gives no spending."""
    spent = report.answers.get("spent_grant")
    if spent is None:
        return None
    return max(paid_out(session, case) - spent, 0)


def budget(case: Case, decision: Decision, answers: dict[str, Any]) -> dict[str, int | None]:
    """The budget against the spending reported: the grant, and the co-financing planned in
    the application and actually given (money, and hours at the call's rate)."""
    rate = case.call.co_financing_hourly_rate
    hours = answers.get("co_financing_hours")
    return {
        "granted": decision.amount or 0,
        "spent_grant": answers.get("spent_grant"),
        "planned_cash": case.co_financing_cash,
        "given_cash": answers.get("co_financing_cash"),
        "planned_hours": case.co_financing_hours,
        "planned_hours_value": case.co_financing_hours * rate,
        "given_hours": hours,
        "given_hours_value": None if hours is None else hours * rate,
        "rate": rate,
    }


def report_facts(session: Session, case: Case) -> dict[str, Any]:
    """What the case page's final report section shows: the report as last saved or
    submitted with every round, the budget against the spending, what was paid and what of
    it is unspent; nothing on a case without a signed grant."""
    decision = signed_grant(session, case)
    if decision is None:
        return {}
    report = report_of(session, case)
    answers = report.answers if report else {}
    left = unspent(session, case, report) if report else None
    return {
        "report": report,
        "answers": answers,
        "budget": budget(case, decision, answers),
        "groups": case.call.participant_groups,
        "paid": paid_out(session, case),
        "unspent": left,
        "unspent_reason": unspent_reason(case, left, paid_out(session, case)) if left else "",
        "rounds": [entry | {"at": datetime.fromisoformat(entry["at"])} for entry in report.rounds]
        if report
        else [],
    }


# The grantee's form


def parsed(case: Case, typed: Typed) -> dict[str, Any]:
    """The answers as kept, from what was typed; refused naming the first field whose value
    cannot be taken (a negative or malformed number, a bad date, a text too long)."""
    answers: dict[str, Any] = {}
    for name in TEXTS:
        answers[name] = _text(name, typed.fields.get(name, ""))
    for name in NUMBERS:
        answers[name] = _number(name, typed.fields.get(name, ""), hours=name.endswith("hours"))
    groups = [group["code"] for group in case.call.participant_groups]
    answers["participants"] = {
        code: count
        for code in groups
        if (count := _count(f"participants_{code}", typed.participants.get(code, ""))) is not None
    }
    answers["further_funding"] = _funding(typed.funding)
    return answers


def save_report(
    session: Session, case: Case, typed: Typed, uploads: list[tuple[str, bytes]]
) -> FinalReport:
    """The grantee's answers kept as a draft to come back to, with any attachments filed on
    the case; refused once submitted (until more is asked for) or approved."""
    granted_report(session, case)
    report = report_of(session, case)
    if report is not None:
        _editable(case, report)
    answers = parsed(case, typed)
    actor = Actor.applicant_of(case)
    if report is None:
        report = FinalReport(case_id=case.id)
    attachments = list(report.answers.get("attachments", []))
    if len(attachments) + len(uploads) > MAX_ATTACHMENTS:
        raise ReportRefused(
            "final_report.too_many",
            count=len(attachments) + len(uploads),
            what="attachments",
            limit=MAX_ATTACHMENTS,
        )
    for filename, content in uploads:
        document = file_document(session, case, actor, KIND, filename, content)
        session.flush()
        attachments.append(
            {"document_id": document.id, "filename": document.filename, "sha256": document.sha256}
        )
    report.answers = answers | {"attachments": attachments}
    report.saved_at = utcnow()
    if report.status is not S.more_requested:
        report.status = S.draft
    session.add(report)
    record(session, case, actor, "final_report_saved", attachments=len(uploads))
    return report


def submit_report(
    session: Session, case: Case, typed: Typed, uploads: list[tuple[str, bytes]]
) -> FinalReport:
    """The grantee's report, saved and sent to the case officer: refused, and nothing saved,
    while a required answer is empty. The case officer is told."""
    answers = parsed(case, typed)
    empty = [name for name in REQUIRED if answers[name] in ("", None)]
    if empty:
        raise ReportRefused(
            "final_report.incomplete", case_reference=case.case_reference, fields=", ".join(empty)
        )
    report = save_report(session, case, typed, uploads)
    _submitted(session, case, report, Actor.applicant_of(case), dict(report.answers))
    if case.case_officer is not None:
        order_notice(
            session,
            f"{case.case_reference}/final_report/{_round(report)}",
            "final_report_submitted",
            case.case_officer,
            case,
            case_reference=case.case_reference,
            project_title=case.project_title,
            organisation=case.organisation.name,
        )
    return report


def register_paper(session: Session, case: Case, officer: Person, document: Document) -> None:
    """A final report that came on paper, registered by the case officer: submitted, for the
    same approval."""
    report = report_of(session, case) or FinalReport(case_id=case.id)
    _editable(case, report)
    report.document_id = document.id
    session.add(report)
    _submitted(session, case, report, Actor.of(officer), {"paper": document.sha256})


# The case officer's steps


def request_more(session: Session, case: Case, officer: Person, reason: str) -> FinalReport:
    """The report sent back to the grantee with what more it needs; the grantee is told by
    letter (its e-mail carries the link) and edits it again."""
    require_role(officer, "ask for more in a final report", Role.case_officer)
    report = _waiting(session, case)
    if not reason.strip():
        raise ReportRefused("final_report.more_reason")
    if len(reason.strip()) > MAX_TEXT:
        raise invalid(
            "reason", reason, FieldError("field.too_long", length=len(reason), limit=MAX_TEXT)
        )
    number = _requests(report) + 1
    report.status = S.more_requested
    report.more_reason = reason.strip()
    report.more_requested_at = utcnow()
    report.rounds = [
        *report.rounds,
        {
            "kind": "more_requested",
            "number": number,
            "reason": report.more_reason,
            "by": officer.email,
            "at": report.more_requested_at.isoformat(),
        },
    ]
    session.add(report)
    decision = granted_report(session, case)
    order_letter(
        session,
        case,
        FINAL_REPORT_MORE,
        {
            "reason": report.more_reason,
            "number": number,
            "final_report_due": _due(decision),
        },
        number=number,
    )
    actor = Actor.of(officer)
    record(session, case, actor, "final_report_more_requested", reason=report.more_reason)
    return report


def approve_report(
    session: Session, case: Case, officer: Person, claim_unspent: bool = False
) -> Approval:
    """The case officer approves the submitted report. If it shows grant money paid and not
    spent, the approval says how much; with `claim_unspent` it also drafts the repayment
    claim for that amount (`models.repayment`, whose rules apply)."""
    require_role(officer, "approve a final report", Role.case_officer)
    report = _waiting(session, case)
    left = unspent(session, case, report)
    if claim_unspent and not left:
        raise ReportRefused(
            "final_report.nothing_unspent",
            case_reference=case.case_reference,
            paid=paid_out(session, case),
            spent=report.answers.get("spent_grant", 0),
        )
    report.status = S.approved
    report.approved_by = officer.email
    report.approved_at = utcnow()
    report.rounds = [
        *report.rounds,
        {"kind": "approved", "by": officer.email, "at": report.approved_at.isoformat()},
    ]
    session.add(report)
    record(session, case, Actor.of(officer), "final_report_approved", unspent=left)
    claim = None
    if claim_unspent and left:
        reason = unspent_reason(case, left, paid_out(session, case))
        claim = draft_claim(session, case, officer, left, "unused", reason)
    return Approval(report, left, claim)


# The repayment claim's reason, in the case's language (its letters quote it).
UNSPENT_REASON = {
    "sv": "Enligt den godkända slutrapporten användes inte %(amount)s kr av de %(paid)s kr som "
    "betalats ut.",
    "en": "According to the approved final report, %(amount)s kr of the %(paid)s kr paid out "
    "was not used.",
}


def unspent_reason(case: Case, amount: int, paid: int) -> str:
    """Why the unspent money is claimed back, in the case's language (the claim's letters
    quote it)."""
    return UNSPENT_REASON[case.language.value] % {"amount": amount, "paid": paid}


# The sweep


def remind_final_reports(session: Session, today: date) -> int:
    """Remind each grantee that has not submitted its final report, before, on and after the
    due date (working days): the latest stage due, each once, however often the sweep runs."""
    funded = session.exec(
        select(Case).where(col(Case.state).in_(REPORTING_STATES)).with_for_update()
    ).all()
    reminded = 0
    for case in funded:
        decision = signed_grant(session, case)
        if decision is None or decision.final_report_due is None:
            continue
        report = report_of(session, case)
        if report is not None and report.submitted_at is not None:
            continue
        stage = _stage_due(decision.final_report_due, today)
        if stage is None or _reminded(session, case, stage):
            continue
        number = [name for name, _ in REMINDERS].index(stage) + 1
        order_letter(
            session,
            case,
            FINAL_REPORT_REMINDER,
            {"stage": stage, "final_report_due": decision.final_report_due.isoformat()},
            number=number,
        )
        record(session, case, SYSTEM, "final_report_reminded", stage=stage)
        reminded += 1
    return reminded


def reminder_day(due: date, days: int) -> date:
    """The working day `days` working days from the due date (the due date itself, or the
    next working day if it falls on a holiday, for 0)."""
    if days < 0:
        return subtract_working_days(due, -days)
    if days == 0:
        return next_working_day(due)
    return add_working_days(due, days)


def _stage_due(due: date, today: date) -> str | None:
    """The latest reminder whose day has come; a stage passed unsent is not sent late."""
    came = [name for name, days in REMINDERS if reminder_day(due, days) <= today]
    return came[-1] if came else None


def _reminded(session: Session, case: Case, stage: str) -> bool:
    """Whether the reminder of `stage`, or a later one, went out already."""
    names = [name for name, _ in REMINDERS]
    later = range(names.index(stage) + 1, len(names) + 1)
    keys = [letter_key(case, FINAL_REPORT_REMINDER, number) for number in later]
    query = select(Letter.id).where(col(Letter.letter_key).in_(keys))
    return session.exec(query).first() is not None


# Inside


def _editable(case: Case, report: FinalReport) -> None:
    if report.status is S.submitted:
        raise ReportRefused(
            "final_report.submitted",
            case_reference=case.case_reference,
            submitted_at=report.submitted_at,
        )
    if report.status is S.approved:
        raise ReportRefused("final_report.approved", case_reference=case.case_reference)


def _waiting(session: Session, case: Case) -> FinalReport:
    """The report submitted and waiting for the case officer."""
    report = report_of(session, case)
    if report is None or report.status is not S.submitted:
        raise ReportRefused(
            "final_report.not_submitted",
            case_reference=case.case_reference,
            status=report.status if report else "not begun",
        )
    return report


def _submitted(
    session: Session, case: Case, report: FinalReport, actor: Actor, sent: dict[str, Any]
) -> None:
    """The report waits for the case officer; what was sent is kept as this round's."""
    report.status = S.submitted
    report.submitted_at = utcnow()
    report.rounds = [
        *report.rounds,
        {
            "kind": "submitted",
            "number": _round(report) + 1,
            "by": actor.who,
            "at": report.submitted_at.isoformat(),
            "answers": sent,
        },
    ]
    session.add(report)
    record(session, case, actor, "final_report_submitted", number=_round(report))


def _round(report: FinalReport) -> int:
    return sum(1 for entry in report.rounds if entry["kind"] == "submitted")


def _requests(report: FinalReport) -> int:
    return sum(1 for entry in report.rounds if entry["kind"] == "more_requested")


def _due(decision: Decision) -> str | None:
    return decision.final_report_due.isoformat() if decision.final_report_due else None


def _text(name: str, value: str) -> str:
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise invalid(name, value, FieldError("field.too_long", length=len(text), limit=MAX_TEXT))
    return text


def _number(name: str, value: str, hours: bool = False) -> int | None:
    """Whole kronor (or hours), or None if left empty; a negative one is refused as such."""
    text = value.strip()
    if not text:
        return None
    if text.startswith(("-", "−")):
        raise invalid(name, value, FieldError("field.negative"))
    try:
        return parse_amount(text)
    except FieldError as error:
        raise invalid(name, value, FieldError("field.not_hours") if hours else error) from None


def _count(name: str, value: str) -> int | None:
    """A number of people, or None if left empty."""
    text = value.strip().replace(" ", "")
    if not text:
        return None
    if text.startswith(("-", "−")) and text[1:].isdigit():
        raise invalid(name, value, FieldError("field.negative"))
    if not text.isascii() or not text.isdigit() or int(text) > MAX_COUNT:
        raise invalid(name, value, ReportRefused("final_report.not_a_count"))
    return int(text)


def _funding(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The further funding's rows, each funder, amount, date and applied/won; an empty row is
    left out, a row begun must be whole."""
    filled = [row for row in rows if any(str(row.get(key, "")).strip() for key in FUNDING_FIELDS)]
    if len(filled) > MAX_FUNDING_ROWS:
        raise ReportRefused(
            "final_report.too_many", count=len(filled), what="rows", limit=MAX_FUNDING_ROWS
        )
    kept = []
    for number, row in enumerate(rows, 1):
        if row not in filled:
            continue
        kept.append(_funding_row(number, row))
    return kept


def _funding_row(number: int, row: dict[str, str]) -> dict[str, Any]:
    prefix = f"funding_{number}_"
    funder = row.get("funder", "").strip()
    if not funder:
        raise invalid(prefix + "funder", "", FieldError("field.required"))
    if len(funder) > 200:
        raise invalid(
            prefix + "funder", funder, FieldError("field.too_long", length=len(funder), limit=200)
        )
    amount = _number(prefix + "amount", row.get("amount", ""))
    if amount is None:
        raise invalid(prefix + "amount", "", FieldError("field.required"))
    day = row.get("date", "").strip()
    try:
        on = parse_date(day)
    except FieldError as error:
        raise invalid(prefix + "date", day, error) from None
    status = row.get("status", "").strip()
    if status not in FUNDING_STATUSES:
        raise invalid(prefix + "status", status, ReportRefused("final_report.funding_status"))
    return {"funder": funder, "amount": amount, "date": on.isoformat(), "status": status}
