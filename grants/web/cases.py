"""The case list and the case page, and the files of a case (letters, documents).

The case officer and the decision maker read every case but those where they declared a
conflict of interest; an advisor reads the cases they review (see `reviews`). A case
where the reader declared a conflict does not exist for them: not listed, not counted,
and its address answers as for no case at all.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlmodel import Session, select

from grants.steps import DECISION_MAKERS, OFFICERS, reading
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.form_values import UnreadableForm, amount, day
from grants.web.gates import worded
from grants.web.i18n import N_, _, language
from grants.web.labels import check_label, label, warning_label
from grants.web.looks import changes, note_look
from grants.web.pages import render
from models import clock
from models.acceptance import payee_facts
from models.access import case_to_read
from models.audit import history
from models.case_list import CaseFilter, SortKey, all_listed, list_page, municipalities
from models.cases import CaseNotFound, assessment_record, document_texts, documents_of, letters_of
from models.checklist import formal_checks, latest_findings, latest_formal
from models.closing import appeals_on, gates
from models.decisions import (
    STANDARD_CONDITIONS,
    co_financing,
    draft_reasons,
    last_communication,
    latest,
    remaining_budget,
    requirement_inputs,
    signed_grant,
)
from models.delays import UNDECIDED
from models.final_reports import report_facts
from models.letters import to_the_applicant
from models.looks import newest_event
from models.material import uncommunicated
from models.meetings import has_ended, meeting_to_document, next_free_slot
from models.payments import every_instalment_standing, orders_of
from models.repayment import claims, granted
from models.reviews import shortfall
from models.rules import Rules
from models.states import CaseState
from models.tables import (
    Answer,
    Case,
    Criterion,
    Decision,
    Document,
    FormalRequirement,
    Letter,
    OnExpiry,
    Outcome,
    Person,
    Role,
    local_date,
)

router = APIRouter()
T = TypeVar("T")
CASE_READERS = OFFICERS + DECISION_MAKERS


ListQuery = Annotated[str, Query(max_length=200)]


@dataclass(frozen=True)
class ListAsked:
    """The case list's query string as typed: kept to fill the form and the links again."""

    q: str = ""
    state: str = ""
    municipality: str = ""
    outcome: str = ""
    received_from: str = ""
    received_to: str = ""
    amount_from: str = ""
    amount_to: str = ""
    sort: str = ""
    order: str = ""

    def link(self, path: str = "/cases", **changes: str | int) -> str:
        """This list's address with `changes` (a page, an order); empty values left out."""
        values = asdict(self) | changes
        return f"{path}?{urlencode({k: v for k, v in values.items() if v not in ('', None)})}"


def _asked(
    q: ListQuery = "",
    state: ListQuery = "",
    municipality: ListQuery = "",
    outcome: ListQuery = "",
    received_from: ListQuery = "",
    received_to: ListQuery = "",
    amount_from: ListQuery = "",
    amount_to: ListQuery = "",
    sort: ListQuery = "",
    order: ListQuery = "",
) -> ListAsked:
    return ListAsked(
        q.strip(),
        state,
        municipality,
        outcome,
        received_from.strip(),
        received_to.strip(),
        amount_from.strip(),
        amount_to.strip(),
        sort,
        order,
    )


AskedDep = Annotated[ListAsked, Depends(_asked)]


def _field_label(field: str) -> str:
    return {
        "state": _("State"),
        "municipality": _("Municipality"),
        "outcome": _("Decision"),
        "received_from": _("Received from"),
        "received_to": _("Received to"),
        "amount_from": _("Applied for, from (kr)"),
        "amount_to": _("Applied for, to (kr)"),
        "sort": _("Sort by"),
        "order": _("Order"),
    }[field]


def _read(asked: ListAsked) -> tuple[CaseFilter, SortKey, bool, dict[str, str]]:
    """The filter and order asked for, and per field what could not be read (the field
    named, with the value and why): a list is not narrowed by what it could not read."""
    errors: dict[str, str] = {}

    def read(field: str, parse: Callable[[str], T]) -> T | None:
        text = getattr(asked, field)
        if not text:
            return None
        try:
            return parse(text)
        except (UnreadableForm, ValueError) as error:
            why = str(error) if isinstance(error, UnreadableForm) else _("Choose from the list.")
            errors[field] = f"{_field_label(field)}: “{text}”. {why}"
            return None

    chosen = CaseFilter(
        text=asked.q,
        state=read("state", CaseState),
        municipality=asked.municipality,
        outcome=read("outcome", Outcome),
        received_from=read("received_from", day),
        received_to=read("received_to", day),
        amount_from=read("amount_from", amount),
        amount_to=read("amount_to", amount),
    )
    key = read("sort", SortKey) or SortKey.reference
    descending = read("order", _descending) or False
    if chosen.received_from and chosen.received_to and chosen.received_to < chosen.received_from:
        errors["received_to"] = _("Received to: “%(last)s” is before “%(first)s”.") % {
            "last": asked.received_to,
            "first": asked.received_from,
        }
    return chosen, key, descending, errors


