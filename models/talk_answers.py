"""The Community Talk after the invitation: the grantee's answer, the programme, attendance.

A project invited to a Talk answers through the personal link in the invitation's e-mail:
which Talk it presents at (any coming Talk whose reply-by date is not past), who presents
and how many come. It may change the answer until the reply-by date of the Talk it answered
for; after that the answer stands and changes go through the case officer. Each answer and
change is in the case's audit trail.

The programme of a Talk is what the organiser (who arranges the Talks, and reads nothing
else) and the case officer need: the projects presenting, their titles and organisations,
who presents and how many come. After the Talk the case officer registers how many came
and who presented; a presentation is recorded on the case as
`models.community_talks.record_presentation` records it.
"""

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from sqlmodel import Session, col, select

from models.access import require_role
from models.audit import Actor, record
from models.community_talks import (
    AFTER_THE_TALK,
    REPORTING,
    record_presentation,
    reply_by,
    upcoming_talks,
)
from models.errors import Refused
from models.states import CaseState
from models.tables import (
    Case,
    CommunityTalk,
    Person,
    Reporting,
    Role,
    TalkAnswer,
    TalkAttendance,
    utcnow,
)

MOST_ATTENDEES = 50  # a project's people at one Talk; more is a typing error
LONGEST_NAMES = 300  # the presenters' names, as the programme prints them


class TalkAnswerRefused(Refused, ValueError):
    """The answer or the attendance cannot be taken as given; nothing was changed."""

    messages: ClassVar[dict[str, str]] = {
        "talk_answer.not_invited": "case {case_reference} is '{state}'; a Community Talk is "
        "answered by a funded project invited to one",
        "talk_answer.closed": "the answers to the Community Talk of {held_on} closed on "
        "{reply_by}; the answer stands",
        "talk_answer.talk": "talk = '{talk}': not a coming Community Talk open for answers",
        "talk_answer.presenters": "presenters = '{presenters}': give the name of who presents "
        "(at most {longest} characters)",
        "talk_answer.attendees": "attendees = '{attendees}': give how many come, a whole "
        "number from 1 to {most}",
        "talk_attendance.not_held": "the Community Talk of {held_on} is not held yet; "
        "attendance is registered afterwards",
        "talk_attendance.came": "came = '{came}': give how many came, a whole number from 0 "
        "to {most}",
        "talk_attendance.presented_by": "presented_by = '{presented_by}': give who presented "
        "(at most {longest} characters)",
    }


@dataclass(frozen=True)
class ProgrammeItem:
    """One project on a Talk's programme: what the organiser may read, nothing more of the
    case but its reference (for the case officer's links)."""

    case_reference: str
    project_title: str
    organisation: str
    presenters: str  # "" before the project answered
    attendees: int | None  # None before the project answered
    came: int | None  # registered after the Talk
    presented_by: str | None  # registered after the Talk; "" if it did not present
    reporting: bool  # the case still waits for its presentation (attendance is registered)


def reporting_of(
    session: Session, case: Case, states: tuple[CaseState, ...] = REPORTING
) -> Reporting:
    """The case's invitation to a Talk; refused for a case not invited (or, unless `states`
    says so, done with it)."""
    reporting = session.exec(select(Reporting).where(Reporting.case_id == case.id)).first()
    if reporting is None or case.state not in states:
        raise TalkAnswerRefused(
            "talk_answer.not_invited", case_reference=case.case_reference, state=case.state
        )
    return reporting


def answer_of(session: Session, case: Case) -> TalkAnswer | None:
    return session.exec(select(TalkAnswer).where(TalkAnswer.case_id == case.id)).first()


def answered_talk(
    session: Session, case: Case, states: tuple[CaseState, ...] = REPORTING
) -> CommunityTalk:
    """The Talk the project presents at: the one it answered for, else the one it was
    invited to."""
    reporting = reporting_of(session, case, states)
    return session.get(CommunityTalk, reporting.community_talk_id)


def open_until(session: Session, case: Case) -> date:
    """The last day the answer may be given or changed: the reply-by date of its Talk."""
    return reply_by(answered_talk(session, case))


def talk_choices(session: Session, today: date) -> list[CommunityTalk]:
    """The coming Talks a project may choose: those whose reply-by date is not past."""
    return [talk for talk in upcoming_talks(session, today) if reply_by(talk) >= today]


