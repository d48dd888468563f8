"""When a case may close: the gates the law and the money put before it, and the sweep that
closes a case once every gate is open.

- A grant (granted, partly granted) closes when its final report is approved, every
  instalment of the call's payment plan is paid and every repayment claim is settled (or
  withdrawn).
- A refusal, a dismissal or a withdrawal (avskrivning) closes when its time for appeal has
  run out: a delegated decision is appealed by laglighetsprövning (13 kap. kommunallagen)
  within three weeks of the day the notice board (anslagstavla) announced that the minutes
  reporting it were put up. Until that day is registered (`register_notice_board_day`) the
  time has not started. The last day moves to the next working day if it falls on a day
  off (lag 1930:173); the case may close the day after it.
- A registered appeal holds any case until the court's ruling is registered. A ruling that
  annuls the decision sends the case back to the case officer to decide again.

`gates` lists each gate of a case and whether it is open; `close_cases` (the sweep) closes
exactly the cases whose gates are all open, and writes the move in the audit trail.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, ClassVar

from sqlmodel import Session, col, select

from models.access import require_role
from models.audit import SYSTEM, Actor, move, record, record_office
from models.decisions import GRANTS
from models.errors import Refused, sentence
from models.payments import final_report_approved, orders_of
from models.repayment import claims
from models.states import CaseState
from models.tables import (
    Appeal,
    AppealRuling,
    Case,
    Decision,
    DecisionStatus,
    NoticeBoardDay,
    PaymentStatus,
    Person,
    RepaymentStatus,
    Role,
    local_date,
)
from models.working_days import next_working_day

APPEAL_TIME = timedelta(weeks=3)  # 13 kap. 6 § kommunallagen
OPEN_AFTER_DECISION = (CaseState.decided, CaseState.reporting)  # the states a case closes from
SETTLED = (RepaymentStatus.settled, RepaymentStatus.withdrawn)

# Each gate as a question, in neutral English (logs, the command line); the office words
# them in its own catalog.
GATE_QUESTIONS: dict[str, str] = {
    "decision_signed": "decision signed",
    "final_report_approved": "final report approved",
    "payment_paid": "payment {payment} paid",
    "repayment_settled": "repayment claim {number} settled",
    "notice_board_day": "notice board day registered for the decisions signed {signed_on}",
    "appeal_time_out": "appeal time run out (last day {last_day})",
    "appeal_ruled": "appeal {number} by {appellant} ruled ({court}, {court_case_number})",
}


class ClosingRefused(Refused, ValueError):
    """A notice-board day, an appeal or a ruling that cannot be registered as given."""

    messages: ClassVar[dict[str, str]] = {
        "closing.announced_ahead": "announced_on = {announced_on}: the notice board's day is "
        "registered once it has come (today is {today})",
        "closing.covers_after_announced": "covers_until = {covers_until}: the minutes "
        "announced on {announced_on} report decisions signed before that day",
        "closing.already_covered": "covers_until = {covers_until}: the decisions signed up to "
        "{covered} already have their notice-board day ({announced_on})",
        "closing.no_decision": "case {case_reference} has no decision in force to appeal",
        "closing.appeal_texts": "{field} = '': say who appealed, to which court, and the "
        "court's case number",
        "closing.received_ahead": "received_on = {received_on}: an appeal is registered once "
        "it has come in (today is {today})",
        "closing.received_before_decision": "received_on = {received_on}: the decision "
        "appealed was signed on {signed_on}",
        "closing.unknown_appeal": "number = {number}: case {case_reference} has no appeal "
        "with that number",
        "closing.already_ruled": "appeal {number} of case {case_reference} is already ruled "
        "({ruling}, {ruled_on})",
        "closing.unknown_ruling": "ruling = '{ruling}': the court either upheld or annulled "
        "the decision",
        "closing.ruled_ahead": "ruled_on = {ruled_on}: a ruling is registered once given "
        "(today is {today}, the appeal came in on {received_on})",
    }


@dataclass(frozen=True)
class Gate:
    """One thing that holds a case's closing: what (`code`, its particulars in `params`) and
    whether it is open (`met`)."""

    code: str
    met: bool
    params: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The gate as a neutral English line: "final report approved: no"."""
        answer = "yes" if self.met else "no"
        if not self.met and self.params.get("status"):
            answer = f"no ({self.params['status']})"
        return f"{sentence(GATE_QUESTIONS[self.code], self.params)}: {answer}"


# Reading


