"""The case list: the cases a person may read, filtered, sorted and a page at a time.

A call has a thousand cases, so the filtering, the order and the page are the database's
work, not Python's: one query for the page and one for the count. The same query gives
the whole filtered list for an export, so a list and its export never disagree.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, Select, func, or_
from sqlalchemy import case as case_when
from sqlmodel import Session, col, select

from models.access import readable_clause
from models.states import CaseState
from models.tables import Case, Decision, DecisionStatus, Organisation, Outcome, Person

PAGE_SIZE = 50


class SortKey(StrEnum):
    """What the list can be ordered by; states in the order a case goes through them."""

    reference = "reference"
    received = "received"
    state = "state"
    applied = "applied"
    granted = "granted"
    applicant = "applicant"


@dataclass(frozen=True)
class CaseFilter:
    """What a person narrowed the list to; an empty field narrows nothing."""

    text: str = ""  # reference, organisation, project, contact person, e-mail, org. number
    state: CaseState | None = None
    municipality: str = ""
    outcome: Outcome | None = None  # of the signed decision
    received_from: date | None = None
    received_to: date | None = None
    amount_from: int | None = None  # kronor applied for
    amount_to: int | None = None


@dataclass(frozen=True)
class CasePage:
    rows: list[Row[Any]]
    total: int  # cases matching the filter, on every page
    page: int  # 1-based, within 1..pages
    pages: int


def _signed():
    """Each case's signed decision: its outcome, the amount granted and when."""
    return (
        select(
            col(Decision.case_id).label("case_id"),
            col(Decision.outcome).label("outcome"),
            col(Decision.amount).label("granted_amount"),
            col(Decision.decided_at).label("decided_at"),
        )
        .where(Decision.status == DecisionStatus.signed)
        .subquery()
    )


def _listed(session: Session, reader: Person, chosen: CaseFilter) -> tuple[Select, Any]:
    """The filtered query of what the list and its export show of each case, and the
    signed decision's subquery (to sort by)."""
    signed = _signed()
    query = (
        select(
            Case.id,
            Case.case_reference,
            Case.state,
            Case.date_received,
            Case.project_title,
            Case.requested_amount,
            col(Organisation.name).label("organisation_name"),
            Organisation.organisation_number,
            Organisation.municipality,
            Organisation.contact_person,
            col(Organisation.email).label("email"),
            signed.c.outcome,
            signed.c.granted_amount,
            signed.c.decided_at,
        )
        .join(Organisation)
        .outerjoin(signed, signed.c.case_id == Case.id)
        .where(readable_clause(session, reader))
    )
    return query.where(*_conditions(chosen, signed)), signed


def _conditions(chosen: CaseFilter, signed: Any) -> list[Any]:
    conditions: list[Any] = []
    if chosen.text.strip():
        conditions.append(_matches(chosen.text.strip()))
    if chosen.state is not None:
        conditions.append(Case.state == chosen.state)
    if chosen.municipality:
        conditions.append(Organisation.municipality == chosen.municipality)
    if chosen.outcome is not None:
        conditions.append(signed.c.outcome == chosen.outcome)
    if chosen.received_from is not None:
        conditions.append(col(Case.date_received) >= chosen.received_from)
    if chosen.received_to is not None:
        conditions.append(col(Case.date_received) <= chosen.received_to)
    if chosen.amount_from is not None:
        conditions.append(col(Case.requested_amount) >= chosen.amount_from)
    if chosen.amount_to is not None:
        conditions.append(col(Case.requested_amount) <= chosen.amount_to)
    return conditions


def _matches(text: str) -> Any:
    """A case whose reference, organisation, project, contact person or e-mail contains
    `text`; or whose organisation number does, written with or without its hyphen."""
    pattern = f"%{text}%"
    searched = [
        col(Case.case_reference).ilike(pattern),
        col(Organisation.name).ilike(pattern),
        col(Case.project_title).ilike(pattern),
        col(Organisation.contact_person).ilike(pattern),
        col(Organisation.email).ilike(pattern),
    ]
    digits = text.replace("-", "").replace(" ", "")
    if digits.isascii() and digits.isdigit():
        number = func.replace(col(Organisation.organisation_number), "-", "")
        searched.append(number.like(f"%{digits}%"))
    return or_(*searched)


def _order(key: SortKey, descending: bool, signed: Any) -> list[Any]:
    """The order by `key`, the case reference breaking ties (so pages never overlap);
    cases without a signed decision last when sorted by the amount granted."""
    state_order = case_when(
        *((col(Case.state) == state, number) for number, state in enumerate(CaseState))
    )
    column = {
        SortKey.reference: col(Case.case_reference),
        SortKey.received: col(Case.date_received),
        SortKey.state: state_order,
        SortKey.applied: col(Case.requested_amount),
        SortKey.granted: signed.c.granted_amount,
        SortKey.applicant: func.lower(col(Organisation.name)),
    }[key]
    first = column.desc() if descending else column.asc()
    tie = col(Case.case_reference).desc() if descending else col(Case.case_reference).asc()
    return [first.nulls_last(), tie]


def list_page(
    session: Session,
    reader: Person,
    chosen: CaseFilter,
    key: SortKey = SortKey.reference,
    descending: bool = False,
    page: int = 1,
    size: int | None = None,
) -> CasePage:
    """One page of the cases `reader` may read that match `chosen`, in order; a page
    beyond the last is the last. `size`: PAGE_SIZE unless told."""
    size = size or PAGE_SIZE
    query, signed = _listed(session, reader, chosen)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    ordered = query.order_by(*_order(key, descending, signed))
    rows = list(session.exec(ordered.offset((page - 1) * size).limit(size)))
    return CasePage(rows, total, page, pages)


def all_listed(
    session: Session,
    reader: Person,
    chosen: CaseFilter,
    key: SortKey = SortKey.reference,
    descending: bool = False,
) -> list[Row[Any]]:
    """Every case of the filtered list, in its order: what an export holds."""
    query, signed = _listed(session, reader, chosen)
    return list(session.exec(query.order_by(*_order(key, descending, signed))))


def municipalities(session: Session, reader: Person) -> list[str]:
    """The municipalities of the applicants in the cases `reader` may read: the filter's
    choices."""
    query = (
        select(Organisation.municipality)
        .join(Case)
        .where(readable_clause(session, reader))
        .distinct()
        .order_by(col(Organisation.municipality))
    )
    return list(session.exec(query))
