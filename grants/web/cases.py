"""The case list and the case page, and the files of a case (letters, documents).

The case officer and the decision maker read every case but those where they declared a
conflict of interest; an advisor reads the cases they review (see `reviews`). A case
where the reader declared a conflict does not exist for them: not listed, not counted,
and its address answers as for no case at all.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session, select

from grants.steps import DECISION_MAKERS, OFFICERS, reading
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.labels import check_label, warning_label
from grants.web.pages import render
from models.access import case_to_read, conflicted_case_ids
from models.audit import history
from models.cases import (
    CaseNotFound,
    assessment_record,
    documents_of,
    letters_of,
    search_cases,
)
from models.checklist import formal_checks, latest_findings
from models.decisions import (
    STANDARD_CONDITIONS,
    co_financing,
    draft_reasons,
    last_communication,
    latest,
    remaining_budget,
    requirement_inputs,
)
from models.delays import UNDECIDED
from models.rules import Rules
from models.states import CaseState
from models.tables import (
    Answer,
    Case,
    Criterion,
    Decision,
    Document,
    Letter,
    OnExpiry,
    Outcome,
    Person,
)

router = APIRouter()
CASE_READERS = OFFICERS + DECISION_MAKERS


@router.get("/cases")
def case_list(
    request: Request,
    office: OfficeDep,
    person: CurrentPerson,
    state: Annotated[str, Query(max_length=40)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
):
    chosen = CaseState(state) if state in CaseState.__members__ else None
    with reading(office.settings, person.email, CASE_READERS) as (session, reader):
        hidden = conflicted_case_ids(session, reader)
        rows = search_cases(session, chosen, q, hidden)
    return render(
        request,
        "cases.html",
        {"person": reader, "rows": rows, "state": chosen, "q": q, "states": list(CaseState)},
    )


def case_page_context(session: Session, case: Case, reader: Person, rules: Rules) -> dict:
    """Everything the case page shows: the application, the assessment, the decision,
    the letters and documents, and the history; and what the officer's forms offer."""
    record = assessment_record(session, case)
    decisions = list(
        session.exec(select(Decision).where(Decision.case_id == case.id).order_by(Decision.version))
    )
    people = {p.email: p for p in session.exec(select(Person))}
    return {
        "person": reader,
        "case": case,
        "organisation": case.organisation,
        "call": case.call,
        "warnings": [warning_label(w) for w in case.warnings],
        "checks": [(check_label(c), ok, detail) for c, ok, detail in formal_checks(case)],
        "findings": latest_findings(session, case),
        "record": record,
        "decisions": decisions,
        "documents": documents_of(session, case),
        "letters": letters_of(session, case, pdfs=False),
        "history": history(session, case),
        "people": people,
        "budget_left": remaining_budget(session, case.call),
        "advisors": [
            p for p in people.values() if p.active and p.role in ("advisor", "case_officer")
        ],
        "draft_reasons": draft_reasons(session, case),
        "standard_conditions": STANDARD_CONDITIONS,
        # the choices the case officer's forms offer (templates/web/steps/)
        "criteria": list(Criterion),
        "answers": list(Answer),
        "outcomes": list(Outcome),
        "on_expiry": list(OnExpiry),
        "meeting_hours": rules.meeting_hours,
        "undecided": UNDECIDED,  # an application that can still be withdrawn
    } | _draft_inputs(session, case)


def _draft_inputs(session: Session, case: Case) -> dict:
    """What the draft form shows beside the officer's wording: each requirement's findings
    from the checklist and the reviews, the co-financing finding, the latest version's
    met / not met, and whether the applicant's reply to a communication needs assessing."""
    if case.state is not CaseState.drafting_decision:
        return {}
    previous = latest(session, case)
    replied = last_communication(session, case)
    return {
        "requirement_inputs": requirement_inputs(session, case),
        "co_financing": co_financing(case, previous.amount if previous else None),
        "previous_findings": previous.findings if previous else {},
        "reply_to_assess": replied is not None and bool(replied.reply_has_comments),
    }


@router.get("/cases/{case_reference}")
def case_page(
    request: Request,
    case_reference: str,
    office: OfficeDep,
    person: CurrentPerson,
    letter: int | None = None,
):
    with reading(office.settings, person.email, CASE_READERS) as (session, reader):
        case = case_to_read(session, case_reference, reader)
        context = case_page_context(session, case, reader, office.settings.rules)
        shown = next((x for x in context["letters"] if x.id == letter), None)
        # Rendered in the session: the page follows the case's relations as it goes.
        return render(request, "case.html", context | {"shown_letter": shown})


@router.get("/cases/{case_reference}/letters/{letter_id}")
def letter_pdf(case_reference: str, letter_id: int, office: OfficeDep, person: CurrentPerson):
    """A letter as archived: the PDF whose SHA-256 is on record."""
    with reading(office.settings, person.email, CASE_READERS) as (session, reader):
        case = case_to_read(session, case_reference, reader)
        letter = session.get(Letter, letter_id)
        if letter is None or letter.case_id != case.id or letter.pdf is None:
            raise CaseNotFound(
                "case.no_letter", letter_id=letter_id, case_reference=case.case_reference
            )
    return _file(letter.pdf, letter.filename, "application/pdf")


@router.get("/cases/{case_reference}/documents/{document_id}")
def document_file(case_reference: str, document_id: int, office: OfficeDep, person: CurrentPerson):
    """A document that came in, as it came; advisors get those of the cases they review."""
    with reading(office.settings, person.email) as (session, reader):
        case = case_to_read(session, case_reference, reader)
        document = session.get(Document, document_id)
        if document is None or document.case_id != case.id:
            raise CaseNotFound(
                "case.no_document", document_id=document_id, case_reference=case.case_reference
            )
    return _file(document.content, document.filename, document.media_type)


def _file(content: bytes, filename: str, media_type: str) -> Response:
    """Shown inline in our own pages only; anything but a PDF or an image is downloaded."""
    inline = media_type == "application/pdf" or media_type.startswith("image/")
    disposition = "inline" if inline else "attachment"
    safe_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename) or "file"
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{safe_name}"',
            "Content-Security-Policy": "default-src 'none'; frame-ancestors 'self'",
            "X-Frame-Options": "SAMEORIGIN",
        },
    )
