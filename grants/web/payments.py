"""Payment orders in the office: the case officer prepares a case's due instalments and
cancels an order not yet sent, on the case page; the decision maker and attestants attest
the orders someone else prepared, from their own list, confirming each first (an
attestation cannot be taken back). Each is a step of the step layer
(`grants.steps.payments`); who may attest is the domain's rule (`models.payments`)."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from grants.render import format_amount
from grants.steps import FINANCE, PEOPLE, Taken, reading, rehearse
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.form_values import day, refusal_status, take_or_show_again
from grants.web.i18n import _, current_language
from grants.web.office import Office
from grants.web.office_steps import ALWAYS, OnCase, PostedDep
from grants.web.pages import render
from grants.web.refusals import refused_context
from models import clock
from models.access import ConflictOfInterest, case_to_read
from models.cases import CaseNotFound
from models.errors import Refused
from models.payments import (
    case_reference_of,
    may_attest,
    order_in,
    sent_to_the_bank,
    to_attest,
)
from models.people import people
from models.tables import Person


def names(session: Session) -> dict[str, str]:
    """Who prepared an order, by name: orders keep the e-mail."""
    return {p.email: p.name for p in people(session)}


router = APIRouter()
TO_ATTEST = "/payments/to-attest"


@router.post("/cases/{case_reference}/payments/prepare")
def prepare(at: OnCase) -> Response:
    """The case's due instalments as payment orders, for another person to attest."""
    return at.take(
        "prepare_payment_orders",
        lambda taken: (
            _("Payment orders prepared: %(orders)s. Another person attests them.")
            % {
                "orders": ", ".join(
                    f"{o.end_to_end_id} ({_amount(o.amount)})" for o in taken.result
                )
            }
        ),
    )


@router.post("/cases/{case_reference}/payments/{order_id}/cancel")
def cancel(at: OnCase, order_id: int) -> Response:
    """Cancel an order not yet sent to the bank, saying why; confirmed first."""
    return at.take(
        "cancel_payment_order",
        lambda taken: (
            _("Payment order %(order)s is cancelled.") % {"order": taken.result.end_to_end_id}
        ),
        lambda: {"order_id": order_id, "reason": at.form.text("payment_cancel_reason")},
        confirm=ALWAYS,
    )


@router.get(TO_ATTEST)
def to_attest_page(request: Request, office: OfficeDep, person: CurrentPerson) -> Response:
    """The orders waiting for the reader's attestation: none they prepared themselves."""
    return _list_page(request, office, person, None)


def _list_page(
    request: Request, office: Office, person: Person, refusal: Exception | None
) -> Response:
    with reading(office.settings, person.email, PEOPLE) as (session, reader):
        context = {
            "person": reader,
            "attests": may_attest(reader),
            "orders": to_attest(session, reader),
            "names": names(session),
        }
        if refusal is not None:
            context |= refused_context(refusal, {})
        return render(request, "payments_to_attest.html", context, refusal_status(refusal))


@router.post("/payments/{order_id}/attest")
def attest(
    request: Request, order_id: int, office: OfficeDep, person: CurrentPerson, form: PostedDep
) -> Response:
    """Attest an order: first what is attested is shown (the step rehearsed, nothing
    kept), and it is taken only from there."""
    with reading(office.settings, person.email, PEOPLE) as (session, _reader):
        case_reference = case_reference_of(session, order_id) or ""
    if not form.text("confirmed"):
        return _confirmation(request, office, person, order_id, case_reference)
    return take_or_show_again(
        request,
        office,
        person,
        "attest_payment_order",
        case_reference,
        lambda: {"order_id": order_id},
        lambda refusal: _list_page(request, office, person, refusal),
        lambda taken: (_attested(taken), TO_ATTEST),
    )


def _attested(taken: Taken) -> str:
    return _("Payment order %(order)s is attested: %(amount)s.") % {
        "order": taken.result.end_to_end_id,
        "amount": _amount(taken.result.amount),
    }


def _amount(kronor: int) -> str:
    return format_amount(kronor, current_language())


def _confirmation(
    request: Request, office: Office, person: Person, order_id: int, case_reference: str
) -> Response:
    """The order as it will be attested, refused at once if it may not be."""
    settings = office.settings
    try:
        rehearse(settings, "attest_payment_order", person.email, case_reference, order_id=order_id)
    except (CaseNotFound, ConflictOfInterest):
        raise
    except Refused as refusal:
        return _list_page(request, office, person, refusal)
    with reading(settings, person.email, PEOPLE) as (session, reader):
        case = case_to_read(session, case_reference, reader)
        order = order_in(session, case, order_id)
        context = {"person": reader, "order": order, "names": names(session)}
        return render(request, "payment_attest_confirm.html", context)


def back_to_list(order_id: int, person: CurrentPerson) -> RedirectResponse:
    """The attestation's address opened as a page (the language switch): the list."""
    return RedirectResponse(TO_ATTEST, 303)


router.add_api_route("/payments/{order_id}/attest", back_to_list, methods=["GET"])


SENT = "/payments/sent"


@router.get(SENT)
def sent_page(request: Request, office: OfficeDep, person: CurrentPerson) -> Response:
    """Finance's orders sent to the bank and not yet reported paid, to register by hand."""
    return _sent_page(request, office, person, None)


def _sent_page(
    request: Request, office: Office, person: Person, refusal: Exception | None
) -> Response:
    with reading(office.settings, person.email, FINANCE) as (session, reader):
        context = {"person": reader, "orders": sent_to_the_bank(session), "today": clock.today()}
        if refusal is not None:
            context |= refused_context(refusal, {})
        return render(request, "payments_sent.html", context, refusal_status(refusal))


@router.post("/payments/{order_id}/paid")
def paid(
    request: Request, order_id: int, office: OfficeDep, person: CurrentPerson, form: PostedDep
) -> Response:
    """Register an order paid on the bank's date, as the bank's statement says."""
    with reading(office.settings, person.email, PEOPLE) as (session, _reader):
        case_reference = case_reference_of(session, order_id) or ""
    return take_or_show_again(
        request,
        office,
        person,
        "register_payment_paid",
        case_reference,
        lambda: {"order_id": order_id, "on": day(form.text("paid_on"), "paid_on")},
        lambda refusal: _sent_page(request, office, person, refusal),
        lambda taken: (
            _("Payment order %(order)s is registered as paid.")
            % {"order": taken.result.end_to_end_id},
            SENT,
        ),
    )


def back_to_sent(order_id: int, person: CurrentPerson) -> RedirectResponse:
    """The registration's address opened as a page (the language switch): the list."""
    return RedirectResponse(SENT, 303)


router.add_api_route("/payments/{order_id}/paid", back_to_sent, methods=["GET"])
