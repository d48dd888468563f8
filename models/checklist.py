"""The eligibility checklist: the four basic requirements, the formal requirements, and the
formal checks from intake.

All met: to review. Anything unclear: a request for supplement. Clearly not eligible: a
proposed refusal, for the decision maker to decide. A formal requirement (FL 20 §: who
applies, who signed, a complete application) is met or unclear, never "not met": its gap is
remedied by a supplement, and one left unremedied leads to dismissal, not refusal.
"""

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from sqlalchemy import func
from sqlmodel import Session, select

from models.audit import Actor, move
from models.errors import Refused
from models.reviews import start_review
from models.rules import Rules
from models.states import CaseState
from models.supplements import request_supplement
from models.tables import (
    Answer,
    Case,
    ChecklistAnswer,
    Criterion,
    FormalAnswer,
    FormalRequirement,
    OnExpiry,
    Outcome,
    Person,
)
from models.validation import LEGAL_FORMS, MUNICIPALITIES
from models.vocabulary import criterion_name


class ChecklistError(Refused, ValueError):
    """The checklist as given cannot be recorded; the refusal names the criterion."""

    messages: ClassVar[dict[str, str]] = {
        "checklist.not_received": "case {case_reference} is '{state}'; the checklist is done "
        "while it is 'received' (new, or its supplement just came)",
        "checklist.unanswered": "answer every basic requirement; missing: {missing}",
        "checklist.note_needed": "{criterion} = {answer}: a note must say why (it goes to "
        "the applicant or into the proposal)",
        "checklist.formal_not_met": "{requirement} = not_met: a formal requirement is met or "
        "unclear; ask for what is missing (unclear, with a note), and an application that "
        "stays incomplete may then be dismissed",
    }


@dataclass(frozen=True)
class Finding:
    answer: Answer
    note: str = ""


def formal_checks(case: Case) -> list[tuple[str, bool, str]]:
    """The checks intake made, pre-filled for the case officer: (check, passed, detail)."""
    org, call = case.organisation, case.call
    hours_value = case.co_financing_hours * call.co_financing_hourly_rate
    co_financing = case.co_financing_cash + hours_value
    return [
        ("civil-society organisation", org.legal_form in LEGAL_FORMS, org.legal_form),
        ("in Örebro county", org.municipality in MUNICIPALITIES, org.municipality),
        (
            "organisation number",
            org.organisation_number is not None,
            org.organisation_number or "missing: needed before payment",
        ),
        (
            "amount within the call's range",
            call.minimum_grant <= case.requested_amount <= call.maximum_grant,
            f"{case.requested_amount} kr ({call.minimum_grant}–{call.maximum_grant})",
        ),
        (
            "co-financing at least the amount",
            co_financing >= case.requested_amount,
            f"{case.co_financing_cash} kr + {case.co_financing_hours} h = {co_financing} kr",
        ),
        (
            "received while the call was open",
            case.date_received.month not in call.closed_months,
            case.date_received.isoformat(),
        ),
        (
            "payment account",
            bool(org.bankgiro or org.plusgiro),
            org.bankgiro or org.plusgiro or "missing: needed before payment",
        ),
    ]


def latest_formal(session: Session, case: Case) -> dict[FormalRequirement, FormalAnswer]:
    """The latest round's finding on each formal requirement."""
    answers = session.exec(
        select(FormalAnswer)
        .where(FormalAnswer.case_id == case.id)
        .order_by(FormalAnswer.round, FormalAnswer.id)
    ).all()
    return {answer.requirement: answer for answer in answers}


def latest_findings(session: Session, case: Case) -> dict[Criterion, ChecklistAnswer]:
    answers = session.exec(
        select(ChecklistAnswer)
        .where(ChecklistAnswer.case_id == case.id)
        .order_by(ChecklistAnswer.round, ChecklistAnswer.id)
    ).all()
    return {answer.criterion: answer for answer in answers}


def complete_checklist(
    session: Session,
    case: Case,
    officer: Person,
    findings: dict[Criterion, Finding],
    rules: Rules,
    today: date,
    also_missing: list[str] = (),
    on_expiry: OnExpiry | None = None,
    dismiss_because: str = "",
    formal: dict[FormalRequirement, Finding] | None = None,
) -> CaseState:
    """Record the officer's findings and move the case as they say; return the new state.

    `formal`: the findings on the formal requirements; one not given is met (intake checked
    the form), and one unclear is asked for under its own name in the supplement request."""
    if case.state is not CaseState.received:
        raise ChecklistError(
            "checklist.not_received", case_reference=case.case_reference, state=case.state
        )
    absent = [c for c in Criterion if c not in findings]
    if absent:
        raise ChecklistError("checklist.unanswered", missing=absent)
    for criterion, finding in findings.items():
        if finding.answer is not Answer.met and not finding.note.strip():
            raise ChecklistError(
                "checklist.note_needed", criterion=criterion, answer=finding.answer
            )
    formal = {r: (formal or {}).get(r, Finding(Answer.met)) for r in FormalRequirement}
    _check_formal(formal)
    last_round = session.exec(
        select(func.max(ChecklistAnswer.round)).where(ChecklistAnswer.case_id == case.id)
    ).one()
    round_ = (last_round or 0) + 1
    for criterion, finding in findings.items():
        session.add(
            ChecklistAnswer(
                case_id=case.id,
                round=round_,
                criterion=criterion,
                answer=finding.answer,
                note=finding.note.strip(),
                answered_by=officer.email,
            )
        )
    for requirement, finding in formal.items():
        session.add(
            FormalAnswer(
                case_id=case.id,
                round=round_,
                requirement=requirement,
                answer=finding.answer,
                note=finding.note.strip(),
                answered_by=officer.email,
            )
        )
    answers = {c.value: f.answer.value for c, f in findings.items()}
    formal_gaps = [r for r, f in formal.items() if f.answer is Answer.unclear]
    actor = Actor.of(officer)
    not_met = [c for c, f in findings.items() if f.answer is Answer.not_met]
    unclear = [c for c, f in findings.items() if f.answer is Answer.unclear]
    if not_met:
        case.proposed_outcome = Outcome.refused
        case.proposal_reason = "; ".join(
            f"{criterion_name(c, case.language)}: {findings[c].note}" for c in not_met
        )
        move(
            session,
            case,
            CaseState.drafting_decision,
            actor,
            "checklist_not_eligible",
            round=round_,
            answers=answers,
        )
    elif unclear or formal_gaps or any(text.strip() for text in also_missing):
        missing = [
            {"criterion": None, "formal": r.value, "text": formal[r].note} for r in formal_gaps
        ]
        missing += [{"criterion": c.value, "text": findings[c].note} for c in unclear]
        missing += [{"criterion": None, "text": text} for text in also_missing if text.strip()]
        request_supplement(
            session, case, officer, missing, rules, today, on_expiry, dismiss_because
        )
    else:
        start_review(
            session, case, rules, today, actor, "checklist_all_met", round=round_, answers=answers
        )
    return case.state


def _check_formal(formal: dict[FormalRequirement, Finding]) -> None:
    """A formal requirement is met or unclear, and unclear says what is missing."""
    for requirement, finding in formal.items():
        if finding.answer is Answer.not_met:
            raise ChecklistError("checklist.formal_not_met", requirement=requirement)
        if finding.answer is Answer.unclear and not finding.note.strip():
            raise ChecklistError(
                "checklist.note_needed", criterion=requirement, answer=finding.answer
            )