def _descending(order: str) -> bool:
    if order not in ("asc", "desc"):
        raise ValueError(order)
    return order == "desc"


@router.get("/cases")
def case_list(
    request: Request,
    office: OfficeDep,
    person: CurrentPerson,
    asked: AskedDep,
    page: Annotated[str, Query(max_length=9)] = "1",
):
    """The cases the person may read: searched, filtered, sorted and a page at a time, by
    a plain form and plain links; what could not be read is said at its field."""
    chosen, key, descending, errors = _read(asked)
    with reading(office.settings, person.email, CASE_READERS) as (session, reader):
        found = list_page(session, reader, chosen, key, descending, _page_number(page))
        context = {
            "person": reader,
            "found": found,
            "asked": asked,
            "key": key,
            "descending": descending,
            "field_errors": errors,
            "error": " ".join(errors.values()) or None,
            "states": list(CaseState),
            "outcomes": list(Outcome),
            "municipalities": municipalities(session, reader),
            "columns": SORTABLE,
            "changes": changes(session, reader, (row.case_reference for row in found.rows)),
        }
    return render(request, "cases.html", context, 422 if errors else 200)


def _page_number(page: str) -> int:
    """The page asked for; anything but a number is the first (a page beyond the last
    is the last)."""
    return int(page) if page.isascii() and page.isdigit() else 1


SORTABLE = (
    (SortKey.reference, N_("Case")),
    (SortKey.state, N_("State")),
    (SortKey.received, N_("Received")),
    (SortKey.applicant, N_("Organisation")),
    (None, N_("Project")),
    (SortKey.applied, N_("Applied for")),
    (SortKey.granted, N_("Amount granted")),
)
CSV_COLUMNS = (
    "Diarienummer",
    "Status",
    "Inkom",
    "Organisation",
    "Organisationsnummer",
    "Kommun",
    "Kontaktperson",
    "E-post",
    "Projekt",
    "Sökt belopp (kr)",
    "Beslut",
    "Beviljat belopp (kr)",
    "Beslutsdatum",
)


