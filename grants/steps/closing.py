"""The steps that let a case close when the law lets it (models.closing), declared once:
the case officer registers the notice board's day for the minutes that reported the
delegated decisions (on no case: it starts the time for appeal of many), an appeal
(laglighetsprövning) of a case's decision, and the court's ruling on it. Edges take them by
name through `grants.steps.take`."""

from datetime import date

from grants.steps.layer import OFFICERS, At, declare
from models import clock
from models.closing import register_appeal, register_notice_board_day, register_ruling
from models.states import CaseState
from models.tables import Appeal, NoticeBoardDay

# An appeal is registered, and ruled on, while the decision holds the case open.
APPEALABLE = [CaseState.decided, CaseState.reporting]


@declare("register_notice_board_day", OFFICERS)
def notice_board_day_registered(
    at: At, *, announced_on: date, covers_until: date
) -> NoticeBoardDay:
    return register_notice_board_day(
        at.session, at.person, announced_on, covers_until, clock.today()
    )


@declare("register_appeal", OFFICERS, APPEALABLE)
def appeal_registered(
    at: At, *, appellant: str, received_on: date, court: str, court_case_number: str
) -> Appeal:
    return register_appeal(
        at.session,
        at.case,
        at.person,
        clock.today(),
        appellant=appellant,
        received_on=received_on,
        court=court,
        court_case_number=court_case_number,
    )


@declare("register_appeal_ruling", OFFICERS, APPEALABLE)
def ruling_registered(at: At, *, number: int, ruling: str, ruled_on: date) -> Appeal:
    return register_ruling(
        at.session,
        at.case,
        at.person,
        clock.today(),
        number=number,
        ruling=ruling,
        ruled_on=ruled_on,
    )
