"""The step layer's machinery: declaring a step, taking it, reading, and the follow-up.

See `grants.steps` for the whole of it.
"""

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import event
from sqlmodel import Session

from grants.settings import Settings
from models import clock
from models.access import case_for
from models.applicant import answer
from models.cases import find_case
from models.db import engine_for, transaction
from models.delivery import on_the_way, pending, undelivered
from models.reference_data import acting_person, open_office, sync
from models.rules import Rules
from models.states import CaseState, StepNotNow
from models.tables import Case, Letter, Person, Role

T = TypeVar("T")
OFFICERS = (Role.case_officer,)
REVIEWERS = (Role.advisor, Role.case_officer)
DECISION_MAKERS = (Role.decision_maker,)
FINANCE = (Role.finance,)  # the finance department: payment files and the bank's reports
PEOPLE = (Role.case_officer, Role.advisor, Role.decision_maker, Role.finance)
# Who keeps the office's people: the case officers, and the decision maker, who must be able
# to add a case officer when every one of them declared a conflict in a case.
ADMINISTRATORS = (Role.case_officer, Role.decision_maker)


@dataclass(frozen=True)
class At:
    """Where a declared step is taken: its transaction, the settings, who acts and (for a
    step on a case) the case, locked and cleared of any conflict of the person's."""

    session: Session
    settings: Settings
    person: Person
    case: Case

    @property
    def rules(self) -> Rules:
        return self.settings.rules


@dataclass(frozen=True)
class DeclaredStep:
    """A step as the layer knows it: its name, who may take it, the case states it may be
    taken in (none for a step on no case), and the domain call. The call's keyword-only
    parameters are the step's parameters; edges pass them by name, parsed and typed."""

    name: str
    roles: tuple[Role, ...]
    states: tuple[CaseState, ...]
    call: Callable[..., Any]

    @property
    def on_case(self) -> bool:
        return bool(self.states)

    def open_in(self, state: CaseState) -> bool:
        return state in self.states


STEPS: dict[str, DeclaredStep] = {}


