"""Signing in through the region's identity provider (OpenID Connect), for its own staff.

The authorization code flow with PKCE: the state, the nonce and the code verifier wait in
the signed session cookie between the two legs, so only the browser that set out can come
back. The ID token is checked against the provider's keys (its JWKS), issuer, audience,
expiry and nonce; its `email` claim, verified where the provider says, must be a person of
the configuration. Whatever fails ends on one page and one row in the security log, never
in a session: the log is how the region sees that someone tried.
"""

from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from joserfc.errors import JoseError
from starlette.concurrency import run_in_threadpool

from grants.config import Oidc
from grants.web.auth import safe_next, sign_in
from grants.web.deps import OfficeDep, client_address
from grants.web.office import Office
from grants.web.pages import render
from models.db import transaction
from models.people import find_person
from models.sign_in import SecurityEventKind, log
from models.tables import Person

router = APIRouter()

METHOD = "oidc"  # the sign-in method in sessions and the security log; Authlib's client name
SCOPE = "openid email profile"
NEXT = "oidc_next"  # where to go after signing in, kept in the session for the round trip
CALLBACK = "/login/oidc/callback"

# What the provider, the network or a forged answer can make go wrong: a refused sign-in.
PROVIDER_FAILURES = (AuthlibBaseError, JoseError, httpx.HTTPError, ValueError)


class SignInFailed(Exception):
    """The sign-in is refused: `detail` for the security log, `reason` for the page."""

    def __init__(
        self, detail: str, reason: str = "refused", email: str = "", person: Person | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason  # refused (400); not_a_person or unverified (403)
        self.email = email
        self.person = person  # whose address it was, when someone's


def provider(request: Request, office: Office) -> StarletteOAuth2App:
    """The provider's client, registered on first use, once per app: its discovery
    document and keys are fetched when someone signs in, never at import or start."""
    state = request.app.state
    if getattr(state, "oidc_client", None) is None:  # no await before the assignment
        config = _configured(office)
        state.oidc_client = OAuth().register(
            METHOD,
            server_metadata_url=config.server_metadata_url,
            client_id=config.client_id,
            client_secret=config.client_secret or None,
            client_kwargs={"scope": SCOPE, "code_challenge_method": "S256"},
        )
    return state.oidc_client


def _configured(office: Office) -> Oidc:
    """The provider's settings; without [auth.oidc] its pages do not exist."""
    if office.oidc is None:
        raise HTTPException(404)
    return office.oidc


@router.get("/login/oidc")
async def start_oidc_sign_in(request: Request, office: OfficeDep, next: str = "/tasks"):
    _configured(office)
    request.session[NEXT] = safe_next(next)
    try:
        return await provider(request, office).authorize_redirect(
            request, office.base_url + CALLBACK
        )
    except PROVIDER_FAILURES as error:
        return await _refused(
            request, office, SignInFailed(f"no way to the provider: {_described(error)}")
        )


@router.get(CALLBACK)
async def finish_oidc_sign_in(request: Request, office: OfficeDep):
    _configured(office)
    target = request.session.pop(NEXT, "/tasks")
    try:
        claims = await _id_token_claims(request, office)
        person = await run_in_threadpool(_staff_member, office, claims)
    except SignInFailed as failure:
        return await _refused(request, office, failure)
    return RedirectResponse(
        await run_in_threadpool(sign_in, request, office, person, METHOD, target), 303
    )


async def _id_token_claims(request: Request, office: Office) -> dict[str, Any]:
    """The ID token's claims once state, code, signature, issuer, audience, expiry and
    nonce are checked (Authlib checks the audience only when asked: we ask)."""
    client = provider(request, office)
    try:
        metadata = await client.load_server_metadata()
        token = await client.authorize_access_token(
            request,
            claims_options={
                "iss": {"essential": True, "value": metadata["issuer"]},
                "aud": {"essential": True, "value": client.client_id},
            },
        )
    except (*PROVIDER_FAILURES, KeyError) as error:
        raise SignInFailed(_described(error)) from error
    if "userinfo" not in token:  # Authlib validates an ID token only when there is one
        raise SignInFailed("no ID token in the provider's answer")
    return dict(token["userinfo"])


def _staff_member(office: Office, claims: dict[str, Any]) -> Person:
    """The registered, active person the `email` claim names (case does not matter)."""
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        raise SignInFailed("no email claim")
    with transaction(office.settings.db_url) as session:
        person = find_person(session, email)
    if claims.get("email_verified", True) is not True:
        raise SignInFailed("email not verified by the provider", "unverified", email, person)
    if person is None:
        raise SignInFailed("not a registered person", "not_a_person", email)
    if not person.active:
        raise SignInFailed("person deactivated", "not_a_person", email, person)
    return person


async def _refused(request: Request, office: Office, failure: SignInFailed) -> Response:
    """The sign-in-failed page, and the attempt in the security log (committed, although
    nothing else happens)."""

    def logged() -> None:
        with transaction(office.settings.db_url) as session:
            log(
                session,
                SecurityEventKind.sign_in_failed,
                failure.email,
                failure.person,
                METHOD,
                client_address(request),
                failure.detail,
            )

    await run_in_threadpool(logged)
    context = {"reason": failure.reason, "email": failure.email, "provider": _name(office)}
    return render(
        request, "login_oidc_failed.html", context, 400 if failure.reason == "refused" else 403
    )


def _described(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _name(office: Office) -> str:
    return office.oidc.name if office.oidc else ""
