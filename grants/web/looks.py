"""What changed since a person last looked at a case, as the office's lists mark it, and
the record that they looked (models.looks).

A look is recorded when a person opens a page of the case (the case page, the draft
before the decision maker, a reviewer's page of it), in a transaction of its own after
the page was read: bookkeeping, like a session's last request, not a step in the case.
"""

from collections.abc import Iterable

from sqlmodel import Session

from grants.settings import Settings
from grants.web.i18n import N_, _
from models.db import transaction
from models.looks import changes_since_looked, looked
from models.tables import Person

# What each kind of change is called in a list's marker ("New: supplement received").
CHANGE_LABELS = {
    "supplement_registered": N_("supplement received"),
    "communication_reply": N_("reply to the communication received"),
    "conflict_declared": N_("conflict of interest declared"),
    "letter_undeliverable": N_("a letter was not delivered"),
    "draft_sent_back": N_("draft sent back"),
}


def changes(session: Session, person: Person, case_references: Iterable[str]) -> dict[str, str]:
    """Per case reference, what changed since the person last looked, in the current
    language (a list shows it as text beside the case, not as a colour only)."""
    found = changes_since_looked(session, person, case_references)
    return {ref: ", ".join(_(CHANGE_LABELS[a]) for a in actions) for ref, actions in found.items()}


def note_look(settings: Settings, person: Person, case_id: int, last_event_id: int) -> None:
    """Record that the person has seen the case as its trail stood at `last_event_id`."""
    with transaction(settings.db_url) as session:
        looked(session, person, case_id, last_event_id)
