"""The case officer corrects a case's contact and payment facts, with a reason.

An applicant's e-mail address bounced, its contact person left, its bank details were
mistyped on the form: the facts are the applicant organisation's, checked as intake checks
them (models.validation.CONTACT_FACTS), and the old and new value of each go in the case's
audit trail with the reason. A corrected e-mail address takes the case's letters that have
not arrived with it: each is re-addressed, and one that was set aside goes again, the same
letter (its PDF and Message-ID unchanged), now to the corrected address.
"""

from typing import Any, ClassVar

from sqlmodel import Session, col, select

from models.audit import Actor, record
from models.delivery import queue_again
from models.errors import Refused
from models.identifiers import IdentifierError
from models.tables import Case, DeliveryState, Letter, Organisation, Person
from models.validation import CONTACT_FACTS, FieldError, invalid

CORRECTABLE = tuple(CONTACT_FACTS)


class CorrectionRefused(Refused, ValueError):
    """A correction that cannot be made as given; nothing was changed."""

    messages: ClassVar[dict[str, str]] = {
        "facts.nothing_changed": "case {case_reference}: the facts given are those it has",
        "facts.number_taken": "organisation_number = {number!r}: already the number of "
        "{organisation}, another applicant",
    }


def correct_case_facts(
    session: Session, case: Case, officer: Person, *, facts: dict[str, str], reason: str
) -> dict[str, Any]:
    """Correct what is given of CORRECTABLE, with `reason` (required); returns the new
    values of what changed. Refused, naming the field and the value, if one is not valid."""
    if not reason.strip():
        raise invalid("reason", reason, FieldError("field.required"))
    organisation = case.organisation
    changed = {
        name: value
        for name, value in _checked(facts).items()
        if getattr(organisation, name) != value
    }
    if not changed:
        raise CorrectionRefused("facts.nothing_changed", case_reference=case.case_reference)
    _number_free(session, organisation, changed.get("organisation_number"))
    old = {name: getattr(organisation, name) for name in changed}
    for name, value in changed.items():
        setattr(organisation, name, value)
    session.add(organisation)
    record(
        session,
        case,
        Actor.of(officer),
        "case_facts_corrected",
        old=old,
        new=changed,
        reason=reason.strip(),
    )
    if "email" in changed:
        _readdress(session, case, officer, old["email"], changed["email"])
    return changed


def _checked(facts: dict[str, str]) -> dict[str, Any]:
    unknown = set(facts) - set(CORRECTABLE)
    if unknown:
        raise TypeError(f"not facts to correct: {sorted(unknown)}")
    checked = {}
    for name, value in facts.items():
        try:
            checked[name] = CONTACT_FACTS[name](value)
        except (FieldError, IdentifierError) as error:
            raise invalid(name, value, error) from None
    return checked


def _number_free(session: Session, organisation: Organisation, number: str | None) -> None:
    if number is None:
        return
    query = select(Organisation).where(
        Organisation.organisation_number == number, Organisation.id != organisation.id
    )
    other = session.exec(query).first()
    if other is not None:
        raise CorrectionRefused("facts.number_taken", number=number, organisation=other.name)


def _readdress(session: Session, case: Case, officer: Person, old: str, new: str) -> None:
    """The case's letters to `old` that have not arrived go to `new`; one set aside (a
    bounce) goes again now, the same letter."""
    query = select(Letter).where(
        Letter.case_id == case.id,
        Letter.recipient == old,
        col(Letter.delivery_state) != DeliveryState.sent,
    )
    letters = list(session.exec(query.order_by(col(Letter.id))))
    for letter in letters:
        letter.recipient = new
        session.add(letter)
    failed = [letter for letter in letters if letter.delivery_state == DeliveryState.failed]
    queue_again(session, case, officer, failed)
