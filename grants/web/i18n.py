"""The office in two languages: Swedish by default, English on request.

The pages are written in English and translated through a gettext catalog
(`locale/sv/LC_MESSAGES/office.po`), so the two languages are one set of templates and a
translator works on the catalog. The catalog is compiled when first needed; nothing
generated is kept in the repository.
"""

import gettext as gettext_module
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from grants import catalogs

DOMAIN = "office"
LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"
_current: ContextVar[str] = ContextVar("office_language", default=DEFAULT_LANGUAGE)


def N_(message: str) -> str:
    """Marks a message for the catalog where it is defined; it is translated where shown."""
    return message


def translations(language: str) -> gettext_module.NullTranslations:
    return catalogs.translations(DOMAIN, language)


def current_language() -> str:
    return _current.get()


def _(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, count)


@contextmanager
def language(code: str) -> Iterator[None]:
    token = _current.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)
