"""Material from others than the applicant, and the rule that a decision never rests on
any of it the applicant has not been given to comment on (Förvaltningslagen 25 §).

The first communication sends the draft and what it rests on. What comes in after it (a
municipality's statement on the applicant's objection, a partner's letter) is registered as
material from others, with its source. A draft that changed after the communication is
then either communicated again, the new material with it, or the case officer records that
nothing new from others is added; a draft resting on uncommunicated material goes neither
to the decision maker nor to the signature.
"""

from typing import ClassVar

from sqlmodel import Session, col, select

from models.access import require_role
from models.audit import Actor, record
from models.errors import Refused
from models.supplements import file_document
from models.tables import Case, Communication, Material, Person, Role


class MaterialError(Refused, ValueError):
    """Material from others cannot be taken as given, or the draft rests on some the
    applicant has not seen; the refusal says why."""

    messages: ClassVar[dict[str, str]] = {
        "material.source": "source = '': say who the material comes from",
        "material.empty": "text = '': give the statement, or what the document says in short",
        "material.not_communicated": "case {case_reference}: the draft rests on material from "
        "others that the applicant has not been given: {sources}; communicate it first "
        "(FL 25 §)",
        "material.unsettled": "case {case_reference}: the draft (version {version}) changed "
        "after the communication of version {communicated}; communicate the new material from "
        "others, or record that nothing new from others is added (FL 25 §)",
    }


def add_material(
    session: Session,
    case: Case,
    officer: Person,
    source: str,
    text: str,
    filename: str = "",
    content: bytes = b"",
) -> Material:
    """Register a statement or a document from others than the applicant, with its source:
    the next communication sends it, and until then no decision rests on it."""
    require_role(officer, "register material from others", Role.case_officer)
    if not source.strip():
        raise MaterialError("material.source")
    if not text.strip():
        raise MaterialError("material.empty")
    document = (
        file_document(session, case, Actor.of(officer), "material", filename, content)
        if content
        else None
    )
    material = Material(
        case_id=case.id,
        source=source.strip(),
        text=text.strip(),
        document=document,  # its id once the transaction writes it
        added_by=officer.email,
    )
    session.add(material)
    record(
        session,
        case,
        Actor.of(officer),
        "material_added",
        source=material.source,
        file=document.filename if document else "",
    )
    return material


def uncommunicated(session: Session, case: Case) -> list[Material]:
    """Material from others the applicant has not yet been given."""
    query = select(Material).where(
        Material.case_id == case.id, col(Material.communication_number).is_(None)
    )
    return list(session.exec(query.order_by(col(Material.id))))


def communicated_in(session: Session, case: Case, number: int) -> list[Material]:
    """The material from others a communication gave the applicant."""
    query = select(Material).where(
        Material.case_id == case.id, Material.communication_number == number
    )
    return list(session.exec(query.order_by(col(Material.id))))


def mark_communicated(session: Session, case: Case, number: int) -> list[Material]:
    """What communication `number` gives the applicant: every material not yet given."""
    new = uncommunicated(session, case)
    for material in new:
        material.communication_number = number
        session.add(material)
    return new


def require_communicated(session: Session, case: Case) -> None:
    """FL 25 §: no decision rests on material from others the applicant has not seen."""
    unseen = uncommunicated(session, case)
    if unseen:
        raise MaterialError(
            "material.not_communicated",
            case_reference=case.case_reference,
            sources=[m.source for m in unseen],
        )


def require_settled(
    session: Session,
    case: Case,
    officer: Person,
    version: int,
    last: Communication | None,
    nothing_new_from_others: bool,
) -> None:
    """A draft that changed after the communication goes on only once the case officer has
    either communicated the new material from others or recorded that there is none (an
    event in the case's history, by whom and when)."""
    require_communicated(session, case)
    if last is None or last.draft_version is None or last.draft_version == version:
        return
    if not nothing_new_from_others:
        raise MaterialError(
            "material.unsettled",
            case_reference=case.case_reference,
            version=version,
            communicated=last.draft_version,
        )
    record(
        session,
        case,
        Actor.of(officer),
        "nothing_new_from_others",
        version=version,
        communicated=last.draft_version,
    )
