"""The steps from the draft to the decision and after it, each declared once: the draft,
communication (FL 25 §), the delegated decision, withdrawal, the Community Talk and the
final report. Edges take them by name through `grants.steps.take`."""

from dataclasses import dataclass
from datetime import date, time

from grants.steps.layer import DECISION_MAKERS, OFFICERS, At, declare
from models import clock
from models.communication import communicate, register_reply
from models.community_talks import (
    AFTER_THE_TALK,
    record_presentation,
    register_final_report,
    register_talk,
)
from models.decisions import (
    amend,
    prepare_draft,
    remaining_budget,
    send_back,
    sign,
    submit_for_decision,
)
from models.delays import UNDECIDED
from models.material import add_material
from models.state_aid import record_state_aid
from models.states import CaseState
from models.tables import (
    Case,
    Communication,
    CommunityTalk,
    Decision,
    Document,
    Material,
    Outcome,
    Reporting,
)
from models.withdrawal import register_withdrawal

S = CaseState


@declare("prepare_draft", OFFICERS, [S.drafting_decision])
def draft(
    at: At,
    *,
    outcome: Outcome | None,
    amount: int | None,
    reasons: dict[str, str],
    decisive: str,
    conditions: list[str],
    not_met: list[str] | None,
    reply_assessment: str,
) -> Decision:
    """`outcome` None: what the reviews say; `not_met` None: what the checklist found."""
    return prepare_draft(
        at.session,
        at.case,
        at.person,
        at.rules,
        outcome,
        amount,
        reasons,
        decisive,
        conditions,
        not_met,
        reply_assessment,
    )


@declare("communicate", OFFICERS, [S.drafting_decision])
def communication(at: At) -> Communication:
    return communicate(at.session, at.case, at.person, at.rules, clock.today())


@declare("register_reply", OFFICERS, [S.communication])
def reply(at: At, *, filename: str, content: bytes, has_comments: bool) -> Document:
    return register_reply(at.session, at.case, at.person, filename, content, has_comments)


@declare("add_material", OFFICERS, [S.drafting_decision, S.awaiting_decision])
def material(at: At, *, source: str, text: str, filename: str, content: bytes) -> Material:
    """Material from others than the applicant (FL 25 §): a statement, or a document."""
    return add_material(at.session, at.case, at.person, source, text, filename, content)


@declare("submit_draft", OFFICERS, [S.drafting_decision])
def submit(
    at: At, *, no_communication_because: str, nothing_new_from_others: bool = False
) -> Decision:
    """`nothing_new_from_others`: the case officer records that a draft changed after the
    communication adds no material from others (FL 25 §)."""
    return submit_for_decision(
        at.session,
        at.case,
        at.person,
        at.rules,
        no_communication_because,
        nothing_new_from_others,
    )


@dataclass(frozen=True)
class Signed:
    """The signed decision, the organisation its letter goes to, and what is left of the
    call's budget after it."""

    decision: Decision
    organisation: str
    budget_left: int


@declare("sign", DECISION_MAKERS, [S.awaiting_decision])
def decision(at: At) -> Signed:
    signed = sign(at.session, at.case, at.person, at.rules)
    left = remaining_budget(at.session, at.case.call)
    return Signed(signed, at.case.organisation.name, left)


@declare("amend", DECISION_MAKERS, [S.awaiting_decision])
def amended(
    at: At, *, outcome: Outcome | None, amount: int | None, decisive: str, conditions: list[str]
) -> Decision:
    return amend(at.session, at.case, at.person, at.rules, outcome, amount, decisive, conditions)


@declare("send_back", DECISION_MAKERS, [S.awaiting_decision])
def sent_back(at: At, *, comment: str) -> Decision:
    return send_back(at.session, at.case, at.person, comment)


@declare("register_withdrawal", OFFICERS, UNDECIDED)
def withdrawal(at: At, *, filename: str, content: bytes, reason: str) -> Document:
    return register_withdrawal(at.session, at.case, at.person, filename, content, reason)


# Before the decision: whether the grant is de minimis aid, and what the applicant declared
# of other such aid, are what the decision maker's signature is checked against.
@declare("record_state_aid", OFFICERS, UNDECIDED)
def state_aid(at: At, *, economic_activity: bool | None, other_aid: str | None) -> Case:
    return record_state_aid(at.session, at.case, at.person, economic_activity, other_aid)


@declare("register_talk", OFFICERS)
def talk(
    at: At,
    *,
    held_on: date,
    theme: str,
    venue: str,
    starts_at: time,
    theme_en: str,
    address: str,
    ends_at: time | None,
) -> CommunityTalk:
    """A Community Talk: a step on no case. `ends_at` None: two hours after the start."""
    return register_talk(
        at.session,
        at.person,
        held_on,
        theme,
        venue,
        clock.today(),
        starts_at,
        theme_en,
        address=address,
        ends_at=ends_at,
    )


@declare("record_presentation", OFFICERS, list(AFTER_THE_TALK))
def presentation(at: At, *, on: date) -> Reporting:
    return record_presentation(at.session, at.case, at.person, on)


@declare("register_final_report", OFFICERS, [S.reporting])
def final_report(at: At, *, filename: str, content: bytes) -> Document:
    return register_final_report(at.session, at.case, at.person, filename, content)
