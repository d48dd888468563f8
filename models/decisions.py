"""The draft decision and the delegated decision.

The advisory group prepares a draft (förslag till beslut); only the decision maker decides
(Kommunallagen 7 kap. 5 §): signs it, amends it (a new version), or sends it back. A
signed decision is final — the database refuses any change to it — and a grant may not
take the call past its budget, also when two decisions are signed at the same moment.
"""

import calendar
from collections import Counter
from datetime import date
from statistics import median
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.access import require_role
from models.audit import Actor, move, record
from models.errors import Refused
from models.letters import DECISION, DRAFT_DECISION, order_letter
from models.reviews import tasks_of
from models.rules import Rules
from models.states import CaseState
from models.tables import (
    Call,
    Case,
    Criterion,
    Decision,
    DecisionStatus,
    Outcome,
    Person,
    Recommendation,
    Role,
    TaskStatus,
    local_date,
    utcnow,
)

GRANTS = (Outcome.granted, Outcome.partly_granted)
STANDARD_CONDITIONS = (
    "project_only",
    "changes_need_approval",
    "credit_funder",
    "community_talk",
    "final_report",
    "reclaim",
)


class DecisionError(Refused, ValueError):
    """The draft or the decision cannot be taken as given; the message says why."""


def committed(session: Session, call: Call) -> int:
    """Kronor granted by signed decisions in the call."""
    total = session.exec(
        select(func.coalesce(func.sum(Decision.amount), 0))
        .join(Case)
        .where(Case.call_id == call.id, Decision.status == DecisionStatus.signed)
    ).one()
    return int(total)


def remaining_budget(session: Session, call: Call) -> int:
    return call.budget - committed(session, call)


def latest(session: Session, case: Case) -> Decision | None:
    query = select(Decision).where(Decision.case_id == case.id)
    return session.exec(query.order_by(col(Decision.version).desc())).first()


def prepare_draft(
    session: Session,
    case: Case,
    officer: Person,
    rules: Rules,
    outcome: Outcome | None = None,
    amount: int | None = None,
    reasons: dict[str, str] | None = None,
    decisive: str = "",
    extra_conditions: list[str] = (),
) -> Decision:
    """The draft from the reviews (or the proposal the checklist or a deadline made),
    with the officer's changes; a new version each time it is prepared."""
    require_role(officer, "prepare a draft decision", Role.case_officer)
    if case.state is not CaseState.drafting_decision:
        raise DecisionError(
            f"case {case.case_reference} is '{case.state}'; a draft is prepared "
            "while it is 'drafting_decision'"
        )
    reviews = [t for t in tasks_of(session, case) if t.status is TaskStatus.submitted]
    outcome = outcome or case.proposed_outcome or _outcome_of(reviews)
    amount = _checked_amount(
        session, outcome, amount if amount is not None else _amount_of(outcome, case, reviews), case
    )
    found = _reasons_of(reviews) | (reasons or {})
    if outcome in (Outcome.granted, Outcome.partly_granted, Outcome.refused):
        missing = [c.value for c in Criterion if not found.get(c.value, "").strip()]
        if missing:
            raise DecisionError(
                f"reasons: a finding on every basic requirement is needed "
                f"(FL 32 §); missing: {', '.join(missing)}"
            )
    previous = latest(session, case)
    if previous is not None and previous.status is DecisionStatus.draft:
        previous.status = DecisionStatus.superseded
        session.add(previous)
    draft = Decision(
        case_id=case.id,
        version=(previous.version + 1) if previous else 1,
        outcome=outcome,
        amount=amount,
        conditions=(list(STANDARD_CONDITIONS) if outcome in GRANTS else [])
        + [c.strip() for c in extra_conditions if c.strip()],
        reasons=found,
        decisive=decisive.strip() or (case.proposal_reason or ""),
        other_funding=sorted({f for t in reviews for f in t.other_funding}),
        final_report_due=_months_after(case.project_end, rules.final_report_months)
        if outcome in GRANTS
        else None,
        presenting_officer=officer.email,
        participants=[t.reviewer.email for t in reviews if t.reviewer.email != officer.email],
        prepared_by=officer.email,
    )
    session.add(draft)
    record(
        session,
        case,
        Actor.of(officer),
        "draft_decision_prepared",
        version=draft.version,
        outcome=outcome,
        amount=amount,
    )
    return draft


def submit_for_decision(
    session: Session, case: Case, officer: Person, why_no_communication: str, rules: Rules
) -> Decision:
    """Send the draft to the decision maker, recording why communication (FL 25 §) is not
    needed: the applicant has seen all the material the decision rests on."""
    require_role(officer, "submit a draft decision", Role.case_officer)
    draft = current_draft(session, case, CaseState.drafting_decision)
    if not why_no_communication.strip():
        raise DecisionError(
            "reason = '': say why no communication before decision is needed (FL 25 §)"
        )
    move(
        session,
        case,
        CaseState.awaiting_decision,
        Actor.of(officer),
        "draft_submitted",
        version=draft.version,
        no_communication_because=why_no_communication.strip(),
    )
    send_to_decision_maker(session, draft, rules)
    return draft


