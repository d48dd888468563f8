"""The decision maker's part in the office: the drafts waiting for a decision, one draft's
PDF beside its facts and the budget left, and the three things she may do with it: sign
(after a confirmation page), amend (a new version), or send it back with a comment.

Only the decision maker decides (Kommunallagen 7 kap. 5 §): the step layer refuses anyone
else before anything is read or written, whatever page they came from.
"""

from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import or_
from sqlmodel import Session, col, select

from grants.settings import Settings
from grants.steps import DECISION_MAKERS, reading
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.form_values import amount, choice, lines, refusal_status, take_or_show_again
from grants.web.i18n import N_, _
from grants.web.looks import changes, note_look
from grants.web.pages import render
from grants.web.refusals import refused_context
from grants.web.tasks import with_links
from models import clock
from models.access import case_for, conflicted_case_ids
from models.audit import history
from models.cases import (
    REPLY_KIND,
    document_texts,
    documents_of,
    letters_of,
    reply_documents,
    search_cases,
)
from models.decisions import (
    STANDARD_CONDITIONS,
    co_financing,
    current_draft,
    latest,
    latest_of,
    remaining_budget,
)
from models.letters import DRAFT_DECISION
from models.looks import newest_event
from models.states import CaseState
from models.tables import Answer, AuditEvent, Case, Communication, Criterion, Outcome, Person
from models.tasks import repayments_to_decide

router = APIRouter()
T = TypeVar("T")
Text = Annotated[str, Form(max_length=20_000)]
# What the decision maker may decide a draft to be (closing a withdrawn case is not hers).
DECIDABLE = (Outcome.granted, Outcome.partly_granted, Outcome.refused, Outcome.dismissed)
CONDITIONS = {
    "project_only": N_("The funds are used only for the project described."),
    "changes_need_approval": N_("Changes to the project need the region's approval."),
    "credit_funder": N_("Region Örebro län is named as funder."),
    "community_talk": N_("The project presents its results at a Community Talk."),
    "final_report": N_("A final report is filed by the date in the decision."),
    "reclaim": N_("The funds may be reclaimed if the conditions are broken."),
}


@router.get("/decisions")
def drafts_to_decide(request: Request, office: OfficeDep, person: CurrentPerson):
    """The drafts waiting for the decision maker, and the repayment claims she may decide."""
    today = clock.today()
    with reading(office.settings, person.email, DECISION_MAKERS) as (session, reader):
        hidden = conflicted_case_ids(session, reader)
        waiting = search_cases(session, CaseState.awaiting_decision, "", hidden)
        ids = [case.id for case in waiting]
        drafts, since = latest_of(session, ids), _awaiting_since(session, ids)
        rows = [(case, drafts.get(case.id), since.get(case.id)) for case in waiting]
        repayments = repayments_to_decide(session, reader, today)
        changed = changes(session, reader, (t.case_reference for t in repayments))
    context = {"person": reader, "rows": rows, "today": today, "changes": changed}
    return render(request, "decisions.html", context | {"repayments": with_links(repayments)})


@router.get("/decisions/{case_reference}")
def draft_page(request: Request, case_reference: str, office: OfficeDep, person: CurrentPerson):
    return _page(request, office.settings, person, case_reference, looking=True)


@router.get("/decisions/{case_reference}/sign")
def confirm_signing(
    request: Request, case_reference: str, office: OfficeDep, person: CurrentPerson
):
    """The confirmation step: what will be decided, for whom, before it is final."""
    with reading(office.settings, person.email, DECISION_MAKERS) as (session, reader):
        case = case_for(session, case_reference, reader)
        draft = current_draft(session, case, CaseState.awaiting_decision)
        context = {
            "person": reader,
            "case": case,
            "organisation": case.organisation,
            "draft": draft,
        }
    return render(request, "decision_sign.html", context)


@router.post("/decisions/{case_reference}/sign")
def sign_draft(request: Request, case_reference: str, office: OfficeDep, person: CurrentPerson):
    return take_or_show_again(
        request,
        office,
        person,
        "sign",
        case_reference,
        dict,
        lambda refusal: _page(request, office.settings, person, case_reference, refusal),
        lambda taken: (
            _("The decision is signed. The decision letter is on its way to %(organisation)s.")
            % {"organisation": taken.result.organisation},
            "/decisions",
        ),
    )


@router.post("/decisions/{case_reference}/amend")
def amend_draft(
    request: Request,
    case_reference: str,
    office: OfficeDep,
    person: CurrentPerson,
    outcome: Annotated[str, Form(max_length=40)] = "",
    granted_amount: Annotated[str, Form(max_length=40)] = "",
    decisive: Text = "",
    conditions: Text = "",
):
    """The decision maker's own changes: outcome, amount, decisive circumstance, conditions."""

    def parameters() -> dict[str, Any]:
        return {
            "outcome": choice(Outcome, outcome, _("Choose the outcome."), "outcome"),
            "amount": amount(granted_amount, "granted_amount"),
            "decisive": decisive,
            "conditions": lines(conditions),
        }

    form = {
        "outcome": outcome,
        "granted_amount": granted_amount,
        "decisive": decisive,
        "conditions": conditions,
    }
    return take_or_show_again(
        request,
        office,
        person,
        "amend",
        case_reference,
        parameters,
        lambda refusal: _page(request, office.settings, person, case_reference, refusal, form),
        lambda taken: (
            _("Version %(version)d of the draft is ready to sign.")
            % {"version": taken.result.version},
            f"/decisions/{case_reference}",
        ),
    )


