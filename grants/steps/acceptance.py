"""The steps after a grant: the acceptance of its conditions (on paper, registered by the
case officer), a change of the account to pay to, and its confirmation by a second person,
declared once; and the grantee's own acceptance and account change through its personal
link (`take_acceptance`, `take_account_change`), which no person signs in for. Edges take
the declared ones by name through `grants.steps.take`."""

from dataclasses import dataclass

from grants.settings import Settings
from grants.steps.layer import OFFICERS, At, Taken, declare
from models.acceptance import (
    AccountGiven,
    accept_conditions,
    account_given,
    change_account,
    confirm_account,
)
from models.cases import find_case
from models.db import transaction
from models.delivery import pending
from models.states import CaseState, StepNotNow
from models.tables import Acceptance, PayeeAccount, Role

# A signed grant is `decided`, and `reporting` once invited to a Community Talk: the
# conditions are accepted and the account changed in either.
GRANTED = (CaseState.decided, CaseState.reporting)
# Who may confirm a changed account: anyone who handles the case's money but the one who
# registered the change (the domain refuses them). An attestant holds one of these roles.
CONFIRMERS = (Role.case_officer, Role.decision_maker, Role.finance)


@dataclass(frozen=True)
class Account:
    """The account as typed, in the form's fields: one of bankgiro, plusgiro, or clearing
    and account number; checked by the domain (`models.acceptance.account_given`)."""

    bankgiro: str = ""
    plusgiro: str = ""
    clearing: str = ""
    account: str = ""

    def checked(self) -> AccountGiven:
        return account_given(self.bankgiro, self.plusgiro, self.clearing, self.account)


@declare("register_acceptance", OFFICERS, GRANTED)
def paper_acceptance(
    at: At,
    *,
    signatory_name: str,
    signatory_role: str,
    account: Account,
    paper: tuple[str, bytes] | None = None,
) -> Acceptance:
    given = account.checked()
    return accept_conditions(
        at.session, at.case, at.person, signatory_name, signatory_role, given, paper
    )


@declare("change_account", OFFICERS, GRANTED)
def account_change(at: At, *, account: Account) -> PayeeAccount:
    return change_account(at.session, at.case, at.person, account.checked())


@declare("confirm_account", CONFIRMERS, GRANTED)
def account_confirmation(at: At, *, verification: str) -> PayeeAccount:
    return confirm_account(at.session, at.case, at.person, verification)


def take_acceptance(
    settings: Settings,
    case_reference: str,
    signatory_name: str,
    signatory_role: str,
    account: Account,
) -> Taken:
    """The grantee's acceptance through its link: the case locked, all or nothing."""
    with transaction(settings.db_url) as session:
        case = find_case(session, case_reference, lock=True)
        _granted(case.state, case_reference)
        given = account.checked()
        result = accept_conditions(session, case, None, signatory_name, signatory_role, given)
        to_send = pending(session)
    return Taken(result, to_send, state=case.state)


def take_account_change(settings: Settings, case_reference: str, account: Account) -> Taken:
    """The grantee's new account through its link: held until a second person confirms."""
    with transaction(settings.db_url) as session:
        case = find_case(session, case_reference, lock=True)
        _granted(case.state, case_reference)
        result = change_account(session, case, None, account.checked())
        to_send = pending(session)
    return Taken(result, to_send, state=case.state)


def _granted(state: CaseState, case_reference: str) -> None:
    """A closed case takes no acceptance or account through an old link."""
    if state not in GRANTED:
        raise StepNotNow(
            "state.step_not_now",
            case_reference=case_reference,
            state=state,
            step="accept",
            states=GRANTED,
        )
