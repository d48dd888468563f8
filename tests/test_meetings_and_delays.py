"""Meetings on working days in office hours, never a room or a person twice at once, noted
after they were held; a concrete expected decision date, one delay notice (FL 11 §), and
cases older than six months on the officer's list (FL 12 §)."""

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from flows.assessment import sweep
from flows.letters import send_letters
from grants.embedded import run_flow
from grants.settings import load
from models import clock
from models.access import case_for
from models.checklist import Finding, complete_checklist
from models.db import transaction
from models.errors import Refused
from models.meetings import book_meeting, cancel_meeting, document_meeting, next_free_slot
from models.reviews import declare_conflict, submit_review
from models.rules import Rules
from models.tables import (
    STOCKHOLM,
    Answer,
    Case,
    ConflictGround,
    Criterion,
    FileNote,
    Letter,
    Meeting,
    Person,
    Recommendation,
    local_time,
)
from models.tasks import TaskKind, open_tasks
from models.working_days import next_working_day, subtract_working_days
from tests.helpers import ACTIVA, OFFICER, grants, pdf_pages

MONDAY = date(2027, 1, 11)  # a working day, comfortably in the future
PLACE = "Regionens hus, Eklundavägen 1, Örebro"


def person(session, email: str) -> Person:
    return session.exec(select(Person).where(Person.email == email)).one()


def to_meeting(submission_id: str) -> str:
    """Checklist and two reviews: the case is ready for its applicant meeting."""
    settings = load()
    rules = Rules.from_config(settings.file)
    with transaction(settings.db_url) as session:
        officer = person(session, OFFICER)
        case = session.exec(select(Case).where(Case.submission_id == submission_id)).one()
        met = {c: Finding(Answer.met) for c in Criterion}
        complete_checklist(session, case, officer, met, rules, date.today())
        for email in (ACTIVA, OFFICER):
            reviewer = person(session, email)
            declare_conflict(session, case, reviewer, ConflictGround.none, "", rules)
            reasons = {c: "Uppfyllt." for c in Criterion}
            submit_review(
                session, case, reviewer, Recommendation.granted, None, reasons, [], "", rules
            )
        assert case.state == "applicant_meeting"
        return case.case_reference


def book(ref: str, starts: datetime, place: str = PLACE, minutes: int = 90) -> None:
    settings = load()
    with transaction(settings.db_url) as session:
        officer = person(session, OFFICER)
        case = case_for(session, ref, officer, lock=True)
        now = datetime(2026, 12, 1, 9, tzinfo=STOCKHOLM)
        book_meeting(session, case, officer, starts, minutes, place, now, "08:00-17:00")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=STOCKHOLM)


def test_meetings_on_working_days_in_office_hours_never_twice_at_once(sample_call: Path) -> None:
    first, second = to_meeting("SI-2026-0101"), to_meeting("SI-2026-0106")
    for starts, why in (
        (at(date(2027, 1, 10), 10), "is not a working day"),  # a Sunday
        (at(date(2027, 1, 6), 10), "is not a working day"),  # Epiphany
        (at(MONDAY, 7, 30), "within office hours, 08:00–17:00"),
        (at(MONDAY, 16), "within office hours, 08:00–17:00"),  # ends 17:30
    ):
        with pytest.raises(Refused, match=why):
            book(first, starts)
    book(first, at(MONDAY, 10))
    with pytest.raises(Refused, match="already booked 2027-01-11 10:00–11:30"):
        book(second, at(MONDAY, 11), place=PLACE.upper())  # the same room, overlapping
    with pytest.raises(Refused, match=f"{OFFICER}.*already in another meeting"):
        book(second, at(MONDAY, 9), place="Teams")  # the same officer, overlapping
    book(second, at(MONDAY, 11, 30))  # back to back is fine
    book(first, at(MONDAY, 13))  # rebooking one's own meeting frees its old slot
    book(second, at(MONDAY, 14, 30))


