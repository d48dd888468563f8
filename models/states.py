"""The one state machine of a case: every step of a case's path, from intake to the
Community Talk, and nothing else.

Flows, the command line and the office all move a case through `models.audit.move`, which
consults `NEXT` below and records the move in the audit trail; no other code sets `Case.state`.

A case closes only after a signed decision (a withdrawal too: it is closed by a decision to
write it off, avskrivning), and only by the sweep, once every gate of its closing is open
(`models.closing.gates`):

- a grant (granted, partly granted): its final report approved; every instalment of the
  payment plan paid; every repayment claim settled or withdrawn;
- a refusal, a dismissal, a withdrawal: the notice board's day for the minutes reporting the
  decision registered, and the three weeks for appeal (laglighetsprövning, 13 kap.
  kommunallagen) run out, the last day moved to a working day (lag 1930:173);
- any case: every registered appeal ruled. A ruling that annuls the decision sends the case
  back to `drafting_decision`, to be decided again.
"""

from enum import StrEnum
from typing import ClassVar

from models.errors import Refused


class CaseState(StrEnum):
    """Where a case stands. Values are stored in the database; never rename one."""

    received = "received"  # registered, acknowledged, waiting for the eligibility checklist
    awaiting_supplement = "awaiting_supplement"  # komplettering requested, deadline running
    in_review = "in_review"  # advisory group review tasks open
    applicant_meeting = "applicant_meeting"  # meeting with the applicant to book or document
    drafting_decision = "drafting_decision"  # förslag till beslut being prepared
    communication = "communication"  # FL 25 §: material sent, waiting for reply or deadline
    awaiting_decision = "awaiting_decision"  # draft with the decision maker
    decided = "decided"  # signed; outcome recorded, decision letter sent
    reporting = "reporting"  # funded: Community Talk and final report to come
    closed = "closed"  # nothing more to do: every gate of its closing open (models.closing)


S = CaseState

NEXT: dict[CaseState, tuple[CaseState, ...]] = {
    S.received: (S.in_review, S.awaiting_supplement, S.drafting_decision),
    S.awaiting_supplement: (S.received, S.in_review, S.drafting_decision),
    S.in_review: (S.applicant_meeting, S.drafting_decision, S.awaiting_supplement),
    S.applicant_meeting: (S.drafting_decision, S.awaiting_supplement),
    S.drafting_decision: (S.communication, S.awaiting_decision),
    S.communication: (S.awaiting_decision, S.drafting_decision),
    S.awaiting_decision: (S.decided, S.drafting_decision),
    S.decided: (S.reporting, S.closed, S.drafting_decision),  # back: the court annulled it
    S.reporting: (S.closed, S.drafting_decision),
    S.closed: (),
}


class IllegalTransition(Refused, ValueError):
    """A step the state machine does not allow: it names the case, its state and what may
    follow it (`allowed`: nothing, once the case is closed)."""

    messages: ClassVar[dict[str, str]] = {
        "state.illegal": "Case {case_reference} is '{state}' and cannot move to '{wanted}'; "
        "allowed next: {allowed}.",
        "state.closed": "Case {case_reference} is '{state}' and cannot move to '{wanted}'; "
        "allowed next: nothing (the case is closed).",
    }


class StepNotNow(Refused, ValueError):
    """A step taken in a state it is not taken in: it names the case, its state, the step
    and the states the step is taken in."""

    messages: ClassVar[dict[str, str]] = {
        "state.step_not_now": "case {case_reference} is '{state}'; the step '{step}' is taken "
        "only while it is {states:'or'}",
    }


def check_transition(case_reference: str, state: CaseState, wanted: CaseState) -> None:
    """Raise IllegalTransition unless `wanted` may follow `state`."""
    if wanted not in NEXT[state]:
        raise IllegalTransition(
            "state.illegal" if NEXT[state] else "state.closed",
            case_reference=case_reference,
            state=state,
            wanted=wanted,
            allowed=NEXT[state],
        )
