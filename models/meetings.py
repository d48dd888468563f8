"""The applicant meeting: booked with an invitation, documented with a file note (FL 27 §),
or skipped with a recorded reason."""

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from models.audit import Actor, move, record
from models.errors import Refused
from models.letters import MEETING_INVITATION, order_letter
from models.reviews import tasks_of
from models.states import CaseState
from models.tables import Case, FileNote, Meeting, MeetingStatus, Person, TaskStatus


class MeetingError(Refused, ValueError):
    """The meeting step cannot be taken as given; the message names the field and why."""


def book_meeting(
    session: Session,
    case: Case,
    officer: Person,
    starts_at: datetime,
    minutes: int,
    place: str,
    now: datetime,
) -> Meeting:
    """Book (or rebook) the meeting and order the invitation letter with its calendar file."""
    _require_meeting_step(case)
    if starts_at.tzinfo is None:
        raise MeetingError(f"at = {starts_at.isoformat()}: give the time with its time zone")
    if starts_at <= now:
        raise MeetingError(f"at = {starts_at.isoformat()}: the meeting must be in the future")
    if not 15 <= minutes <= 480:
        raise MeetingError(f"minutes = {minutes}: a meeting lasts 15 to 480 minutes")
    if not place.strip():
        raise MeetingError("place = '': say where the meeting is, or how to join it")
    earlier = _meetings(session, case)
    for meeting in earlier:
        if meeting.status is MeetingStatus.booked:
            meeting.status = MeetingStatus.rebooked
            session.add(meeting)
    meeting = Meeting(
        case_id=case.id,
        number=len(earlier) + 1,
        status=MeetingStatus.booked,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        place=place.strip(),
        booked_by=officer.email,
    )
    session.add(meeting)
    participants = [
        {"name": t.reviewer.name, "organisation": t.reviewer.organisation}
        for t in tasks_of(session, case)
        if t.status is TaskStatus.submitted
    ]
    if officer.name not in {p["name"] for p in participants}:
        participants.append({"name": officer.name, "organisation": officer.organisation})
    record(
        session,
        case,
        Actor.of(officer),
        "meeting_booked",
        number=meeting.number,
        starts_at=starts_at.isoformat(),
        place=meeting.place,
    )
    order_letter(
        session,
        case,
        MEETING_INVITATION,
        {
            "number": meeting.number,
            "starts_at": starts_at.isoformat(),
            "ends_at": meeting.ends_at.isoformat(),
            "place": meeting.place,
            "participants": participants,
        },
        meeting.number,
    )
    return meeting


def document_meeting(
    session: Session, case: Case, officer: Person, text: str, now: datetime
) -> FileNote:
    """The file note of what was said; the case goes on to the draft decision."""
    _require_meeting_step(case)
    if not text.strip():
        raise MeetingError("text = '': the file note must say what was said")
    held = [m for m in _meetings(session, case) if m.status is MeetingStatus.booked]
    if not held:
        raise MeetingError(
            f"no meeting is booked for {case.case_reference}; book it first, or "
            "skip it with a reason"
        )
    meeting = held[-1]
    if meeting.starts_at.replace(tzinfo=meeting.starts_at.tzinfo or now.tzinfo) > now:
        raise MeetingError(
            f"the meeting starts {meeting.starts_at.isoformat()}; document it "
            "once it has taken place"
        )
    meeting.status = MeetingStatus.held
    session.add(meeting)
    return _on_to_draft(
        session, case, officer, "meeting_note", text, "meeting_documented", number=meeting.number
    )


def skip_meeting(session: Session, case: Case, officer: Person, reason: str) -> FileNote:
    """No meeting this time: why goes on record; the case goes on to the draft decision."""
    _require_meeting_step(case)
    if not reason.strip():
        raise MeetingError("reason = '': say why no meeting is needed")
    return _on_to_draft(
        session, case, officer, "meeting_skipped", reason, "meeting_skipped", reason=reason.strip()
    )


def _on_to_draft(
    session: Session, case: Case, officer: Person, kind: str, text: str, action: str, **detail: Any
) -> FileNote:
    """File the note and move the case on to the draft decision."""
    note = FileNote(case_id=case.id, kind=kind, text=text.strip(), author=officer.email)
    session.add(note)
    move(session, case, CaseState.drafting_decision, Actor.of(officer), action, **detail)
    return note


def _require_meeting_step(case: Case) -> None:
    if case.state is not CaseState.applicant_meeting:
        raise MeetingError(
            f"case {case.case_reference} is '{case.state}'; the meeting step "
            "comes when the review is complete ('applicant_meeting')"
        )


def _meetings(session: Session, case: Case) -> list[Meeting]:
    query = select(Meeting).where(Meeting.case_id == case.id).order_by(col(Meeting.number))
    return list(session.exec(query))
