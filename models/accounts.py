"""The account a grant is paid to, and when a change of it holds the money.

Each account a case is given is kept as its own row; the newest is the case's account. A
change after the acceptance is the classic fraud against public bodies (a forged e-mail
"from the association" with new bank details), so it holds every unpaid payment order on the
case until a second person confirms it, saying how they verified it.
"""

from sqlmodel import Session, col, select

from models.tables import Case, PayeeAccount


def current_account(session: Session, case: Case) -> PayeeAccount | None:
    """The account the case's grant is paid to now; None before the grantee gave one."""
    query = (
        select(PayeeAccount)
        .where(PayeeAccount.case_id == case.id)
        .order_by(col(PayeeAccount.id).desc())
    )
    return session.exec(query).first()


def on_hold(account: PayeeAccount | None) -> bool:
    """True when payments to the case must wait: it has no account, or its account changed
    after the acceptance and no second person has confirmed the change yet."""
    return account is None or (account.needs_confirmation and account.confirmed_at is None)
