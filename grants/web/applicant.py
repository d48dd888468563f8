"""The applicant's page: answering a request through the personal link its letter carried.

No sign-in: the signed link (`grants.applicant_links`) is the applicant's only key, and it
opens one request of one case. The page speaks the case's language (unless the visitor
chose the other), shows what was asked and by when, and takes a file and a message with
the form token like every form. What is sent is registered by the domain exactly as the
case officer registers what comes by e-mail (`models.applicant.answer`), through the
step layer. A link that is not ours, has expired, or names a request the case no longer
waits for gets a page saying so, in the applicant's language, and nothing changes.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from grants.applicant_links import LinkClaims, LinkExpired, LinkInvalid, read
from grants.settings import Settings
from grants.steps import take_applicant_answer
from grants.web.deps import OfficeDep
from grants.web.i18n import LANGUAGES, N_, _, language
from grants.web.office import Office
from grants.web.pages import page_language, render
from grants.web.refusals import WORDING, refused_fields
from models.applicant import (
    REPAYMENT,
    SUPPLEMENT,
    AnswerRefused,
    answered_at,
    asked_request,
    deadline_of,
)
from models.applicant import open_to_answer as waiting_request
from models.cases import CaseNotFound, find_case
from models.db import transaction
from models.errors import Refused
from models.supplements import MAX_DOCUMENT_BYTES
from models.tables import Case, Criterion, FormalRequirement, local_time

router = APIRouter(prefix="/a/{token}")

# Why what was sent was not taken, in the applicant's words (the domain's refusal codes).
NOT_TAKEN = {
    "answer.nothing": N_("Upload a file or write a message (or both)."),
    "document.empty": N_("The file is empty."),
    "document.too_large": N_("The file is too large: at most 20 MB is accepted."),
    "document.unaccepted_kind": N_(
        "The file is of a kind we cannot accept. Send a PDF, an image (PNG, JPEG, GIF or "
        "WebP), an OpenDocument or Word (DOCX) document, or plain text."
    ),
    # An archive refused unread is worded alike for the applicant and the office.
    **{
        code: WORDING[code]
        for code in ("document.unpacks_too_large", "document.packed_too_tightly")
    },
}


class Unusable(Exception):
    """The link opens no form: why (invalid, expired, answered, closed), the status to
    answer with, and what is known of the case."""

    def __init__(self, reason: str, status: int, case: Case | None = None, **facts: Any):
        super().__init__(reason)
        self.reason, self.status, self.case, self.facts = reason, status, case, facts


@router.get("")
def applicant_page(request: Request, office: OfficeDep, token: str) -> Response:
    try:
        claims, case = _opened(office, token)
    except Unusable as unusable:
        if unusable.reason == "answered":  # the applicant's receipt, not a refusal
            unusable.status = 200
        return unusable_page(request, office, unusable)
    return _form_page(request, office, claims, case)


@router.post("")
def send_answer(
    request: Request,
    office: OfficeDep,
    token: str,
    file: Annotated[UploadFile | None, File()] = None,
    message: Annotated[str, Form()] = "",
) -> Response:
    try:
        claims, case = _opened(office, token)
    except Unusable as unusable:
        return unusable_page(request, office, unusable, sent_again=True)
    upload = None
    if file is not None and (file.filename or file.size):
        # One byte more than a case file may hold is enough for the domain to refuse it.
        upload = (file.filename or "", file.file.read(MAX_DOCUMENT_BYTES + 1))

    try:
        taken = take_applicant_answer(
            office.settings, case.case_reference, claims.kind, claims.number, message, upload
        )
    except Refused as refused:
        if refused.code in NOT_TAKEN:
            sent = {"file": upload[0] if upload else "", "message": message.strip()}
            problem = (NOT_TAKEN[refused.code], refused.params, refused_fields(refused, sent))
            return _form_page(request, office, claims, case, problem, message, 422)
        unusable = _moved_on(office, token, case)
        return unusable_page(request, office, unusable, sent_again=True)
    if taken.to_send:
        office.follow_up.poke()
    return RedirectResponse(f"/a/{token}", 303)


def _opened(office: Office, token: str) -> tuple[LinkClaims, Case]:
    """What the link names and its case, if the link is ours, in time, and the case still
    waits for this answer; else `Unusable`, saying why."""
    try:
        claims = read(office.settings, token)
    except LinkExpired as expired:
        with transaction(office.settings.db_url) as session:
            case = _case(session, expired.claims.case_reference)
        raise Unusable("expired", 410, case, expires=expired.claims.expires) from None
    except LinkInvalid:
        raise Unusable("invalid", 404) from None
    with transaction(office.settings.db_url) as session:  # raised after it, not in it:
        case = _case(session, claims.case_reference)  # a rollback would unload the case
        unusable = _not_waiting(session, case, claims)
    if unusable is not None:
        raise unusable
    return claims, case


def _not_waiting(session: Session, case: Case | None, claims: LinkClaims) -> Unusable | None:
    """Why the case does not wait for the answer the link asks for, if it does not."""
    if case is None:
        return Unusable("invalid", 404)
    try:
        waiting_request(session, case, claims.kind, claims.number)
    except AnswerRefused as refused:
        if refused.code != "answer.answered":
            return Unusable("closed", 409, case)
        asked = asked_request(session, case, claims.kind, claims.number)
        return Unusable("answered", 409, case, answered=local_time(answered_at(asked)))
    return None


def _moved_on(office: Office, token: str, case: Case) -> Unusable:
    """Why a link that opened a moment ago took no answer: the case moved on meanwhile."""
    try:
        _opened(office, token)
    except Unusable as unusable:
        return unusable
    return Unusable("closed", 409, case)


def _case(session: Session, case_reference: str, *related: str) -> Case | None:
    """The case, with the organisation and case officer its pages name (and `related`)."""
    try:
        case = find_case(session, case_reference)
    except CaseNotFound:
        return None
    session.refresh(case, ["organisation", "case_officer", *related])
    return case


def grantee_case(
    office: Office, token: str, read_link: Callable[[Settings, str], LinkClaims]
) -> Case:
    """The case a grantee's link names (`read_link`: its acceptance's, its Talk answer's,
    its final report's, its follow-up's), if the link is ours and in time; else
    `Unusable`, saying why. Loaded with its organisation, case officer and call."""
    try:
        claims = read_link(office.settings, token)
    except LinkExpired as expired:
        case = _grantee_case(office, expired.claims.case_reference)
        raise Unusable("expired", 410, case, expires=expired.claims.expires) from None
    except LinkInvalid:
        raise Unusable("invalid", 404) from None
    case = _grantee_case(office, claims.case_reference)
    if case is None:
        raise Unusable("invalid", 404)
    return case


def _grantee_case(office: Office, case_reference: str) -> Case | None:
    with transaction(office.settings.db_url) as session:
        return _case(session, case_reference, "call")


def visitor_language(request: Request, case: Case | None) -> str | None:
    """The visitor's own choice, else the case's language (its letters')."""
    chosen = request.session.get("language")
    if chosen in LANGUAGES:
        return chosen
    return case.language.value if case else None


def unusable_page(
    request: Request, office: Office, unusable: Unusable, sent_again: bool = False
) -> Response:
    case = unusable.case
    context = {
        "reason": unusable.reason,
        "sent_again": sent_again,
        "case": case,
        "officer": case.case_officer if case else None,
        "authority": office.settings.config_file.authority,
    } | unusable.facts
    language = visitor_language(request, case)
    return render(request, "applicant_closed.html", context, unusable.status, language)


def _asked_item(item: dict[str, Any]) -> tuple[Criterion | FormalRequirement | None, str]:
    """One thing a supplement request asked for: the basic or formal requirement it serves,
    if any (each is labelled by its own name)."""
    criterion, formal = item.get("criterion"), item.get("formal")
    if criterion in Criterion.__members__:
        return Criterion(criterion), item["text"]
    if formal in FormalRequirement.__members__:
        return FormalRequirement(formal), item["text"]
    return None, item["text"]


def _form_page(
    request: Request,
    office: Office,
    claims: LinkClaims,
    case: Case,
    problem: tuple[str, dict[str, Any], list[str]] | None = None,
    message: str = "",
    status: int = 200,
) -> Response:
    """The request and the form; `problem`: why what was sent was not taken (a wording of
    `NOT_TAKEN`, the refusal's parameters, such as the file's name, and the fields it
    concerns), in the page's language, at the top and at those fields."""
    with transaction(office.settings.db_url) as session:
        asked = asked_request(session, case, claims.kind, claims.number)
    context = {
        "case": case,
        "organisation": case.organisation,
        "officer": case.case_officer,
        "number": claims.number,
        "supplement": claims.kind == SUPPLEMENT,
        "repayment": claims.kind == REPAYMENT,
        "missing": [_asked_item(item) for item in getattr(asked, "missing", [])],
        "deadline": deadline_of(asked),
        "problem": problem[0] if problem else None,
        "problem_params": problem[1] if problem else {},
        "message": message,
    }
    lang = visitor_language(request, case) or page_language(request)
    if problem:
        with language(lang):
            context["field_errors"] = dict.fromkeys(problem[2], _(problem[0]) % problem[1])
    return render(request, "applicant.html", context, status, lang)
