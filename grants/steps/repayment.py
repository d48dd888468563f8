"""The steps of a repayment claim (återkrav, models.repayment), declared once: the case
officer drafts, communicates and registers the grantee's reply; the decision maker decides
or withdraws; a case officer or the finance department registers what was paid back. Taken
on a granted case after its decision, closed too: money can be claimed back after the final
report. Edges take them by name through `grants.steps.take`."""

from datetime import date

from grants.steps.layer import DECISION_MAKERS, OFFICERS, At, declare
from models import clock
from models.repayment import (
    communicate_claim,
    decide_claim,
    draft_claim,
    register_claim_reply,
    register_payment,
    withdraw_claim,
)
from models.states import CaseState
from models.tables import RepaymentClaim, Role

S = CaseState
AFTER_DECISION = [S.decided, S.reporting, S.closed]
# Who registers money paid back by hand: the case officer, or the finance department.
PAYMENT_REGISTRARS = (Role.case_officer, Role.finance)
REPAYMENT_STEPS = (
    "repayment_draft",
    "repayment_communicate",
    "repayment_reply",
    "repayment_decide",
    "repayment_withdraw",
    "repayment_paid",
)
# Who may read the list of overdue claims.
OVERDUE_READERS = (Role.case_officer, Role.finance, Role.decision_maker)


@declare("repayment_draft", OFFICERS, AFTER_DECISION)
def drafted(at: At, *, amount: int, reason_kind: str, reason: str) -> RepaymentClaim:
    return draft_claim(at.session, at.case, at.person, amount, reason_kind, reason)


@declare("repayment_communicate", OFFICERS, AFTER_DECISION)
def communicated(at: At, *, number: int) -> RepaymentClaim:
    return communicate_claim(at.session, at.case, at.person, number, at.rules, clock.today())


@declare("repayment_reply", OFFICERS, AFTER_DECISION)
def replied(at: At, *, number: int, reply: str) -> RepaymentClaim:
    return register_claim_reply(at.session, at.case, at.person, number, reply)


@declare("repayment_decide", DECISION_MAKERS, AFTER_DECISION)
def decided(at: At, *, number: int, reply_assessment: str) -> RepaymentClaim:
    bankgiro = str(at.settings.file["authority"].get("bankgiro", ""))
    return decide_claim(
        at.session,
        at.case,
        at.person,
        number,
        reply_assessment,
        bankgiro,
        at.rules,
        clock.today(),
    )


@declare("repayment_withdraw", OFFICERS + DECISION_MAKERS, AFTER_DECISION)
def withdrawn(at: At, *, number: int, reason: str) -> RepaymentClaim:
    return withdraw_claim(at.session, at.case, at.person, number, reason)


@declare("repayment_paid", PAYMENT_REGISTRARS, AFTER_DECISION)
def paid(at: At, *, number: int, paid_on: date, amount: int) -> RepaymentClaim:
    return register_payment(at.session, at.case, at.person, number, paid_on, amount, clock.today())
