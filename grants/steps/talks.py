"""The Community Talk's steps: the case officer registers attendance after a Talk (declared
once, taken by name), and the grantee answers the invitation through its personal link
(`take_talk_answer`), which no person signs in for. Who reads the Talks' programmes: the
case officer and the organiser, who reads nothing else (`models.access.reads_cases`)."""

from grants.settings import Settings
from grants.steps.layer import OFFICERS, At, Taken, declare
from models import clock
from models.cases import find_case
from models.community_talks import AFTER_THE_TALK
from models.db import transaction
from models.delivery import pending
from models.tables import Role, TalkAttendance
from models.talk_answers import answer_talk, record_attendance

TALK_READERS = (Role.case_officer, Role.organiser)


@declare("record_talk_attendance", OFFICERS, list(AFTER_THE_TALK))
def attendance(at: At, *, came: str, presented_by: str) -> TalkAttendance:
    """After the Talk: how many came from the project, and who presented ("" if nobody)."""
    return record_attendance(at.session, at.case, at.person, came, presented_by, clock.today())


def take_talk_answer(
    settings: Settings, case_reference: str, talk: str, presenters: str, attendees: str
) -> Taken:
    """The grantee's answer to its invitation, through its link: the case locked, all or
    nothing, as for anyone's step."""
    with transaction(settings.db_url) as session:
        case = find_case(session, case_reference, lock=True)
        result = answer_talk(session, case, talk, presenters, attendees, clock.today())
        to_send = pending(session)
    return Taken(result, to_send, state=case.state)
