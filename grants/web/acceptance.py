"""The grantee's page: accepting a grant's conditions and giving the account to pay to,
through the personal link in the e-mail that brought the decision; later, changing the
account through the same link.

No sign-in: the signed link (`grants.applicant_links.acceptance_link`) is the grantee's key
to one case. The page is made for a phone, speaks the case's language (unless the visitor
chose the other), and shows the grant's amount and conditions from the signed decision. The
acceptance is taken once, by the domain (`models.acceptance`) through the step layer; a
refused account is shown at its field, naming the value, and nothing changes. Afterwards
the same link shows the receipt: who accepted, when, and the account, with a form to
change it (held until a second person at the Region confirms it).
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from grants.applicant_links import read_acceptance
from grants.render import format_date
from grants.steps.acceptance import Account, take_acceptance, take_account_change
from grants.web.applicant import Unusable, grantee_case, unusable_page, visitor_language
from grants.web.deps import OfficeDep
from grants.web.i18n import N_, _, language
from grants.web.office import Office
from grants.web.pages import page_language, render
from grants.web.refusals import refused_fields, worded
from models.acceptance import acceptance_of, account_text, grant_to_accept
from models.accounts import current_account, on_hold
from models.db import transaction
from models.errors import Refused
from models.tables import Case, local_time

router = APIRouter(prefix="/g/{token}")

# The standard conditions of a grant (models.decisions.STANDARD_CONDITIONS), as the page says
# them; a condition of the case's own is shown in the decision's words.
CONDITIONS = {
    "project_only": N_("The funds may be used only for the project described in the application."),
    "changes_need_approval": N_(
        "Changes to the project – its aims, activities, budget or period – must be approved "
        "by Region Örebro län before they are made."
    ),
    "credit_funder": N_(
        "Region Örebro län must be credited as funder whenever you communicate about the "
        "project, for example in print, on websites, in social media and in contacts with "
        "the press."
    ),
    "community_talk": N_(
        "The project is to present its results at a Community Talk (Samhällssamtal) held by "
        "the Partnership for Social Innovation. You will be invited."
    ),
    "final_report": N_("You must send a final report to Region Örebro län by %(due)s."),
    "reclaim": N_(
        "Region Örebro län may reclaim the funds, in whole or in part, if the conditions are "
        "not met or if the funds are not used for the purpose for which they were granted."
    ),
}
REPORT_AFTER_THE_END = N_(
    "You must send a final report to Region Örebro län when the project has ended."
)
ACCOUNT_FIELDS = ("bankgiro", "plusgiro", "clearing", "account")


@router.get("")
def grantee_page(request: Request, office: OfficeDep, token: str) -> Response:
    try:
        case = grantee_case(office, token, read_acceptance)
    except Unusable as unusable:
        return unusable_page(request, office, unusable)
    return _page(request, office, case)


@router.post("")
def accept(
    request: Request,
    office: OfficeDep,
    token: str,
    signatory_name: Annotated[str, Form()] = "",
    signatory_role: Annotated[str, Form()] = "",
    bankgiro: Annotated[str, Form()] = "",
    plusgiro: Annotated[str, Form()] = "",
    clearing: Annotated[str, Form()] = "",
    account: Annotated[str, Form()] = "",
) -> Response:
    try:
        case = grantee_case(office, token, read_acceptance)
    except Unusable as unusable:
        return unusable_page(request, office, unusable)
    form = {"signatory_name": signatory_name, "signatory_role": signatory_role}
    form |= _typed(bankgiro, plusgiro, clearing, account)
    given = Account(bankgiro, plusgiro, clearing, account)
    try:
        taken = take_acceptance(
            office.settings, case.case_reference, signatory_name, signatory_role, given
        )
    except Refused as refused:
        return _page(request, office, case, refused, form, 422)
    if taken.to_send:
        office.follow_up.poke()
    return RedirectResponse(f"/g/{token}", 303)


@router.post("/account")
def change(
    request: Request,
    office: OfficeDep,
    token: str,
    bankgiro: Annotated[str, Form()] = "",
    plusgiro: Annotated[str, Form()] = "",
    clearing: Annotated[str, Form()] = "",
    account: Annotated[str, Form()] = "",
) -> Response:
    try:
        case = grantee_case(office, token, read_acceptance)
    except Unusable as unusable:
        return unusable_page(request, office, unusable)
    form = _typed(bankgiro, plusgiro, clearing, account)
    given = Account(bankgiro, plusgiro, clearing, account)
    try:
        taken = take_account_change(office.settings, case.case_reference, given)
    except Refused as refused:
        return _page(request, office, case, refused, form, 422)
    if taken.to_send:
        office.follow_up.poke()
    request.session["notice"] = "account_changed"
    return RedirectResponse(f"/g/{token}", 303)


def _typed(bankgiro: str, plusgiro: str, clearing: str, account: str) -> dict[str, str]:
    """The account's fields as typed, to show again if refused."""
    return dict(zip(ACCOUNT_FIELDS, (bankgiro, plusgiro, clearing, account), strict=True))


def _page(
    request: Request,
    office: Office,
    case: Case,
    refused: Refused | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The form, or once accepted the receipt with the account and a form to change it;
    `refused`: why what was sent was not taken, at the top and at its fields."""
    lang = visitor_language(request, case) or page_language(request)
    with transaction(office.settings.db_url) as session:
        try:
            decision = grant_to_accept(session, case)
        except Refused:
            return unusable_page(request, office, Unusable("closed", 409, case))
        acceptance = acceptance_of(session, case)
        account = current_account(session, case)
        context: dict[str, Any] = {
            "case": case,
            "organisation": case.organisation,
            "officer": case.case_officer,
            "amount": decision.amount,
            "decided_at": decision.decided_at,
            "conditions": _conditions(decision.conditions, decision.final_report_due, lang),
            "acceptance": acceptance,
            "accepted_at": local_time(acceptance.accepted_at) if acceptance else None,
            "account": account_text(account, lang) if account else "",
            "held": acceptance is not None and on_hold(account),
            "changed": request.session.pop("notice", None) == "account_changed",
            "form": form or {},
        }
    if refused is not None:
        with language(lang):
            message = worded(refused)
            fields = refused_fields(refused, context["form"]) or _account_field(refused, form)
            context |= {"error": message, "field_errors": dict.fromkeys(fields, message)}
    return render(request, "grantee.html", context, status, lang)


def _account_field(refused: Refused, form: dict[str, str] | None) -> list[str]:
    """For "give one account", the account's fields that were filled in (or the first)."""
    if refused.code != "account.one":
        return []
    return [name for name in ACCOUNT_FIELDS if (form or {}).get(name)] or ["bankgiro"]


def _conditions(conditions: list[str], due: date | None, lang: str) -> list[str]:
    """The decision's conditions as the page says them, in `lang`."""
    with language(lang):
        return [_condition(code, due, lang) for code in conditions]


def _condition(code: str, due: date | None, lang: str) -> str:
    if code == "final_report" and due is None:
        return _(REPORT_AFTER_THE_END)
    if code in CONDITIONS:
        return _(CONDITIONS[code]) % {"due": format_date(due, lang) if due else ""}
    return code
