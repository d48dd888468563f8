"""The applicant meeting: booked with an invitation, documented with a file note (FL 27 §),
or skipped with a recorded reason.

A meeting moved to another time is the same calendar event, updated: its invitation carries
the event's identity and a higher sequence number, so the applicant's calendar moves it
rather than keeping both. Skipping a booked meeting cancels that event by letter; so does
cancelling it, with the reason in the letter, while the case waits for a new booking. A
meeting booked after a cancellation is a new calendar event (a new UID): calendar programs
differ in whether an update reaching a cancelled event's UID brings it back, and a new
event shows in every one of them.

A meeting is held on a working day within office hours (the configuration's
`meeting_hours`), and neither its room nor its people are booked twice at overlapping
times. Its file note is written after it was held, dated when it was written.
"""

from datetime import UTC, datetime, time, timedelta
from typing import Any, ClassVar

from sqlmodel import Session, col, select

from models.audit import Actor, move, record
from models.errors import Refused
from models.letters import MEETING_CANCELLATION, MEETING_INVITATION, letter_key, order_letter
from models.reviews import tasks_of
from models.states import CaseState
from models.tables import (
    STOCKHOLM,
    Case,
    FileNote,
    Meeting,
    MeetingStatus,
    Person,
    TaskStatus,
    local_time,
)
from models.working_days import is_working_day


class MeetingError(Refused, ValueError):
    """The meeting step cannot be taken as given; the refusal names the field and why."""

    messages: ClassVar[dict[str, str]] = {
        "meeting.no_time_zone": "at = {at}: give the time with its time zone",
        "meeting.in_the_past": "at = {at}: the meeting must be in the future",
        "meeting.length": "minutes = {minutes}: a meeting lasts 15 to 480 minutes",
        "meeting.no_place": "place = '': say where the meeting is, or how to join it",
        "meeting.no_note": "text = '': the file note must say what was said",
        "meeting.not_booked": "no meeting is booked for {case_reference}; book it first, or "
        "skip it with a reason",
        "meeting.not_held": "the meeting ends {ends_at}; document it once it has been held",
        "meeting.no_reason": "reason = '': say why no meeting is needed",
        "meeting.nothing_to_cancel": "no meeting is booked for {case_reference}; there is "
        "nothing to cancel",
        "meeting.already_held": "the meeting ended {ends_at}; a meeting that has been held "
        "cannot be cancelled: document it with a file note",
        "meeting.no_cancel_reason": "reason = '': say why the meeting is cancelled; the "
        "applicant reads it in the letter",
        "meeting.not_a_working_day": "at = {at}: {weekday} {day} is not a working day; "
        "meetings with applicants are held on working days",
        "meeting.office_hours": "at = {at}: the meeting ({starts}–{ends}) must be within "
        "office hours, {opens}–{closes}",
        "meeting.place_booked": "place = {place!r}: already booked {starts}–{ends} for "
        "another meeting",
        "meeting.people_booked": "at = {at}: {people} already in another meeting {starts}–{ends}",
        "meeting.wrong_state": "case {case_reference} is '{state}'; the meeting step comes "
        "when the review is complete ('applicant_meeting')",
    }


def book_meeting(
    session: Session,
    case: Case,
    officer: Person,
    starts_at: datetime,
    minutes: int,
    place: str,
    now: datetime,
    office_hours: str = "08:00-17:00",
) -> Meeting:
    """Book (or rebook) the meeting and order the invitation letter with its calendar file."""
    _require_meeting_step(case)
    if starts_at.tzinfo is None:
        raise MeetingError("meeting.no_time_zone", at=starts_at.isoformat())
    if starts_at <= now:
        raise MeetingError("meeting.in_the_past", at=starts_at)
    if not 15 <= minutes <= 480:
        raise MeetingError("meeting.length", minutes=minutes)
    if not place.strip():
        raise MeetingError("meeting.no_place")
    ends_at = starts_at + timedelta(minutes=minutes)
    _within_office_hours(starts_at, ends_at, office_hours)
    people = _participants(session, case, officer)
    _free(session, case, starts_at, ends_at, place.strip(), [p.email for p in people])
    earlier = _meetings(session, case)
    moved_from = None
    for meeting in earlier:
        if meeting.status is MeetingStatus.booked:
            meeting.status = MeetingStatus.rebooked
            moved_from = local_time(meeting.starts_at).isoformat()
            session.add(meeting)
    meeting = Meeting(
        case_id=case.id,
        number=len(earlier) + 1,
        status=MeetingStatus.booked,
        starts_at=starts_at.astimezone(UTC),
        ends_at=ends_at.astimezone(UTC),
        place=place.strip(),
        participants=[p.email for p in people],
        booked_by=officer.email,
    )
    session.add(meeting)
    uid, sequence = _calendar_event(case, [*earlier, meeting])
    participants = [{"name": p.name, "organisation": p.organisation} for p in people]
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
            "ends_at": ends_at.isoformat(),
            "place": meeting.place,
            "participants": participants,
            "uid": uid,
            "sequence": sequence,
            "moved_from": moved_from,
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
        raise MeetingError("meeting.no_note")
    meeting = meeting_to_document(session, case)
    if meeting is None:
        raise MeetingError("meeting.not_booked", case_reference=case.case_reference)
    if not has_ended(meeting, now):
        raise MeetingError("meeting.not_held", ends_at=local_time(meeting.ends_at))
    meeting.status = MeetingStatus.held
    session.add(meeting)
    return _on_to_draft(
        session,
        case,
        officer,
        "meeting_note",
        text,
        "meeting_documented",
        now,
        number=meeting.number,
    )


