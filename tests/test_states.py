"""The one state machine, and the audit trail that records every move."""

import pytest
from sqlmodel import Session, select

from models.audit import SYSTEM, Actor, history, move, use_chain_key
from models.db import engine_for
from models.states import NEXT, CaseState, IllegalTransition, check_transition
from models.tables import AuditEvent, Case, Role
from tests.helpers import a_call, a_case, an_organisation


def test_every_state_is_reachable_from_received_and_closed_ends_the_path() -> None:
    reached, frontier = {CaseState.received}, [CaseState.received]
    while frontier:
        for following in NEXT[frontier.pop()]:
            if following not in reached:
                reached.add(following)
                frontier.append(following)
    assert reached == set(CaseState)
    assert NEXT[CaseState.closed] == ()
    # A case closes only from a signed decision: a withdrawal is written off by one too.
    closing_from = {s for s in CaseState if CaseState.closed in NEXT[s]}
    assert closing_from == {CaseState.decided, CaseState.reporting}


def test_illegal_step_names_case_state_and_what_is_allowed() -> None:
    with pytest.raises(IllegalTransition) as refused:
        check_transition("26RS7", CaseState.received, CaseState.decided)
    message = str(refused.value)
    assert "26RS7" in message and "'received'" in message and "'decided'" in message
    assert "in_review, awaiting_supplement, drafting_decision" in message
    with pytest.raises(IllegalTransition, match="nothing"):
        check_transition("26RS7", CaseState.closed, CaseState.received)


@pytest.fixture
def session(tmp_path) -> Session:
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    use_chain_key(url, lambda: b"a key for these tests")
    with Session(engine_for(url)) as session:
        yield session


def saved_case(session: Session) -> Case:
    case = a_case(a_call(), an_organisation(), "26RS1", intake_key="k")
    session.add(case)
    session.commit()
    return case


def test_move_records_who_when_and_the_states(session: Session) -> None:
    case = saved_case(session)
    officer = Actor("maria@example.se", Role.case_officer)
    move(session, case, CaseState.in_review, officer, "checklist_completed", all_met=True)
    session.commit()
    [event] = history(session, case)
    assert (event.actor, event.role, event.action) == (
        "maria@example.se",
        "case_officer",
        "checklist_completed",
    )
    assert (event.state_before, event.state_after) == ("received", "in_review")
    assert event.detail == {"all_met": True}
    assert case.state == CaseState.in_review


def test_refused_move_changes_nothing(session: Session) -> None:
    case = saved_case(session)
    with pytest.raises(IllegalTransition):
        move(session, case, CaseState.reporting, SYSTEM, "invite")
    session.commit()
    session.refresh(case)
    assert case.state == CaseState.received
    assert history(session, case) == []


def test_the_audit_trail_cannot_be_changed_or_deleted(session: Session) -> None:
    case = saved_case(session)
    move(session, case, CaseState.in_review, SYSTEM, "checklist_completed")
    session.commit()
    event = session.exec(select(AuditEvent)).one()
    event.action = "something else"
    with pytest.raises(PermissionError, match="cannot change"):
        session.commit()
    session.rollback()
    session.delete(session.exec(select(AuditEvent)).one())
    with pytest.raises(PermissionError, match="cannot change"):
        session.commit()
