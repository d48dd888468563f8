"""The Community Talk's pages: the grantee's answer to its invitation, and each Talk's
programme for the case officer and the organiser.

The grantee has no account: the signed link in the invitation's e-mail
(`grants.applicant_links.talk_link`) opens a page made for a phone, in the case's language,
where it says which Talk it presents at, who presents and how many come, and changes that
until the reply-by date; afterwards the page shows the answer and says it stands. A refused
answer is shown at its field, naming the value, and nothing changes.

The programme (the projects presenting, their titles and organisations, who presents and
how many come) is read by the case officer and by the organiser of the Talks, who reads
nothing of the cases (`models.access.reads_cases`); both download it as PDF and CSV. After
the Talk the case officer registers on the same page how many came from each project and
who presented, through the step layer (`record_talk_attendance`).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from grants.applicant_links import read_talk_link
from grants.steps import reading, take
from grants.steps.talks import TALK_READERS, take_talk_answer
from grants.talk_programme import programme_csv, programme_name, programme_pdf
from grants.web.applicant import Unusable, grantee_case, unusable_page, visitor_language
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.i18n import _, language
from grants.web.office import Office
from grants.web.office_steps import PostedDep
from grants.web.pages import notice, page_language, render
from grants.web.refusals import refused_context, refused_fields, worded
from models import clock
from models.community_talks import reply_by
from models.db import transaction
from models.errors import Refused
from models.reference_data import NotAllowed
from models.tables import Case, CommunityTalk, Person, Role, local_time
from models.talk_answers import (
    MOST_ATTENDEES,
    answer_of,
    answered_talk,
    programme,
    talk_choices,
)

router = APIRouter()
FILE_TYPES = {".pdf": "application/pdf", ".csv": "text/csv; charset=utf-8"}


@router.get("/t/{token}")
def answer_page(request: Request, office: OfficeDep, token: str) -> Response:
    try:
        case = grantee_case(office, token, read_talk_link)
    except Unusable as unusable:
        return unusable_page(request, office, unusable)
    return _answer_page(request, office, case)


@router.post("/t/{token}")
def answer(
    request: Request,
    office: OfficeDep,
    token: str,
    talk: Annotated[str, Form()] = "",
    presenters: Annotated[str, Form()] = "",
    attendees: Annotated[str, Form()] = "",
) -> Response:
    """The answer or its change, taken by the domain (refused after the reply-by date)."""
    try:
        case = grantee_case(office, token, read_talk_link)
    except Unusable as unusable:
        return unusable_page(request, office, unusable)
    form = {"talk": talk, "presenters": presenters, "attendees": attendees}
    try:
        take_talk_answer(office.settings, case.case_reference, talk, presenters, attendees)
    except Refused as refused:
        return _answer_page(request, office, case, refused, form, 422)
    request.session["notice"] = "talk_answered"
    return RedirectResponse(f"/t/{token}", 303)


def _answer_page(
    request: Request,
    office: Office,
    case: Case,
    refused: Refused | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The answer's form while the reply-by date allows, the answer given, or both; a
    case no longer invited (it presented, or closed) gets the closed page."""
    lang = visitor_language(request, case) or page_language(request)
    today = clock.today()
    with transaction(office.settings.db_url) as session:
        try:
            current = answered_talk(session, case)
        except Refused:
            return unusable_page(request, office, Unusable("closed", 409, case))
        given = answer_of(session, case)
        last_day = reply_by(current)
        context: dict[str, Any] = {
            "case": case,
            "organisation": case.organisation,
            "officer": case.case_officer,
            "current": current,
            "reply_by": last_day,
            "open": today <= last_day,
            "choices": talk_choices(session, today),
            "answer": given,
            "answered_at": local_time(given.changed_at or given.answered_at) if given else None,
            "most": MOST_ATTENDEES,
            "answered_now": request.session.pop("notice", None) == "talk_answered",
            "form": form
            or {
                "talk": str(current.id),
                "presenters": given.presenters if given else "",
                "attendees": str(given.attendees) if given else "",
            },
        }
    if refused is not None:
        with language(lang):
            message = worded(refused)
            fields = refused_fields(refused, context["form"])
            context |= {"error": message, "field_errors": dict.fromkeys(fields, message)}
    return render(request, "talk_answer.html", context, status, lang)


@router.get("/talks/{talk_id}")
def programme_page(request: Request, office: OfficeDep, person: CurrentPerson, talk_id: int):
    return _programme_page(request, office, person, talk_id)


def _programme_page(
    request: Request,
    office: Office,
    person: Person,
    talk_id: int,
    status: int = 200,
    **extra: Any,
) -> Response:
    """The programme; for the case officer, after the Talk, the attendance to register."""
    with reading(office.settings, person.email, TALK_READERS) as (session, reader):
        talk = _talk(session, talk_id)
        items = programme(session, talk)
        context = {
            "person": reader,
            "talk": talk,
            "items": items,
            "expected": sum(item.attendees or 0 for item in items),
            "reply_by": reply_by(talk),
            "registers": reader.role is Role.case_officer and talk.held_on <= clock.today(),
            "row": "",  # the project whose attendance was refused, if one was
        }
        return render(request, "talk_programme.html", context | extra, status)


@router.get("/talks/{talk_id}/programme.pdf")
def programme_pdf_file(office: OfficeDep, person: CurrentPerson, talk_id: int) -> Response:
    return _programme_file(office, person, talk_id, ".pdf")


@router.get("/talks/{talk_id}/programme.csv")
def programme_csv_file(office: OfficeDep, person: CurrentPerson, talk_id: int) -> Response:
    return _programme_file(office, person, talk_id, ".csv")


def _programme_file(office: Office, person: Person, talk_id: int, suffix: str) -> Response:
    """The programme as the command line writes it."""
    with reading(office.settings, person.email, TALK_READERS) as (session, _reader):
        talk = _talk(session, talk_id)
        items = programme(session, talk)
        session.expunge(talk)
    if suffix == ".pdf":
        content = programme_pdf(office.settings, talk, items)
    else:
        content = programme_csv(items)
    return Response(
        content,
        media_type=FILE_TYPES[suffix],
        headers={"Content-Disposition": f'attachment; filename="{programme_name(talk, suffix)}"'},
    )


@router.post("/talks/{talk_id}/attendance/{case_reference}")
def attendance(
    request: Request,
    office: OfficeDep,
    person: CurrentPerson,
    form: PostedDep,
    talk_id: int,
    case_reference: str,
):
    """After the Talk: how many came from a project and who presented."""
    try:
        take(
            office.settings,
            "record_talk_attendance",
            person.email,
            case_reference,
            came=form.text("came"),
            presented_by=form.text("presented_by"),
        )
    except NotAllowed:
        raise
    except Refused as refusal:
        refused = refused_context(refusal, form.sent())
        return _programme_page(
            request, office, person, talk_id, 409, form=form.values(), row=case_reference, **refused
        )
    notice(request, _("Attendance registered for %(case)s.") % {"case": case_reference})
    return RedirectResponse(f"/talks/{talk_id}", 303)


def _talk(session: Session, talk_id: int) -> CommunityTalk:
    talk = session.get(CommunityTalk, talk_id)
    if talk is None:
        raise HTTPException(404)
    return talk
