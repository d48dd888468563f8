"""The office: a FastAPI application of server-rendered pages, one process (`grants serve`).

Every page but sign-in needs a signed-in person; every POST needs the form token; every
step goes through the step layer (`grants.steps`), which checks who, role, case and
conflict exactly as for the command line. After a step commits, the letters it ordered
are sent by a background worker, so nobody waits for a PDF to be rendered.
"""

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from grants.embedded import PrefectUnreachable, configure_prefect
from grants.settings import TEMPLATES, Settings, load
from grants.steps import configured
from grants.web import (
    acceptance,
    applicant,
    auth,
    case_facts,
    cases,
    closing,
    dashboard,
    decisions,
    final_report,
    finance,
    follow_up_form,
    health,
    impact,
    office_steps,
    oidc,
    open_data,
    payee,
    payments,
    people,
    records,
    repayment,
    reviews,
    statistics,
    talks,
    tasks,
)
from grants.web.deps import FormRefused, SignInRequired, check_form_token
from grants.web.i18n import DEFAULT_LANGUAGE, _, language
from grants.web.office import FollowUp, Office
from grants.web.pages import render
from grants.web.refusals import worded
from models.access import ConflictOfInterest
from models.cases import CaseNotFound
from models.errors import Refused
from models.reference_data import NotAllowed
from models.supplements import MAX_DOCUMENT_BYTES

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; object-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # applicants' links carry their token in the address
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    """Headers on every response; case pages and files are never cached. A response that
    sets its own framing rules (a PDF shown inside our page) keeps them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k.lower(), v) for k, v in message.get("headers", [])]
                present = {k for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class HeadAsGet:
    """`HEAD` answered wherever `GET` is, as HTTP asks: the same answer without its body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Any) -> None:
            if message["type"] == "http.response.body":
                message = message | {"body": b""}
            await send(message)

        await self.app(scope | {"method": "GET"}, receive, without_body)


