"""After a grant: the Community Talk (Samhällssamtal) and the final report (slutrapport).

The Partnership holds two talks a year. The sweep invites each funded project when its
project nears its end (`INVITE_BEFORE_END`) to the first talk after the end whose reply-by
date is still ahead; the letter names the time of day and that reply-by date. The case
closes by the sweep once its gates are open (models.closing), not when the report comes in.
"""

from datetime import date, datetime, time, timedelta
from typing import ClassVar

from sqlmodel import Session, col, select

from models import clock
from models.access import require_role
from models.audit import SYSTEM, Actor, move, record
from models.decisions import GRANTS, latest
from models.errors import Refused
from models.final_reports import register_paper
from models.letters import COMMUNITY_TALK_INVITATION, order_letter
from models.states import CaseState
from models.supplements import file_document
from models.tables import Case, CommunityTalk, Document, Person, Reporting, Role, utcnow
from models.working_days import applicant_due

TALKS_A_YEAR = 2
INVITE_BEFORE_END = timedelta(weeks=4)
REPLY_BEFORE_TALK = timedelta(weeks=3)
TALK_LENGTH = timedelta(hours=2)  # when no end time is given
REPORTING = (CaseState.reporting,)
# The Talk is no gate of a grant's closing (models.closing): a grant whose report is approved
# and whose money is paid may close before its Talk is held, and what happened there is
# still recorded on it.
AFTER_THE_TALK = (CaseState.reporting, CaseState.closed)


class ReportingError(Refused, ValueError):
    """The talk or the report cannot be taken as given; the refusal says why."""

    messages: ClassVar[dict[str, str]] = {
        "reporting.talk_in_the_past": "date = {held_on}: a talk is registered before it is held",
        "reporting.talk_texts": "theme, theme_en and venue are all needed: what the talk is "
        "about, in Swedish and in English (letters go out in both), and where",
        "reporting.talk_address": "address = '': give the venue's street address, so that "
        "people find it",
        "reporting.talk_ends": "ends_at = {ends_at}: a talk ends after it starts ({starts_at})",
        "reporting.talks_a_year": "date = {held_on}: {year} already has {count} talks; the "
        "Partnership holds {limit} a year",
        "reporting.not_held_yet": "on = {on}: a presentation is recorded once held",
        "reporting.report_registered": "the final report of {case_reference} is already registered",
        "reporting.not_reporting": "case {case_reference} is '{state}'; reporting is recorded "
        "for funded projects invited to a Community Talk",
    }


def register_talk(
    session: Session,
    officer: Person,
    held_on: date,
    theme: str,
    venue: str,
    today: date,
    starts_at: time = time(14),
    theme_en: str = "",
    *,
    address: str,
    ends_at: time | None = None,
) -> CommunityTalk:
    """A coming talk: its day, start and end (two hours if not given), its theme in Swedish
    and English, its venue and the venue's street address."""
    require_role(officer, "register a Community Talk", Role.case_officer)
    if held_on <= today:
        raise ReportingError("reporting.talk_in_the_past", held_on=held_on)
    if not theme.strip() or not theme_en.strip() or not venue.strip():
        raise ReportingError("reporting.talk_texts")
    if not address.strip():
        raise ReportingError("reporting.talk_address")
    ends_at = ends_at or (datetime.combine(held_on, starts_at) + TALK_LENGTH).time()
    if ends_at <= starts_at:
        raise ReportingError(
            "reporting.talk_ends",
            ends_at=ends_at.strftime("%H:%M"),
            starts_at=starts_at.strftime("%H:%M"),
        )
    same_year = session.exec(
        select(CommunityTalk).where(
            col(CommunityTalk.held_on) >= date(held_on.year, 1, 1),
            col(CommunityTalk.held_on) <= date(held_on.year, 12, 31),
        )
    ).all()
    if len(same_year) >= TALKS_A_YEAR:
        raise ReportingError(
            "reporting.talks_a_year",
            held_on=held_on,
            year=held_on.year,
            count=len(same_year),
            limit=TALKS_A_YEAR,
        )
    talk = CommunityTalk(
        held_on=held_on,
        starts_at=starts_at.strftime("%H:%M"),
        ends_at=ends_at.strftime("%H:%M"),
        theme=theme.strip(),
        theme_en=theme_en.strip(),
        venue=venue.strip(),
        address=address.strip(),
        registered_by=officer.email,
    )
    session.add(talk)
    return talk


