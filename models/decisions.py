"""The draft decision and the delegated decision.

The advisory group prepares a draft (förslag till beslut); only the decision maker decides
(Kommunallagen 7 kap. 5 §): signs it, amends it (a new version), or sends it back. A
signed decision is final — the database refuses any change to it — and a grant may not
take the call past its budget, also when two decisions are signed at the same moment.
"""

from collections import Counter
from datetime import date, datetime
from statistics import median
from typing import Any, ClassVar

from sqlalchemy import Row, func
from sqlmodel import Session, col, select

from models.access import require_role
from models.audit import Actor, move, record
from models.checklist import latest_findings
from models.errors import Refused
from models.letters import DECISION, DECISION_TRANSLATION, DRAFT_DECISION, order_letter
from models.material import communicated_in, require_communicated, require_settled
from models.payment_plan import instalments
from models.reviews import fewer_reviews, tasks_of
from models.rules import Rules
from models.state_aid import StateAidRefused, de_minimis
from models.states import CaseState
from models.tables import (
    Answer,
    Call,
    Case,
    Communication,
    Criterion,
    Decision,
    DecisionStatus,
    Document,
    FileNote,
    Language,
    OnExpiry,
    Outcome,
    PaymentOrder,
    PaymentStatus,
    Person,
    Recommendation,
    Role,
    SupplementRequest,
    TaskStatus,
    local_date,
    utcnow,
)
from models.working_days import applicant_due, months_after

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
    """The draft or the decision cannot be taken as given; the refusal says why."""

    messages: ClassVar[dict[str, str]] = {
        "decision.not_drafting": "case {case_reference} is '{state}'; a draft is prepared "
        "while it is 'drafting_decision'",
        "decision.reply_assessment": "reply_assessment = '': the applicant commented on the "
        "communication; say what was made of the comments (FL 25 §), the decision states it",
        "decision.unknown_requirement": "not_met = {unknown}: not a basic requirement",
        "decision.reasons_missing": "reasons: word the decision's finding on every basic "
        "requirement (FL 32 §); missing: {missing}. The reviews are input, not the decision's "
        "text",
        "decision.grant_not_met": "outcome = {outcome}: a grant needs every basic requirement "
        "met; not met: {not_met}",
        "decision.co_financing": "co-financing {total} kr is less than the {amount} kr "
        "granted; the guidelines ask for at least as much",
        "decision.decisive_cut": "decisive = '': a draft that is '{outcome}' must say what "
        "the cut rests on (FL 32 §)",
        "decision.decisive_why": "decisive = '': a draft that is '{outcome}' must say why "
        "(FL 32 §)",
        "decision.not_communicated": "case {case_reference}: the draft is '{outcome}' and the "
        "applicant has not seen it; communicate it first, or record why that is obviously "
        "unnecessary (FL 25 §)",
        "decision.amended_further": "case {case_reference}: the amended draft goes further "
        "against the applicant than what they have seen; send it back so that it can be "
        "communicated (FL 25 §)",
        "decision.comment": "comment = '': say what the case officer should look at again",
        "decision.wrong_state": "case {case_reference} is '{state}'; this step is taken while "
        "it is '{wanted}'",
        "decision.no_draft": "case {case_reference} has no draft decision to act on",
        "decision.no_reviews": "outcome: no reviews to go on; give the outcome",
        "decision.reviews_ask_supplement": "outcome: the reviews ask for a supplement; request "
        "it or give the outcome",
        "decision.over_budget": "amount = {amount}: the call {call} has {left} kr left of its "
        "budget of {budget} kr",
        "decision.no_amount": "amount = {amount}: no amount goes with '{outcome}'",
        "decision.amount_needed": "amount: '{outcome}' needs the amount granted",
        "decision.amount_out_of_range": "amount = {amount}: must be between {minimum} and "
        "{maximum} for '{outcome}'",
        "decision.granted_is_requested": "amount = {amount}: 'granted' is the {requested} "
        "applied for; use partly_granted",
        "decision.reply_not_awaited": "case {case_reference} is '{state}' and waits for no "
        "reply to a communication",
        "decision.not_undecided": "case {case_reference} is '{state}': only an undecided "
        "application can be withdrawn",
        "decision.withdrawal_reason": "reason = '': say what the decision to close the case "
        "rests on",
    }


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