def send_to_decision_maker(session: Session, draft: Decision, rules: Rules) -> None:
    """The draft as PDF, by e-mail, to the decision maker."""
    maker = session.exec(select(Person).where(Person.role == Role.decision_maker)).first()
    if maker is not None:
        data = letter_data(session, draft, rules, draft=True)
        order_letter(
            session, draft.case, DRAFT_DECISION, data, draft.version, recipient=maker.email
        )


def sign(session: Session, case: Case, person: Person, rules: Rules) -> Decision:
    """The delegated decision: only the decision maker, within the call's budget."""
    require_role(person, "sign a decision", Role.decision_maker)
    draft = current_draft(session, case, CaseState.awaiting_decision)
    if draft.outcome in GRANTS:
        # The call's row is locked until commit: decisions signed at once take turns here.
        call = session.exec(select(Call).where(Call.id == case.call_id).with_for_update()).one()
        _within_budget(session, call, draft.amount)
    draft.status = DecisionStatus.signed
    draft.decided_by, draft.decided_at = person.email, utcnow()
    session.add(draft)
    move(
        session,
        case,
        CaseState.decided,
        Actor.of(person),
        "decision_signed",
        version=draft.version,
        outcome=draft.outcome,
        amount=draft.amount,
    )
    order_letter(session, case, DECISION, letter_data(session, draft, rules, draft=False))
    return draft


def amend(
    session: Session,
    case: Case,
    person: Person,
    rules: Rules,
    outcome: Outcome | None = None,
    amount: int | None = None,
    decisive: str = "",
    extra_conditions: list[str] = (),
) -> Decision:
    """The decision maker's own changes: a new version of the draft, ready to sign."""
    require_role(person, "amend a draft decision", Role.decision_maker)
    current = current_draft(session, case, CaseState.awaiting_decision)
    outcome = outcome or current.outcome
    if amount is None and outcome is current.outcome:
        amount = current.amount
    extras = [c for c in current.conditions if c not in STANDARD_CONDITIONS]
    amended = Decision(
        **current.model_dump(
            exclude={
                "id",
                "version",
                "status",
                "outcome",
                "amount",
                "conditions",
                "decisive",
                "final_report_due",
                "prepared_by",
                "prepared_at",
                "comment",
            }
        ),
        version=current.version + 1,
        outcome=outcome,
        amount=_checked_amount(session, outcome, amount, case),
        conditions=(list(STANDARD_CONDITIONS) if outcome in GRANTS else [])
        + extras
        + [c.strip() for c in extra_conditions if c.strip()],
        decisive=decisive.strip() or current.decisive,
        final_report_due=_months_after(case.project_end, rules.final_report_months)
        if outcome in GRANTS
        else None,
        prepared_by=person.email,
    )
    current.status = DecisionStatus.superseded
    session.add(current)
    session.add(amended)
    record(
        session,
        case,
        Actor.of(person),
        "draft_amended",
        version=amended.version,
        outcome=outcome,
        amount=amended.amount,
    )
    session.flush()
    send_to_decision_maker(session, amended, rules)  # the version to sign, as a PDF too
    return amended


def send_back(session: Session, case: Case, person: Person, comment: str) -> Decision:
    """The decision maker returns the draft to the case officer, saying why."""
    require_role(person, "send a draft back", Role.decision_maker)
    draft = current_draft(session, case, CaseState.awaiting_decision)
    if not comment.strip():
        raise DecisionError("comment = '': say what the case officer should look at again")
    draft.status, draft.comment = DecisionStatus.sent_back, comment.strip()
    session.add(draft)
    move(
        session,
        case,
        CaseState.drafting_decision,
        Actor.of(person),
        "draft_sent_back",
        version=draft.version,
        comment=draft.comment,
    )
    return draft


def letter_data(session: Session, decision: Decision, rules: Rules, draft: bool) -> dict:
    """What the decision letter (or the draft) states beyond the case itself."""
    case = decision.case
    people = {p.email: p for p in session.exec(select(Person))}
    maker = people.get(decision.decided_by or "") or next(
        (p for p in people.values() if p.role is Role.decision_maker), None
    )
    org = case.organisation
    account = (
        f"bankgiro {org.bankgiro}"
        if org.bankgiro
        else f"plusgiro {org.plusgiro}"
        if org.plusgiro
        else None
    )
    return {
        "draft": draft,
        "version": decision.version,
        "outcome": decision.outcome.value,
        "amount": decision.amount,
        "requested_amount": case.requested_amount,
        "decided_at": decision.decided_at.isoformat() if decision.decided_at else None,
        "decision_maker": _who(maker, case.language.value),
        "presenting_officer": _who(people.get(decision.presenting_officer), case.language.value),
        "participants": [
            {"name": people[e].name, "organisation": people[e].organisation}
            for e in decision.participants
            if e in people
        ],
        "delegation_point": rules.delegation_point,
        "guidelines_version": case.call.guidelines_version,
        "reasons": decision.reasons,
        "decisive": decision.decisive,
        "conditions": [
            {"code": c, "text": ""} if c in STANDARD_CONDITIONS else {"code": None, "text": c}
            for c in decision.conditions
        ],
        "final_report_due": decision.final_report_due.isoformat()
        if decision.final_report_due
        else None,
        "payment": {"account": account},
        "other_funding": decision.other_funding,
    }


