"""The case database: the system of record (ARCHITECTURE.md, principle 1).

Amounts are whole kronor (int); times are stored in UTC; texts are stored exactly as
the applicant wrote them and escaped only when rendered.
"""

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, event
from sqlmodel import Field, Relationship, SQLModel

from models.states import CaseState


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    case_officer = "case_officer"
    advisor = "advisor"
    decision_maker = "decision_maker"
    system = "system"  # automated work started by a flow; never held by a person


class Language(StrEnum):
    sv = "sv"
    en = "en"


class DeliveryState(StrEnum):
    to_render = "to_render"  # ordered by the domain; its PDF is yet to be made
    queued = "queued"  # waiting to be sent, or to be retried after a failure
    sending = "sending"  # claimed by one delivery run; never picked up by another
    sent = "sent"


class Call(SQLModel, table=True):
    """A call for applications (utlysning) with the rules its guidelines set."""

    __tablename__ = "calls"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    name: str
    name_en: str = ""
    budget: int
    minimum_grant: int
    maximum_grant: int
    closed_months: list[int] = Field(sa_column=Column(JSON, nullable=False))
    guidelines_version: str
    co_financing_hourly_rate: int = 330
    max_project_months: int = 24
    handling_weeks: int = 8  # what the acknowledgement promises


class Organisation(SQLModel, table=True):
    """The applicant. A non-profit may not have an organisation number yet."""

    __tablename__ = "organisations"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    organisation_number: str | None = Field(default=None, unique=True, index=True)
    legal_form: str
    municipality: str
    email: str
    contact_person: str
    phone: str | None = None
    postal_address: str | None = None
    postcode: str | None = None
    city: str | None = None
    bankgiro: str | None = None
    plusgiro: str | None = None


class Person(SQLModel, table=True):
    """Someone who acts in the system; their own organisation matters for conflicts."""

    __tablename__ = "people"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    email: str = Field(unique=True, index=True)
    role: Role
    organisation: str
    title: str | None = None


class Case(SQLModel, table=True):
    """One application and everything decided about it (ärende)."""

    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    case_reference: str = Field(unique=True, index=True)
    intake_key: str = Field(unique=True, index=True)
    call_id: int = Field(foreign_key="calls.id", index=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    case_officer_id: int | None = Field(default=None, foreign_key="people.id")
    state: CaseState = Field(default=CaseState.received, index=True)
    submission_id: str | None = None
    date_received: date
    registered_at: datetime = Field(default_factory=utcnow)
    language: Language = Language.sv
    project_title: str
    requested_amount: int
    co_financing_cash: int = 0
    co_financing_hours: int = 0
    project_start: date
    project_end: date
    societal_challenge: str
    description: str
    innovation: str = ""
    long_term_effects: str = ""
    target_group: str
    partners: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON))
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSON))

    organisation: Organisation = Relationship()
    call: Call = Relationship()
    case_officer: Person | None = Relationship()


class Letter(SQLModel, table=True):
    """A document that went, or is going, to the applicant: a record of the case.

    Ordered by the domain in the same transaction as the step that calls for it, so it
    cannot be forgotten; rendered and delivered afterwards by flows.
    """

    __tablename__ = "letters"

    id: int | None = Field(default=None, primary_key=True)
    letter_key: str = Field(unique=True, index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    kind: str
    language: Language
    recipient: str
    filename: str
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))  # kind's facts
    pdf: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    sha256: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    delivery_state: DeliveryState = Field(default=DeliveryState.to_render, index=True)
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    delivered_via: str | None = None

    case: Case = Relationship()


class AuditEvent(SQLModel, table=True):
    """Append-only trail: who, in which role, when, what, and the state before and after."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str
    role: Role
    action: str
    state_before: CaseState | None = None
    state_after: CaseState | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))

    case: Case | None = Relationship()


class CaseReferenceCounter(SQLModel, table=True):
    """Last serial handed out per year and prefix: the register's running number."""

    __tablename__ = "case_reference_counters"

    year: int = Field(primary_key=True)
    prefix: str = Field(primary_key=True)
    last_serial: int


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    raise PermissionError(f"audit event {target.id} is part of the record and cannot change")
