"""The calendar file (.ics, RFC 5545/5546) that goes with a meeting's letter: the invitation
(METHOD:REQUEST), which for a moved meeting updates the same event (its UID, a higher
SEQUENCE), or the cancellation of the event (METHOD:CANCEL)."""

from datetime import UTC, date, datetime, time, timedelta
from email.utils import parseaddr
from typing import Any

from grants.mail import LINE_BREAKS
from models.letters import MEETING_CANCELLATION
from models.tables import STOCKHOLM, Letter, utcnow


def _escape(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): any line break, CR alone included, becomes \\n."""
    one_line = LINE_BREAKS.sub("\n", text)
    return (
        one_line.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    )


def _quoted(name: str) -> str:
    """A parameter value (RFC 5545 3.2): quoted, as a name may hold a comma or a colon; a
    double quote, which no parameter value may hold, left out."""
    return '"' + LINE_BREAKS.sub(" ", name).replace('"', "") + '"'


def _fold(line: str) -> str:
    """Lines of at most 75 octets, continued with a space (RFC 5545 3.1), never mid-character."""
    parts, current = [], ""
    for char in line:
        if len((current + char).encode()) > (75 if not parts else 74):
            parts.append(current)
            current = ""
        current += char
    parts.append(current)
    return "\r\n ".join(parts)


def _utc(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def method(letter: Letter) -> str:
    """What the calendar file asks of the applicant's calendar: to cancel or to add/update."""
    return "CANCEL" if letter.kind == MEETING_CANCELLATION else "REQUEST"


def file_name(letter: Letter) -> str:
    swedish = letter.language == "sv"
    if method(letter) == "CANCEL":
        return "installt.ics" if swedish else "cancellation.ics"
    return "inbjudan.ics" if swedish else "invitation.ics"


def content_type(letter: Letter) -> str:
    """The part's type, with the method mail clients act on."""
    return f"text/calendar; method={method(letter)}; charset=UTF-8"


def calendar_invite(letter: Letter, authority: dict[str, Any]) -> bytes:
    """One VEVENT: the meeting's time and place, organised by the letter's From address
    (`[authority] mail_from`): a calendar trusts an invitation whose organizer sent it, and
    a reply (RSVP) reaches the mailbox the letter came from. The case officer who booked
    the meeting is named in the description.

    Its UID is the meeting's calendar event (models.meetings; a letter from before events
    were kept across rebookings has its own key), its SEQUENCE the event's version."""
    case = letter.case
    data = letter.data
    officer = case.case_officer
    sender_name, sender = parseaddr(authority["mail_from"])
    domain = authority["email"].rsplit("@", 1)[-1]
    swedish = letter.language == "sv"
    summary = ("Möte om ansökan " if swedish else "Meeting about application ") + (
        f"{case.case_reference} – {case.project_title}"
    )
    contact = ("Handläggare" if swedish else "Case officer") + (
        f": {officer.name}, {officer.email}, {authority['phone']}"
    )
    description = f"{case.case_reference} · {authority['name']}\n{contact}"
    uid = data.get("uid") or letter.letter_key.replace("/", "-")
    cancel = method(letter) == "CANCEL"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{authority['name']}//grants//SV",
        f"METHOD:{method(letter)}",
        "BEGIN:VEVENT",
        f"UID:{uid}@{domain}",
        f"SEQUENCE:{data.get('sequence', 0)}",
        f"DTSTAMP:{utcnow().strftime('%Y%m%dT%H%M%SZ')}",
        f"DTSTART:{_utc(data['starts_at'])}",
        f"DTEND:{_utc(data['ends_at'])}",
        f"SUMMARY:{_escape(summary)}",
        f"LOCATION:{_escape(data['place'])}",
        f"DESCRIPTION:{_escape(description)}",
        f"ORGANIZER{f';CN={_quoted(sender_name)}' if sender_name else ''}:mailto:{sender}",
        f"ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:{letter.recipient}",
        "STATUS:CANCELLED" if cancel else "STATUS:CONFIRMED",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()


TALK_FILE_NAMES = {"sv": "samhallssamtal.ics", "en": "community-talk.ics"}


def talk_invite(letter: Letter, authority: dict[str, Any]) -> bytes:
    """The Community Talk invitation's calendar file: the talk's day, start and end (Swedish
    time), its venue and street address, organised by the address the letter comes from, so
    that the applicant's calendar shows, and answers, the sender they know."""
    talk = letter.data["talk"]
    case = letter.case
    name, address = parseaddr(authority["mail_from"])
    swedish = letter.language == "sv"
    start, end = _talk_moments(talk)
    summary = ("Samhällssamtal: " if swedish else "Community Talk: ") + talk["theme"]
    place = ", ".join(p for p in (talk["venue"], talk.get("address", "")) if p.strip())
    description = f"{case.case_reference} – {case.project_title} · {authority['name']}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{authority['name']}//grants//SV",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        f"UID:{letter.letter_key.replace('/', '-')}@{address.rsplit('@', 1)[-1]}",
        "SEQUENCE:0",
        f"DTSTAMP:{utcnow().strftime('%Y%m%dT%H%M%SZ')}",
        f"DTSTART:{_utc(start.isoformat())}",
        f"DTEND:{_utc(end.isoformat())}",
        f"SUMMARY:{_escape(summary)}",
        f"LOCATION:{_escape(place)}",
        f"DESCRIPTION:{_escape(description)}",
        f"ORGANIZER;CN={_escape(name or authority['name'])}:mailto:{address}",
        f"ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:{letter.recipient}",
        "STATUS:CONFIRMED",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()


def _talk_moments(talk: dict[str, Any]) -> tuple[datetime, datetime]:
    """The talk's start and end in Swedish time; an end not kept: two hours after the start."""
    day = date.fromisoformat(talk["held_on"])
    start = datetime.combine(day, time.fromisoformat(talk["starts_at"]), tzinfo=STOCKHOLM)
    if talk.get("ends_at"):
        return start, datetime.combine(day, time.fromisoformat(talk["ends_at"]), tzinfo=STOCKHOLM)
    return start, start + timedelta(hours=2)
