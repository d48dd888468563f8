"""Signing in with a one-time link by e-mail, signing out, and the language switch.

The link's page asks for one click before it signs in: mail scanners that open every link
in a message would otherwise spend it. The answer to "send me a link" is the same for
every address, and the e-mail goes out after the answer, so neither the words nor the
time taken tell whether someone has an account.
"""

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse

from grants import mail, render
from grants.web.deps import CurrentPerson, OfficeDep, client_address
from grants.web.i18n import LANGUAGES, _
from grants.web.office import Office
from grants.web.pages import notice, page_language
from grants.web.pages import render as render_page
from models.db import transaction
from models.sign_in import end_session, redeem_link, request_link, start_session
from models.tables import Person

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an address elsewhere (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/tasks"


def sign_in(request: Request, office: Office, person: Person, method: str, target: str) -> str:
    """Start a session for `person` (a fresh cookie: nothing from before signing in is
    kept but the language) and return where to go next. Used by every sign-in method."""
    with transaction(office.settings.db_url) as session:
        secret = start_session(session, person, method, client_address(request))
    kept_language = request.session.get("language")
    request.session.clear()
    request.session["sid"] = secret
    if kept_language:
        request.session["language"] = kept_language
    return safe_next(target)


@router.get("/login")
def login_page(request: Request, office: OfficeDep, next: str = "/tasks"):
    return render_page(
        request,
        "login.html",
        {"next": safe_next(next), "oidc": office.oidc is not None, "minutes": office.link_minutes},
    )


@router.post("/login")
def request_sign_in_link(
    request: Request,
    office: OfficeDep,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)] = "",
    next: Annotated[str, Form()] = "/tasks",
):
    with transaction(office.settings.db_url) as session:
        made = request_link(session, email, office.sign_in_link_lifetime, client_address(request))
        if made is not None:
            person, token = made
            background.add_task(
                _send_link, office, person.model_copy(), token, page_language(request), next
            )
    return render_page(
        request,
        "login_sent.html",
        {"minutes": office.link_minutes},
    )


def _send_link(office: Office, person: Person, token: str, language: str, target: str) -> None:
    settings = office.settings
    authority = settings.config_file.authority
    link = f"{office.base_url}/login/link?token={token}&next={quote(safe_next(target))}"
    text = render.render_text(
        f"email/sign_in_link.{language}.txt",
        {
            "authority": authority,
            "person": person,
            "link": link,
            "minutes": office.link_minutes,
        },
    )
    subject, body = text.split("\n\n", 1)
    message = mail.build_message(
        authority.mail_from, person.email, subject.strip(), body, f"sign-in-{token[:12]}"
    )
    name = re.sub(r"[^A-Za-z0-9._-]", "_", person.email)
    mail.deliver(message, settings, f"sign-in-{name}-{token[:8]}")


@router.get("/login/link")
def sign_in_link_page(request: Request, token: str = "", next: str = "/tasks"):
    return render_page(request, "login_link.html", {"token": token, "next": safe_next(next)})


@router.post("/login/link")
def redeem_sign_in_link(
    request: Request,
    office: OfficeDep,
    token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form()] = "/tasks",
):
    with transaction(office.settings.db_url) as session:
        person = redeem_link(session, token, client_address(request))
    if person is None:
        return render_page(request, "login_failed.html", {}, status_code=400)
    return RedirectResponse(sign_in(request, office, person, "email_link", next), 303)


@router.post("/logout")
def sign_out(request: Request, office: OfficeDep, person: CurrentPerson):
    with transaction(office.settings.db_url) as session:
        end_session(session, request.session["sid"], client_address(request))
    kept_language = request.session.get("language")
    request.session.clear()
    if kept_language:
        request.session["language"] = kept_language
    notice(request, _("You are signed out."))
    return RedirectResponse("/login", 303)


@router.post("/language")
def choose_language(
    request: Request,
    language: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/tasks",
):
    if language in LANGUAGES:
        request.session["language"] = language
    return RedirectResponse(safe_next(next), 303)
