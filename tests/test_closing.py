"""A case closes when the law and the money let it, never a day before: a refusal, a
dismissal and a withdrawal when the time for appeal after the notice board's day has run
out; a grant when its final report is approved, every instalment is paid and every repayment
claim settled; an appeal holds any case until the court's ruling. The clock is moved day by
day (models.clock) and the sweep's closing runs on each day."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models import clock
from models.audit import history, use_chain_key
from models.closing import (
    ClosingRefused,
    close_cases,
    gates,
    register_appeal,
    register_notice_board_day,
    register_ruling,
)
from models.community_talks import register_final_report
from models.db import engine_for
from models.final_reports import approve_report
from models.payments import register_paid
from models.states import CaseState
from models.tables import (
    STOCKHOLM,
    Case,
    CommunityTalk,
    Decision,
    DecisionStatus,
    NoticeBoardDay,
    Outcome,
    PaymentOrder,
    PaymentStatus,
    Person,
    Reporting,
    Role,
)
from tests.helpers import a_call, a_case, an_organisation

SIGNED_ON = date(2026, 12, 10)  # a Thursday
ANNOUNCED_ON = date(2026, 12, 16)  # the minutes reporting the decisions up to 14 December
# Three weeks after 16 December is 6 January, trettondedag jul: the last day is the 7th.
LAST_DAY = date(2027, 1, 7)
PLAN = [{"percent": 60, "after": "acceptance"}, {"percent": 40, "after": "final_report"}]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    use_chain_key(url, lambda: b"a key for these tests")
    with clock.simulated(), Session(engine_for(url)) as session:
        yield session


def _people(session: Session) -> tuple[Person, Person]:
    officer = Person(
        name="Maria", email="maria@example.se", role=Role.case_officer, organisation="R"
    )
    finance = Person(
        name="Ekonomi", email="ekonomi@example.se", role=Role.finance, organisation="R"
    )
    session.add_all([officer, finance])
    return officer, finance


def _decided(session: Session, reference: str, outcome: Outcome, signed_on: date) -> Case:
    """A case whose decision was signed on `signed_on` (at ten, Swedish time)."""
    call = session.exec(select(Case)).first()
    call = call.call if call else a_call()
    call.payment_plan = PLAN
    granted = outcome in (Outcome.granted, Outcome.partly_granted)
    state = CaseState.reporting if granted else CaseState.decided
    case = a_case(call, an_organisation(), reference, state=state)
    signed = datetime.combine(signed_on, time(10), STOCKHOLM).astimezone(UTC)
    decision = Decision(
        case=case,
        version=1,
        status=DecisionStatus.signed,
        outcome=outcome,
        amount=20000 if granted else None,
        presenting_officer="maria@example.se",
        prepared_by="maria@example.se",
        decided_by="karin@example.se",
        decided_at=signed,
    )
    session.add_all([case, decision])
    session.flush()
    return case


def _granted(session: Session, reference: str) -> Case:
    """A grant reporting on its project: both instalments sent to the bank."""
    case = _decided(session, reference, Outcome.granted, SIGNED_ON)
    talk = CommunityTalk(held_on=date(2027, 3, 4), theme="T", venue="V", registered_by="m")
    session.add(talk)
    session.flush()
    session.add(Reporting(case_id=case.id, community_talk_id=talk.id))
    for number, amount in ((1, 12000), (2, 8000)):
        order = PaymentOrder(
            case_id=case.id,
            instalment=number,
            amount=amount,
            status=PaymentStatus.exported,
            end_to_end_id=f"{reference}-{number}",
            prepared_by="maria@example.se",
        )
        session.add(order)
    session.flush()
    return case


def _order(session: Session, case: Case, instalment: int) -> int:
    query = select(PaymentOrder).where(
        PaymentOrder.case_id == case.id, PaymentOrder.instalment == instalment
    )
    return session.exec(query).one().id


def _on(day: date) -> None:
    clock.move_to(datetime.combine(day, time(12), STOCKHOLM))


def test_no_case_closes_a_day_early_and_each_closes_on_its_day(session: Session) -> None:
    officer, finance = _people(session)
    refused = _decided(session, "26RS1", Outcome.refused, SIGNED_ON)
    dismissed = _decided(session, "26RS2", Outcome.dismissed, SIGNED_ON)
    withdrawn = _decided(session, "26RS3", Outcome.closed, SIGNED_ON)
    appealed = _decided(session, "26RS4", Outcome.refused, SIGNED_ON)
    uncovered = _decided(session, "26RS5", Outcome.refused, date(2026, 12, 15))
    grant = _granted(session, "26RS6")
    session.commit()
    # Each day's steps (by day), then the sweep's closing.
    steps = {
        ANNOUNCED_ON: lambda: register_notice_board_day(
            session, officer, ANNOUNCED_ON, date(2026, 12, 14), clock.today()
        ),
        date(2026, 12, 21): lambda: register_paid(
            session, grant, finance, _order(session, grant, 1), date(2026, 12, 21)
        ),
        date(2027, 1, 5): lambda: register_appeal(
            session,
            appealed,
            officer,
            clock.today(),
            appellant="Per Persson",
            received_on=date(2027, 1, 5),
            court="Förvaltningsrätten i Karlstad",
            court_case_number="1234-27",
        ),
        date(2027, 1, 20): lambda: register_final_report(
            session, grant, officer, "slutrapport.pdf", b"%PDF-1.7 rapport"
        ),
        date(2027, 1, 27): lambda: approve_report(session, grant, officer),
        date(2027, 2, 3): lambda: register_paid(
            session, grant, finance, _order(session, grant, 2), date(2027, 2, 3)
        ),
        date(2027, 2, 10): lambda: register_ruling(
            session,
            appealed,
            officer,
            clock.today(),
            number=1,
            ruling="upheld",
            ruled_on=date(2027, 2, 9),
        ),
    }
    closed_on: dict[str, date] = {}
    day = SIGNED_ON
    while day <= date(2027, 4, 30):
        _on(day)
        if day in steps:
            steps[day]()
        close_cases(session, clock.today())
        session.commit()
        for case in (refused, dismissed, withdrawn, appealed, uncovered, grant):
            if case.state is CaseState.closed:
                closed_on.setdefault(case.case_reference, day)
        day += timedelta(days=1)
    after_the_last_day = LAST_DAY + timedelta(days=1)
    assert closed_on == {
        "26RS1": after_the_last_day,
        "26RS2": after_the_last_day,
        "26RS3": after_the_last_day,  # a withdrawal waits like any decision
        "26RS4": date(2027, 2, 10),  # held by its appeal until the ruling
        "26RS6": date(2027, 2, 3),  # the day its last instalment was paid
    }
    assert uncovered.state is CaseState.decided  # no notice-board day: its time never started
    [closing] = [e for e in history(session, refused) if e.action == "case_closed"]
    assert (closing.role, closing.state_after) == ("system", "closed")
    assert closing.detail["gates"] == [{"gate": "appeal_time_out", "last_day": "2027-01-07"}]


def test_the_gates_say_what_holds_each_case(session: Session) -> None:
    officer, _finance = _people(session)
    refused = _decided(session, "26RS1", Outcome.refused, SIGNED_ON)
    grant = _granted(session, "26RS2")
    session.commit()
    _on(date(2026, 12, 17))
    today = clock.today()
    assert [g.text() for g in gates(session, refused, today)] == [
        "notice board day registered for the decisions signed 2026-12-10: no"
    ]
    assert [g.text() for g in gates(session, grant, today)] == [
        "final report approved: no",
        "payment 26RS2-1 paid: no (exported)",
        "payment 26RS2-2 paid: no (exported)",
    ]
    register_notice_board_day(session, officer, ANNOUNCED_ON, date(2026, 12, 14), today)
    register_appeal(
        session,
        refused,
        officer,
        today,
        appellant="Per Persson",
        received_on=today,
        court="Förvaltningsrätten i Karlstad",
        court_case_number="1234-27",
    )
    assert [g.text() for g in gates(session, refused, today)] == [
        "appeal time run out (last day 2027-01-07): no",
        "appeal 1 by Per Persson ruled (Förvaltningsrätten i Karlstad, 1234-27): no "
        "(waiting for the court)",
    ]


def test_an_annulled_decision_goes_back_to_the_officer_and_does_not_close(
    session: Session,
) -> None:
    officer, _finance = _people(session)
    refused = _decided(session, "26RS1", Outcome.refused, SIGNED_ON)
    session.commit()
    _on(date(2026, 12, 17))
    register_notice_board_day(session, officer, ANNOUNCED_ON, date(2026, 12, 14), clock.today())
    register_appeal(
        session,
        refused,
        officer,
        clock.today(),
        appellant="Per Persson",
        received_on=clock.today(),
        court="Förvaltningsrätten i Karlstad",
        court_case_number="1234-27",
    )
    _on(date(2027, 3, 1))
    register_ruling(
        session,
        refused,
        officer,
        clock.today(),
        number=1,
        ruling="annulled",
        ruled_on=date(2027, 2, 26),
    )
    assert close_cases(session, clock.today()) == 0
    assert refused.state is CaseState.drafting_decision
    assert [g.text() for g in gates(session, refused, clock.today())] == ["decision signed: no"]
    assert history(session, refused)[-1].action == "decision_annulled"


def test_a_notice_board_day_or_appeal_given_wrong_is_refused(session: Session) -> None:
    officer, _finance = _people(session)
    refused = _decided(session, "26RS1", Outcome.refused, SIGNED_ON)
    session.commit()
    today = date(2026, 12, 17)
    with pytest.raises(ClosingRefused, match="announced_on = 2026-12-18"):
        register_notice_board_day(session, officer, date(2026, 12, 18), SIGNED_ON, today)
    with pytest.raises(ClosingRefused, match="covers_until = 2026-12-16"):  # the same day
        register_notice_board_day(session, officer, ANNOUNCED_ON, ANNOUNCED_ON, today)
    register_notice_board_day(session, officer, ANNOUNCED_ON, date(2026, 12, 14), today)
    with pytest.raises(ClosingRefused, match="already have their notice-board day"):
        register_notice_board_day(session, officer, today, date(2026, 12, 14), today)
    with pytest.raises(ClosingRefused, match="court = ''"):
        register_appeal(
            session,
            refused,
            officer,
            today,
            appellant="Per",
            received_on=today,
            court=" ",
            court_case_number="1",
        )
    with pytest.raises(ClosingRefused, match="was signed on 2026-12-10"):
        register_appeal(
            session,
            refused,
            officer,
            today,
            appellant="Per",
            received_on=date(2026, 12, 1),
            court="FR",
            court_case_number="1",
        )
    with pytest.raises(ClosingRefused, match="no appeal with that number"):
        register_ruling(session, refused, officer, today, number=1, ruling="upheld", ruled_on=today)
    assert len(session.exec(select(NoticeBoardDay)).all()) == 1
