"""Keep the Swedish catalogs in step with the pages and the letters.

    python -m grants.web.catalog update              # add new messages, drop unused ones
    python -m grants.web.catalog translate FILE.json # {"English": "svenska", ...} into it
    python -m grants.web.catalog missing             # messages without a translation

Each command works on the office's catalog, or on the letters' with `--letters` first
(`python -m grants.web.catalog --letters update`): the letters' templates
(templates/letters/, templates/email/) go to the `letters` catalog, everything else to
the office's. A test runs `missing` on both and fails on any message shown in English on
a Swedish page or in a Swedish letter.
"""

import fcntl
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from grants.catalogs import LOCALE
from grants.settings import PROJECT_ROOT
from grants.web.i18n import DOMAIN

LETTERS = "letters"
LETTER_TEMPLATES = ("templates/letters/", "templates/email/")
TITLES = {DOMAIN: "The office in Swedish", LETTERS: "The letters in Swedish"}

KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


def domain_of(filename: str) -> str:
    """Which catalog a file's messages belong to: the letters' or the office's."""
    return LETTERS if filename.startswith(LETTER_TEMPLATES) else DOMAIN


def extracted(domain: str = DOMAIN) -> Catalog:
    """Every message the domain's code and templates show, as found in them now."""
    with (PROJECT_ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    template = Catalog(domain=domain)
    for filename, lineno, message, comments, context in extract_from_dir(
        PROJECT_ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        if domain_of(filename) != domain:
            continue
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def catalog_path(language: str = "sv", domain: str = DOMAIN) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{domain}.po"


@contextmanager
def locked_catalog(language: str = "sv", domain: str = DOMAIN) -> Iterator[Catalog]:
    """The catalog, read and written back under a lock (two people may edit at once)."""
    path = catalog_path(language, domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language, domain=domain)
        else:
            catalog = Catalog(locale=language, domain=domain)
        catalog.project, catalog.version, catalog.fuzzy = "grants", "", False
        catalog.header_comment = (
            f"# {TITLES[domain]}: see grants/web/catalog.py for how to update it."
        )
        yield catalog
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, sort_output=True)


def missing(catalog: Catalog, template: Catalog) -> list[str]:
    def untranslated(message: object) -> bool:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        return not all(strings)

    ids = [m.id for m in template if m.id]
    return sorted(str(i) for i in ids if catalog.get(i) is None or untranslated(catalog.get(i)))


def main(argv: list[str]) -> int:
    domain = LETTERS if argv[:1] == ["--letters"] else DOMAIN
    argv = argv[1:] if domain == LETTERS else argv
    command = argv[0] if argv else "missing"
    if command == "update":
        with locked_catalog(domain=domain) as catalog:
            catalog.update(extracted(domain), no_fuzzy_matching=True)
            catalog.obsolete.clear()
    elif command == "translate":
        pairs = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
        with locked_catalog(domain=domain) as catalog:
            for english, swedish in pairs.items():
                message = catalog.get(english)  # a plural message by its singular
                if message is None:
                    print(f"not in the catalog (run update first): {english!r}")
                    continue
                message.string = tuple(swedish) if isinstance(swedish, list) else swedish
                message.flags.discard("fuzzy")
    with catalog_path(domain=domain).open("rb") as handle:
        left = missing(read_po(handle), extracted(domain))
    for message in left:
        print(f"untranslated: {message!r}")
    return 1 if left and command == "missing" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