def test_the_file_note_is_written_after_the_meeting(sample_call: Path) -> None:
    ref = to_meeting("SI-2026-0101")
    book(ref, at(MONDAY, 10))
    settings = load()
    for now, ok in ((at(MONDAY, 11), False), (at(MONDAY, 11, 45), True)):
        with transaction(settings.db_url) as session:
            officer = person(session, OFFICER)
            case = case_for(session, ref, officer, lock=True)
            if not ok:
                with pytest.raises(Refused, match="once it has been held"):
                    document_meeting(session, case, officer, "Vi talade.", now)
                continue
            note = document_meeting(session, case, officer, "Vi talade.", now)
    with transaction(settings.db_url) as session:
        [written] = session.exec(select(FileNote.written_at).where(FileNote.id == note.id)).all()
        assert local_time(written) == at(MONDAY, 11, 45)


def test_the_demo_clock_dates_every_record_after_what_it_records() -> None:
    with clock.simulated():
        clock.move_to(datetime(2030, 5, 6, 9, tzinfo=STOCKHOLM))
        assert clock.today() == date(2030, 5, 6)
        clock.move_to(datetime(2030, 5, 1, tzinfo=STOCKHOLM))  # never back
        assert clock.today() == date(2030, 5, 6)
    assert clock.today() == datetime.now(STOCKHOLM).date()


def test_a_concrete_decision_date_one_delay_notice_and_the_six_month_flag(
    sample_call: Path,
) -> None:
    run_flow(send_letters)
    settings = load()
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.submission_id == "SI-2026-0101")).one()
        promised = case.expected_decision_on
        # Received 24 August 2026: eight weeks had passed before it was registered, so the
        # promise is four weeks from registration, on a working day.
        assert promised >= date.today() + timedelta(weeks=4)
        assert promised.weekday() < 5
        ack = session.exec(
            select(Letter).where(Letter.case_id == case.id, Letter.kind == "acknowledgement")
        ).one()
        officer = person(session, OFFICER)
        now = open_tasks(session, officer, date.today())
        assert [t.case_reference for t in now if t.kind is TaskKind.old_case] == []
    text = " ".join(pdf_pages(ack.pdf))
    assert "Vi räknar med att ni får beslut senast den" in text and "veckor" not in text

    later = promised + timedelta(days=1)
    counts = [run_flow(sweep, today=later)["delay_notices"] for _ in range(2)]
    assert counts[0] >= 1 and counts[1] == 0  # one notice per case past its date, once
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.submission_id == "SI-2026-0101")).one()
        notice = session.exec(
            select(Letter).where(Letter.case_id == case.id, Letter.kind == "delay_notice")
        ).one()
        assert case.expected_decision_on > later
        officer = person(session, OFFICER)
        old = open_tasks(session, officer, today=date(2027, 2, 24))
        assert [t.case_reference for t in old if t.kind is TaskKind.old_case] == [
            case.case_reference
        ]
    text = " ".join(pdf_pages(notice.pdf))
    assert "Beslutet om er ansökan dröjer" in text and "11 § förvaltningslagen" in text
    assert "Vi har ännu inte hunnit gå igenom ansökan" in text
    assert "24 februari 2027" in text  # six months after receipt: may ask for a decision


def calendar(message) -> dict[str, str]:
    """The .ics a message carries, unfolded, as its properties by name (one VEVENT)."""
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    text = part.get_payload(decode=True).decode().replace("\r\n ", "")
    properties = dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)
    return properties | {"content-method": part.get_param("method")}


