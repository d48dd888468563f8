"""Reading what a person typed into a form (amounts, lists, codes), and taking the step
it asks for.

Only the shape of a value is checked here (a number is a number); whether it is allowed
(an amount within the call's range, a reason for every requirement) is the domain's to say.
"""

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from grants.steps import Taken, take
from grants.web.i18n import _
from grants.web.office import Office
from grants.web.pages import notice
from models.access import ConflictOfInterest
from models.cases import CaseNotFound
from models.errors import Refused
from models.reference_data import NotAllowed
from models.tables import Person

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


class UnreadableForm(ValueError):
    """A value that is not what its field asks for; the page is shown again with why, at
    the `field` (its name in the form) when one is given."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def amount(text: str, field: str = "") -> int | None:
    """Kronor as people write them ("40 000", "40000 kr"); empty means no amount. `field`:
    the form's name for it, where a refusal is said."""
    digits = text.replace("\u00a0", "").replace(" ", "").removesuffix("kr").strip()
    if not digits:
        return None
    if not (digits.isascii() and digits.isdigit()):  # "35000²" and "٣٥٠٠٠" are no amounts
        raise UnreadableForm(_("Write the amount in whole kronor, for example 40 000."), field)
    return int(digits)


def day(text: str, field: str = "") -> date:
    """A date as YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UnreadableForm(_("Give the date as YYYY-MM-DD."), field) from None


def lines(text: str) -> list[str]:
    """One item per line, empty lines left out."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def choice(kind: type[E], code: str, missing: str, field: str = "") -> E:
    """A code from radio buttons or a list; `missing` says what to choose when none was."""
    try:
        return kind(code)
    except ValueError:
        raise UnreadableForm(missing, field) from None


def take_or_show_again(
    request: Request,
    office: Office,
    person: Person,
    name: str,
    case_reference: str | None,
    parameters: Callable[[], dict[str, Any]],
    show_again: Callable[[Exception], Response],
    done: Callable[[Taken], tuple[str, str]],
) -> Response:
    """Take the declared step `name` on a case through the step layer, with the
    `parameters` read from the form (an unreadable value is refused as the domain's
    refusals are); then say what it did and go where `done` says (303), starting the
    letters it ordered; or, refused, show the page again with why and what was typed
    (`show_again`: the step layer changed nothing). A case that does not exist for the
    person answers as none (404), whatever was posted."""
    try:
        taken = take(office.settings, name, person.email, case_reference, **parameters())
    except (CaseNotFound, ConflictOfInterest):
        raise
    except (Refused, UnreadableForm) as refusal:
        return show_again(refusal)
    message, target = done(taken)
    if taken.to_send:
        office.follow_up.poke()
    notice(request, message)
    return RedirectResponse(target, 303)


def refusal_status(refusal: Exception | None) -> int:
    """A page shown again after a refusal: 403 when the person may not, else 409."""
    return 200 if refusal is None else 403 if isinstance(refusal, NotAllowed) else 409