def signed_grant(session: Session, case: Case) -> Decision | None:
    """The case's signed decision in force, if it grants money: what is accepted, paid
    and claimed back."""
    query = select(Decision).where(
        Decision.case_id == case.id, Decision.status == DecisionStatus.signed
    )
    decision = session.exec(query.order_by(col(Decision.version).desc())).first()
    return decision if decision is not None and decision.outcome in GRANTS else None


def latest_of(session: Session, case_ids: list[int]) -> dict[int, Row[Any]]:
    """What a list shows of each case's `latest` version (outcome, amount), by case id:
    one query for all the cases, not one a case."""
    if not case_ids:
        return {}
    query = select(Decision.case_id, Decision.outcome, Decision.amount).where(
        col(Decision.case_id).in_(case_ids)
    )
    return {row.case_id: row for row in session.exec(query.order_by(col(Decision.version)))}


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
    not_met: list[str] | None = None,
    reply_assessment: str = "",
) -> Decision:
    """The draft, in the decision's own words: a new version each time it is prepared.

    The reviews and the checklist are the officer's input (`requirement_inputs` shows them
    side by side), not the decision's text: the officer words the finding on every basic
    requirement, so that the reasons hold together (FL 32 §). A grant needs every
    requirement met and enough co-financing; a cut or a refusal needs what was decisive;
    after the applicant commented on a communication, the draft says what was made of it.
    """
    require_role(officer, "prepare a draft decision", Role.case_officer)
    if case.state is not CaseState.drafting_decision:
        raise DecisionError(
            "decision.not_drafting", case_reference=case.case_reference, state=case.state
        )
    reviews = [t for t in tasks_of(session, case) if t.status is TaskStatus.submitted]
    outcome = outcome or case.proposed_outcome or _outcome_of(reviews)
    amount = _checked_amount(
        session, outcome, amount if amount is not None else _amount_of(outcome, case, reviews), case
    )
    found = {c: t.strip() for c, t in (reasons or {}).items() if t.strip()}
    found = found if outcome in EXAMINED else {}  # not examined: no findings on requirements
    findings = _findings(session, case, outcome, not_met)
    decisive = decisive.strip() or (case.proposal_reason or "")
    _check_coherent(case, outcome, amount, found, findings, decisive)
    previous = latest(session, case)
    reply_assessment = reply_assessment.strip() or (previous.reply_assessment if previous else "")
    if _commented(session, case) and not reply_assessment:
        raise DecisionError("decision.reply_assessment")
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
        findings=findings,
        decisive=decisive,
        reply_assessment=reply_assessment,
        other_funding=sorted({f for t in reviews for f in t.other_funding}),
        final_report_due=_final_report_due(case, outcome, rules),
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


EXAMINED = (Outcome.granted, Outcome.partly_granted, Outcome.refused)


def co_financing(case: Case, amount: int | None) -> dict[str, Any]:
    """The co-financing finding: cash plus hours at the call's rate, against the grant (or,
    where nothing is granted, the amount applied for)."""
    rate = case.call.co_financing_hourly_rate
    hours_value = case.co_financing_hours * rate
    total = case.co_financing_cash + hours_value
    compared_with = amount if amount is not None else case.requested_amount
    return {
        "cash": case.co_financing_cash,
        "hours": case.co_financing_hours,
        "rate": rate,
        "hours_value": hours_value,
        "total": total,
        "compared_with": compared_with,
        "met": total >= compared_with,
    }


def _findings(
    session: Session, case: Case, outcome: Outcome, not_met: list[str] | None
) -> dict[str, str]:
    """Met or not met per requirement: as the officer says, else as the checklist found."""
    if outcome not in EXAMINED:
        return {}
    if not_met is None:
        checklist = latest_findings(session, case)
        not_met = [c.value for c, a in checklist.items() if a.answer is Answer.not_met]
    unknown = [c for c in not_met if c not in Criterion.__members__]
    if unknown:
        raise DecisionError("decision.unknown_requirement", unknown=unknown)
    return {
        c.value: (Answer.not_met if c.value in not_met else Answer.met).value for c in Criterion
    }


