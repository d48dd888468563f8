"""The case officer's correction of an applicant's contact and payment facts."""

from typing import Annotated, Any

import typer

from grants.cli.common import AsOption, CaseArg, act

app = typer.Typer()


def _option(flag: str, what: str) -> Any:
    return typer.Option(flag, help=what)


@app.command("correct")
def correct_command(
    case_reference: CaseArg,
    reason: Annotated[str, typer.Option("--reason", help="Why (required): kept in the trail.")],
    contact_person: Annotated[str | None, _option("--contact-person", "Contact person.")] = None,
    email: Annotated[str | None, _option("--email", "The applicant's e-mail address.")] = None,
    phone: Annotated[str | None, _option("--phone", "Phone.")] = None,
    postal_address: Annotated[str | None, _option("--postal-address", "Postal address.")] = None,
    postcode: Annotated[str | None, _option("--postcode", "Postcode.")] = None,
    city: Annotated[str | None, _option("--city", "City.")] = None,
    organisation_number: Annotated[
        str | None, _option("--organisation-number", "NNNNNN-NNNN.")
    ] = None,
    bankgiro: Annotated[str | None, _option("--bankgiro", "Bankgiro number.")] = None,
    plusgiro: Annotated[str | None, _option("--plusgiro", "Plusgiro number.")] = None,
    actor: AsOption = None,
) -> None:
    """Correct the applicant's contact and payment facts, with a reason. A corrected
    e-mail address takes the case's letters that have not arrived with it: one that could
    not be delivered goes again, the same letter, to the corrected address."""
    given = {
        "contact_person": contact_person,
        "email": email,
        "phone": phone,
        "postal_address": postal_address,
        "postcode": postcode,
        "city": city,
        "organisation_number": organisation_number,
        "bankgiro": bankgiro,
        "plusgiro": plusgiro,
    }
    act(
        "correct_case_facts",
        case_reference,
        actor,
        lambda taken: f"{case_reference}: corrected {', '.join(taken.result)}.",
        facts={name: value for name, value in given.items() if value is not None},
        reason=reason,
    )


@app.command("state-aid")
def state_aid_command(
    case_reference: CaseArg,
    economic_activity: Annotated[
        bool | None,
        typer.Option(
            "--economic-activity/--no-economic-activity",
            help="Whether the applicant carries on economic activity: its grant is then de "
            "minimis aid (intake derives it from the legal form).",
        ),
    ] = None,
    other_aid: Annotated[
        str | None,
        _option(
            "--other-aid",
            "The applicant's declaration of other de minimis aid in the last three years: "
            '"Grantor: amount: YYYY-MM-DD; …", or "none".',
        ),
    ] = None,
    actor: AsOption = None,
) -> None:
    """Record whether the applicant carries on economic activity, and its declaration of
    other de minimis aid (asked for as a supplement when the application had none). A grant
    to an applicant with economic activity is signed only with the declaration, and within
    the ceiling of Regulation (EU) 2023/2831."""

    def said(taken: Any) -> str:
        case = taken.result
        aid = case.other_de_minimis_aid
        declared = "not declared" if aid is None else f"{len(aid)} other de minimis aid declared"
        activity = "economic activity" if case.economic_activity else "no economic activity"
        return f"{case_reference}: {activity}; {declared}."

    act(
        "record_state_aid",
        case_reference,
        actor,
        said,
        economic_activity=economic_activity,
        other_aid=other_aid,
    )