def declare(
    name: str, roles: tuple[Role, ...], states: Iterable[CaseState] = ()
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Declare the step `name` once; every edge takes it by that name (`take`)."""

    def register(call: Callable[..., T]) -> Callable[..., T]:
        if name in STEPS:
            raise ValueError(f"step {name!r} is declared twice")
        STEPS[name] = DeclaredStep(name, roles, tuple(states), call)
        return call

    return register


@dataclass(frozen=True)
class Taken:
    """What a step returned, the case's state after it, whether it left letters or notices
    to send, and the letters it ordered (to tell afterwards whether they arrived)."""

    result: Any
    to_send: int
    letters: tuple[int, ...] = ()
    state: CaseState | None = None


def take(
    settings: Settings,
    name: str,
    actor_email: str | None,
    case_reference: str | None = None,
    **parameters: Any,
) -> Taken:
    """Take the declared step `name` in one transaction: all of it, or (on `Refused`) none
    of it. On a case, its row is locked for the transaction (people acting on it at once
    take turns), and it is refused to anyone who declared a conflict of interest in it and
    in a state the step is not taken in."""
    with transaction(settings.db_url) as session:
        result, case, ordered = _taken_in(
            session, settings, name, actor_email, case_reference, parameters
        )
        to_send = pending(session)
    state = case.state if case is not None else None
    return Taken(result, to_send, tuple(letter.id for letter in ordered), state)


def _taken_in(
    session: Session,
    settings: Settings,
    name: str,
    actor_email: str | None,
    case_reference: str | None,
    parameters: dict[str, Any],
) -> tuple[Any, Case | None, list[Letter]]:
    """The step taken in `session`, not committed: its result, its case and the letters
    it ordered (flushed)."""
    step = STEPS[name]
    ordered = _letters_ordered(session)
    person = open_office(session, settings.file, actor_email, *step.roles)[1]
    case = None
    if step.on_case:
        case = case_for(session, case_reference or "", person, lock=True)
        if not step.open_in(case.state):
            raise StepNotNow(
                "state.step_not_now",
                case_reference=case.case_reference,
                state=case.state,
                step=name,
                states=step.states,
            )
    result = step.call(At(session, settings, person, case), **parameters)
    session.flush()
    return result, case, ordered


@dataclass(frozen=True)
class LetterToBe:
    """A letter a step would order: to whom, under which name, and what it is rendered
    from (the send-letters flow's template and context)."""

    recipient: str
    filename: str
    template: str
    context: dict[str, Any]


@dataclass(frozen=True)
class Rehearsal:
    """What a step would do, had it been taken: the letters it would order, and the
    case's state after it."""

    letters: tuple[LetterToBe, ...]
    state: CaseState | None


def rehearse(
    settings: Settings,
    name: str,
    actor_email: str | None,
    case_reference: str | None = None,
    **parameters: Any,
) -> Rehearsal:
    """The step `name` taken exactly as `take` takes it, refusals included, and then
    undone: its transaction is rolled back whatever happens, so nothing of it is kept (no
    letter, no audit event, no state). What the letters it ordered would be rendered
    from is kept, dated today, for the person to see before the step is taken."""
    from flows.letters import letter_job

    with Session(engine_for(settings.db_url), expire_on_commit=False) as session:
        try:
            _, case, ordered = _taken_in(
                session, settings, name, actor_email, case_reference, parameters
            )
            today = clock.today()
            letters = tuple(
                LetterToBe(letter.recipient, letter.filename, *letter_job(settings, letter, today))
                for letter in ordered
            )
            state = case.state if case is not None else None
        finally:
            session.rollback()
    return Rehearsal(letters, state)


def _letters_ordered(session: Session) -> list[Letter]:
    """The letters added in this session from now on, filled in as they are written."""
    ordered: list[Letter] = []

    @event.listens_for(session, "before_flush")
    def collect(session: Session, _context: Any, _instances: Any) -> None:
        ordered.extend(item for item in session.new if isinstance(item, Letter))

    return ordered


def take_applicant_answer(
    settings: Settings,
    case_reference: str,
    asked: str,
    number: int,
    message: str,
    upload: tuple[str, bytes] | None,
) -> Taken:
    """The applicant's one step, an answer (a supplement, a reply) through the link its
    letter carried: no person signs in (the signed link said which case and which request),
    but the case is locked and the step all or nothing, as for anyone's."""
    with transaction(settings.db_url) as session:
        case = find_case(session, case_reference, lock=True)
        result = answer(session, case, asked, number, message, upload)
        to_send = pending(session)
    return Taken(result, to_send)


@contextmanager
def reading(
    settings: Settings, actor_email: str | None, roles: tuple[Role, ...] = PEOPLE
) -> Iterator[tuple[Session, Person]]:
    """A read by a named person: who reads is checked as for a step, and nothing is written
    but the configuration's call (and, at the first start, the people it seeds), once per
    process and configuration."""
    configured(settings)
    with transaction(settings.db_url) as session:
        yield session, acting_person(session, actor_email, *roles)


_configured: set[tuple[str, str]] = set()


def configured(settings: Settings) -> None:
    """The call in the database as the configuration has it, and at the first start the
    people, the advisory group and its quorum it seeds (models.reference_data.sync), in a
    transaction of its own (a read that fails must not undo it). The office reads many
    times a second with one configuration: once per database and configuration content is
    enough."""
    key = (settings.db_url, json.dumps(settings.file, sort_keys=True, default=str))
    if key not in _configured:
        with transaction(settings.db_url) as session:
            sync(session, settings.file)
        _configured.add(key)


@dataclass(frozen=True)
class HandedOver:
    """The letters a step ordered are made and sent elsewhere: by `to`, or (None) by the
    scheduled send-letters, as nobody could take them now, for the reason `why`."""

    to: str | None
    why: str = ""


def send_follow_up(settings: Settings, hand_over: bool = True) -> dict[str, int] | HandedOver:
    """Have what the committed steps ordered rendered and delivered, as soon as can be:
    by a task worker in server mode, by a `grants serve` on this home (its flows are warm;
    not with `hand_over` False, as the office itself asks), else by the send-letters flow
    here. Returns what the flow did here, or who has the work."""
    from grants.embedded import poke_office, run_flow, server_mode

    if server_mode():
        from flows.letters import follow_up

        try:
            follow_up.delay()
        except Exception as error:  # the step stands; what it ordered waits in the database
            return HandedOver(None, f"the Prefect server did not take it: {error}")
        return HandedOver("the workers")
    if hand_over and poke_office(settings):
        return HandedOver("the office")
    from flows.letters import send_letters

    return run_flow(send_letters)


def not_delivered(settings: Settings, letter_ids: tuple[int, ...], wait: float = 0) -> list[Letter]:
    """Of these letters, those that have not arrived; waiting up to `wait` seconds while
    any is still on its way (rendered and sent by the office or a worker)."""
    if not letter_ids:
        return []
    deadline = time.monotonic() + wait
    while True:
        with transaction(settings.db_url) as session:
            letters = undelivered(session, list(letter_ids))
        if not any(on_the_way(letter) for letter in letters) or time.monotonic() > deadline:
            return letters
        time.sleep(0.1)
