"""The office's part in closing a case when the law lets it (models.closing): the notice
board's days (the page where the case officer registers the day the minutes reporting the
delegated decisions were announced), and on a decided case's page the appeal
(laglighetsprövning) and the court's ruling. Each form takes its declared step by name
(`grants.steps.closing`); the case page lists the gates (`grants.web.gates`)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select

from grants.steps import OFFICERS, reading, take
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.form_values import UnreadableForm, day
from grants.web.i18n import _
from grants.web.office import Office
from grants.web.office_steps import OnCase, PostedDep
from grants.web.pages import notice, render
from grants.web.refusals import refused_context
from models.errors import Refused
from models.reference_data import NotAllowed
from models.tables import NoticeBoardDay, Person

router = APIRouter()
NOTICE_BOARD = "/notice-board"


@router.get(NOTICE_BOARD)
def notice_board_page(request: Request, office: OfficeDep, person: CurrentPerson) -> Response:
    return _notice_board(request, office, person)


def _notice_board(
    request: Request, office: Office, person: Person, status: int = 200, **extra: Any
) -> Response:
    """The registered notice-board days, the latest first, and the form for the next."""
    with reading(office.settings, person.email, OFFICERS) as (session, reader):
        query = select(NoticeBoardDay).order_by(col(NoticeBoardDay.covers_until).desc())
        days = list(session.exec(query))
        page = {"person": reader, "days": days, "form": {}} | extra
        return render(request, "notice_board.html", page, status)


@router.post(NOTICE_BOARD)
def notice_board_day_add(
    request: Request, office: OfficeDep, person: CurrentPerson, form: PostedDep
) -> Response:
    """The day the notice board announced the minutes: the time for appeal of the
    decisions they reported starts."""
    try:
        taken = take(
            office.settings,
            "register_notice_board_day",
            person.email,
            announced_on=day(form.text("announced_on"), "announced_on"),
            covers_until=day(form.text("covers_until"), "covers_until"),
        )
    except NotAllowed:
        raise
    except (Refused, UnreadableForm) as refusal:
        refused = refused_context(refusal, form.sent())
        return _notice_board(request, office, person, 409, form=form.values(), **refused)
    said = _("Notice board's day %(day)s registered: the time for appeal has started.")
    notice(request, said % {"day": taken.result.announced_on.isoformat()})
    return RedirectResponse(NOTICE_BOARD, 303)


@router.post("/cases/{case_reference}/appeal")
def appeal(at: OnCase) -> Response:
    """An appeal of the case's decision, as the court told of it."""
    return at.take(
        "register_appeal",
        lambda taken: (
            _("Appeal %(number)s registered: the case stays open until the ruling.")
            % {"number": taken.result.number}
        ),
        lambda: {
            "appellant": at.form.text("appellant"),
            "received_on": day(at.form.text("received_on"), "received_on"),
            "court": at.form.text("court"),
            "court_case_number": at.form.text("court_case_number"),
        },
    )


@router.post("/cases/{case_reference}/appeal-ruling")
def appeal_ruling(at: OnCase) -> Response:
    """The court's ruling: upheld, or annulled (the case goes back to be decided again)."""
    number = at.form.text("number")
    return at.take(
        "register_appeal_ruling",
        lambda taken: (
            _("The court's ruling registered.")
            if taken.result.ruling == "upheld"
            else _("The decision is annulled: prepare a new draft decision.")
        ),
        lambda: {
            "number": int(number) if number.isascii() and number.isdigit() else 0,
            "ruling": at.form.text("ruling"),
            "ruled_on": day(at.form.text("ruled_on"), "ruled_on"),
        },
    )
