"""Attested payment orders and a finance person for the tests of the bank's files.

`attested_orders` is the one place these tests make orders ready for a payment file: it
writes the rows the acceptance, the payee's account and the preparing and attesting steps
write, on cases that were never decided. A payment file's tests need many orders of every
kind of account, and signing a decision for each costs seconds; the steps themselves, and
their refusals, are walked in tests/test_payments.py and tests/test_acceptance.py.
"""

from itertools import cycle

from sqlmodel import Session, select

from grants.settings import load
from grants.steps import take
from models import clock
from models.tables import (
    Acceptance,
    AccountKind,
    Case,
    PayeeAccount,
    PaymentOrder,
    PaymentStatus,
)
from tests.helpers import DECISION_MAKER, OFFICER

FINANCE = "anders.berg@regionorebrolan.example.se"  # Anders Berg, the finance department

# One valid account of each kind: bankgiro and plusgiro with their check digits, and a bank
# account with its clearing number.
ACCOUNTS = {
    AccountKind.bankgiro: (None, "54029681"),
    AccountKind.plusgiro: (None, "41095"),
    AccountKind.bank_account: ("6789", "123456789"),
}


def finance_person() -> str:
    """Anders Berg of the finance department, added by the case officer; his e-mail."""
    values = {
        "name": "Anders Berg",
        "email": FINANCE,
        "role": "finance",
        "organisation": "Region Örebro län",
    }
    take(load(), "add_person", OFFICER, values=values)
    return FINANCE


def attested_orders(
    session: Session,
    references: list[str],
    kinds: list[AccountKind] | None = None,
    amount: int | None = None,
) -> list[PaymentOrder]:
    """For each case: the conditions accepted, an account given (of `kinds` in turn, every
    kind by default), and its first instalment prepared by the case officer and attested by
    the decision maker, for `amount` (default: what the case asked for)."""
    orders = []
    for reference, kind in zip(references, cycle(kinds or list(AccountKind)), strict=False):
        case = session.exec(select(Case).where(Case.case_reference == reference)).one()
        clearing, number = ACCOUNTS[kind]
        account = PayeeAccount(
            case_id=case.id, kind=kind, clearing=clearing, number=number, given_by="applicant"
        )
        session.add(
            Acceptance(case_id=case.id, signatory_name="Eva Ek", signatory_role="ordförande")
        )
        session.add(account)
        session.flush()
        order = PaymentOrder(
            case_id=case.id,
            instalment=1,
            amount=amount if amount is not None else case.requested_amount,
            status=PaymentStatus.attested,
            account_id=account.id,
            end_to_end_id=f"{reference}-1",
            prepared_by=OFFICER,
            attested_by=DECISION_MAKER,
            attested_at=clock.now(),
        )
        session.add(order)
        orders.append(order)
    session.flush()
    return orders
