"""The follow-up a year after a funded project ended: the grantee's short form through its
personal link (`grants.applicant_links.follow_up_link`, mailed with the follow-up and its
reminder). No sign-in; made for a phone; in the case's language unless the visitor chose
the other. The answer is saved once and corrected until its deadline, through the step
`grants.steps.follow_ups.take_follow_up_answer`; a value that cannot be taken is shown at
its field, naming the value, and nothing changes. After the deadline the page shows the
answer as it stands."""

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from grants.applicant_links import read_follow_up
from grants.steps.follow_ups import take_follow_up_answer
from grants.web.applicant import Unusable, grantee_case, unusable_page, visitor_language
from grants.web.deps import OfficeDep
from grants.web.final_report import Posted
from grants.web.i18n import N_, _, language
from grants.web.office import Office
from grants.web.pages import page_language, render
from grants.web.refusals import refused_fields, words
from models import clock
from models.db import transaction
from models.errors import Refused
from models.follow_ups import (
    MAX_ROWS,
    OTHER,
    OURSELVES,
    ROW_FIELDS,
    FollowUpTyped,
    answer_deadline,
    asked_on,
    follow_up_of,
)
from models.tables import Case, FollowUp

router = APIRouter()
BLANK_ROWS = 2  # empty rows of further funding the form offers beyond those given
LABELS = {
    "continues": N_("Does the activity continue?"),
    "runner": N_("Who runs it now?"),
    "taken_over_by": N_("The organisation that took it over"),
    "text": N_("In a few words"),
    "funder": N_("Funder"),
    "amount": N_("Amount, kronor"),
    "date": N_("Date won"),
}


@router.get("/f/{token}")
def follow_up_page(request: Request, office: OfficeDep, token: str) -> Response:
    try:
        case = grantee_case(office, token, read_follow_up)
    except Unusable as unusable:
        return unusable_page(request, office, unusable)
    return _page(request, office, case)


@router.post("/f/{token}")
def follow_up_sent(request: Request, office: OfficeDep, token: str, form: Posted) -> Response:
    """The answer, or its correction: back to the page, which says it was kept."""
    try:
        case = grantee_case(office, token, read_follow_up)
    except Unusable as unusable:
        return unusable_page(request, office, unusable, sent_again=True)
    try:
        take_follow_up_answer(office.settings, case.case_reference, typed_follow_up(form))
    except Refused as refused:
        values = {key: value for key, value in form.items() if isinstance(value, str)}
        return _page(request, office, case, refused, values, 422)
    request.session["notice"] = "follow_up_saved"
    return RedirectResponse(f"/f/{token}", 303)


def typed_follow_up(form: FormData) -> FollowUpTyped:
    """The answer as typed, with the rows of further funding (`funding_<n>_<field>`)."""
    rows = []
    for number in range(1, MAX_ROWS + BLANK_ROWS + 2):
        if f"funding_{number}_funder" not in form:
            break
        rows.append({name: _text(form, f"funding_{number}_{name}") for name in ROW_FIELDS})
    return FollowUpTyped(
        continues=_text(form, "continues"),
        runner=_text(form, "runner"),
        taken_over_by=_text(form, "taken_over_by"),
        text=_text(form, "text"),
        funding=rows,
    )


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _page(
    request: Request,
    office: Office,
    case: Case,
    refused: Refused | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The form with the answer given (or, refused, what was typed), or the answer as it
    stands once its deadline has passed."""
    lang = visitor_language(request, case) or page_language(request)
    with transaction(office.settings.db_url) as session:
        if asked_on(session, case) is None:
            return unusable_page(request, office, Unusable("closed", 409, case))
        answer = follow_up_of(session, case)
        deadline = answer_deadline(case)
        context: dict[str, Any] = {
            "case": case,
            "organisation": case.organisation,
            "officer": case.case_officer,
            "deadline": deadline,
            "open": clock.today() <= deadline,
            "answer": answer,
            "form": form if form is not None else shown(answer),
            "rows": _rows(form, answer),
            "said": request.session.pop("notice", None),
        }
    if refused is not None:
        with language(lang):
            message = words(refused.code, _labelled(refused.params))
            fields = refused_fields(refused, context["form"]) or _unanswered(refused)
            context |= {"error": message, "field_errors": dict.fromkeys(fields, message)}
    return render(request, "follow_up.html", context, status, lang)


def _unanswered(refused: Refused) -> list[str]:
    """A question left unanswered (no choice posted) is still the field refused."""
    return [refused.params["field"]] if refused.code == "field.invalid" else []


def _labelled(params: dict[str, Any]) -> dict[str, Any]:
    """A refused field's parameters with the field named as the form labels it."""
    name = params.get("field")
    if not isinstance(name, str):
        return params
    if match := re.fullmatch(r"funding_(\d+)_(\w+)", name):
        number, part = match.groups()
        label = f"{_('Funding %(number)s') % {'number': number}}: {_(LABELS.get(part, part))}"
    else:
        label = _(LABELS.get(name, name))
    return params | {"field": label}


def shown(answer: FollowUp | None) -> dict[str, str]:
    """The answer given as the form's fields show it."""
    if answer is None:
        return {}
    values = {
        "continues": "yes" if answer.continues else "no",
        "runner": OTHER if answer.taken_over_by else OURSELVES,
        "taken_over_by": answer.taken_over_by,
        "text": answer.text,
    }
    for number, row in enumerate(answer.further_funding, 1):
        for name in ROW_FIELDS:
            values[f"funding_{number}_{name}"] = str(row[name])
    return values


def _rows(form: dict[str, str] | None, answer: FollowUp | None) -> int:
    """How many rows of further funding to offer: those given, and some empty."""
    if form is not None:
        return max(sum(1 for key in form if re.fullmatch(r"funding_\d+_funder", key)), 1)
    given = len(answer.further_funding) if answer else 0
    return min(given + BLANK_ROWS, MAX_ROWS)