class BodyLimit:
    """A body far larger than any case file is not read at all: the office's own page says
    the limit, in the visitor's language, with a way back. A file only somewhat too large
    is read, so that its form refuses it at the field and keeps what was typed."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if scope["type"] == "http" and length.isdigit() and int(length) > self.max_body:
            request = Request(scope)
            megabytes = MAX_DOCUMENT_BYTES // (1024 * 1024)
            message = _(
                "What was sent is too large: a file may be at most %(megabytes)s MB. "
                "Nothing was taken in."
            ) % {"megabytes": megabytes}
            back = way_back(request.app, request.url.path, itself=True)
            context = {"message": message, "back": back, "heading": _("Too large")}
            response = render(request, "error.html", context, 413)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def way_back(app: FastAPI, path: str, itself: bool = False) -> str:
    """Where a person goes back to from an address that could not answer: the page the
    form is on (`itself`: the address, when it is also a page; else the address one step
    up, as a form's address sits under its page), or the task list."""
    up = path.rstrip("/").rsplit("/", 1)[0]
    for candidate in ([path] if itself else []) + ([up] if up else []):
        scope = {"type": "http", "path": candidate, "method": "GET"}
        if any(route.matches(scope)[0] == Match.FULL for route in app.router.routes):
            return candidate
    return "/tasks"


class LanguageOfSession:
    """Everything said while handling a request (notices, refusals) is in the language the
    visitor chose, not only the page at the end."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = scope.get("session", {}).get("language", DEFAULT_LANGUAGE)
        with language(chosen):
            await self.app(scope, receive, send)


def create_app(settings: Settings | None = None, follow_up: FollowUp | None = None) -> FastAPI:
    settings = settings or load()
    configure_prefect(settings)
    office = Office.from_settings(settings, follow_up)
    configured(settings)  # the call as configured now; the people seeded at the first start
    app = FastAPI(
        title="grants",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(check_form_token)],
    )
    app.state.office = office
    app.mount("/static", StaticFiles(directory=TEMPLATES / "web" / "static"), name="static")
    for module in (
        auth,
        oidc,
        tasks,
        cases,
        dashboard,
        office_steps,
        reviews,
        decisions,
        records,
        applicant,
        acceptance,
        payments,
        repayment,
        closing,
        talks,
        final_report,
    ):
        app.include_router(module.router)
    app.include_router(people.router)  # the office's own administration
    app.include_router(finance.router)  # the finance department's
    app.include_router(case_facts.router)
    app.include_router(payee.router)
    app.include_router(health.router)  # for monitors: no sign-in, no personal data
    app.include_router(open_data.router)  # the grants as open data (360Giving)
    app.include_router(impact.router)  # the impact register and its figures
    app.include_router(follow_up_form.router)  # the grantee's follow-up a year after the project
    app.include_router(statistics.router)  # the committee's figures and annual report
    _handle_refusals(app)
    app.add_middleware(HeadAsGet)
    # A file somewhat over the limit is refused at its form's field; far over, not read.
    app.add_middleware(BodyLimit, max_body=2 * MAX_DOCUMENT_BYTES + 1024 * 1024)
    app.add_middleware(LanguageOfSession)
    app.add_middleware(
        SessionMiddleware,
        secret_key=office.secret,
        session_cookie="grants_session",
        max_age=int(office.idle.total_seconds()),
        same_site="lax",
        https_only=office.secure,
    )
    app.add_middleware(SecurityHeaders)
    return app


def _handle_refusals(app: FastAPI) -> None:
    """What a person sees when they may not, or cannot, do something."""

    @app.exception_handler(SignInRequired)
    def to_sign_in(request: Request, _error: Exception) -> Response:
        target = request.url.path if request.method == "GET" else "/tasks"
        return RedirectResponse(f"/login?next={target}", 303)

    @app.exception_handler(StarletteHTTPException)
    def no_such_page(request: Request, error: StarletteHTTPException) -> Response:
        """No page at this address, or not for this method (a form's address opened as a
        page): the office's own page, with a way back, rather than a bare JSON answer."""
        if error.status_code == 405:
            message = _(
                "This address takes a form sent from its page; it is not a page to open. "
                "Nothing was changed."
            )
            context = {"heading": _("Not a page"), "back": way_back(request.app, request.url.path)}
        elif error.status_code == 404:
            context = {"heading": _("Page not found")}
            message = _("There is no such page.")
        else:  # the request itself was malformed
            context, message = {}, _("The request could not be read. Nothing was changed.")
        context["message"] = message
        return render(request, "error.html", context, error.status_code, headers=error.headers)

    @app.exception_handler(FormRefused)
    def form_refused(request: Request, _error: Exception) -> Response:
        message = _("The form had expired or did not come from this site. Nothing was changed.")
        return render(request, "error.html", {"message": message}, 403)

    @app.exception_handler(RequestValidationError)
    def incomplete_form(request: Request, error: RequestValidationError) -> Response:
        fields = sorted({str(e["loc"][-1]) for e in error.errors() if e.get("loc")})
        message = _("The form was incomplete or malformed (%(fields)s). Nothing was changed.")
        return render(
            request, "error.html", {"message": message % {"fields": ", ".join(fields)}}, 422
        )

    @app.exception_handler(CaseNotFound)
    @app.exception_handler(ConflictOfInterest)
    def no_such_case(request: Request, _error: Exception) -> Response:
        # A conflicted person's case does not exist for them: the same page as no case.
        return render(request, "error.html", {"message": _("There is no such case.")}, 404)

    @app.exception_handler(NotAllowed)
    def not_allowed(request: Request, error: Exception) -> Response:
        return render(request, "error.html", {"message": worded(error)}, 403)

    @app.exception_handler(Refused)
    def refused(request: Request, error: Exception) -> Response:
        return render(request, "error.html", {"message": worded(error)}, 409)

    @app.exception_handler(PrefectUnreachable)
    def flows_away(request: Request, _error: Exception) -> Response:
        message = _(
            "The server that runs the call's automated work does not answer. Nothing was "
            "taken in; please try again in a while."
        )
        return render(request, "error.html", {"message": message}, 503)
