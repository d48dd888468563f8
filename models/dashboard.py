"""The figures of the office's dashboard, for the case officer and the decision maker: the
budget of each call, the cases by state, the overdue tasks, and how long decisions took
against the date the acknowledgement promised (FL 11 §).

Counts and lists leave out every case the reader declared a conflict in (the rule of
`models.access`); the budget is the call's, whole: what is left of it does not depend on
who asks.
"""

from dataclasses import dataclass
from datetime import date
from statistics import median

from sqlmodel import Session, col, func, select

from models.access import readable_clause
from models.decisions import committed, latest_of
from models.delays import UNDECIDED
from models.letters import DELAY_NOTICE
from models.payments import paid_in, reclaimed_in
from models.states import CaseState
from models.tables import (
    Call,
    Case,
    Decision,
    DecisionStatus,
    Letter,
    Person,
    Role,
    local_date,
)
from models.tasks import Task, open_tasks

PROPOSING = (CaseState.drafting_decision, CaseState.communication, CaseState.awaiting_decision)
RECENT_DECISIONS = 25  # how many of the latest decisions the lead-time chart shows


@dataclass(frozen=True)
class Budget:
    """A call's budget: granted by signed decisions, proposed in drafts not yet decided,
    and what is left once both are paid; and of the money granted, what was paid out and
    what was paid back on repayment claims."""

    call: Call
    granted: int
    in_drafts: int
    paid: int = 0
    reclaimed: int = 0

    @property
    def left(self) -> int:
        return self.call.budget - self.granted - self.in_drafts


@dataclass(frozen=True)
class Overdue:
    holder: Person
    task: Task
    days: int  # past its due date


@dataclass(frozen=True)
class LeadTime:
    """How long one decision took from receipt, against the date promised."""

    case_reference: str
    received: date
    promised: date
    decided: date

    @property
    def days(self) -> int:
        return (self.decided - self.received).days

    @property
    def promised_days(self) -> int:
        return (self.promised - self.received).days

    @property
    def on_time(self) -> bool:
        return self.decided <= self.promised


@dataclass(frozen=True)
class LeadTimes:
    recent: list[LeadTime]  # the latest RECENT_DECISIONS, latest first
    decisions: int  # all decisions the reader may read
    on_time: int
    median_days: float | None
    undecided_late: int  # undecided cases past the date promised


def budgets(session: Session) -> list[Budget]:
    """Each call's budget, granted and proposed; the amounts proposed are those of the
    latest draft of each case being decided."""
    proposing = list(
        session.exec(select(Case.id, Case.call_id).where(col(Case.state).in_(PROPOSING)))
    )
    drafts = latest_of(session, [case_id for case_id, _ in proposing])
    in_drafts: dict[int, int] = {}
    for case_id, call_id in proposing:
        draft = drafts.get(case_id)
        in_drafts[call_id] = in_drafts.get(call_id, 0) + ((draft.amount or 0) if draft else 0)
    calls = session.exec(select(Call).order_by(col(Call.id)))
    return [
        Budget(
            call,
            committed(session, call),
            in_drafts.get(call.id, 0),
            paid_in(session, call),
            reclaimed_in(session, call),
        )
        for call in calls
    ]


def cases_by_state(session: Session, reader: Person) -> list[tuple[CaseState, int]]:
    """Every state, in the order a case goes through them, with how many cases stand in it."""
    counts = dict(
        session.exec(
            select(Case.state, func.count())
            .where(readable_clause(session, reader))
            .group_by(col(Case.state))
        ).all()
    )
    return [(state, counts.get(state, 0)) for state in CaseState]


def overdue_tasks(session: Session, reader: Person, today: date) -> list[Overdue]:
    """Everyone's tasks past their due date, the longest overdue first, on the cases the
    reader may read."""
    readable = set(
        session.exec(select(Case.case_reference).where(readable_clause(session, reader)))
    )
    people = session.exec(
        select(Person).where(
            col(Person.role).in_([Role.case_officer, Role.advisor, Role.decision_maker])
        )
    )
    found = [
        Overdue(holder, task, (today - task.due).days)
        for holder in people
        for task in open_tasks(session, holder, today)
        if task.due is not None and task.overdue(today) and task.case_reference in readable
    ]
    return sorted(found, key=lambda o: (-o.days, o.holder.name, o.task.case_reference))


def lead_times(session: Session, reader: Person, today: date) -> LeadTimes:
    """Days from receipt to the signed decision, against the date the acknowledgement
    promised (the date a delay notice moved is the one promised first)."""
    rows = session.exec(
        select(Case.id, Case.case_reference, Case.date_received, Case.expected_decision_on)
        .add_columns(col(Decision.decided_at))
        .join(Decision)
        .where(Decision.status == DecisionStatus.signed, readable_clause(session, reader))
        .order_by(col(Decision.decided_at).desc())
    ).all()
    first_promise = promised_before_delay(session)
    times = [
        LeadTime(
            row.case_reference,
            row.date_received,
            first_promise.get(row.id, row.expected_decision_on or local_date(row.decided_at)),
            local_date(row.decided_at),
        )
        for row in rows
    ]
    late = session.exec(
        select(func.count())
        .select_from(Case)
        .where(
            col(Case.state).in_(UNDECIDED),
            col(Case.expected_decision_on) < today,
            readable_clause(session, reader),
        )
    ).one()
    return LeadTimes(
        times[:RECENT_DECISIONS],
        len(times),
        sum(t.on_time for t in times),
        median(t.days for t in times) if times else None,
        late,
    )


def promised_before_delay(session: Session) -> dict[int, date]:
    """Per case that had a delay notice, the date the acknowledgement promised."""
    notices = session.exec(select(Letter.case_id, Letter.data).where(Letter.kind == DELAY_NOTICE))
    return {case_id: date.fromisoformat(data["promised"]) for case_id, data in notices}
