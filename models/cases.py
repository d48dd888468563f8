"""Finding and listing cases."""

import codecs
from datetime import datetime
from typing import Any, ClassVar, NamedTuple

from sqlalchemy import Row, func, or_
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from models.errors import Refused
from models.states import CaseState
from models.tables import (
    Case,
    ChecklistAnswer,
    Communication,
    DeliveryState,
    Document,
    FileNote,
    Letter,
    Meeting,
    Organisation,
    ReviewTask,
    SupplementRequest,
)


class CaseNotFound(Refused, LookupError):
    """No such case, or none the person may see: the same answer for both."""

    messages: ClassVar[dict[str, str]] = {
        "case.not_found": "no case with case reference {case_reference!r}",
        "case.no_letter": "no letter {letter_id} in case {case_reference}",
        "case.no_document": "no document {document_id} in case {case_reference}",
        "case.no_preview": "no preview {number} in case {case_reference}: it is not "
        "this person's, or no longer kept",
        "case.no_review_task": "no review task in case {case_reference!r}",
    }


# What a list of cases shows of each (search_cases).
LISTED = (
    Case.id,
    Case.case_reference,
    Case.state,
    Case.date_received,
    Case.project_title,
    Case.requested_amount,
)


def find_case(session: Session, case_reference: str, lock: bool = False) -> Case:
    reference = case_reference.strip().upper()
    query = select(Case).where(Case.case_reference == reference)
    case = session.exec(query.with_for_update() if lock else query).first()
    if case is None:
        raise CaseNotFound("case.not_found", case_reference=case_reference)
    return case


def list_cases(session: Session, state: CaseState | None = None) -> list[Case]:
    query = select(Case).order_by(col(Case.id))
    if state is not None:
        query = query.where(Case.state == state)
    return list(session.exec(query))


def search_cases(
    session: Session, state: CaseState | None, text: str, hidden: set[int]
) -> list[Row[Any]]:
    """Cases in `state` (any if None) whose reference, organisation or project title
    contains `text`, without those in `hidden` (a reader's conflicts of interest).

    For lists of cases: a row of what a list shows of each (LISTED, and `organisation_name`),
    not whole cases with their texts: a call has a thousand cases."""
    query = (
        select(*LISTED, col(Organisation.name).label("organisation_name"))
        .join(Organisation)
        .order_by(col(Case.id))
    )
    if state is not None:
        query = query.where(Case.state == state)
    if text.strip():
        pattern = f"%{text.strip()}%"
        query = query.where(
            or_(
                col(Case.case_reference).ilike(pattern),
                col(Organisation.name).ilike(pattern),
                col(Case.project_title).ilike(pattern),
            )
        )
    if hidden:
        query = query.where(col(Case.id).not_in(hidden))
    return list(session.exec(query))


def letter_counts(session: Session) -> dict[int, dict[DeliveryState, int]]:
    """Per case id: how many of its letters are sent, queued or being sent."""
    rows = session.exec(
        select(Letter.case_id, Letter.delivery_state, func.count()).group_by(
            col(Letter.case_id), col(Letter.delivery_state)
        )
    )
    counts: dict[int, dict[DeliveryState, int]] = {}
    for case_id, delivery_state, count in rows:
        counts.setdefault(case_id, {})[delivery_state] = count
    return counts


def assessment_record(session: Session, case: Case) -> dict[str, list[Any]]:
    """What the assessment has produced so far, each kind in the order it happened."""
    kinds = {
        "checklist": (ChecklistAnswer, ChecklistAnswer.id),
        "supplements": (SupplementRequest, SupplementRequest.number),
        "reviews": (ReviewTask, ReviewTask.id),
        "meetings": (Meeting, Meeting.number),
        "file_notes": (FileNote, FileNote.id),
    }
    return {
        name: list(session.exec(select(model).where(model.case_id == case.id).order_by(order)))
        for name, (model, order) in kinds.items()
    }


def letters_of(session: Session, case: Case, pdfs: bool = True) -> list[Letter]:
    """The case's letters, oldest first; without `pdfs` they come without their PDFs (a
    page lists them: a letter has its PDF when it has its SHA-256)."""
    query = select(Letter).where(Letter.case_id == case.id).order_by(col(Letter.id))
    if not pdfs:
        query = query.options(defer(Letter.pdf, raiseload=True))
    return list(session.exec(query))


def documents_of(session: Session, case: Case) -> list[Document]:
    """The documents that came in to the case, oldest first, without their content (a page
    lists them; the file is read when it is asked for)."""
    query = select(Document).where(Document.case_id == case.id).order_by(col(Document.id))
    return list(session.exec(query.options(defer(Document.content, raiseload=True))))


# How much of a text that came in a page shows (a message is a few lines; a text file may
# be 20 MB): the rest is in the file.
TEXT_SHOWN_BYTES = 20_000


# The kind of a document filed as the reply to a communication (models.communication).
REPLY_KIND = "communication_reply"


class ShownText(NamedTuple):
    """A plain-text document as a page shows it: its text, and whether it goes on."""

    text: str
    cut: bool


def document_texts(session: Session, case: Case) -> dict[int, ShownText]:
    """The text of each plain-text document of the case (an applicant's message, a text
    file), by document id: read where it came in rather than downloaded. At most
    TEXT_SHOWN_BYTES of each is read from the database, cut at a whole character."""
    shown = func.substr(Document.content, 1, TEXT_SHOWN_BYTES)
    query = select(Document.id, shown, func.length(Document.content)).where(
        Document.case_id == case.id, Document.media_type == "text/plain"
    )
    texts = {}
    for document_id, start, length in session.exec(query):
        text = codecs.getincrementaldecoder("utf-8")("replace").decode(bytes(start), final=False)
        texts[document_id] = ShownText(text.lstrip("\ufeff"), length > TEXT_SHOWN_BYTES)
    return texts


def reply_documents(
    documents: list[Document], communications: list[Communication]
) -> dict[int, list[Document]]:
    """What the applicant sent in reply to each communication (FL 25 §), by its number: the
    documents filed as a reply after it went out and before the next one did (a
    communication is answered once, before the case can be communicated again)."""
    replies = [d for d in documents if d.kind == REPLY_KIND]
    ends: list[datetime | None] = [c.sent_at for c in communications[1:]] + [None]
    return {
        c.number: [
            d
            for d in replies
            if d.received_at >= c.sent_at and (end is None or d.received_at < end)
        ]
        for c, end in zip(communications, ends, strict=False)  # none: no end either
    }