def meeting_to_document(session: Session, case: Case) -> Meeting | None:
    """The meeting booked and not yet documented, if there is one (the last booked)."""
    booked = [m for m in _meetings(session, case) if m.status is MeetingStatus.booked]
    return booked[-1] if booked else None


def has_ended(meeting: Meeting, now: datetime) -> bool:
    """Whether the meeting is over, so that its file note can say what was said."""
    return local_time(meeting.ends_at) <= now


def skip_meeting(session: Session, case: Case, officer: Person, reason: str) -> FileNote:
    """No meeting this time: why goes on record; the case goes on to the draft decision. A
    meeting already booked is cancelled, and the applicant gets the cancellation of its
    calendar event."""
    _require_meeting_step(case)
    if not reason.strip():
        raise MeetingError("meeting.no_reason")
    meetings = _meetings(session, case)
    if meetings and meetings[-1].status is MeetingStatus.booked:
        _cancel(session, case, meetings)
    return _on_to_draft(
        session,
        case,
        officer,
        "meeting_skipped",
        reason,
        "meeting_skipped",
        None,
        reason=reason.strip(),
    )


def cancel_meeting(
    session: Session, case: Case, officer: Person, reason: str, now: datetime
) -> Meeting:
    """Call off the booked meeting, and stay at the meeting step: the applicant gets the
    cancellation of its calendar event with the reason, and a new meeting can be booked (a
    new calendar event; see the module's docstring). A meeting that has ended was held, and
    is documented instead."""
    _require_meeting_step(case)
    meetings = _meetings(session, case)
    if not meetings or meetings[-1].status is not MeetingStatus.booked:
        raise MeetingError("meeting.nothing_to_cancel", case_reference=case.case_reference)
    meeting = meetings[-1]
    if has_ended(meeting, now):
        raise MeetingError("meeting.already_held", ends_at=local_time(meeting.ends_at))
    if not reason.strip():
        raise MeetingError("meeting.no_cancel_reason")
    _cancel(session, case, meetings, reason.strip())
    record(
        session,
        case,
        Actor.of(officer),
        "meeting_cancelled",
        number=meeting.number,
        starts_at=local_time(meeting.starts_at).isoformat(),
        reason=reason.strip(),
    )
    return meeting


def _cancel(session: Session, case: Case, meetings: list[Meeting], reason: str = "") -> None:
    """The booked meeting (the last) is off: the cancellation of its calendar event, one
    sequence number past its latest invitation. With a `reason` the meeting is cancelled
    and a new one is to come; without one the case goes on without a meeting."""
    meeting = meetings[-1]
    meeting.status = MeetingStatus.skipped
    session.add(meeting)
    uid, sequence = _calendar_event(case, meetings)
    order_letter(
        session,
        case,
        MEETING_CANCELLATION,
        {
            "number": meeting.number,
            "starts_at": local_time(meeting.starts_at).isoformat(),
            "ends_at": local_time(meeting.ends_at).isoformat(),
            "place": meeting.place,
            "uid": uid,
            "sequence": sequence + 1,
            "reason": reason,
        },
        meeting.number,
    )


def _calendar_event(case: Case, meetings: list[Meeting]) -> tuple[str, int]:
    """The calendar event of the last of `meetings` and its sequence number: a meeting
    moved (rebooked) goes on as the same event, so the event is the first invitation's of
    the unbroken run of rebookings that ends in it, and its sequence is its place in that
    run (0 for the first booking)."""
    first = len(meetings) - 1
    while first > 0 and meetings[first - 1].status is MeetingStatus.rebooked:
        first -= 1
    key = letter_key(case, MEETING_INVITATION, meetings[first].number)
    return key.replace("/", "-"), len(meetings) - 1 - first