def _check_coherent(
    case: Case,
    outcome: Outcome,
    amount: int | None,
    reasons: dict[str, str],
    findings: dict[str, str],
    decisive: str,
) -> None:
    """FL 32 §: reasons for every requirement, and an outcome they can carry."""
    if outcome in EXAMINED:
        missing = [c for c in Criterion if not reasons.get(c.value)]
        if missing:
            raise DecisionError("decision.reasons_missing", missing=missing)
    failed = [Criterion(c) for c, answer in findings.items() if answer == Answer.not_met]
    if outcome in GRANTS and failed:
        raise DecisionError("decision.grant_not_met", outcome=outcome, not_met=failed)
    if outcome in GRANTS and not co_financing(case, amount)["met"]:
        found = co_financing(case, amount)
        raise DecisionError("decision.co_financing", total=found["total"], amount=amount)
    if outcome is not Outcome.granted and not decisive:
        cut = outcome is Outcome.partly_granted
        raise DecisionError(
            "decision.decisive_cut" if cut else "decision.decisive_why", outcome=outcome
        )


def _commented(session: Session, case: Case) -> bool:
    """Whether the applicant's latest reply to a communication held comments."""
    last = last_communication(session, case)
    return last is not None and bool(last.reply_has_comments)


def last_communication(session: Session, case: Case) -> Communication | None:
    query = select(Communication).where(Communication.case_id == case.id)
    return session.exec(query.order_by(col(Communication.number).desc())).first()


def _final_report_due(case: Case, outcome: Outcome, rules: Rules) -> date | None:
    if outcome not in GRANTS:
        return None
    return final_report_due(case.project_end, rules.final_report_months)


def final_report_due(project_end: date, months: int) -> date:
    """The final report's due date: `months` after the project's end, on a working day."""
    return applicant_due(months_after(project_end, months))


def requirement_inputs(session: Session, case: Case) -> dict[str, list[tuple[str, str]]]:
    """Per requirement, what the checklist and each reviewer found, side by side: the input
    from which the officer words the decision."""
    checklist = latest_findings(session, case)
    reviews = [t for t in tasks_of(session, case) if t.status is TaskStatus.submitted]
    rows: dict[str, list[tuple[str, str]]] = {}
    for criterion in Criterion:
        found = checklist.get(criterion)
        rows[criterion.value] = [
            ("checklist", f"{found.answer}: {found.note}".rstrip(": ") if found else "—")
        ] + [(t.reviewer.name, t.reasons.get(criterion.value, "")) for t in reviews]
    return rows


ADVERSE = (Outcome.refused, Outcome.dismissed, Outcome.partly_granted)


def adverse(decision: Decision) -> bool:
    """A draft that refuses, dismisses or grants less than applied for (FL 25 §)."""
    return decision.outcome in ADVERSE


def communicated(session: Session, decision: Decision) -> bool:
    """Whether the applicant has seen this draft's content, or a less favourable one."""
    query = select(Communication).where(Communication.case_id == decision.case_id)
    last = session.exec(query.order_by(col(Communication.number).desc())).first()
    if last is None or last.draft_version is None:
        return False
    seen = session.exec(
        select(Decision).where(
            Decision.case_id == decision.case_id, Decision.version == last.draft_version
        )
    ).one()
    return not adverse(decision) or (
        decision.outcome is seen.outcome and (decision.amount or 0) >= (seen.amount or 0)
    )


def submit_for_decision(
    session: Session,
    case: Case,
    officer: Person,
    rules: Rules,
    why_no_communication: str = "",
    nothing_new_from_others: bool = False,
) -> Decision:
    """Send the draft to the decision maker.

    FL 25 §: a draft that goes against the applicant (refused, dismissed, less than applied
    for) goes only after the applicant has seen it and could reply, unless the officer
    records why that is obviously unnecessary; the reason goes into the file as a note.
    A draft changed after the communication goes once the new material from others in it
    was communicated too, or the officer records that it adds none (`models.material`).
    """
    require_role(officer, "submit a draft decision", Role.case_officer)
    draft = current_draft(session, case, CaseState.drafting_decision)
    last = last_communication(session, case)
    require_settled(session, case, officer, draft.version, last, nothing_new_from_others)
    reason = why_no_communication.strip()
    if adverse(draft) and not communicated(session, draft) and not reason:
        raise DecisionError(
            "decision.not_communicated", case_reference=case.case_reference, outcome=draft.outcome
        )
    if reason:
        session.add(
            FileNote(case_id=case.id, kind="no_communication", text=reason, author=officer.email)
        )
    move(
        session,
        case,
        CaseState.awaiting_decision,
        Actor.of(officer),
        "draft_submitted",
        version=draft.version,
        communicated=communicated(session, draft),
        no_communication_because=reason,
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
    require_communicated(session, case)  # FL 25 §: never on material the applicant has not seen
    if draft.outcome in GRANTS:
        # The call's row is locked until commit: decisions signed at once take turns here.
        call = session.exec(select(Call).where(Call.id == case.call_id).with_for_update()).one()
        _within_budget(session, call, draft.amount)
        de_minimis(case, draft.amount, rules, local_date(utcnow()))
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
    if case.language is not Language.sv:  # ordered first: made before the decision waits
        translation = letter_data(session, draft, rules, draft=False)
        order_letter(session, case, DECISION_TRANSLATION, translation)
    act = letter_data(session, draft, rules, draft=False, language=Language.sv)
    order_letter(session, case, DECISION, act, language=Language.sv)
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
    amount = _checked_amount(session, outcome, amount, case)
    decisive = decisive.strip() or current.decisive
    findings = current.findings or _findings(session, case, outcome, None)
    _check_coherent(case, outcome, amount, current.reasons, findings, decisive)
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
                "findings",
                "final_report_due",
                "prepared_by",
                "prepared_at",
                "comment",
            }
        ),
        version=current.version + 1,
        outcome=outcome,
        amount=amount,
        conditions=(list(STANDARD_CONDITIONS) if outcome in GRANTS else [])
        + extras
        + [c.strip() for c in extra_conditions if c.strip()],
        decisive=decisive,
        findings=findings,
        final_report_due=_final_report_due(case, outcome, rules),
        prepared_by=person.email,
    )
    if adverse(amended) and not communicated(session, amended) and _more_adverse(amended, current):
        raise DecisionError("decision.amended_further", case_reference=case.case_reference)
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


