"""Withdrawal (återkallelse): the applicant takes the application back, and the case is
closed without examination (avskrivs).

Closing the case is a decision like any other: the draft says why (the withdrawal), the
decision maker signs it, and the applicant gets the decision. It goes against no one, so it
needs no communication first (FL 25 §).
"""

from sqlmodel import Session

from models.access import require_role
from models.audit import Actor, move, record
from models.decisions import DecisionError
from models.delays import UNDECIDED
from models.states import CaseState
from models.supplements import file_document
from models.tables import Case, Document, Outcome, Person, Role


def register_withdrawal(
    session: Session, case: Case, officer: Person, filename: str, content: bytes, reason: str
) -> Document:
    """File the applicant's withdrawal and propose that the case be closed (avskrivs).

    `reason` is what the decision will say, in the case's language.
    """
    require_role(officer, "register a withdrawal", Role.case_officer)
    if case.state not in UNDECIDED:
        raise DecisionError(
            "decision.not_undecided", case_reference=case.case_reference, state=case.state
        )
    if not reason.strip():
        raise DecisionError("decision.withdrawal_reason")
    document = file_document(session, case, Actor.of(officer), "withdrawal", filename, content)
    case.proposed_outcome, case.proposal_reason = Outcome.closed, reason.strip()
    detail = {"file": document.filename, "sha256": document.sha256}
    if case.state is CaseState.drafting_decision:
        record(session, case, Actor.of(officer), "application_withdrawn", **detail)
    else:
        move(
            session,
            case,
            CaseState.drafting_decision,
            Actor.of(officer),
            "application_withdrawn",
            **detail,
        )
    return document