def _on_to_draft(
    session: Session,
    case: Case,
    officer: Person,
    kind: str,
    text: str,
    action: str,
    written_at: datetime | None,
    **detail: Any,
) -> FileNote:
    """File the note, dated when it is written, and move the case on to the draft decision."""
    note = FileNote(case_id=case.id, kind=kind, text=text.strip(), author=officer.email)
    if written_at is not None:
        note.written_at = written_at
    session.add(note)
    move(session, case, CaseState.drafting_decision, Actor.of(officer), action, **detail)
    return note


SLOT = timedelta(minutes=30)  # suggested meetings start on the hour or the half hour
LOOK_AHEAD = 60  # days searched for a free time before giving up on a suggestion


def next_free_slot(
    session: Session,
    case: Case,
    officer: Person,
    now: datetime,
    minutes: int,
    office_hours: str = "08:00-17:00",
) -> datetime | None:
    """The first time, from the next working day on, that a meeting of `minutes` fits in
    office hours without putting any of its people in two meetings at once: what the
    booking form suggests. None if nothing is free within LOOK_AHEAD days."""
    opens, closes = (time.fromisoformat(t.strip()) for t in office_hours.split("-"))
    people = {p.email for p in _participants(session, case, officer)}
    busy = [
        (local_time(m.starts_at), local_time(m.ends_at))
        for m in _others(session, case)
        if people & set(m.participants)
    ]
    length = timedelta(minutes=minutes)
    today = now.astimezone(STOCKHOLM).date()
    for day in (today + timedelta(days=n) for n in range(1, LOOK_AHEAD + 1)):
        if not is_working_day(day):
            continue
        start = datetime.combine(day, opens, tzinfo=STOCKHOLM)
        while (start + length).time() <= closes and (start + length).date() == day:
            if not any(s < start + length and start < e for s, e in busy):
                return start
            start += SLOT
    return None


def _within_office_hours(starts_at: datetime, ends_at: datetime, office_hours: str) -> None:
    """On a working day, starting and ending within office hours (Swedish time)."""
    start, end = starts_at.astimezone(STOCKHOLM), ends_at.astimezone(STOCKHOLM)
    if not is_working_day(start.date()):
        raise MeetingError(
            "meeting.not_a_working_day", at=start, weekday=f"{start:%A}", day=start.date()
        )
    opens, closes = (time.fromisoformat(t.strip()) for t in office_hours.split("-"))
    if start.time() < opens or end.date() != start.date() or end.time() > closes:
        raise MeetingError(
            "meeting.office_hours",
            at=start,
            starts=f"{start:%H:%M}",
            ends=f"{end:%H:%M}",
            opens=f"{opens:%H:%M}",
            closes=f"{closes:%H:%M}",
        )


def _participants(session: Session, case: Case, officer: Person) -> list[Person]:
    """Who takes part for the authority: the reviewers who reviewed, and the officer."""
    people = [t.reviewer for t in tasks_of(session, case) if t.status is TaskStatus.submitted]
    return people + ([officer] if officer not in people else [])


def _free(
    session: Session,
    case: Case,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    people: list[str],
) -> None:
    """Refuse a booking that puts a room or a person in two meetings at once."""
    for other in _others(session, case):
        if not (local_time(other.starts_at) < ends_at and starts_at < local_time(other.ends_at)):
            continue
        shared = sorted(set(other.participants) & set(people))
        when = {"starts": local_time(other.starts_at), "ends": f"{local_time(other.ends_at):%H:%M}"}
        if other.place.casefold() == place.casefold():
            raise MeetingError("meeting.place_booked", place=place, **when)
        if shared:
            raise MeetingError(
                "meeting.people_booked", at=starts_at.astimezone(STOCKHOLM), people=shared, **when
            )


def _others(session: Session, case: Case) -> list[Meeting]:
    """The meetings of other cases that hold their time: booked or held."""
    query = select(Meeting).where(
        Meeting.case_id != case.id,
        col(Meeting.status).in_([MeetingStatus.booked, MeetingStatus.held]),
    )
    return list(session.exec(query))


def _require_meeting_step(case: Case) -> None:
    if case.state is not CaseState.applicant_meeting:
        raise MeetingError(
            "meeting.wrong_state", case_reference=case.case_reference, state=case.state
        )


def _meetings(session: Session, case: Case) -> list[Meeting]:
    query = select(Meeting).where(Meeting.case_id == case.id).order_by(col(Meeting.number))
    return list(session.exec(query))
