"""Registering validated applications as cases.

Idempotent by construction: each application has an intake key (the form's submission
id, or a fingerprint of its content) that is unique in the database, so a file taken
in twice registers nothing twice, and two intakes at once cannot both register it.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.audit import Actor
from models.delays import expected_decision
from models.letters import ACKNOWLEDGEMENT, new_letter
from models.states import CaseState
from models.tables import AuditEvent, Call, Case, CaseReferenceCounter, Organisation, Person
from models.validation import ValidApplication

# Details an organisation may change between applications: the newest application wins.
CONTACT_FIELDS = (
    "name",
    "email",
    "contact_person",
    "phone",
    "postal_address",
    "postcode",
    "city",
    "municipality",
    "bankgiro",
    "plusgiro",
)


@dataclass(frozen=True)
class Registration:
    case_reference: str
    new: bool  # False: the application was already registered under this reference


def intake_key(call: Call, application: ValidApplication) -> str:
    """The form's submission id when there is one, else a fingerprint of what was sent."""
    if application.submission_id:
        return _submission_key(call, application.submission_id)
    content = json.dumps(
        [application.date_received, application.organisation, application.project],
        sort_keys=True,
        default=str,
    )
    return f"{call.code}:sha256:{hashlib.sha256(content.encode()).hexdigest()}"


def _submission_key(call: Call, submission_id: str) -> str:
    return f"{call.code}:submission:{submission_id}"


def registered_submissions(
    session: Session, call: Call, submission_ids: Iterable[str]
) -> dict[str, str]:
    """The case reference of each of these submission ids already registered in the call.

    One query for a batch: a file taken in again is known by its submission ids before any
    record of it is validated, so what is already registered costs a look-up, no more.
    """
    keys = {_submission_key(call, submission_id): submission_id for submission_id in submission_ids}
    found = session.exec(
        select(Case.intake_key, Case.case_reference).where(col(Case.intake_key).in_(keys))
    )
    return {keys[key]: reference for key, reference in found}


def allocate_case_references(
    session: Session, prefix: str, today: date, count: int, first_serial: int = 1
) -> list[str]:
    """Hand out `count` consecutive references `YY<prefix><serial>` within this transaction.

    The counter row is updated in place, so concurrent transactions queue on its lock
    (and on SQLite's write lock) instead of handing out the same serial twice.
    """
    if count == 0:
        return []
    last = _advance_counter(session, today.year, prefix, count)
    if last is None:  # the year's first case: create its counter, unless another did first
        try:
            with session.begin_nested():
                counter = CaseReferenceCounter(
                    year=today.year, prefix=prefix, last_serial=first_serial - 1
                )
                session.add(counter)
        except IntegrityError:
            pass
        last = _advance_counter(session, today.year, prefix, count)
    yy = f"{today.year % 100:02d}"
    return [f"{yy}{prefix}{serial}" for serial in range(last - count + 1, last + 1)]


def _advance_counter(session: Session, year: int, prefix: str, count: int) -> int | None:
    counter = CaseReferenceCounter
    return session.exec(
        update(counter)
        .where(col(counter.year) == year, col(counter.prefix) == prefix)
        .values(last_serial=counter.last_serial + count)
        .returning(counter.last_serial)
    ).scalar_one_or_none()


def _organisations(
    session: Session, applications: list[ValidApplication]
) -> dict[str, Organisation]:
    numbers = {a.organisation["organisation_number"] for a in applications} - {None}
    found = session.exec(
        select(Organisation).where(col(Organisation.organisation_number).in_(numbers))
    )
    return {org.organisation_number: org for org in found if org.organisation_number}


def _organisation_for(
    known: dict[str, Organisation], details: dict
) -> tuple[Organisation, list[str]]:
    """The known organisation with its details brought up to date, or a new one."""
    number = details["organisation_number"]
    org = known.get(number) if number else None
    if org is None:
        org = Organisation(**details)
        if number:
            known[number] = org
        return org, []
    changed = [name for name in CONTACT_FIELDS if getattr(org, name) != details[name]]
    for name in changed:
        setattr(org, name, details[name])
    return org, changed


def register_applications(
    session: Session,
    call: Call,
    applications: list[ValidApplication],
    officer: Person,
    prefix: str,
    today: date,
    first_serial: int = 1,
) -> list[Registration]:
    """Register each application not registered before; all in the caller's transaction.

    The officer who takes the applications in becomes each new case's case officer. Each
    new case's acknowledgement is ordered here, with the case, so it cannot be forgotten.
    """
    actor = Actor.of(officer)
    keys = [intake_key(call, a) for a in applications]
    seen = dict(
        session.exec(
            select(Case.intake_key, Case.case_reference).where(col(Case.intake_key).in_(keys))
        ).all()
    )
    fresh: dict[int, str] = {}  # index in `applications` -> key, first occurrence only
    for i, key in enumerate(keys):
        if key not in seen:
            seen[key] = ""  # taken: a later copy in the same batch is a duplicate
            fresh[i] = key
    references = allocate_case_references(session, prefix, today, len(fresh), first_serial)
    known = _organisations(session, [applications[i] for i in fresh])

    for (i, key), reference in zip(fresh.items(), references, strict=True):
        application = applications[i]
        organisation, changed = _organisation_for(known, application.organisation)
        case = Case(
            case_reference=reference,
            intake_key=key,
            call=call,
            organisation=organisation,
            case_officer=officer,
            state=CaseState.received,
            submission_id=application.submission_id,
            date_received=application.date_received,
            expected_decision_on=expected_decision(call, application.date_received, today),
            language=application.language,
            warnings=application.warnings,
            **application.project,
        )
        session.add(
            AuditEvent(
                case=case,
                actor=actor.who,
                role=actor.role,
                action="registered",
                state_before=None,
                state_after=CaseState.received,
                detail={
                    "submission_id": application.submission_id,
                    "date_received": application.date_received.isoformat(),
                    "warnings": application.warnings,
                    "organisation_details_updated": changed,
                },
            )
        )
        session.add(new_letter(case, ACKNOWLEDGEMENT))
        seen[key] = reference
    session.flush()
    return [Registration(seen[key], i in fresh) for i, key in enumerate(keys)]