def _who(person: Person | None, language: str) -> dict[str, str]:
    """A person's name and title, the title in English when the letter is (if known)."""
    if person is None:
        return {"name": "", "title": ""}
    title = (person.title_en if language == "en" else None) or person.title or ""
    return {"name": person.name, "title": title}


def current_draft(session: Session, case: Case, state: CaseState) -> Decision:
    if case.state is not state:
        raise DecisionError(
            f"case {case.case_reference} is '{case.state}'; this step is taken "
            f"while it is '{state}'"
        )
    draft = latest(session, case)
    if draft is None or draft.status is not DecisionStatus.draft:
        raise DecisionError(f"case {case.case_reference} has no draft decision to act on")
    return draft


def _outcome_of(reviews: list) -> Outcome:
    """The recommendation most reviewers gave; a tie goes to the more cautious."""
    if not reviews:
        raise DecisionError("outcome: no reviews to go on; give --outcome")
    order = [Recommendation.refused, Recommendation.partly_granted, Recommendation.granted]
    votes = Counter(t.recommendation for t in reviews if t.recommendation in order)
    if not votes:
        raise DecisionError(
            "outcome: the reviews ask for a supplement; request it or give --outcome"
        )
    best = max(votes.values())
    return Outcome(next(r for r in order if votes[r] == best).value)


def _amount_of(outcome: Outcome, case: Case, reviews: list) -> int | None:
    if outcome is Outcome.granted:
        return case.requested_amount
    if outcome is Outcome.partly_granted:
        proposed = [
            t.proposed_amount
            for t in reviews
            if t.proposed_amount is not None and t.recommendation is Recommendation.partly_granted
        ]
        if proposed:
            return int(median(proposed))
    return None


def _within_budget(session: Session, call: Call, amount: int) -> None:
    left = remaining_budget(session, call)
    if amount > left:
        raise DecisionError(
            f"amount = {amount}: the call {call.code} has {left} kr left of its budget of "
            f"{call.budget} kr"
        )


def _checked_amount(
    session: Session, outcome: Outcome, amount: int | None, case: Case
) -> int | None:
    """The amount if it suits the outcome, the call's range and the budget left."""
    call = case.call
    if outcome not in GRANTS:
        if amount is not None:
            raise DecisionError(f"amount = {amount}: no amount goes with '{outcome}'")
        return None
    if amount is None:
        raise DecisionError(f"amount: '{outcome}' needs the amount granted")
    top = case.requested_amount - (1 if outcome is Outcome.partly_granted else 0)
    if not call.minimum_grant <= amount <= min(top, call.maximum_grant):
        raise DecisionError(
            f"amount = {amount}: must be between {call.minimum_grant} and "
            f"{min(top, call.maximum_grant)} for '{outcome}'"
        )
    if outcome is Outcome.granted and amount != case.requested_amount:
        raise DecisionError(
            f"amount = {amount}: 'granted' is the {case.requested_amount} "
            "applied for; use partly_granted"
        )
    _within_budget(session, call, amount)
    return amount


def draft_reasons(session: Session, case: Case) -> dict[str, str]:
    """The findings a new draft starts from: the latest version's, else the reviews'."""
    previous = latest(session, case)
    if previous is not None:
        return dict(previous.reasons)
    return _reasons_of([t for t in tasks_of(session, case) if t.status is TaskStatus.submitted])


def _reasons_of(reviews: list) -> dict[str, str]:
    """Each requirement's findings from the reviews, one sentence per reviewer."""
    return {
        c.value: " ".join(dict.fromkeys(t.reasons.get(c.value, "") for t in reviews)).strip()
        for c in Criterion
    }


def _months_after(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day if it is shorter."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def delegation_rows(session: Session, first: date, last: date) -> list[dict[str, Any]]:
    """The delegation report to the committee (KL 6 kap. 40 §): each decision signed from
    `first` to `last` (Swedish dates), in the order they were made."""
    people = {p.email: p.name for p in session.exec(select(Person))}
    signed = session.exec(
        select(Decision)
        .where(Decision.status == DecisionStatus.signed)
        .order_by(col(Decision.decided_at))
    ).all()
    return [
        {
            "case_reference": d.case.case_reference,
            "decided_on": local_date(d.decided_at).isoformat(),
            "organisation": d.case.organisation.name,
            "organisation_number": d.case.organisation.organisation_number or "",
            "project_title": d.case.project_title,
            "outcome": d.outcome.value,
            "amount": d.amount,
            "decision_maker": people.get(d.decided_by, d.decided_by),
        }
        for d in signed
        if first <= local_date(d.decided_at) <= last
    ]
