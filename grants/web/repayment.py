"""The office's repayment claims (återkrav, models.repayment): the section on a granted
case's page where the case officer drafts, communicates and registers the reply, the
decision maker decides or withdraws, and a case officer or the finance department
registers what was paid back; and the list of claims unpaid past their due date. Each form
takes its declared step by name (`grants.steps.repayment`)."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from grants.steps import Taken, reading
from grants.steps.repayment import OVERDUE_READERS
from grants.web.cases import CASE_READERS, case_page_context
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.form_values import amount, day, refusal_status, take_or_show_again
from grants.web.i18n import _
from grants.web.office_steps import LETTERS, OnCase
from grants.web.pages import render
from grants.web.refusals import refused_context
from models import clock
from models.access import case_to_read, visible_cases
from models.reference_data import NotAllowed
from models.repayment import overdue_list
from models.tables import Role

router = APIRouter()
CLAIM = "/cases/{case_reference}/repayment"
OVERDUE = "/repayment/overdue"


def _take(
    at: OnCase,
    name: str,
    done: Callable[[Taken], str],
    parameters: Callable[[], dict[str, Any]],
    back: str = "",
) -> Response:
    """Take the step `name` from the case page's repayment section; back to it (or to
    `back`), or the case page again with why, as the case officer or the decision maker who
    posted it sees it."""
    target = back or f"/cases/{at.case_reference}#repayment"
    return take_or_show_again(
        at.request,
        at.office,
        at.person,
        name,
        at.case_reference,
        parameters,
        lambda refusal: _shown_again(at, refusal),
        lambda taken: (done(taken), target),
    )


def _shown_again(at: OnCase, refusal: Exception) -> Response:
    """The case page with the refusal at the top and at its field, what was typed kept;
    someone who may not read the case gets the refusal alone (403)."""
    again = {"shown_letter": None, "form": at.form.values()}
    again |= refused_context(refusal, at.form.sent())
    settings = at.office.settings
    try:
        with reading(settings, at.person.email, CASE_READERS) as (session, reader):
            case = case_to_read(session, at.case_reference, reader)
            page = case_page_context(session, case, reader, settings.rules) | again
            return render(at.request, "case.html", page, refusal_status(refusal))
    except NotAllowed as not_allowed:
        raise (refusal if isinstance(refusal, NotAllowed) else not_allowed) from None


def _number(at: OnCase) -> int:
    text = at.form.text("number")
    return int(text) if text.isascii() and text.isdigit() else 0


def _said(message: str) -> Callable[[Taken], str]:
    return lambda taken: message % {"number": taken.result.number}


@router.post(f"{CLAIM}/draft")
def draft(at: OnCase) -> Response:
    return _take(
        at,
        "repayment_draft",
        _said(_("Repayment claim %(number)s drafted.")),
        lambda: {
            "amount": amount(at.form.text("repayment_amount"), "repayment_amount") or 0,
            "reason_kind": at.form.text("repayment_reason_kind"),
            "reason": at.form.text("repayment_reason"),
        },
    )


@router.post(f"{CLAIM}/communicate")
def communicate(at: OnCase) -> Response:
    """The case officer sees the letter before it goes (the confirmation page)."""
    return at.take(
        "repayment_communicate",
        _said(_("Repayment claim %(number)s sent to the grantee for comments.")),
        lambda: {"number": _number(at)},
        confirm=LETTERS,
    )


@router.post(f"{CLAIM}/reply")
def reply(at: OnCase) -> Response:
    return _take(
        at,
        "repayment_reply",
        _said(_("The grantee's reply to repayment claim %(number)s registered.")),
        lambda: {"number": _number(at), "reply": at.form.text("reply")},
    )


@router.post(f"{CLAIM}/decide")
def decide(at: OnCase) -> Response:
    return _take(
        at,
        "repayment_decide",
        _said(_("Repayment claim %(number)s decided; the decision goes to the grantee.")),
        lambda: {"number": _number(at), "reply_assessment": at.form.text("reply_assessment")},
    )


@router.post(f"{CLAIM}/withdraw")
def withdraw(at: OnCase) -> Response:
    return _take(
        at,
        "repayment_withdraw",
        _said(_("Repayment claim %(number)s withdrawn.")),
        lambda: {"number": _number(at), "reason": at.form.text("withdrawal_reason")},
    )


@router.post(f"{CLAIM}/paid")
def paid(at: OnCase) -> Response:
    def said(taken: Taken) -> str:
        claim = taken.result
        return _("Payment on repayment claim %(number)s registered.") % {"number": claim.number}

    return _take(
        at,
        "repayment_paid",
        said,
        lambda: {
            "number": _number(at),
            "paid_on": day(at.form.text("paid_on"), "paid_on"),
            "amount": amount(at.form.text("paid_amount"), "paid_amount") or 0,
        },
        # The finance department registers from the overdue list: it reads no case page.
        OVERDUE if at.person.role == Role.finance else "",
    )


@router.get(OVERDUE)
def overdue_page(request: Request, office: OfficeDep, person: CurrentPerson) -> Response:
    """The claims unpaid past their due date, for the finance department and the officers."""
    with reading(office.settings, person.email, OVERDUE_READERS) as (session, reader):
        visible = {case.id for case in visible_cases(session, reader)}
        rows = overdue_list(session, clock.today(), visible)
        return render(request, "repayment_overdue.html", {"person": reader, "rows": rows})