def decision_in_force(session: Session, case: Case) -> Decision | None:
    """The case's latest signed decision, unless a court annulled it."""
    query = select(Decision).where(
        Decision.case_id == case.id, Decision.status == DecisionStatus.signed
    )
    decision = session.exec(query.order_by(col(Decision.version).desc())).first()
    if decision is None or any(
        a.ruling is AppealRuling.annulled for a in appeals_of(session, decision)
    ):
        return None
    return decision


def appeals_of(session: Session, decision: Decision) -> list[Appeal]:
    """The appeals registered against `decision`, first first."""
    query = select(Appeal).where(Appeal.decision_id == decision.id)
    return list(session.exec(query.order_by(col(Appeal.number))))


def appeals_on(session: Session, case: Case) -> list[Appeal]:
    """Every appeal registered on the case, on whichever of its decisions, first first."""
    query = select(Appeal).where(Appeal.case_id == case.id)
    return list(session.exec(query.order_by(col(Appeal.number))))


def notice_board_day(session: Session, signed_on: date) -> NoticeBoardDay | None:
    """The notice-board day of the minutes that reported a decision signed on `signed_on`:
    the first registered whose minutes cover that day."""
    query = select(NoticeBoardDay).where(col(NoticeBoardDay.covers_until) >= signed_on)
    return session.exec(query.order_by(col(NoticeBoardDay.covers_until))).first()


def appeal_last_day(session: Session, decision: Decision) -> date | None:
    """The last day to appeal `decision`: three weeks after its notice-board day, moved to
    the next working day if it falls on a day off; None while that day is not registered."""
    announced = notice_board_day(session, local_date(decision.decided_at))
    if announced is None:
        return None
    return next_working_day(announced.announced_on + APPEAL_TIME)


def gates(session: Session, case: Case, today: date) -> list[Gate]:
    """Every gate that holds the case's closing, open or not; none once it is closed."""
    if case.state is CaseState.closed:
        return []
    decision = decision_in_force(session, case)
    if case.state not in OPEN_AFTER_DECISION or decision is None:
        return [Gate("decision_signed", False)]
    found = (
        _money_gates(session, case)
        if decision.outcome in GRANTS
        else _appeal_time_gates(session, decision, today)
    )
    return found + [_ruled(appeal) for appeal in appeals_of(session, decision)]


def _money_gates(session: Session, case: Case) -> list[Gate]:
    """A grant: its final report approved, each instalment of the plan paid, each
    repayment claim settled."""
    orders = {order.instalment: order for order in orders_of(session, case)}
    found = [Gate("final_report_approved", final_report_approved(session, case))]
    for number in range(1, len(case.call.payment_plan) + 1):
        order = orders.get(number)
        status = order.status.value if order is not None else "not ordered"
        paid = order is not None and order.status is PaymentStatus.paid
        payment = f"{case.case_reference}-{number}"
        found.append(Gate("payment_paid", paid, {"payment": payment, "status": status}))
    for claim in claims(session, case):
        settled = claim.status in SETTLED
        status = claim.status.value
        found.append(Gate("repayment_settled", settled, {"number": claim.number, "status": status}))
    return found


def _appeal_time_gates(session: Session, decision: Decision, today: date) -> list[Gate]:
    """A refusal, a dismissal or a withdrawal: the notice-board day registered, and the
    time for appeal run out after it."""
    last_day = appeal_last_day(session, decision)
    if last_day is None:
        signed_on = local_date(decision.decided_at).isoformat()
        return [Gate("notice_board_day", False, {"signed_on": signed_on})]
    return [Gate("appeal_time_out", today > last_day, {"last_day": last_day.isoformat()})]


def _ruled(appeal: Appeal) -> Gate:
    params = {
        "number": appeal.number,
        "appellant": appeal.appellant,
        "court": appeal.court,
        "court_case_number": appeal.court_case_number,
        "status": "" if appeal.ruling else "waiting for the court",
    }
    return Gate("appeal_ruled", appeal.ruling is not None, params)


# The sweep


def close_cases(session: Session, today: date) -> int:
    """Close each decided case whose gates are all open, in the audit trail with its gates."""
    query = select(Case).where(col(Case.state).in_(OPEN_AFTER_DECISION)).with_for_update()
    closed = 0
    for case in session.exec(query.order_by(col(Case.id))).all():
        found = gates(session, case, today)
        if not found or not all(gate.met for gate in found):
            continue
        opened = [{"gate": gate.code, **gate.params} for gate in found]
        move(session, case, CaseState.closed, SYSTEM, "case_closed", gates=opened)
        closed += 1
    return closed


# The steps


