"""The final report: the grantee's form through its personal link, and the case officer's
approval or request for more on the case page.

No sign-in for the grantee: the signed link (`grants.applicant_links.report_link`), mailed
with the Community Talk invitation, the report's reminders and a request for more, is its key
to one case's report. The page is made for a phone and speaks the case's language (unless
the visitor chose the other). The grantee saves and comes back, then submits; a value that
cannot be taken is shown at its field, naming the value, and nothing changes. Once submitted
the page shows the receipt; after a request for more, the case officer's reason and the form
again. The case officer's steps (`grants.steps.final_report`) are taken from the case page's
final report section.
"""

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from grants.applicant_links import read_report
from grants.render import format_amount
from grants.steps import Taken
from grants.steps.final_report import take_report_save, take_report_submit
from grants.web.applicant import (
    NOT_TAKEN,
    Unusable,
    grantee_case,
    unusable_page,
    visitor_language,
)
from grants.web.deps import OfficeDep
from grants.web.form_values import take_or_show_again
from grants.web.i18n import N_, _, current_language, language
from grants.web.office import Office
from grants.web.office_steps import OnCase
from grants.web.pages import page_language, render
from grants.web.refusals import refused_fields, words
from grants.web.repayment import _shown_again
from models.db import transaction
from models.errors import Refused
from models.final_reports import (
    FUNDING_FIELDS,
    MAX_FUNDING_ROWS,
    NUMBERS,
    REPORTING_STATES,
    TEXTS,
    Typed,
    budget,
    granted_report,
    report_of,
)
from models.supplements import MAX_DOCUMENT_BYTES
from models.tables import Case, FinalReportStatus, local_time

router = APIRouter()
GRANTEE = "/r/{token}"
OFFICE = "/cases/{case_reference}/final-report"
BLANK_ROWS = 2  # empty rows of further funding the form offers beyond those given
# The form's fields as its labels name them, for a refusal that names its field.
LABELS = {
    "done": N_("What was done, against the plan"),
    "results": N_("Results"),
    "partners": N_("Partners"),
    "learned": N_("What you learned"),
    "spent_grant": N_("Grant spent"),
    "co_financing_cash": N_("Co-financing given in money, kronor"),
    "co_financing_hours": N_("Co-financing given in voluntary work, hours"),
    "funder": N_("Funder"),
    "amount": N_("Amount, kronor"),
    "date": N_("Date applied for or won"),
    "status": N_("Applied for or won"),
}


async def posted(request: Request) -> FormData:
    """The form as posted (read once; the form token was checked on it already)."""
    return await request.form()


Posted = Annotated[FormData, Depends(posted)]


# The grantee's form


@router.get(GRANTEE)
def report_page(request: Request, office: OfficeDep, token: str) -> Response:
    try:
        case = grantee_case(office, token, read_report)
    except Unusable as unusable:
        return unusable_page(request, office, unusable)
    return _page(request, office, case)


@router.post(GRANTEE)
def report_sent(request: Request, office: OfficeDep, token: str, form: Posted) -> Response:
    """Save, or save and submit (the button pressed): back to the page, which says which."""
    try:
        case = grantee_case(office, token, read_report)
    except Unusable as unusable:
        return unusable_page(request, office, unusable, sent_again=True)
    typed = typed_report(form)
    uploads = _uploads(form)
    submit = form.get("action") == "submit"
    take = take_report_submit if submit else take_report_save
    try:
        taken = take(office.settings, case.case_reference, typed, uploads)
    except Refused as refused:
        return _page(request, office, case, refused, _values(form), 422)
    if taken.to_send:
        office.follow_up.poke()
    request.session["notice"] = "report_submitted" if submit else "report_saved"
    return RedirectResponse(f"/r/{token}", 303)


def typed_report(form: FormData) -> Typed:
    """The report as typed: texts and sums, participants (`participants_<code>`) and the
    further funding's rows (`funding_<n>_<field>`, as many as were posted)."""
    fields = {name: _text(form, name) for name in (*TEXTS, *NUMBERS)}
    participants = {
        key.removeprefix("participants_"): _text(form, key)
        for key in form
        if key.startswith("participants_")
    }
    rows = []
    for number in range(1, MAX_FUNDING_ROWS + BLANK_ROWS + 2):
        if f"funding_{number}_funder" not in form:
            break
        rows.append({name: _text(form, f"funding_{number}_{name}") for name in FUNDING_FIELDS})
    return Typed(fields, participants, rows)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _uploads(form: FormData) -> list[tuple[str, bytes]]:
    """The files attached (one byte more than a case file may hold is enough to refuse)."""
    return [
        (value.filename or "", value.file.read(MAX_DOCUMENT_BYTES + 1))
        for value in form.getlist("attachments")
        if isinstance(value, UploadFile) and (value.filename or value.size)
    ]


