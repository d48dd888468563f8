"""The grantee's answer to the follow-up a year after its project ended (models.follow_ups),
through its personal link, which no person signs in for: `take_follow_up_answer` checks and
records it in one transaction, as the final report's own steps do."""

from grants.settings import Settings
from grants.steps.layer import Taken
from models import clock
from models.cases import find_case
from models.db import transaction
from models.delivery import pending
from models.follow_ups import FOLLOWED_STATES, FollowUpTyped, answer_follow_up
from models.states import StepNotNow
from models.tables import Case


def take_follow_up_answer(settings: Settings, case_reference: str, typed: FollowUpTyped) -> Taken:
    """The grantee's answer, or its correction, through its link: all or nothing."""
    with transaction(settings.db_url) as session:
        case: Case = find_case(session, case_reference, lock=True)
        if case.state not in FOLLOWED_STATES:
            raise StepNotNow(
                "state.step_not_now",
                case_reference=case_reference,
                state=case.state,
                step="answer_follow_up",
                states=FOLLOWED_STATES,
            )
        result = answer_follow_up(session, case, typed, clock.today())
        to_send = pending(session)
    return Taken(result, to_send, state=case.state)
