"""`grants final-reports`: the case officer approves a funded project's final report, or asks
for more with a reason, each command taking its declared step by name
(`grants.steps.final_report`). The grantee writes the report through its link; one that came
on paper is registered with `grants final-report` first."""

from typing import Annotated

import typer

from grants.cli.common import AsOption, CaseArg, act
from grants.steps import Taken

app = typer.Typer(help="Final reports: approve, or ask for more.", no_args_is_help=True)


@app.command("approve")
def approve_command(
    case_reference: CaseArg,
    claim_unspent: Annotated[
        bool,
        typer.Option(
            "--claim-unspent",
            help="Also draft a repayment claim for the grant paid and not spent, as the "
            "report shows it.",
        ),
    ] = False,
    actor: AsOption = None,
) -> None:
    """Approve the submitted final report (the case officer): the instalment paid after the
    report may then be prepared."""

    def said(taken: Taken) -> str:
        approval = taken.result
        done = f"{case_reference}: final report approved."
        if approval.claim is not None:
            claim = approval.claim
            return (
                f"{done} Repayment claim {claim.number} drafted for the {claim.amount} kr "
                f"unspent, OCR reference {claim.ocr_reference}."
            )
        if approval.unspent:
            return (
                f"{done} The report shows {approval.unspent} kr of the grant paid and not "
                f"spent; to claim it back: grants repayment draft {case_reference} --amount "
                f"{approval.unspent} --reason '…'"
            )
        return done

    act("approve_final_report", case_reference, actor, said, claim_unspent=claim_unspent)


@app.command("more")
def more_command(
    case_reference: CaseArg,
    reason: Annotated[
        str, typer.Option(help="What more the report needs, in the case's language.")
    ],
    actor: AsOption = None,
) -> None:
    """Send the submitted final report back to the grantee, saying what more it needs; the
    grantee gets a letter and edits the report through its link."""
    act(
        "request_final_report_more",
        case_reference,
        actor,
        lambda _taken: (
            f"{case_reference}: more asked for in the final report; the grantee is told by letter."
        ),
        reason=reason,
    )
