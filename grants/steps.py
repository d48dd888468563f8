"""The one step layer: every edge (command line, office) takes a person's step through here.

who acts → which role → case locked and conflict checked → domain step → audit → commit →
the follow-up started. The domain refuses what the law or the state machine does not allow
(`Refused`); this layer makes sure a refusal changes nothing, and that the letters a step
ordered are sent only after its transaction committed. Neither edge holds rules of its own.
"""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import event
from sqlmodel import Session

from grants.settings import Settings
from models.access import case_for
from models.cases import find_case
from models.db import transaction
from models.delivery import pending, undelivered
from models.reference_data import acting_person, open_office, sync
from models.tables import Case, Letter, Person, Role

T = TypeVar("T")
Step = Callable[[Session, Settings, Person], T]
CaseStep = Callable[[Session, Settings, Person, Case], T]
OFFICERS = (Role.case_officer,)
REVIEWERS = (Role.advisor, Role.case_officer)
DECISION_MAKERS = (Role.decision_maker,)
PEOPLE = (Role.case_officer, Role.advisor, Role.decision_maker)


@dataclass(frozen=True)
class Taken:
    """What a step returned, whether it left letters or notices to send, and the letters
    it ordered (to tell afterwards whether they arrived)."""

    result: Any
    to_send: int
    letters: tuple[int, ...] = ()


def take_step(
    settings: Settings, actor_email: str | None, roles: tuple[Role, ...], step: Step[T]
) -> Taken:
    """Take one person's step in one transaction: all of it, or (on `Refused`) none of it."""
    with transaction(settings.db_url) as session:
        ordered = _letters_ordered(session)
        person = open_office(session, settings.file, actor_email, *roles)[1]
        result = step(session, settings, person)
        session.flush()
        to_send = pending(session)
    return Taken(result, to_send, tuple(letter.id for letter in ordered))


def _letters_ordered(session: Session) -> list[Letter]:
    """The letters added in this session from now on, filled in as they are written."""
    ordered: list[Letter] = []

    @event.listens_for(session, "before_flush")
    def collect(session: Session, _context: Any, _instances: Any) -> None:
        ordered.extend(item for item in session.new if isinstance(item, Letter))

    return ordered


def on_case(case_reference: str, step: CaseStep[T]) -> Step[T]:
    """A step on one case: its row locked for the transaction (people acting on it at once
    take turns), and refused to anyone who declared a conflict of interest in it."""

    def locked(session: Session, settings: Settings, person: Person) -> T:
        case = case_for(session, case_reference, person, lock=True)
        return step(session, settings, person, case)

    return locked


def take_case_step(
    settings: Settings,
    case_reference: str,
    actor_email: str | None,
    roles: tuple[Role, ...],
    step: CaseStep[T],
) -> Taken:
    return take_step(settings, actor_email, roles, on_case(case_reference, step))


def take_applicant_step(
    settings: Settings, case_reference: str, step: Callable[[Session, Case], T]
) -> Taken:
    """The applicant's step through the link its letter carried: no person signs in (the
    signed link said which case), but the case is locked and the step all or nothing,
    as for anyone's."""
    with transaction(settings.db_url) as session:
        result = step(session, find_case(session, case_reference, lock=True))
        to_send = pending(session)
    return Taken(result, to_send)


@contextmanager
def reading(
    settings: Settings, actor_email: str | None, roles: tuple[Role, ...] = PEOPLE
) -> Iterator[tuple[Session, Person]]:
    """A read by a named person: who reads is checked as for a step, and nothing is written
    but the configuration's call and people, once per process and configuration."""
    configured(settings)
    with transaction(settings.db_url) as session:
        yield session, acting_person(session, actor_email, *roles)


_configured: set[tuple[str, str]] = set()


def configured(settings: Settings) -> None:
    """The call and people in the database as the configuration has them, in a transaction
    of its own (a read that fails must not undo it). The office reads many times a second
    with one configuration: once per database and configuration content is enough."""
    key = (settings.db_url, json.dumps(settings.file, sort_keys=True, default=str))
    if key not in _configured:
        with transaction(settings.db_url) as session:
            sync(session, settings.file)
        _configured.add(key)


def send_follow_up() -> dict[str, int]:
    """Render and deliver what the committed steps ordered (the send-letters flow)."""
    from flows.letters import send_letters
    from grants.embedded import run_flow

    return run_flow(send_letters)


def not_delivered(settings: Settings, letter_ids: tuple[int, ...]) -> list[Letter]:
    """Of these letters, those that have not arrived (after the follow-up was tried)."""
    if not letter_ids:
        return []
    with transaction(settings.db_url) as session:
        return undelivered(session, list(letter_ids))
