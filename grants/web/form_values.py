"""Reading what a person typed into a form: amounts and lists, before the domain sees them.

Only the shape of a value is checked here (a number is a number); whether it is allowed
(an amount within the call's range, a reason for every requirement) is the domain's to say.
"""

from enum import StrEnum
from typing import TypeVar

from grants.web.i18n import _

E = TypeVar("E", bound=StrEnum)


class UnreadableForm(ValueError):
    """A value that is not what its field asks for; the page is shown again with why."""


def amount(text: str) -> int | None:
    """Kronor as people write them ("40 000", "40000 kr"); empty means no amount."""
    digits = text.replace("\u00a0", "").replace(" ", "").removesuffix("kr").strip()
    if not digits:
        return None
    if not digits.isdigit():
        raise UnreadableForm(_("Write the amount in whole kronor, for example 40 000."))
    return int(digits)


def lines(text: str) -> list[str]:
    """One item per line, empty lines left out."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def choice(kind: type[E], code: str, missing: str) -> E:
    """A code from radio buttons or a list; `missing` says what to choose when none was."""
    try:
        return kind(code)
    except ValueError:
        raise UnreadableForm(missing) from None
