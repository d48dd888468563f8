"""Server-rendered pages: one Jinja2 environment for the office, escaped by default.

Every page gets the person signed in (if any), the form token for its forms, the language
and the helpers that format dates and amounts the Swedish way.
"""

import secrets
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape

from grants.render import format_amount, format_date, format_datetime
from grants.settings import TEMPLATES
from grants.web.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    _,
    current_language,
    language,
    ngettext,
)
from grants.web.labels import (
    action_label,
    delivery_label,
    document_kind_label,
    label,
    notice_label,
    warning_label,
)
from models.acceptance import account_number_text
from models.tables import Answer, Criterion, local_time


def csrf_token(request: Request) -> str:
    """The session's form token (made on first use): every form posts it back."""
    token = request.session.get("csrf")
    if token is None:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def page_language(request: Request) -> str:
    chosen = request.session.get("language")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def _when(moment: Any) -> str:
    """A stored time as Swedish local date and time."""
    return local_time(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


@pass_context
def field_attributes(context: Context, name: str, hint: str = "") -> Markup:
    """A field's `aria-describedby` (its hint, and its error once refused) and, refused,
    `aria-invalid`: so that a screen reader says why as the person reaches the field."""
    refused = name in context.get("field_errors", {})
    described = [hint] * bool(hint) + [f"{name}-error"] * refused
    attributes = f' aria-describedby="{escape(" ".join(described))}"' if described else ""
    return Markup(attributes + (' aria-invalid="true"' if refused else ""))


@pass_context
def field_error(context: Context, name: str) -> Markup:
    """Why the field was refused, at the field (the page's summary links here); nothing for
    a field that was not."""
    said = context.get("field_errors", {}).get(name)
    if said is None:
        return Markup("")
    return Markup('<p class="field-error" id="{}">{}</p>').format(f"{name}-error", said)


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES / "web"),
        autoescape=select_autoescape(["html"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(_, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["invalid"] = field_attributes
    env.globals["field_error"] = field_error
    env.globals["account_number"] = account_number_text
    env.filters["label"] = label
    env.filters["delivery"] = delivery_label
    env.filters["action"] = action_label
    env.filters["document_kind"] = document_kind_label
    env.filters["warning"] = warning_label
    env.filters["notice"] = notice_label
    env.filters["criterion"] = lambda code: label(Criterion(code)) if code else ""
    env.filters["answer"] = lambda code: label(Answer(code)) if code else ""
    env.filters["when"] = _when
    env.filters["date"] = lambda d: format_date(d, current_language()) if d else ""
    env.filters["datetime"] = lambda d: format_datetime(d, current_language()) if d else ""
    env.filters["amount"] = lambda a: format_amount(a, current_language()) if a is not None else ""
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    lang: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page in `lang`, else in the language the visitor chose (Swedish by default)."""
    lang = lang or page_language(request)
    values = {
        "request": request,
        "lang": lang,
        "csrf_token": csrf_token(request),
        "person": None,
        "error": None,
        "field_errors": {},
        "notice": request.session.pop("notice", None),
        "form": {},
    } | context
    with language(lang):
        html = environment().get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=headers)


def notice(request: Request, text: str) -> None:
    """A message shown once on the next page (after a redirect)."""
    request.session["notice"] = text
