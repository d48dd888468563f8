"""Delay (Förvaltningslagen 11–12 §§): a concrete expected decision date, one notice when it
passes, and cases older than six months shown to their officer.

FL 11 §: an authority that expects a decision to be substantially delayed tells the
applicant so, and why. The acknowledgement gives a date, not "within 8 weeks" (which three
of the demo's cases had passed before they were even registered), and promises to be in
touch if the date will not hold. So a case still undecided on the last working day before
its date gets one delay notice from the sweep that day, with the reason (where the case
stands) and a new date: before the promise is broken, not the day after.
FL 12 §: after six months the applicant may ask in writing for a decision, which must then
come within four weeks; the officer's task list flags such cases.
"""

from datetime import date, timedelta

from sqlmodel import Session, col, select

from models.audit import SYSTEM, record
from models.letters import DELAY_NOTICE, order_letter
from models.states import CaseState
from models.tables import Call, Case, utcnow
from models.working_days import add_working_days, applicant_due, months_after, subtract_working_days

UNDECIDED = (
    CaseState.received,
    CaseState.awaiting_supplement,
    CaseState.in_review,
    CaseState.applicant_meeting,
    CaseState.drafting_decision,
    CaseState.communication,
    CaseState.awaiting_decision,
)
LEAST_NOTICE = timedelta(weeks=4)  # a promised date is never sooner than this from today
NOTICE_LEAD = 1  # working days before the promised date on which an undecided case is told
SIX_MONTHS = 6


def expected_decision(call: Call, received: date, today: date) -> date:
    """The call's handling time from receipt, but never sooner than four weeks from today:
    a date the applicant can hold us to, on a working day."""
    return applicant_due(max(received + timedelta(weeks=call.handling_weeks), today + LEAST_NOTICE))


def delay_notice_due(promised: date) -> date:
    """The day the sweep tells an applicant whose case is still undecided that the promised
    date will not hold: the last working day before it."""
    return subtract_working_days(promised, NOTICE_LEAD)


def six_months_after(received: date) -> date:
    """FL 12 §: from this day the applicant may ask for a decision."""
    return months_after(received, SIX_MONTHS)


def is_old(case: Case, today: date) -> bool:
    return case.state in UNDECIDED and six_months_after(case.date_received) <= today


def notify_delays(session: Session, today: date) -> int:
    """One delay notice per undecided case whose notice is due (`delay_notice_due`: its
    expected decision date is the next working day, or has passed), with a new date."""
    late = session.exec(
        select(Case)
        .where(
            col(Case.state).in_(UNDECIDED),
            col(Case.expected_decision_on) <= add_working_days(today, NOTICE_LEAD),
            col(Case.delay_notified_at).is_(None),
        )
        .with_for_update()
    ).all()
    for case in late:
        promised = case.expected_decision_on
        case.expected_decision_on = applicant_due(today + LEAST_NOTICE)
        case.delay_notified_at = utcnow()
        session.add(case)
        order_letter(
            session,
            case,
            DELAY_NOTICE,
            {
                "promised": promised.isoformat(),
                "expected": case.expected_decision_on.isoformat(),
                "state": case.state.value,
                "may_ask_from": six_months_after(case.date_received).isoformat(),
            },
        )
        record(
            session,
            case,
            SYSTEM,
            "delay_notice_ordered",
            promised=promised.isoformat(),
            expected=case.expected_decision_on.isoformat(),
        )
    return len(late)