@router.post("/decisions/{case_reference}/send-back")
def send_draft_back(
    request: Request,
    case_reference: str,
    office: OfficeDep,
    person: CurrentPerson,
    comment: Text = "",
):
    return take_or_show_again(
        request,
        office,
        person,
        "send_back",
        case_reference,
        lambda: {"comment": comment},
        lambda refusal: _page(
            request, office.settings, person, case_reference, refusal, {"comment": comment}
        ),
        lambda _taken: (_("The draft is sent back to the case officer."), "/decisions"),
    )


def _page(
    request: Request,
    settings: Settings,
    person: Person,
    case_reference: str,
    refusal: Exception | None = None,
    form: dict[str, str] | None = None,
    looking: bool = False,
) -> Response:
    """The draft's page; after a refusal, with why and what was typed. `looking`: the
    person opened the page (a look at the case, see grants.web.looks)."""
    with reading(settings, person.email, DECISION_MAKERS) as (session, reader):
        case = case_for(session, case_reference, reader)
        seen = newest_event(session, case)  # first: what came after is shown, or new later
        context = draft_context(session, case, reader)
    if looking:
        note_look(settings, reader, case.id, seen)
    draft = context["draft"]
    kept = {  # the draft as it stands, unless the person typed something else
        "outcome": draft.outcome if draft else "",
        "granted_amount": str(draft.amount) if draft and draft.amount is not None else "",
        "decisive": draft.decisive if draft else "",
    }
    refused = {} if refusal is None else refused_context(refusal, form or {})
    return render(
        request,
        "decision.html",
        context | {"form": kept | (form or {})} | refused,
        refusal_status(refusal),
    )


def draft_context(session: Session, case: Case, reader: Person) -> dict[str, Any]:
    """The draft, its PDF, the facts it rests on, what the applicant sent (a reply to a
    communication beside what was made of it), and the call's budget before and after."""
    draft = latest(session, case)
    pdfs = [x for x in letters_of(session, case, pdfs=False) if x.kind == DRAFT_DECISION]
    people = {p.email: p for p in session.exec(select(Person))}
    left = remaining_budget(session, case.call)
    communications = list(
        session.exec(
            select(Communication)
            .where(Communication.case_id == case.id)
            .order_by(Communication.number)
        )
    )
    documents = documents_of(session, case)
    return {
        "person": reader,
        "case": case,
        "organisation": case.organisation,
        "draft": draft,
        "waiting": case.state is CaseState.awaiting_decision,
        "pdf": pdfs[-1] if pdfs else None,
        "presenting_officer": people.get(draft.presenting_officer) if draft else None,
        "participants": [people[e] for e in draft.participants if e in people] if draft else [],
        "criteria": list(Criterion),
        # met or not met per requirement, as the draft finds (FL 32 §)
        "findings": {c: Answer(a) for c, a in draft.findings.items()} if draft else {},
        # (standard, text): a standard condition's text is translated where it is shown.
        "conditions": [(c in STANDARD_CONDITIONS, CONDITIONS.get(c, c)) for c in draft.conditions]
        if draft
        else [],
        "communications": communications,
        # the applicant's own words: each reply beside what was made of it, the rest below
        "replies": reply_documents(documents, communications),
        "documents": [d for d in documents if d.kind != REPLY_KIND],
        "texts": document_texts(session, case),
        "not_communicated_because": _why_not_communicated(session, case),
        "co_financing": co_financing(case, draft.amount) if draft else None,
        "budget_left": left,
        "left_after": left - (draft.amount or 0) if draft else left,
        "outcomes": DECIDABLE,
    }


def _awaiting_since(session: Session, case_ids: list[int]) -> dict[int, datetime]:
    """When each case's draft last came to the decision maker, by case id."""
    if not case_ids:
        return {}
    arrivals = select(AuditEvent.case_id, AuditEvent.at).where(
        col(AuditEvent.case_id).in_(case_ids),
        AuditEvent.state_after == CaseState.awaiting_decision,
        or_(
            col(AuditEvent.state_before).is_(None),
            AuditEvent.state_before != CaseState.awaiting_decision,
        ),
    )
    return dict(session.exec(arrivals.order_by(col(AuditEvent.id))).all())


def _why_not_communicated(session: Session, case: Case) -> str | None:
    """The case officer's recorded reason for sending the draft on without communicating
    it (FL 25 §), from the last time it was sent to the decision maker that way."""
    reasons = [
        event.detail.get("no_communication_because")
        for event in history(session, case)
        if event.action == "draft_submitted"
    ]
    return reasons[-1] if reasons else None