def _values(form: FormData) -> dict[str, str]:
    """What was typed, to show again when refused."""
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _page(
    request: Request,
    office: Office,
    case: Case,
    refused: Refused | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The form with what was saved (or, refused, what was typed), or the receipt once
    submitted; `refused`: why what was sent was not taken, at the top and at its field."""
    lang = visitor_language(request, case) or page_language(request)
    with transaction(office.settings.db_url) as session:
        try:
            decision = granted_report(session, case)
        except Refused:
            return unusable_page(request, office, Unusable("closed", 409, case))
        report = report_of(session, case)
        if case.state not in REPORTING_STATES and (
            report is None or report.status is FinalReportStatus.draft
        ):
            return unusable_page(request, office, Unusable("closed", 409, case))
        answers = report.answers if report else {}
        context: dict[str, Any] = {
            "case": case,
            "organisation": case.organisation,
            "officer": case.case_officer,
            "amount": decision.amount,
            "due": decision.final_report_due,
            "report": report,
            "status": report.status.value if report else "new",
            "submitted_at": _local(report.submitted_at if report else None),
            "answers": answers,
            "budget": budget(case, decision, answers),
            "groups": _groups(case, lang),
            "form": form if form is not None else shown(case, answers),
            "rows": _rows(form, answers),
            "said": request.session.pop("notice", None),
        }
    if refused is not None:
        with language(lang):
            message = (
                _(NOT_TAKEN[refused.code]) % refused.params
                if refused.code in NOT_TAKEN
                else words(refused.code, _labelled(refused.params, dict(context["groups"])))
            )
            if refused.code.startswith("document.") and "filename" in refused.params:
                message = f"{refused.params['filename']}: {message}"  # which of the files
            fields = refused_fields(refused, context["form"]) or _file_field(refused)
            context |= {"error": message, "field_errors": dict.fromkeys(fields, message)}
    return render(request, "final_report.html", context, status, lang)


def _labelled(params: dict[str, Any], groups: dict[str, str]) -> dict[str, Any]:
    """A refused field's parameters with the field named as the form labels it."""
    name = params.get("field")
    if not isinstance(name, str):
        return params
    if name.startswith("participants_"):
        label = groups.get(name.removeprefix("participants_"), name)
    elif match := re.fullmatch(r"funding_(\d+)_(\w+)", name):
        number, part = match.groups()
        label = f"{_('Funding %(number)s') % {'number': number}}: {_(LABELS.get(part, part))}"
    else:
        label = _(LABELS.get(name, name))
    return params | {"field": label}


def _local(moment: datetime | None) -> datetime | None:
    return local_time(moment) if moment else None


def _file_field(refused: Refused) -> list[str]:
    return ["attachments"] if refused.code.startswith("document.") else []


def _groups(case: Case, lang: str) -> list[tuple[str, str]]:
    """The call's participant groups, each its code and its name in `lang`."""
    key = "name_en" if lang == "en" else "name"
    return [(group["code"], group[key]) for group in case.call.participant_groups]


def shown(case: Case, answers: dict[str, Any]) -> dict[str, str]:
    """The saved answers as the form's fields show them."""
    values = {name: str(answers.get(name) or "") for name in TEXTS}
    values |= {name: "" if answers.get(name) is None else str(answers[name]) for name in NUMBERS}
    for code, count in answers.get("participants", {}).items():
        values[f"participants_{code}"] = str(count)
    for number, row in enumerate(answers.get("further_funding", []), 1):
        for name in FUNDING_FIELDS:
            values[f"funding_{number}_{name}"] = str(row[name])
    return values


def _rows(form: dict[str, str] | None, answers: dict[str, Any]) -> int:
    """How many rows of further funding to offer: those given, and some empty."""
    given = len(answers.get("further_funding", []))
    if form is not None:
        given = sum(1 for key in form if key.startswith("funding_") and key.endswith("_funder"))
        return max(given, 1)
    return min(given + BLANK_ROWS, MAX_FUNDING_ROWS)


# The case officer's steps


def _take(
    at: OnCase, name: str, done: Callable[[Taken], str], parameters: Callable[[], dict]
) -> Response:
    """Take `name` from the case page's final report section; back to it, or the case page
    again with why."""
    return take_or_show_again(
        at.request,
        at.office,
        at.person,
        name,
        at.case_reference,
        parameters,
        lambda refusal: _shown_again(at, refusal),
        lambda taken: (done(taken), f"/cases/{at.case_reference}#final-report"),
    )


@router.post(f"{OFFICE}/approve")
def approve(at: OnCase) -> Response:
    def said(taken: Taken) -> str:
        approval = taken.result
        if approval.claim is not None:
            return _(
                "Final report approved. A repayment claim of %(amount)s for the money "
                "unspent is drafted."
            ) % {"amount": format_amount(approval.claim.amount, current_language())}
        if approval.unspent:
            return _(
                "Final report approved. It shows %(amount)s of the grant paid and not "
                "spent; you can draft a repayment claim for it below."
            ) % {"amount": format_amount(approval.unspent, current_language())}
        return _("Final report approved.")

    return _take(
        at,
        "approve_final_report",
        said,
        lambda: {"claim_unspent": at.form.text("claim_unspent") == "yes"},
    )


@router.post(f"{OFFICE}/more")
def more(at: OnCase) -> Response:
    return _take(
        at,
        "request_final_report_more",
        lambda _taken: _("More is asked for; the grantee is told by letter."),
        lambda: {"reason": at.form.text("more_reason")},
    )