def _more_adverse(new: Decision, old: Decision) -> bool:
    if new.outcome is old.outcome:
        return (new.amount or 0) < (old.amount or 0)
    return old.outcome is Outcome.granted or new.outcome is not Outcome.partly_granted


def send_back(session: Session, case: Case, person: Person, comment: str) -> Decision:
    """The decision maker returns the draft to the case officer, saying why."""
    require_role(person, "send a draft back", Role.decision_maker)
    draft = current_draft(session, case, CaseState.awaiting_decision)
    if not comment.strip():
        raise DecisionError("decision.comment")
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


def letter_data(
    session: Session,
    decision: Decision,
    rules: Rules,
    draft: bool,
    language: Language | None = None,
) -> dict:
    """What the decision letter (or the draft) states beyond the case itself, in `language`
    (the case's unless given: the decision itself is Swedish)."""
    case = decision.case
    language = language or case.language
    people = {p.email: p for p in session.exec(select(Person))}
    maker = people.get(decision.decided_by or "") or next(
        (p for p in people.values() if p.role is Role.decision_maker), None
    )
    return {
        "draft": draft,
        "version": decision.version,
        "outcome": decision.outcome.value,
        "amount": decision.amount,
        "requested_amount": case.requested_amount,
        "decided_at": decision.decided_at.isoformat() if decision.decided_at else None,
        "signed_by": decision.decided_by,
        "decision_maker": _who(maker, language.value),
        "presenting_officer": _who(people.get(decision.presenting_officer), language.value),
        "participants": [
            {"name": people[e].name, "organisation": people[e].organisation}
            for e in decision.participants
            if e in people
        ],
        "delegation_point": rules.delegation_point_en
        if language == "en"
        else rules.delegation_point,
        "guidelines_version": (case.call.guidelines_version_en if language == "en" else "")
        or case.call.guidelines_version,
        "reasons": decision.reasons,
        "findings": decision.findings,
        "co_financing": co_financing(case, decision.amount)
        if decision.outcome in EXAMINED
        else None,
        "decisive": decision.decisive,
        "communication": _communication_account(session, decision),
        "communications": _heard(session, decision),
        "prepared_on": local_date(decision.prepared_at).isoformat(),
        "supplement": _gap(session, case) if decision.outcome is Outcome.dismissed else None,
        "withdrawal": _withdrawal(session, case) if decision.outcome is Outcome.closed else None,
        "conditions": [
            {"code": c, "text": ""} if c in STANDARD_CONDITIONS else {"code": None, "text": c}
            for c in decision.conditions
        ],
        "final_report_due": decision.final_report_due.isoformat()
        if decision.final_report_due
        else None,
        # The plan the grant is paid by: each instalment's share, when, and its amount.
        "payment": {"plan": instalments(decision.amount or 0, case.call.payment_plan)}
        if decision.outcome in GRANTS
        else {},
        "other_funding": decision.other_funding,
        "fewer_reviews": fewer_reviews(session, case),
        "terms": _terms(rules, case.language.value) if decision.outcome in GRANTS else None,
        "state_aid": _state_aid(decision, rules),
    }


