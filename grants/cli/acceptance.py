"""Commands after a grant: the acceptance of its conditions received on paper, a change of
the account to pay to, and its confirmation by a second person.

Each parses what was typed and takes its declared step by name (`grants.steps.acceptance`);
the domain checks the account's check digit and refuses, naming the field and the value,
what is not a bankgiro, a plusgiro or a Swedish bank account.
"""

from pathlib import Path
from typing import Annotated

import typer

from grants.cli.common import AsOption, CaseArg, act, read_file_argument
from grants.steps import Taken
from grants.steps.acceptance import Account
from models.acceptance import account_text

app = typer.Typer()
account_app = typer.Typer(help="The account a grant is paid to.", no_args_is_help=True)
app.add_typer(account_app, name="account")

BankgiroOption = Annotated[str, typer.Option("--bankgiro", help="Bankgiro number, NNNN-NNNN.")]
PlusgiroOption = Annotated[str, typer.Option("--plusgiro", help="Plusgiro number, NNNNNN-N.")]
ClearingOption = Annotated[
    str,
    typer.Option(
        "--clearing",
        help="A bank account's clearing number (4 digits; 5 for Swedbank's 8xxx-x).",
    ),
]
AccountOption = Annotated[
    str, typer.Option("--account", help="The bank account's number, with --clearing.")
]


@app.command("accept")
def accept_command(
    case_reference: CaseArg,
    signatory: Annotated[str, typer.Option("--signatory", help="Who signed for the organisation.")],
    signatory_role: Annotated[
        str,
        typer.Option("--signatory-role", help="Their role, e.g. chair (ordförande)."),
    ],
    bankgiro: BankgiroOption = "",
    plusgiro: PlusgiroOption = "",
    clearing: ClearingOption = "",
    account: AccountOption = "",
    document: Annotated[
        Path | None, typer.Option("--document", help="The signed paper, scanned.")
    ] = None,
    actor: AsOption = None,
) -> None:
    """Register the grantee's acceptance of the conditions, received on paper, and the
    account to pay to."""
    paper = (document.name, read_file_argument(document)) if document else None
    act(
        "register_acceptance",
        case_reference,
        actor,
        lambda taken: (
            f"{case_reference}: the conditions are accepted by "
            f"{taken.result.signatory_name} ({taken.result.signatory_role}); the grant is paid "
            f"to {_account(bankgiro, plusgiro, clearing, account)}."
        ),
        signatory_name=signatory,
        signatory_role=signatory_role,
        account=Account(bankgiro, plusgiro, clearing, account),
        paper=paper,
    )


@account_app.command("change")
def change_command(
    case_reference: CaseArg,
    bankgiro: BankgiroOption = "",
    plusgiro: PlusgiroOption = "",
    clearing: ClearingOption = "",
    account: AccountOption = "",
    actor: AsOption = None,
) -> None:
    """Register a new account to pay to: every unpaid payment is held until another person
    confirms it (grants account confirm); the grantee is told by e-mail."""
    act(
        "change_account",
        case_reference,
        actor,
        lambda taken: (
            f"{case_reference}: the account is now {account_text(taken.result)}; "
            "payments are held until another person confirms it (grants account confirm)."
        ),
        account=Account(bankgiro, plusgiro, clearing, account),
    )


@account_app.command("confirm")
def confirm_command(
    case_reference: CaseArg,
    verified: Annotated[
        str,
        typer.Option(
            "--verified",
            help='How the change was verified, e.g. "called the chair on the number in '
            'the application".',
        ),
    ],
    actor: AsOption = None,
) -> None:
    """Confirm a changed account as a second person: the held payments may go."""
    act(
        "confirm_account",
        case_reference,
        actor,
        lambda taken: _confirmed(case_reference, taken),
        verification=verified,
    )


def _confirmed(case_reference: str, taken: Taken) -> str:
    return (
        f"{case_reference}: {account_text(taken.result)} is confirmed; payments to it are no "
        "longer held."
    )


def _account(bankgiro: str, plusgiro: str, clearing: str, account: str) -> str:
    """The account as typed, for the receipt (the step checked it)."""
    if bankgiro:
        return f"bankgiro {bankgiro}"
    if plusgiro:
        return f"plusgiro {plusgiro}"
    return f"clearing {clearing}, account {account}"
