"""Internal e-mails to staff: review reminders, too few reviewers, supplement arrived."""

from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from models.tables import Case, Notice, Person


def order_notice(
    session: Session, key: str, kind: str, to: Person, case: Case | None, **data: Any
) -> Notice:
    """Queue the notice once: a second order with the same key returns the first."""
    existing = session.exec(select(Notice).where(Notice.notice_key == key)).first()
    if existing:
        return existing
    notice = Notice(
        notice_key=key,
        case_id=case.id if case else None,
        kind=kind,
        recipient=to.email,
        data={"recipient_name": to.name} | data,
    )
    session.add(notice)
    return notice


def notices_to(
    session: Session, person: Person, hidden: set[int], limit: int
) -> list[tuple[Notice, str | None]]:
    """The latest notices e-mailed to `person`, newest first, each with its case's
    reference (None for one about no case); none about a case in `hidden` (the person's
    conflicts of interest: for them it does not exist)."""
    query = (
        select(Notice, Case.case_reference)
        .outerjoin(Case, col(Case.id) == Notice.case_id)
        .where(Notice.recipient == person.email)
        .order_by(col(Notice.id).desc())
        .limit(limit)
    )
    if hidden:
        query = query.where(or_(col(Notice.case_id).is_(None), col(Notice.case_id).not_in(hidden)))
    return [(notice, reference) for notice, reference in session.exec(query)]