@router.get("/cases.csv")
def case_list_csv(office: OfficeDep, person: CurrentPerson, asked: AskedDep) -> Response:
    """The filtered list, every page of it, for a spreadsheet: what Excel in Sweden opens
    as it is (UTF-8 with a byte order mark, `;` between fields), Swedish column names,
    whole kronor and ISO dates; the same cases the person may read in the list."""
    chosen, key, descending, errors = _read(asked)
    if errors:
        return Response(" ".join(errors.values()), 422, media_type="text/plain; charset=utf-8")
    with reading(office.settings, person.email, CASE_READERS) as (session, reader):
        rows = all_listed(session, reader, chosen, key, descending)
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    with language("sv"):
        writer.writerows(_csv_row(row) for row in rows)
    name = f"arenden-{clock.today().isoformat()}.csv"
    return Response(
        text.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _csv_row(row: Any) -> list[str | int]:
    """A case as a line of the export; applicants' words cannot start a formula."""
    return [
        row.case_reference,
        label(row.state),
        row.date_received.isoformat(),
        _no_formula(row.organisation_name),
        row.organisation_number or "",
        _no_formula(row.municipality),
        _no_formula(row.contact_person),
        _no_formula(row.email),
        _no_formula(row.project_title),
        row.requested_amount,
        label(Outcome(row.outcome)) if row.outcome else "",
        "" if row.granted_amount is None else row.granted_amount,
        local_date(row.decided_at).isoformat() if row.decided_at else "",
    ]


def _no_formula(text: str) -> str:
    """A spreadsheet takes a cell that starts with = + - @ as a formula: such a text
    starts with an apostrophe instead, read as text."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def case_page_context(session: Session, case: Case, reader: Person, rules: Rules) -> dict:
    """Everything the case page shows: the application, the assessment, the decision,
    the letters and documents, and the history; and what the officer's forms offer."""
    record = assessment_record(session, case)
    decisions = list(
        session.exec(select(Decision).where(Decision.case_id == case.id).order_by(Decision.version))
    )
    people = {p.email: p for p in session.exec(select(Person))}
    letters = letters_of(session, case, pdfs=False)
    orders = orders_of(session, case)
    return {
        "person": reader,
        "case": case,
        "organisation": case.organisation,
        "call": case.call,
        "warnings": [warning_label(w) for w in case.warnings],
        "checks": [(check_label(c), ok, detail) for c, ok, detail in formal_checks(case)],
        "findings": latest_findings(session, case),
        "formal_findings": latest_formal(session, case),
        "record": record,
        "decisions": decisions,
        "documents": documents_of(session, case),
        "letters": letters,
        "letters_to_applicant": [x for x in letters if to_the_applicant(x)],
        "letters_to_staff": [x for x in letters if not to_the_applicant(x)],
        "texts": document_texts(session, case),
        "history": history(session, case),
        "people": people,
        "budget_left": remaining_budget(session, case.call),
        "payment_grant": signed_grant(session, case),
        "payment_orders": orders,
        "payment_all_prepared": every_instalment_standing(case, orders),
        "advisors": [
            p for p in people.values() if p.active and p.role in ("advisor", "case_officer")
        ],
        "draft_reasons": draft_reasons(session, case),
        "repayment_granted": granted(session, case) is not None,
        "repayment_claims": claims(session, case),
        "standard_conditions": STANDARD_CONDITIONS,
        # the choices the case officer's forms offer (templates/web/steps/)
        "criteria": list(Criterion),
        "answers": list(Answer),
        "formal_requirements": list(FormalRequirement),
        "outcomes": list(Outcome),
        "on_expiry": list(OnExpiry),
        "meeting_hours": rules.meeting_hours,
        "meeting_suggestion": _meeting_suggestion(session, case, reader, rules),
        "meeting_over": _meeting_over(session, case),
        "undecided": UNDECIDED,  # an application that can still be withdrawn
        "shortfall": shortfall(session, case),  # conflicts left too few reviewers
        "payee": payee_facts(session, case),  # the grant's acceptance and account
        "closing_gates": [worded(gate) for gate in gates(session, case, clock.today())],
        "appeals": appeals_on(session, case),
        "final_report": report_facts(session, case),  # the grantee's report, its approval
    } | _draft_inputs(session, case)


def _meeting_suggestion(
    session: Session, case: Case, reader: Person, rules: Rules
) -> datetime | None:
    """The next free time for the applicant meeting, which the booking form offers."""
    if case.state is not CaseState.applicant_meeting or reader.role != Role.case_officer:
        return None
    return next_free_slot(
        session, case, reader, clock.now(), rules.meeting_minutes, rules.meeting_hours
    )


def _meeting_over(session: Session, case: Case) -> bool:
    """Whether the booked meeting has ended: only then is its file note offered."""
    meeting = meeting_to_document(session, case)
    return meeting is not None and has_ended(meeting, clock.now())


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
        "uncommunicated_material": uncommunicated(session, case),
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
        seen = newest_event(session, case)  # first: what came after is shown, or new later
        context = case_page_context(session, case, reader, office.settings.rules)
        shown = next((x for x in context["letters"] if x.id == letter), None)
        # Rendered in the session: the page follows the case's relations as it goes.
        page = render(request, "case.html", context | {"shown_letter": shown})
    note_look(office.settings, reader, case.id, seen)
    return page


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
    return file_response(letter.pdf, letter.filename, "application/pdf")


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
    return file_response(document.content, document.filename, document.media_type)


# What a browser may show in the office's own window: PDFs and the image kinds that
# intake accepts (models.documents), none of which can run script. Anything else, a kind
# stored before uploads were typed by their content included, is only downloaded.
INLINE_TYPES = frozenset(("application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"))
# A file is not a page of ours: it may load nothing, and outside a PDF (whose viewer in
# Chromium will not start in a sandbox, and runs apart from the office's origin anyway)
# it is sandboxed: even a file a browser mistook for a page could run no script here.
FILE_POLICY = "default-src 'none'; frame-ancestors 'self'"
SANDBOXED_FILE_POLICY = f"{FILE_POLICY}; sandbox"


def file_response(content: bytes, filename: str, media_type: str) -> Response:
    """Shown inline in our own pages only if it is a PDF or an image of a kind we accept;
    anything else is downloaded. Never sniffed for another type than the one given."""
    inline = media_type in INLINE_TYPES
    disposition = "inline" if inline else "attachment"
    safe_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename) or "file"
    policy = FILE_POLICY if media_type == "application/pdf" else SANDBOXED_FILE_POLICY
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{safe_name}"',
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "SAMEORIGIN",
        },
    )
