"""The grantee's acceptance of a grant's conditions, and the account the grant is paid to.

No payment before the acceptance (`models.accounts.on_hold`). The person entitled to sign
for the organisation accepts once, names themselves and their role, and gives the account:
a bankgiro, a plusgiro or a Swedish bank account, each checked by its check digit before it
is stored (`models.identifiers`). The grantee does it through its personal link, or on paper,
which the case officer registers with the same facts.

A changed account is how public bodies are most often defrauded (a forged e-mail "from the
association" with new bank details). So a change after the acceptance, by the grantee or by
the case officer, holds every unpaid payment order until a second person, not the one who
registered it, confirms it with a note on how it was verified; and the grantee is told at
the organisation's e-mail and at the one it had when it accepted, should they differ, so
that whoever had the e-mail changed cannot also change the account unseen.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from sqlmodel import Session, select

from models.accounts import current_account, on_hold
from models.audit import Actor, record
from models.decisions import signed_grant
from models.errors import Refused
from models.identifiers import (
    IdentifierError,
    bank_account_number,
    bankgiro,
    clearing_number,
    plusgiro,
)
from models.notices import order_notice
from models.supplements import file_document
from models.tables import (
    Acceptance,
    AccountKind,
    Case,
    Decision,
    Notice,
    PayeeAccount,
    Person,
    local_time,
    utcnow,
)
from models.validation import FieldError, invalid

MAX_NAME = 200  # a name or a role, as typed
MAX_VERIFICATION = 2000
PAPER = "acceptance"  # the kind of the scanned paper kept on the case


class AcceptanceRefused(Refused, ValueError):
    """An acceptance or an account change that cannot be taken: it says why."""

    messages: ClassVar[dict[str, str]] = {
        "acceptance.no_grant": "case {case_reference} has no signed grant whose conditions "
        "could be accepted",
        "acceptance.given": "the conditions of {case_reference} were accepted on {accepted_at} "
        "by {signatory_name}; they are accepted once",
        "acceptance.not_given": "the conditions of {case_reference} are not accepted yet; the "
        "account is given with the acceptance",
        "account.one": "give one account: a bankgiro, a plusgiro, or a clearing number and an "
        "account number (given: {given})",
        "account.unchanged": "{account} is the account of {case_reference} already",
        "account.nothing_to_confirm": "case {case_reference} has no changed account waiting to "
        "be confirmed",
        "account.same_person": "{email} registered the change of account of {case_reference}; "
        "a second person confirms it",
    }


@dataclass(frozen=True)
class AccountGiven:
    """An account as checked: its kind, its digits (a bank account's clearing apart) and, for
    a bank account, the bank its clearing number names."""

    kind: AccountKind
    number: str
    clearing: str | None = None
    bank: str = ""


def account_given(
    bankgiro_number: str = "", plusgiro_number: str = "", clearing: str = "", account: str = ""
) -> AccountGiven:
    """The one account given, checked; refused naming the field and the value when it is
    malformed or its check digit is wrong, or when none or more than one is given."""
    given = {
        name: value.strip()
        for name, value in (
            ("bankgiro", bankgiro_number),
            ("plusgiro", plusgiro_number),
            ("clearing", clearing),
            ("account", account),
        )
        if value and value.strip()
    }
    kinds = {"bank_account" if name in ("clearing", "account") else name for name in given}
    if len(kinds) != 1:
        raise AcceptanceRefused("account.one", given=sorted(given) or "nothing")
    if "bankgiro" in given:
        digits = _checked("bankgiro", given["bankgiro"], bankgiro)
        return AccountGiven(AccountKind.bankgiro, digits.replace("-", ""))
    if "plusgiro" in given:
        digits = _checked("plusgiro", given["plusgiro"], plusgiro)
        return AccountGiven(AccountKind.plusgiro, digits.replace("-", ""))
    for name in ("clearing", "account"):
        if name not in given:
            raise invalid(name, "", FieldError("field.required"))
    checked_clearing = _checked("clearing", given["clearing"], clearing_number)
    try:
        checked = bank_account_number(checked_clearing, given["account"])
    except IdentifierError as error:
        raise invalid("account", given["account"], error) from None
    return AccountGiven(AccountKind.bank_account, checked.number, checked.clearing, checked.bank)


def _checked(name: str, value: str, check: Callable[[str], str]) -> str:
    try:
        return check(value)
    except IdentifierError as error:
        raise invalid(name, value, error) from None


def account_text(account: PayeeAccount | AccountGiven, language: str = "en") -> str:
    """The account as a person reads it: "bankgiro 5050-1055", "clearing 8424-4, account
    9831892246" (in Swedish "clearingnummer 8424-4, kontonummer 9831892246")."""
    number = account.number
    if account.kind is not AccountKind.bank_account:
        return f"{account.kind.value} {account_number_text(account.kind, None, number)}"
    clearing = _clearing_text(account.clearing or "")
    if language == "sv":
        return f"clearingnummer {clearing}, kontonummer {number}"
    return f"clearing {clearing}, account {number}"


def account_number_text(kind: AccountKind | str, clearing: str | None, number: str) -> str:
    """An account's number as people write it and as the grantee gave it, for whoever
    checks it against the acceptance: bankgiro 5050-1055, plusgiro 487312-1, a bank account
    8424-4, 9831892246 (Swedbank's fifth clearing digit after a hyphen)."""
    if kind == AccountKind.bankgiro:
        return f"{number[:-4]}-{number[-4:]}"
    if kind == AccountKind.plusgiro:
        return f"{number[:-1]}-{number[-1]}"
    return f"{_clearing_text(clearing or '')}, {number}"


def _clearing_text(clearing: str) -> str:
    return f"{clearing[:4]}-{clearing[4]}" if len(clearing) == 5 else clearing


def grant_to_accept(session: Session, case: Case) -> Decision:
    """The case's signed grant (or partial grant), whose conditions are accepted."""
    decision = signed_grant(session, case)
    if decision is None:
        raise AcceptanceRefused("acceptance.no_grant", case_reference=case.case_reference)
    return decision


def acceptance_of(session: Session, case: Case) -> Acceptance | None:
    return session.exec(select(Acceptance).where(Acceptance.case_id == case.id)).first()


def accept_conditions(
    session: Session,
    case: Case,
    person: Person | None,
    signatory_name: str,
    signatory_role: str,
    account: AccountGiven,
    paper: tuple[str, bytes] | None = None,
) -> Acceptance:
    """The grantee accepts the conditions once, and gives the account; `person` is the case
    officer registering an acceptance that came on paper (None: the grantee, through its
    link), with the scanned paper if there is one."""
    grant_to_accept(session, case)
    earlier = acceptance_of(session, case)
    if earlier is not None:
        raise AcceptanceRefused(
            "acceptance.given",
            case_reference=case.case_reference,
            accepted_at=local_time(earlier.accepted_at),
            signatory_name=earlier.signatory_name,
        )
    name = _required("signatory_name", signatory_name)
    role = _required("signatory_role", signatory_role)
    actor = Actor.of(person) if person else Actor.applicant_of(case)
    document = file_document(session, case, actor, PAPER, *paper) if paper else None
    session.flush()
    acceptance = Acceptance(
        case_id=case.id,
        signatory_name=name,
        signatory_role=role,
        registered_by=person.email if person else None,
        document_id=document.id if document else None,
        email=case.organisation.email,
    )
    session.add(_account(case, account, actor))
    session.add(acceptance)
    record(
        session,
        case,
        actor,
        "conditions_accepted",
        signatory_name=name,
        signatory_role=role,
        account=account_text(account),
        on_paper=person is not None,
        document=document.sha256 if document else None,
    )
    return acceptance


def change_account(
    session: Session, case: Case, person: Person | None, account: AccountGiven
) -> PayeeAccount:
    """A new account after the acceptance, by the case officer (`person`) or the grantee
    (None): kept, but every unpaid order waits until a second person confirms it. The
    grantee is told at its e-mail now and at the one it had when it accepted; the case
    officer, when the grantee changed it, that it waits for them."""
    acceptance = acceptance_of(session, case)
    if acceptance is None:
        raise AcceptanceRefused("acceptance.not_given", case_reference=case.case_reference)
    current = current_account(session, case)
    if current is not None and _same(current, account):
        raise AcceptanceRefused(
            "account.unchanged", account=account_text(account), case_reference=case.case_reference
        )
    actor = Actor.of(person) if person else Actor.applicant_of(case)
    changed = _account(case, account, actor, needs_confirmation=True)
    session.add(changed)
    session.flush()
    record(
        session,
        case,
        actor,
        "payee_account_changed",
        account=account_text(account),
        earlier=account_text(current) if current else None,
        told=told_at(case, acceptance),
    )
    _tell_grantee(session, case, acceptance, changed, current)
    if person is None and case.case_officer is not None:
        order_notice(
            session,
            f"account-to-confirm-{changed.id}",
            "account_to_confirm",
            case.case_officer,
            case,
            case_reference=case.case_reference,
            organisation=case.organisation.name,
            account=account_text(account, "sv"),
        )
    return changed


def confirm_account(
    session: Session, case: Case, person: Person, verification: str
) -> PayeeAccount:
    """A second person confirms the changed account, saying how it was verified (a call to
    the chair on the number in the application); the held orders may then be paid."""
    account = current_account(session, case)
    if account is None or not on_hold(account):
        raise AcceptanceRefused("account.nothing_to_confirm", case_reference=case.case_reference)
    if account.given_by == person.email:
        raise AcceptanceRefused(
            "account.same_person", email=person.email, case_reference=case.case_reference
        )
    note = _required("verification", verification, MAX_VERIFICATION)
    account.confirmed_by, account.confirmed_at, account.verification = person.email, utcnow(), note
    session.add(account)
    record(
        session,
        case,
        Actor.of(person),
        "payee_account_confirmed",
        account=account_text(account),
        given_by=account.given_by,
        verification=note,
    )
    return account


def told_at(case: Case, acceptance: Acceptance) -> list[str]:
    """Where the grantee is told of a change: the organisation's e-mail, and the one it had
    when it accepted if the case's was changed since."""
    addresses = [case.organisation.email]
    if acceptance.email and acceptance.email.lower() != case.organisation.email.lower():
        addresses.append(acceptance.email)
    return addresses


def _tell_grantee(
    session: Session,
    case: Case,
    acceptance: Acceptance,
    changed: PayeeAccount,
    earlier: PayeeAccount | None,
) -> None:
    """One e-mail to each address the grantee is told at, in the case's language: a notice
    (`models.notices` queues those to staff by person; the grantee is no person here)."""
    for address in told_at(case, acceptance):
        session.add(
            Notice(
                notice_key=f"account-changed-{changed.id}-{address.lower()}",
                case_id=case.id,
                kind=f"account_changed.{case.language.value}",
                recipient=address,
                data={
                    "case_reference": case.case_reference,
                    "organisation": case.organisation.name,
                    "project_title": case.project_title,
                    "account": account_text(changed, case.language.value),
                    "earlier": account_text(earlier, case.language.value) if earlier else "",
                    "changed_at": local_time(changed.given_at).isoformat(),
                    "by_grantee": changed.given_by == case.organisation.email,
                    "case_officer": case.case_officer.name if case.case_officer else "",
                    "case_officer_email": case.case_officer.email if case.case_officer else "",
                },
            )
        )


def _account(
    case: Case, account: AccountGiven, actor: Actor, needs_confirmation: bool = False
) -> PayeeAccount:
    return PayeeAccount(
        case_id=case.id,
        kind=account.kind,
        clearing=account.clearing,
        number=account.number,
        given_by=actor.who,
        needs_confirmation=needs_confirmation,
    )


def _same(current: PayeeAccount, account: AccountGiven) -> bool:
    return (current.kind, current.clearing, current.number) == (
        account.kind,
        account.clearing,
        account.number,
    )


def _required(name: str, value: str, limit: int = MAX_NAME) -> str:
    """The text typed, stripped (a name or a role on one line, its spaces made single),
    refused naming the field when empty or too long."""
    text = str(value or "").strip()
    if limit == MAX_NAME:
        text = " ".join(text.split())
    if not text:
        raise invalid(name, value, FieldError("field.required"))
    if len(text) > limit:
        raise invalid(name, value, FieldError("field.too_long", length=len(text), limit=limit))
    return text


@dataclass(frozen=True)
class PayeeFacts:
    """What the case page shows of the grant's acceptance and account."""

    granted: bool  # a signed grant: its conditions are to be accepted
    acceptance: Acceptance | None
    account: PayeeAccount | None
    account_text: dict[str, str]  # by language, "sv" and "en"
    held: bool  # changed after the acceptance and not yet confirmed by a second person


def payee_facts(session: Session, case: Case) -> PayeeFacts:
    acceptance = acceptance_of(session, case)
    account = current_account(session, case)
    texts = {lang: account_text(account, lang) if account else "" for lang in ("sv", "en")}
    held = account is not None and on_hold(account)
    granted = signed_grant(session, case) is not None
    return PayeeFacts(granted, acceptance, account, texts, held)