def upcoming_talks(session: Session, today: date) -> list[CommunityTalk]:
    query = select(CommunityTalk).where(col(CommunityTalk.held_on) > today)
    return list(session.exec(query.order_by(col(CommunityTalk.held_on))))


def invitation_due(case: Case) -> date:
    """When a funded project is invited: as it nears its end, never before."""
    return case.project_end - INVITE_BEFORE_END


def reply_by(talk: CommunityTalk) -> date:
    """The last day to say who presents: a working day, three weeks before the talk."""
    return applicant_due(talk.held_on - REPLY_BEFORE_TALK)


def invite_to_talks(session: Session, today: date) -> int:
    """Each decided grant nearing its end, not yet invited, goes to the first talk after the
    project's end that still leaves time to reply."""
    talks = [t for t in upcoming_talks(session, today) if reply_by(t) > today]
    funded = session.exec(
        select(Case).where(Case.state == CaseState.decided).with_for_update()
    ).all()
    invited = 0
    for case in funded:
        decision = latest(session, case)
        talk = next((t for t in talks if t.held_on > case.project_end), None)
        if decision is None or decision.outcome not in GRANTS or talk is None:
            continue
        if today < invitation_due(case) or _invited(session, case):
            continue
        session.add(
            Reporting(
                case_id=case.id,
                community_talk_id=talk.id,
                final_report_due=decision.final_report_due,
            )
        )
        move(
            session,
            case,
            CaseState.reporting,
            SYSTEM,
            "invited_to_community_talk",
            held_on=talk.held_on.isoformat(),
            theme=talk.theme,
        )
        order_letter(
            session,
            case,
            COMMUNITY_TALK_INVITATION,
            {
                "talk": {
                    "held_on": talk.held_on.isoformat(),
                    "starts_at": talk.starts_at,
                    "ends_at": talk.ends_at,
                    "theme": talk.theme if case.language == "sv" else talk.theme_en,
                    "venue": talk.venue,
                    "address": talk.address,
                    "reply_by": reply_by(talk).isoformat(),
                },
                "final_report_due": decision.final_report_due.isoformat()
                if decision.final_report_due
                else None,
                "amount": decision.amount,
            },
        )
        invited += 1
    return invited


def record_presentation(session: Session, case: Case, officer: Person, on: date) -> Reporting:
    """The project presented at its talk."""
    reporting = _reporting(session, case, officer, AFTER_THE_TALK)
    if on > clock.today():
        raise ReportingError("reporting.not_held_yet", on=on)
    reporting.presented_on = on
    session.add(reporting)
    record(session, case, Actor.of(officer), "presented_at_community_talk", on=on.isoformat())
    return reporting


def register_final_report(
    session: Session, case: Case, officer: Person, filename: str, content: bytes
) -> Document:
    """The final report that came on paper, filed as received, to be approved as one sent
    through the grantee's link is."""
    reporting = _reporting(session, case, officer)
    if reporting.final_report_received_at is not None:
        raise ReportingError("reporting.report_registered", case_reference=case.case_reference)
    document = file_document(session, case, Actor.of(officer), "final_report", filename, content)
    session.flush()
    register_paper(session, case, officer, document)  # for the case officer's approval
    reporting.final_report_received_at = utcnow()
    session.add(reporting)
    record(
        session,
        case,
        Actor.of(officer),
        "final_report_registered",
        file=document.filename,
        sha256=document.sha256,
    )
    return document


def _invited(session: Session, case: Case) -> bool:
    """Whether the case was invited already: a grant decided again after a court annulled
    the first decision keeps its invitation."""
    return session.exec(select(Reporting).where(Reporting.case_id == case.id)).first() is not None


def _reporting(
    session: Session, case: Case, officer: Person, states: tuple[CaseState, ...] = REPORTING
) -> Reporting:
    require_role(officer, "record a project's reporting", Role.case_officer)
    reporting = session.exec(select(Reporting).where(Reporting.case_id == case.id)).first()
    if case.state not in states or reporting is None:
        raise ReportingError(
            "reporting.not_reporting", case_reference=case.case_reference, state=case.state
        )
    return reporting