def _terms(rules: Rules, language: str) -> dict[str, Any]:
    """What every grant decision states beyond its reasons: the Region's competence, the
    day the guidelines were adopted, and the days of payment, reporting and repayment."""
    adopted = rules.guidelines_adopted_on
    return {
        "legal_basis": rules.legal_basis_en if language == "en" else rules.legal_basis,
        "guidelines_adopted_on": adopted.isoformat() if adopted else None,
        "payment_days": rules.payment_days,
        "report_grace_days": rules.report_grace_days,
        "repayment_days": rules.repayment_days,
    }


def _state_aid(decision: Decision, rules: Rules) -> dict[str, Any] | None:
    """A grant as de minimis aid (models.state_aid), with the rate's source in the letter's
    language; None for no grant, an applicant without economic activity, or a draft that
    the decision maker could not yet sign (the signing refuses it and says why)."""
    if decision.outcome not in GRANTS:
        return None
    case = decision.case
    granted_on = local_date(decision.decided_at or utcnow())
    try:
        aid = de_minimis(case, decision.amount, rules, granted_on)
    except StateAidRefused:
        return None
    if aid is None:
        return None
    source = rules.rate_source_en if case.language == "en" else rules.rate_source
    return aid | {"rate_source": source}


def _communication_account(session: Session, decision: Decision) -> dict[str, Any] | None:
    """What the decision says about the last communication (FL 25 §); see `_heard`."""
    rounds = _heard(session, decision)
    return rounds[-1] if rounds else None


def _heard(session: Session, decision: Decision) -> list[dict[str, Any]]:
    """Each communication, as the decision tells it (FL 25 §, 32 §): when the applicant was
    sent which version of the draft (its number and date) and what material from others,
    what they answered (their words, when they wrote them as text), and what was made of it:
    the assessment of a reply is that of the draft sent next, or the decision's own."""
    case = decision.case
    rounds = list(
        session.exec(
            select(Communication)
            .where(Communication.case_id == case.id)
            .order_by(col(Communication.number))
        )
    )
    told = []
    for heard, following in zip(rounds, [*rounds[1:], None], strict=False):  # None: the last
        sent = _version(session, case, heard.draft_version)
        answered_by = _version(session, case, following.draft_version) if following else decision
        comments = heard.replied_at is not None and bool(heard.reply_has_comments)
        replied = "comments" if comments else "no_comments"
        told.append(
            {
                "number": heard.number,
                "sent_on": local_date(heard.sent_at).isoformat(),
                "deadline": heard.deadline.isoformat(),
                "version": heard.draft_version,
                "dated": local_date(sent.prepared_at).isoformat() if sent else None,
                "from_others": [m.source for m in communicated_in(session, case, heard.number)],
                "reply": replied if heard.replied_at else "none",
                "replied_on": local_date(heard.replied_at).isoformat()
                if heard.replied_at
                else None,
                "objection": _reply_text(session, heard, following.sent_at if following else None)
                if heard.replied_at
                else "",
                "assessment": answered_by.reply_assessment if comments and answered_by else "",
            }
        )
    return told


QUOTED_REPLY = 1500  # characters: a longer reply is referred to, not quoted


def _reply_text(session: Session, heard: Communication, until: datetime | None) -> str:
    """What the applicant wrote in reply to one communication (what came in after it and
    before the next), as their own words where written as a short text: a message and a
    file may come together; a file, or a long text, is in the case, not quoted."""
    query = select(Document).where(
        Document.case_id == heard.case_id,
        Document.kind == "communication_reply",
        col(Document.received_at) >= heard.sent_at,
    )
    if until is not None:
        query = query.where(col(Document.received_at) < until)
    texts = [
        d.content.decode("utf-8", "replace").strip()
        for d in session.exec(query.order_by(col(Document.received_at), col(Document.id)))
        if d.media_type.startswith("text/plain")
    ]
    return "\n\n".join(t for t in texts if len(t) <= QUOTED_REPLY)


def _version(session: Session, case: Case, version: int | None) -> Decision | None:
    if version is None:
        return None
    query = select(Decision).where(Decision.case_id == case.id, Decision.version == version)
    return session.exec(query).first()