def answer_talk(
    session: Session, case: Case, talk: str, presenters: str, attendees: str, today: date
) -> TalkAnswer:
    """The grantee's answer (or its change) as typed: the Talk's id, who presents, how many
    come. Refused after the reply-by date, or naming the field and value it cannot take."""
    current = answered_talk(session, case)
    if today > reply_by(current):
        raise TalkAnswerRefused(
            "talk_answer.closed", held_on=current.held_on, reply_by=reply_by(current)
        )
    chosen = _chosen(session, talk, today)
    names = " ".join(presenters.split())
    if not names or len(names) > LONGEST_NAMES:
        raise TalkAnswerRefused(
            "talk_answer.presenters", presenters=presenters, longest=LONGEST_NAMES
        )
    count = _count(attendees, 1)
    if count is None:
        raise TalkAnswerRefused("talk_answer.attendees", attendees=attendees, most=MOST_ATTENDEES)
    answer = answer_of(session, case)
    detail = {"held_on": chosen.held_on.isoformat(), "presenters": names, "attendees": count}
    if answer is None:
        answer = TalkAnswer(
            case_id=case.id, community_talk_id=chosen.id, presenters=names, attendees=count
        )
        record(session, case, Actor.applicant_of(case), "talk_answered", **detail)
    elif (answer.community_talk_id, answer.presenters, answer.attendees) != (
        chosen.id,
        names,
        count,
    ):
        answer.community_talk_id, answer.presenters, answer.attendees = chosen.id, names, count
        answer.changed_at = utcnow()
        record(session, case, Actor.applicant_of(case), "talk_answer_changed", **detail)
    reporting = reporting_of(session, case)
    reporting.community_talk_id = chosen.id
    session.add_all([answer, reporting])
    return answer


def _chosen(session: Session, talk: str, today: date) -> CommunityTalk:
    choices = {str(t.id): t for t in talk_choices(session, today)}
    chosen = choices.get(str(talk).strip())
    if chosen is None:
        raise TalkAnswerRefused("talk_answer.talk", talk=talk)
    return chosen


def _count(text: str, least: int) -> int | None:
    """A whole number from `least` to MOST_ATTENDEES as typed, or None."""
    try:
        count = int(str(text).strip())
    except ValueError:
        return None
    return count if least <= count <= MOST_ATTENDEES else None


def programme(session: Session, talk: CommunityTalk) -> list[ProgrammeItem]:
    """The projects invited to (or answering for) `talk`, by organisation."""
    query = select(Reporting).where(Reporting.community_talk_id == talk.id)
    items = []
    for reporting in session.exec(query):
        case = reporting.case
        answer = answer_of(session, case)
        attended = _attendance_of(session, case)
        items.append(
            ProgrammeItem(
                case_reference=case.case_reference,
                project_title=case.project_title,
                organisation=case.organisation.name,
                presenters=answer.presenters if answer else "",
                attendees=answer.attendees if answer else None,
                came=attended.came if attended else None,
                presented_by=attended.presented_by if attended else None,
                reporting=case.state is CaseState.reporting,
            )
        )
    return sorted(items, key=lambda item: (item.organisation.casefold(), item.case_reference))


def talks_held_and_coming(session: Session) -> list[CommunityTalk]:
    """Every Talk, the latest first: the coming ones to plan, the held ones to register."""
    return list(session.exec(select(CommunityTalk).order_by(col(CommunityTalk.held_on).desc())))


def record_attendance(
    session: Session,
    case: Case,
    officer: Person,
    came: str,
    presented_by: str,
    today: date,
) -> TalkAttendance:
    """After the Talk: how many came from the project and who presented ("" if nobody). A
    presentation is recorded on the case as well (`record_presentation`)."""
    require_role(officer, "register attendance at a Community Talk", Role.case_officer)
    talk = answered_talk(session, case, AFTER_THE_TALK)
    if talk.held_on > today:
        raise TalkAnswerRefused("talk_attendance.not_held", held_on=talk.held_on)
    count = _count(came, 0)
    if count is None:
        raise TalkAnswerRefused("talk_attendance.came", came=came, most=MOST_ATTENDEES)
    names = " ".join(presented_by.split())
    if len(names) > LONGEST_NAMES or (names and count == 0):
        raise TalkAnswerRefused(
            "talk_attendance.presented_by", presented_by=presented_by, longest=LONGEST_NAMES
        )
    attendance = _attendance_of(session, case) or TalkAttendance(
        case_id=case.id, community_talk_id=talk.id, came=count, registered_by=officer.email
    )
    attendance.came, attendance.presented_by = count, names
    attendance.registered_by, attendance.registered_at = officer.email, utcnow()
    session.add(attendance)
    record(
        session,
        case,
        Actor.of(officer),
        "talk_attendance_registered",
        held_on=talk.held_on.isoformat(),
        came=count,
        presented_by=names,
    )
    if names and reporting_of(session, case, AFTER_THE_TALK).presented_on is None:
        record_presentation(session, case, officer, talk.held_on)
    return attendance


def _attendance_of(session: Session, case: Case) -> TalkAttendance | None:
    return session.exec(select(TalkAttendance).where(TalkAttendance.case_id == case.id)).first()
