"""The gettext catalogs, one per domain: `office` for the office's pages and `letters` for
the letters and their e-mails. Each is written in English and translated into Swedish in
`locale/sv/LC_MESSAGES/DOMAIN.po` (grants.web.catalog keeps them in step with the code).

A catalog is compiled when first needed; nothing generated is kept in the repository.
Letters are rendered outside the office (in flows and render workers), so this module
stands apart from the web.
"""

import gettext as gettext_module
from functools import cache
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from grants.settings import PROJECT_ROOT

LOCALE = PROJECT_ROOT / "locale"
SOURCE_LANGUAGE = "en"  # the language the messages are written in


@cache
def translations(domain: str, language: str) -> gettext_module.NullTranslations:
    """The `domain` catalog in `language`; English is the messages themselves."""
    if language == SOURCE_LANGUAGE:
        return gettext_module.NullTranslations()
    with (LOCALE / language / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=domain)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=domain)
