"""The applicant's answer through the personal link its letter carried (no account).

A request for supplement, a communication before decision (FL 25 §) and a repayment claim
communicated before it is decided ask the applicant for something by a deadline. Their
letters carry a link, signed by the office, naming the case and the request
(`grants.applicant_links`). What the applicant sends there is filed exactly as when the case
officer registers what came by e-mail (`receive_supplement`, `receive_reply`,
`receive_claim_reply`), with the applicant as the actor in the audit trail, and the case officer
is told. A request is answered once: a second answer, or one to a request the case no
longer waits for, is refused and changes nothing.
"""

from datetime import date, datetime
from typing import ClassVar

from sqlmodel import Session, select

from models.audit import Actor, record
from models.communication import open_communication, receive_reply
from models.documents import TEXT
from models.errors import Refused
from models.notices import order_notice
from models.repayment import open_claim, receive_claim_reply
from models.supplements import file_document, open_request, receive_supplement
from models.tables import Case, Communication, Document, RepaymentClaim, SupplementRequest

SUPPLEMENT = "supplement"
COMMUNICATION = "communication"
REPAYMENT = "repayment"  # a repayment claim communicated (models.repayment), by its number
ASKED = (SUPPLEMENT, COMMUNICATION, REPAYMENT)
MODELS = {SUPPLEMENT: SupplementRequest, COMMUNICATION: Communication, REPAYMENT: RepaymentClaim}
MESSAGE_FILENAMES = {"sv": "meddelande.txt", "en": "message.txt"}

Request = SupplementRequest | Communication | RepaymentClaim


class AnswerRefused(Refused):
    """The answer cannot be taken: the request is answered, the case waits for no answer
    to it, or nothing was sent; the applicant's page says which in the applicant's language."""

    messages: ClassVar[dict[str, str]] = {
        "answer.no_request": "case {case_reference} asked for no {asked} {number}",
        "answer.answered": "{asked} {number} of case {case_reference} is already answered",
        "answer.not_waiting": "case {case_reference} waits for no answer to {asked} {number}",
        "answer.nothing": "nothing was sent: neither a file nor a message",
    }


def asked_request(session: Session, case: Case, asked: str, number: int) -> Request:
    """The request a link names (the `number`th supplement request or communication)."""
    model = MODELS.get(asked)
    query = select(model).where(model.case_id == case.id, model.number == number) if model else None
    request = session.exec(query).first() if query is not None else None
    if request is None:
        raise AnswerRefused(
            "answer.no_request", case_reference=case.case_reference, asked=asked, number=number
        )
    return request


def answered_at(request: Request) -> datetime | None:
    return request.received_at if isinstance(request, SupplementRequest) else request.replied_at


def deadline_of(request: Request) -> date:
    """The last day the request may be answered."""
    if isinstance(request, RepaymentClaim):
        return request.communication_deadline
    return request.deadline


def open_to_answer(session: Session, case: Case, asked: str, number: int) -> Request:
    """The request, if the case still waits for exactly this answer; refused, saying why,
    if it was answered, expired or the case has moved on."""
    request = asked_request(session, case, asked, number)
    if answered_at(request) is not None:
        raise AnswerRefused(
            "answer.answered", case_reference=case.case_reference, asked=asked, number=number
        )
    waiting = (
        open_request(session, case)
        if asked == SUPPLEMENT
        else open_claim(session, case, number)
        if asked == REPAYMENT
        else open_communication(session, case)
    )
    if waiting is None or waiting.id != request.id:
        raise AnswerRefused(
            "answer.not_waiting", case_reference=case.case_reference, asked=asked, number=number
        )
    return request


def answer(
    session: Session,
    case: Case,
    asked: str,
    number: int,
    message: str,
    upload: tuple[str, bytes] | None,
) -> list[Document]:
    """File the applicant's file and message (as a text document; the message alone if no
    file came) as the supplement or the reply, and tell the case officer. The file is
    judged by its content; the message is text, whatever it begins with."""
    request = open_to_answer(session, case, asked, number)
    files: list[tuple[str, bytes, str | None]] = [(*upload, None)] if upload else []
    if message.strip():
        files.append((MESSAGE_FILENAMES[case.language.value], message.strip().encode(), TEXT))
    if not files:
        raise AnswerRefused("answer.nothing")
    actor = Actor.applicant_of(case)
    if asked == REPAYMENT:
        return _repayment_reply(session, case, actor, request, message, upload)
    (filename, content, media_type), *more = files
    if asked == SUPPLEMENT:
        first = receive_supplement(session, case, actor, filename, content, media_type)
    else:
        first = receive_reply(session, case, actor, filename, content, media_type=media_type)
    documents = [first]
    for filename, content, media_type in more:
        document = file_document(session, case, actor, first.kind, filename, content, media_type)
        record(
            session,
            case,
            actor,
            "applicant_message_filed",
            file=document.filename,
            sha256=document.sha256,
        )
        documents.append(document)
    _tell_officer(session, case, asked, request, documents)
    return documents


def _repayment_reply(
    session: Session,
    case: Case,
    actor: Actor,
    claim: RepaymentClaim,
    message: str,
    upload: tuple[str, bytes] | None,
) -> list[Document]:
    """The grantee's comments on a repayment claim: the message is the reply the decision
    answers (a file alone is named in it), and a file is filed on the case."""
    documents = []
    if upload:
        documents.append(file_document(session, case, actor, "repayment_reply", *upload))
    reply = message.strip() or f"[{documents[0].filename}]"
    receive_claim_reply(session, case, actor, claim.number, reply)
    _tell_officer(session, case, REPAYMENT, claim, documents)
    return documents


def _tell_officer(
    session: Session, case: Case, asked: str, request: Request, documents: list[Document]
) -> None:
    """The case officer is told what the applicant sent through the link."""
    if case.case_officer:
        order_notice(
            session,
            f"{case.case_reference}/applicant_answer/{asked}/{request.number}",
            "applicant_answer",
            case.case_officer,
            case,
            case_reference=case.case_reference,
            project_title=case.project_title,
            organisation=case.organisation.name,
            asked=asked,
            number=request.number,
            deadline=deadline_of(request).isoformat(),
            files=[{"filename": d.filename, "sha256": d.sha256} for d in documents],
        )
