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
