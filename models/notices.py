"""Internal e-mails to staff: review reminders, too few reviewers, supplement arrived."""

from typing import Any

from sqlmodel import Session, select

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