def test_a_moved_meeting_updates_its_calendar_event_and_a_skipped_one_cancels_it(
    sample_call: Path, smtp_server
) -> None:
    ref = to_meeting("SI-2026-0101")
    day = next_working_day(date.today() + timedelta(days=7))
    for hour in ("10:00", "13:00"):  # booked, then moved
        when = f"{day.isoformat()} {hour}"
        grants("meeting", "book", ref, "--as", OFFICER, "--at", when, "--place", PLACE)
    grants("meeting", "skip", ref, "--as", OFFICER, "--reason", "Ansökan är tydlig nog.")
    mails = [m for m in smtp_server.wait_for(4) if ref in m["Subject"] and "möte" in m["Subject"]]
    first, moved, cancelled = (calendar(m) for m in mails)
    assert first["UID"] == moved["UID"] == cancelled["UID"]  # one event in their calendar
    assert [c["SEQUENCE"] for c in (first, moved, cancelled)] == ["0", "1", "2"]
    assert [c["METHOD"] for c in (first, moved, cancelled)] == ["REQUEST", "REQUEST", "CANCEL"]
    assert cancelled["content-method"] == "CANCEL" and cancelled["STATUS"] == "CANCELLED"
    assert moved["DTSTART"] == cancelled["DTSTART"] != first["DTSTART"]
    assert mails[2]["Subject"].startswith(f"Inställt möte {ref}")
    [pdf] = [p for p in mails[2].iter_attachments() if p.get_content_type() == "application/pdf"]
    text = " ".join(pdf_pages(pdf.get_payload(decode=True)))
    assert "Mötet om ert projekt är inställt" in text and "kl. 13.00" in text
    [pdf] = [p for p in mails[1].iter_attachments() if p.get_content_type() == "application/pdf"]
    text = " ".join(pdf_pages(pdf.get_payload(decode=True)))
    assert "Mötet har flyttats. Det skulle ha hållits den" in text and "kl. 10.00" in text


def test_a_meeting_skipped_before_any_booking_cancels_nothing(sample_call: Path) -> None:
    ref = to_meeting("SI-2026-0101")
    grants("meeting", "skip", ref, "--as", OFFICER, "--reason", "Ansökan är tydlig nog.")
    with transaction(load().db_url) as session:
        kinds = session.exec(select(Letter.kind).join(Case).where(Case.case_reference == ref))
        assert "meeting_cancellation" not in list(kinds)


def test_the_booking_form_suggests_the_next_free_time(sample_call: Path) -> None:
    first, second = to_meeting("SI-2026-0101"), to_meeting("SI-2026-0106")
    friday = date(2027, 1, 15)
    now = at(friday, 9)  # the next working day is Monday
    settings = load()

    def suggested(ref: str) -> datetime | None:
        with transaction(settings.db_url) as session:
            officer = person(session, OFFICER)
            case = case_for(session, ref, officer)
            return next_free_slot(session, case, officer, now, 90, "08:00-17:00")

    assert suggested(second) == at(MONDAY + timedelta(days=7), 8)
    book(first, at(MONDAY + timedelta(days=7), 8, 30), place="Rum 1")  # the same people
    assert suggested(second) == at(MONDAY + timedelta(days=7), 10)  # after it, on the half hour
    book(first, at(MONDAY + timedelta(days=7), 13), place="Rum 1")  # moved: the morning is free
    assert suggested(second) == at(MONDAY + timedelta(days=7), 8)
    assert suggested(first) == at(MONDAY + timedelta(days=7), 8)  # its own booking is no hindrance


