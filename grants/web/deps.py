"""What a route needs to know before it does anything: the office, who is signed in, and
whether a form really comes from one of our pages.

As in tiangolo's full-stack template, a route's signature says who may call it:
`person: CurrentPerson` means signed in; the role is then checked by the step layer.
"""

import hmac
from typing import Annotated

from fastapi import Depends, Request

from grants.web.office import Office
from models.db import transaction
from models.sign_in import session_person
from models.tables import Person

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class SignInRequired(Exception):
    """No session, or one that ended: the person is sent to the sign-in page."""


class FormRefused(Exception):
    """A POST without this session's form token (CSRF), refused before anything is read."""


def office(request: Request) -> Office:
    return request.app.state.office


OfficeDep = Annotated[Office, Depends(office)]


def current_person(request: Request, office: OfficeDep) -> Person:
    secret = request.session.get("sid")
    person = None
    if secret:
        with transaction(office.settings.db_url) as session:
            person = session_person(session, secret, office.idle)
    if person is None:
        request.session.pop("sid", None)
        raise SignInRequired
    return person


CurrentPerson = Annotated[Person, Depends(current_person)]


async def check_form_token(request: Request) -> None:
    """Every POST carries the session's token in a form field, so forms work without
    JavaScript; a request from another site cannot know it."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    try:
        given = (await request.form()).get("csrf_token")
    except Exception:  # an unreadable body carries no token either
        given = None
    if not expected or not isinstance(given, str) or not hmac.compare_digest(expected, given):
        raise FormRefused


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""