def register_notice_board_day(
    session: Session, person: Person, announced_on: date, covers_until: date, today: date
) -> NoticeBoardDay:
    """The day the notice board announced the minutes reporting the delegated decisions
    signed up to `covers_until`, a day before it (a decision signed later the same day
    cannot be in minutes already announced): their time for appeal starts."""
    require_role(person, "register a notice-board day", Role.case_officer)
    if announced_on > today:
        raise ClosingRefused("closing.announced_ahead", announced_on=announced_on, today=today)
    if covers_until >= announced_on:
        raise ClosingRefused(
            "closing.covers_after_announced", covers_until=covers_until, announced_on=announced_on
        )
    latest = session.exec(
        select(NoticeBoardDay).order_by(col(NoticeBoardDay.covers_until).desc())
    ).first()
    if latest is not None and covers_until <= latest.covers_until:
        raise ClosingRefused(
            "closing.already_covered",
            covers_until=covers_until,
            covered=latest.covers_until,
            announced_on=latest.announced_on,
        )
    day = NoticeBoardDay(
        announced_on=announced_on, covers_until=covers_until, registered_by=person.email
    )
    session.add(day)
    record_office(
        session,
        Actor.of(person),
        "notice_board_day_registered",
        announced_on=announced_on.isoformat(),
        covers_until=covers_until.isoformat(),
    )
    return day


def register_appeal(
    session: Session,
    case: Case,
    officer: Person,
    today: date,
    *,
    appellant: str,
    received_on: date,
    court: str,
    court_case_number: str,
) -> Appeal:
    """A laglighetsprövning of the case's decision, as the court told of it: the case stays
    open until the ruling is registered."""
    require_role(officer, "register an appeal", Role.case_officer)
    decision = decision_in_force(session, case)
    if decision is None:
        raise ClosingRefused("closing.no_decision", case_reference=case.case_reference)
    texts = {
        "appellant": appellant.strip(),
        "court": court.strip(),
        "court_case_number": court_case_number.strip(),
    }
    for name, text in texts.items():
        if not text:
            raise ClosingRefused("closing.appeal_texts", field=name)
    signed_on = local_date(decision.decided_at)
    if received_on > today:
        raise ClosingRefused("closing.received_ahead", received_on=received_on, today=today)
    if received_on < signed_on:
        raise ClosingRefused(
            "closing.received_before_decision", received_on=received_on, signed_on=signed_on
        )
    number = 1 + len(session.exec(select(Appeal).where(Appeal.case_id == case.id)).all())
    appeal = Appeal(
        case_id=case.id,
        decision_id=decision.id,
        number=number,
        received_on=received_on,
        registered_by=officer.email,
        **texts,
    )
    session.add(appeal)
    record(
        session,
        case,
        Actor.of(officer),
        "appeal_registered",
        number=number,
        decision_version=decision.version,
        received_on=received_on.isoformat(),
        **texts,
    )
    return appeal


def register_ruling(
    session: Session,
    case: Case,
    officer: Person,
    today: date,
    *,
    number: int,
    ruling: str,
    ruled_on: date,
) -> Appeal:
    """The court's ruling on an appeal. Upheld: the appeal holds the case no longer.
    Annulled: the decision is void, and the case goes back to the case officer to be
    decided again (a new draft, a new decision)."""
    require_role(officer, "register a court's ruling", Role.case_officer)
    query = select(Appeal).where(Appeal.case_id == case.id, Appeal.number == number)
    appeal = session.exec(query).first()
    if appeal is None:
        raise ClosingRefused(
            "closing.unknown_appeal", number=number, case_reference=case.case_reference
        )
    if appeal.ruling is not None:
        raise ClosingRefused(
            "closing.already_ruled",
            number=number,
            case_reference=case.case_reference,
            ruling=appeal.ruling,
            ruled_on=appeal.ruled_on,
        )
    if ruling not in AppealRuling.__members__:
        raise ClosingRefused("closing.unknown_ruling", ruling=ruling)
    if not appeal.received_on <= ruled_on <= today:
        raise ClosingRefused(
            "closing.ruled_ahead", ruled_on=ruled_on, today=today, received_on=appeal.received_on
        )
    appeal.ruling, appeal.ruled_on = AppealRuling(ruling), ruled_on
    appeal.ruling_registered_by = officer.email
    session.add(appeal)
    detail = {"number": number, "ruling": ruling, "ruled_on": ruled_on.isoformat()}
    if appeal.ruling is AppealRuling.annulled:
        back = CaseState.drafting_decision
        move(session, case, back, Actor.of(officer), "decision_annulled", **detail)
    else:
        record(session, case, Actor.of(officer), "appeal_ruled", **detail)
    return appeal