def test_a_cancelled_meeting_is_called_off_with_its_reason_and_a_new_one_is_a_new_event(
    sample_call: Path, smtp_server
) -> None:
    ref = to_meeting("SI-2026-0101")
    day = next_working_day(date.today() + timedelta(days=7))
    book_at = ("meeting", "book", ref, "--as", OFFICER, "--place", PLACE, "--at")
    grants(*book_at, f"{day.isoformat()} 10:00")
    reason = "Handläggaren är sjuk den dagen."
    cancelled = grants("meeting", "cancel", ref, "--as", OFFICER, "--reason", reason)
    assert "meeting 1 cancelled" in cancelled.text
    grants(*book_at, f"{day.isoformat()} 13:00")  # booked again: the case waited for it

    mails = [m for m in smtp_server.wait_for(3) if ref in m["Subject"] and "möte" in m["Subject"]]
    first, cancellation, again = (calendar(m) for m in mails)
    assert cancellation["UID"] == first["UID"] != again["UID"]  # a new event, in every client
    assert [c["SEQUENCE"] for c in (first, cancellation, again)] == ["0", "1", "0"]
    assert [c["METHOD"] for c in (first, cancellation, again)] == ["REQUEST", "CANCEL", "REQUEST"]
    assert cancellation["STATUS"] == "CANCELLED" and cancellation["content-method"] == "CANCEL"
    assert cancellation["DTSTART"] == first["DTSTART"] != again["DTSTART"]
    assert mails[1]["Subject"].startswith(f"Inställt möte {ref}")
    [pdf] = [p for p in mails[1].iter_attachments() if p.get_content_type() == "application/pdf"]
    text = " ".join(pdf_pages(pdf.get_payload(decode=True)))
    assert "Mötet om ert projekt är inställt" in text and "kl. 10.00" in text
    assert f"Varför mötet ställs in {reason}" in text
    assert "Vi skickar en inbjudan till ett nytt möte" in text and "utan möte" not in text
    history = grants("status", ref, "--as", OFFICER).text
    assert "meeting_cancelled" in history and reason in history
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        assert case.state == "applicant_meeting"
        meetings = session.exec(select(Meeting).where(Meeting.case_id == case.id)).all()
        assert [(m.number, m.status) for m in meetings] == [(1, "skipped"), (2, "booked")]


def test_cancelling_is_refused_without_a_reason_a_booking_or_once_the_meeting_was_held(
    sample_call: Path,
) -> None:
    ref = to_meeting("SI-2026-0101")
    nothing = grants("meeting", "cancel", ref, "--as", OFFICER, "--reason", "Sjuk.", ok=False)
    assert nothing.exit_code != 0 and f"no meeting is booked for {ref}" in nothing.text
    book(ref, at(MONDAY, 10))
    no_reason = grants("meeting", "cancel", ref, "--as", OFFICER, "--reason", " ", ok=False)
    assert no_reason.exit_code != 0 and "say why the meeting is cancelled" in no_reason.text
    settings = load()
    with transaction(settings.db_url) as session:
        officer = person(session, OFFICER)
        case = case_for(session, ref, officer, lock=True)
        with pytest.raises(Refused, match="the meeting ended 2027-01-11 11:30") as held:
            cancel_meeting(session, case, officer, "Sjuk.", at(MONDAY, 11, 45))
        assert held.value.code == "meeting.already_held"
    with transaction(settings.db_url) as session:
        assert session.exec(select(Meeting.status)).all() == ["booked"]
        assert not session.exec(select(Letter).where(Letter.kind == "meeting_cancellation")).all()


def test_the_delay_notice_goes_before_the_promised_date_passes(sample_call: Path) -> None:
    """FL 11 §: the acknowledgement promises a date and to be in touch if it will not hold.
    A case still undecided on the last working day before that date is told then, with the
    reason and a new date; the day before that, nothing is sent."""
    run_flow(send_letters)
    settings = load()
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.submission_id == "SI-2026-0101")).one()
        promised = case.expected_decision_on
    last_working_day = subtract_working_days(promised, 1)  # holidays and eves skipped
    day_before = subtract_working_days(last_working_day, 1)
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.submission_id == "SI-2026-0101")).one()
        assert case.delay_notified_at is None
    run_flow(sweep, today=day_before)
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.submission_id == "SI-2026-0101")).one()
        assert case.delay_notified_at is None and case.expected_decision_on == promised
    run_flow(sweep, today=last_working_day)
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.submission_id == "SI-2026-0101")).one()
        notice = session.exec(
            select(Letter).where(Letter.case_id == case.id, Letter.kind == "delay_notice")
        ).one()
        assert case.expected_decision_on > promised
        assert notice.data["promised"] == promised.isoformat()
        new_date = case.expected_decision_on
    text = " ".join(pdf_pages(notice.pdf))
    assert "Beslutet om er ansökan dröjer" in text
    assert "Vi har ännu inte hunnit gå igenom ansökan" in text  # why: where the case stands
    assert f"{new_date.day} " in text and str(new_date.year) in text
