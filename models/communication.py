"""Communication before decision (kommunicering, Förvaltningslagen 25 §).

Where the draft rests on material the applicant has not seen (the advisory group's
findings, file notes), the applicant gets it with a reply deadline; the decision waits
for the reply or the deadline, whichever comes first.
"""

from datetime import date

from sqlmodel import Session, col, select

from models.access import require_role
from models.audit import SYSTEM, Actor, move
from models.decisions import (
    DecisionError,
    adverse,
    co_financing,
    current_draft,
    latest,
    send_to_decision_maker,
)
from models.delivery import hold_deadline, running_deadline
from models.letters import COMMUNICATION, order_letter
from models.material import mark_communicated
from models.rules import Rules
from models.states import CaseState
from models.supplements import file_document
from models.tables import (
    Case,
    Communication,
    Decision,
    Document,
    FileNote,
    Material,
    Person,
    Role,
    local_date,
    utcnow,
)
from models.vocabulary import criterion_names, finding_words
from models.working_days import add_working_days


def communicate(
    session: Session, case: Case, officer: Person, rules: Rules, today: date
) -> Communication:
    """FL 25 §: send the applicant the material others added that the draft rests on (the
    advisory group's findings, file notes, material from others not yet sent), with a reply
    deadline; the decision waits. The letter names the draft's version and its date, and
    the communication records the version: the file shows what the applicant was shown."""
    require_role(officer, "communicate material before decision", Role.case_officer)
    draft = current_draft(session, case, CaseState.drafting_decision)
    number = len(_communications(session, case)) + 1
    communication = Communication(
        case_id=case.id,
        number=number,
        draft_version=draft.version,
        sent_by=officer.email,
        deadline=add_working_days(today, rules.communication_working_days),
    )
    session.add(communication)
    new_material = mark_communicated(session, case, number)
    move(
        session,
        case,
        CaseState.communication,
        Actor.of(officer),
        "communication_sent",
        number=number,
        deadline=communication.deadline.isoformat(),
        version=draft.version,
    )
    order_letter(
        session,
        case,
        COMMUNICATION,
        {
            "number": number,
            "deadline": communication.deadline.isoformat(),
            "proposal": {
                "outcome": draft.outcome.value,
                "amount": draft.amount,
                "requested_amount": case.requested_amount,
            },
            "against": draft.decisive if adverse(draft) else "",
            "co_financing": co_financing(case, draft.amount),
            "draft": {"version": draft.version, "dated": local_date(draft.prepared_at).isoformat()},
            "material": _from_others(case, new_material) + _material(session, case, draft),
        },
        number,
    )
    return communication


def register_reply(
    session: Session,
    case: Case,
    officer: Person,
    filename: str,
    content: bytes,
    has_comments: bool = True,
) -> Document:
    """The applicant's reply, sent to the case officer, who registers it."""
    require_role(officer, "register a reply", Role.case_officer)
    return receive_reply(session, case, Actor.of(officer), filename, content, has_comments)


def receive_reply(
    session: Session,
    case: Case,
    actor: Actor,
    filename: str,
    content: bytes,
    has_comments: bool = True,
    media_type: str | None = None,
) -> Document:
    """The applicant's reply: filed, and the case goes back to the draft for a second look.
    Registered by the case officer, or sent by the applicant through its letter's link
    (`media_type`: as for `file_document`).

    `has_comments` is False when the applicant said they have none; otherwise the next draft
    must say what was made of the comments, and the decision states both."""
    communication = open_communication(session, case)
    if communication is None:
        raise DecisionError(
            "decision.reply_not_awaited", case_reference=case.case_reference, state=case.state
        )
    document = file_document(
        session, case, actor, "communication_reply", filename, content, media_type
    )
    communication.replied_at = utcnow()
    communication.reply_has_comments = has_comments
    session.add(communication)
    move(
        session,
        case,
        CaseState.drafting_decision,
        actor,
        "communication_reply",
        number=communication.number,
        has_comments=has_comments,
        file=document.filename,
        sha256=document.sha256,
    )
    return document


def sweep_communications(session: Session, today: date, rules: Rules) -> int:
    """Deadlines passed without a reply: the draft goes to the decision maker, once.

    The deadline runs from the letter's delivery; while it has not arrived, nothing moves
    and the case officer is told."""
    waiting = session.exec(
        select(Communication)
        .join(Case)
        .where(
            Case.state == CaseState.communication,
            col(Communication.replied_at).is_(None),
            col(Communication.expired_at).is_(None),
            col(Communication.deadline) < today,
        )
        .with_for_update()
    ).all()
    expired = 0
    for communication in waiting:
        case = communication.case
        number, stated = communication.number, communication.deadline
        deadline = running_deadline(
            session, case, COMMUNICATION, number, stated, rules.communication_working_days
        )
        if deadline is None:
            hold_deadline(session, case, COMMUNICATION, number, stated)
            continue
        if deadline >= today:
            continue
        communication.expired_at = utcnow()
        session.add(communication)
        draft = latest(session, case)
        move(
            session,
            case,
            CaseState.awaiting_decision,
            SYSTEM,
            "communication_deadline_passed",
            number=communication.number,
            version=draft.version,
        )
        send_to_decision_maker(session, draft, rules)
        expired += 1
    return expired


def _communications(session: Session, case: Case) -> list[Communication]:
    return list(session.exec(select(Communication).where(Communication.case_id == case.id)))


def open_communication(session: Session, case: Case) -> Communication | None:
    """The communication the case is waiting on for a reply, if it is waiting."""
    if case.state is not CaseState.communication:
        return None
    return next(
        (
            c
            for c in _communications(session, case)
            if c.replied_at is None and c.expired_at is None
        ),
        None,
    )


def _from_others(case: Case, new: list[Material]) -> list[dict[str, str]]:
    """Material from others given to the applicant for the first time, each with its source;
    first in the letter, since it is what is new."""
    lead = "Nytt underlag från" if case.language.value == "sv" else "New material from"
    return [{"title": f"{lead} {m.source}", "text": m.text} for m in new]


def _material(session: Session, case: Case, draft: Decision) -> list[dict[str, str]]:
    """The draft's finding on each requirement (met or not, in its own words), its
    assessment of the applicant's last comments, and the file notes, titled in the letter's
    language: the favourable and the unfavourable alike."""
    language = case.language.value
    names = criterion_names(language)
    lead = "Förslagets bedömning" if language == "sv" else "The draft's finding"
    words = finding_words(language)
    material = [
        {
            "title": f"{lead}: {names[c]}"
            + (f" – {words[draft.findings[c]]}" if c in draft.findings else ""),
            "text": text,
        }
        for c, text in draft.reasons.items()
        if c in names and text.strip()
    ]
    if draft.reply_assessment.strip():  # how the last comments were answered, and on what
        title = (
            "Förslagets bedömning av era synpunkter"
            if language == "sv"
            else "The draft's assessment of your comments"
        )
        material.append({"title": title, "text": draft.reply_assessment})
    note = "Tjänsteanteckning" if language == "sv" else "File note"
    notes = session.exec(
        select(FileNote).where(FileNote.case_id == case.id, FileNote.kind != "no_communication")
    ).all()
    material += [
        {"title": f"{note} {local_date(n.written_at).isoformat()}", "text": n.text} for n in notes
    ]
    return material