def _gap(session: Session, case: Case) -> dict[str, Any] | None:
    """The unanswered request whose gap a dismissal rests on (FL 20 §)."""
    request = session.exec(
        select(SupplementRequest)
        .where(
            SupplementRequest.case_id == case.id,
            SupplementRequest.on_expiry == OnExpiry.dismiss,
            col(SupplementRequest.expired_at).is_not(None),
        )
        .order_by(col(SupplementRequest.number).desc())
    ).first()
    if request is None:
        return None
    return {
        "requested_on": local_date(request.requested_at).isoformat(),
        "deadline": request.deadline.isoformat(),
        "missing": request.missing,  # each under its requirement, formal or basic
    }


def _withdrawal(session: Session, case: Case) -> dict[str, Any] | None:
    """When the applicant's withdrawal came in, which a write-off rests on: the letter dates
    it (the latest, should the applicant have written more than once)."""
    document = session.exec(
        select(Document)
        .where(Document.case_id == case.id, Document.kind == "withdrawal")
        .order_by(col(Document.received_at).desc())
    ).first()
    if document is None:
        return None
    return {"received_on": local_date(document.received_at).isoformat()}


def _who(person: Person | None, language: str) -> dict[str, str]:
    """A person's name and title, the title in English when the letter is (if known)."""
    if person is None:
        return {"name": "", "title": ""}
    title = (person.title_en if language == "en" else None) or person.title or ""
    return {"name": person.name, "title": title}


def current_draft(session: Session, case: Case, state: CaseState) -> Decision:
    if case.state is not state:
        raise DecisionError(
            "decision.wrong_state",
            case_reference=case.case_reference,
            state=case.state,
            wanted=state,
        )
    draft = latest(session, case)
    if draft is None or draft.status is not DecisionStatus.draft:
        raise DecisionError("decision.no_draft", case_reference=case.case_reference)
    return draft


def _outcome_of(reviews: list) -> Outcome:
    """The recommendation most reviewers gave; a tie goes to the more cautious."""
    if not reviews:
        raise DecisionError("decision.no_reviews")
    order = [Recommendation.refused, Recommendation.partly_granted, Recommendation.granted]
    votes = Counter(t.recommendation for t in reviews if t.recommendation in order)
    if not votes:
        raise DecisionError("decision.reviews_ask_supplement")
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
            "decision.over_budget", amount=amount, call=call.code, left=left, budget=call.budget
        )


def _checked_amount(
    session: Session, outcome: Outcome, amount: int | None, case: Case
) -> int | None:
    """The amount if it suits the outcome, the call's range and the budget left."""
    call = case.call
    if outcome not in GRANTS:
        if amount is not None:
            raise DecisionError("decision.no_amount", amount=amount, outcome=outcome)
        return None
    if amount is None:
        raise DecisionError("decision.amount_needed", outcome=outcome)
    top = min(
        case.requested_amount - (1 if outcome is Outcome.partly_granted else 0), call.maximum_grant
    )
    if not call.minimum_grant <= amount <= top:
        raise DecisionError(
            "decision.amount_out_of_range",
            amount=amount,
            minimum=call.minimum_grant,
            maximum=top,
            outcome=outcome,
        )
    if outcome is Outcome.granted and amount != case.requested_amount:
        raise DecisionError(
            "decision.granted_is_requested", amount=amount, requested=case.requested_amount
        )
    _within_budget(session, call, amount)
    return amount


def draft_reasons(session: Session, case: Case) -> dict[str, str]:
    """The decision's wording a new version starts from: the latest version's. The first
    version is worded by the officer from the findings (`requirement_inputs`)."""
    previous = latest(session, case)
    return dict(previous.reasons) if previous is not None else {}


def delegation_rows(session: Session, first: date, last: date) -> list[dict[str, Any]]:
    """The delegation report to the committee (KL 6 kap. 40 §): each decision signed from
    `first` to `last` (Swedish dates), in the order they were made, with what of its case's
    grant has been paid out so far."""
    people = {p.email: p.name for p in session.exec(select(Person))}
    paid = dict(
        session.exec(
            select(PaymentOrder.case_id, func.sum(PaymentOrder.amount))
            .where(PaymentOrder.status == PaymentStatus.paid)
            .group_by(col(PaymentOrder.case_id))
        ).all()
    )
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
            "paid": int(paid.get(d.case_id, 0)) if d.outcome in GRANTS else None,
            "decision_maker": people.get(d.decided_by, d.decided_by),
        }
        for d in signed
        if first <= local_date(d.decided_at) <= last
    ]
