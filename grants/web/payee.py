"""The grant's acceptance and account on the case page: the case officer registers an
acceptance that came on paper (with the scanned paper) and changes the account; a second
person confirms a changed account, saying how it was verified. The declared steps
`register_acceptance`, `change_account` and `confirm_account`, as on the command line."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from grants.steps import Taken, take
from grants.steps.acceptance import Account
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.i18n import _
from grants.web.office_steps import OnCase, Posted
from grants.web.pages import notice
from grants.web.refusals import worded
from models.acceptance import account_text
from models.errors import Refused

router = APIRouter(prefix="/cases/{case_reference}")


def _account(form: Posted) -> Account:
    return Account(*(form.text(name) for name in ("bankgiro", "plusgiro", "clearing", "account")))


@router.post("/acceptance")
def register_acceptance(at: OnCase) -> Response:
    """An acceptance that came on paper: who signed, their role, the account, the scan."""
    paper = at.form.file("acceptance_file")
    return at.take(
        "register_acceptance",
        lambda taken: (
            _("Acceptance registered: %(name)s (%(role)s).")
            % {"name": taken.result.signatory_name, "role": taken.result.signatory_role}
        ),
        lambda: {
            "signatory_name": at.form.text("signatory_name"),
            "signatory_role": at.form.text("signatory_role"),
            "account": _account(at.form),
            "paper": paper if paper[0] or paper[1] else None,
        },
    )


@router.post("/account")
def change_account(at: OnCase) -> Response:
    """A new account to pay to: held until a second person confirms it."""
    return at.take(
        "change_account",
        _changed,
        lambda: {"account": _account(at.form)},
    )


def _changed(taken: Taken) -> str:
    return _(
        "The account is now %(account)s. Payments are held until another person confirms it."
    ) % {"account": account_text(taken.result)}


@router.post("/account/confirm")
def confirm_account(
    request: Request,
    office: OfficeDep,
    person: CurrentPerson,
    case_reference: str,
    verification: Annotated[str, Form()] = "",
) -> Response:
    """A second person confirms a changed account: the case officer, the decision maker or
    finance, never the one who registered it (the domain refuses them). Said as a notice on
    the case page either way: the form is one field."""
    try:
        take(office.settings, "confirm_account", person.email, case_reference,
             verification=verification)  # fmt: skip
    except Refused as refused:
        notice(request, _("Not confirmed: %(why)s") % {"why": worded(refused)})
    else:
        notice(request, _("The account is confirmed; payments to it are no longer held."))
    return RedirectResponse(f"/cases/{case_reference}#payee", 303)
