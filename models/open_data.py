"""The grants of a period as open data: the 360Giving Data Standard, version 1.4.3.

360Giving is the open standard funders publish their grants in, so that anyone can see who
funded what, where, and compare funders. A package is a JSON object with the package's
metadata and a `grants` array; each grant carries the standard's ten required fields (an
identifier under the publisher's 360Giving prefix, title, description, currency, amount
awarded, award date, and the recipient and funding organisations' identifiers and names)
and here also the planned dates, the beneficiaries' municipality with its code, the call
as the grant programme, the amount applied for and the amount paid so far.

Only grants are published: a decision to grant or to grant in part, dated when it was
signed. Refusals, dismissals and write-offs never are (an application is not a grant, and
an applicant refused has published nothing), and no person's name is: not the contact
person, the case officer nor the decision maker.
"""

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, ClassVar

from sqlmodel import Session, col, select

from models import clock
from models.access import conflicted_case_ids
from models.audit import Actor, record_office
from models.decisions import GRANTS
from models.errors import Refused
from models.municipalities import municipality
from models.payments import paid_on_cases
from models.tables import (
    STOCKHOLM,
    Case,
    Decision,
    DecisionStatus,
    Organisation,
    Person,
    local_date,
    local_time,
)

STANDARD = "1.4.3"  # the release of the schema the export follows (README, Open data)
PACKAGE_VERSION = "1.4"  # the package's `version`: major.minor, as the package schema asks
CURRENCY = "SEK"
COUNTRY = "SE"
# The legal forms Bolagsverket registers (and gives their organisation numbers, whose
# first digit, the group number, is the form's), so 360Giving's SE-BLV list (org-id.guide)
# identifies them. Not by the digit alone: Lantmäteriet numbers samfällighetsföreningar
# in group 7 too, and ideella föreningar (Skatteverket), stiftelser (the county
# administrative boards) and registered trossamfund (Kammarkollegiet) are in group 8.
BOLAGSVERKET_FORMS = {
    "ekonomisk förening": "7",
    "aktiebolag": "5",
    "handelsbolag": "9",
    "kommanditbolag": "9",
}


class OpenDataRefused(Refused, ValueError):
    """An open data export that cannot be made as asked; nothing was written."""

    messages: ClassVar[dict[str, str]] = {
        "open_data.not_configured": "the 360Giving prefix and the funder are not configured: "
        "the configuration needs its [open_data] section",
        "open_data.period": "the last day {last} is before the first {first}",
        "open_data.nothing_granted": "no grant was decided from {first} to {last}; a 360Giving "
        "package holds at least one",
        "open_data.no_municipality_code": "case {case_reference}: the municipality "
        "{municipality} has no municipality code (kommunkod) in the table of municipalities",
        "open_data.conflict": "{name} declared a conflict of interest in a case granted from "
        "{first} to {last}; another case officer or the decision maker publishes the period",
    }


@dataclass(frozen=True)
class Publisher:
    """Who publishes and funds: the 360Giving prefix (assigned by 360Giving), the funder's
    organisation identifier and name, and the licence and web address of the data."""

    prefix: str
    funder_id: str
    funder_name: str
    license: str
    website: str | None = None


def grant_identifier(prefix: str, case_reference: str) -> str:
    """`360G-<prefix>-<case reference>`: unique for the publisher, stable over exports."""
    return f"360G-{prefix}-{case_reference}"


def organisation_identifier(prefix: str, organisation: Organisation) -> str:
    """`SE-BLV-<10 digits>` for an organisation Bolagsverket registers; otherwise an
    identifier under the publisher's own prefix: by its organisation number where it has
    one (an ideell förening, a stiftelse), by our register where it has none yet."""
    digits = (organisation.organisation_number or "").replace("-", "")
    group = BOLAGSVERKET_FORMS.get(organisation.legal_form)
    if digits and digits[0] == group:
        return f"SE-BLV-{digits}"
    if digits:
        return f"360G-{prefix}-org-{digits}"
    return f"360G-{prefix}-organisation-{organisation.id}"


def publish_open_data(
    session: Session, person: Person, first: date, last: date, publisher: Publisher
) -> dict[str, Any]:
    """The 360Giving package of the grants decided from `first` to `last` (Swedish dates,
    both included), recorded in the audit trail as published by `person`.

    The package is what the public gets, so it holds every grant of the period; a person
    who declared a conflict of interest in one of them, for whom that case does not exist,
    is refused rather than given a package without it."""
    if last < first:
        raise OpenDataRefused("open_data.period", first=first.isoformat(), last=last.isoformat())
    decisions = granted_in(session, first, last)
    if not decisions:
        raise OpenDataRefused(
            "open_data.nothing_granted", first=first.isoformat(), last=last.isoformat()
        )
    if conflicted_case_ids(session, person) & {d.case_id for d in decisions}:
        raise OpenDataRefused(
            "open_data.conflict", name=person.name, first=first.isoformat(), last=last.isoformat()
        )
    paid = paid_on_cases(session, [d.case_id for d in decisions])
    grants = [_grant(publisher, d, paid.get(d.case_id, 0)) for d in decisions]
    record_office(
        session,
        Actor.of(person),
        "open_data_published",
        first=first.isoformat(),
        last=last.isoformat(),
        grants=len(grants),
    )
    return _package(publisher, first, last, grants, local_time(clock.now()))


def granted_in(session: Session, first: date, last: date) -> list[Decision]:
    """The signed decisions to grant, in full or in part, of the period, in the order they
    were signed; a case's latest such decision only."""
    signed = session.exec(
        select(Decision)
        .where(Decision.status == DecisionStatus.signed, col(Decision.outcome).in_(GRANTS))
        .order_by(col(Decision.decided_at), col(Decision.id))
    ).all()
    latest = {d.case_id: d for d in signed if d.decided_at is not None}
    return [d for d in latest.values() if first <= local_date(d.decided_at) <= last]


def _grant(publisher: Publisher, decision: Decision, paid: int) -> dict[str, Any]:
    case: Case = decision.case
    organisation = case.organisation
    recipient = organisation_identifier(publisher.prefix, organisation)
    return {
        "id": grant_identifier(publisher.prefix, case.case_reference),
        "title": case.project_title,
        "description": case.description,
        "currency": CURRENCY,
        "amountAppliedFor": case.requested_amount,
        "amountAwarded": decision.amount,
        "amountDisbursed": paid,
        "awardDate": local_time(decision.decided_at).isoformat(timespec="seconds"),
        "plannedDates": [
            {"startDate": _day(case.project_start), "endDate": _day(case.project_end)}
        ],
        "recipientOrganization": [{"id": recipient, "name": organisation.name}],
        "beneficiaryLocation": [_location(case)],
        "fundingOrganization": [{"id": publisher.funder_id, "name": publisher.funder_name}],
        "grantProgramme": [{"code": case.call.code, "title": case.call.name}],
        "fromOpenCall": "Yes",
    }


def _day(day: date) -> str:
    """A day as the standard's date-time: its first moment, Swedish time. A plain
    YYYY-MM-DD also meets the schema, but only for a checker that checks the date-time
    format (its `oneOf` takes a plain date for both of its branches otherwise)."""
    return datetime.combine(day, time(), STOCKHOLM).isoformat()


def _location(case: Case) -> dict[str, str]:
    """The municipality the project's organisation is in, with its code (kommunkod)."""
    found = municipality(case.organisation.municipality)
    if found is None:
        raise OpenDataRefused(
            "open_data.no_municipality_code",
            case_reference=case.case_reference,
            municipality=case.organisation.municipality,
        )
    return {"name": found.name, "countryCode": COUNTRY, "geoCode": found.code}


def _package(
    publisher: Publisher, first: date, last: date, grants: list[dict[str, Any]], issued: datetime
) -> dict[str, Any]:
    """The package around the grants: its version, title, identifier, when it was issued,
    who publishes it and under which licence."""
    period = f"{first.isoformat()}--{last.isoformat()}"
    package: dict[str, Any] = {
        "version": PACKAGE_VERSION,
        "title": f"{publisher.funder_name}: grants awarded {first.isoformat()} to "
        f"{last.isoformat()}",
        "description": f"The grants {publisher.funder_name} awarded from {first.isoformat()} "
        f"to {last.isoformat()}, as the 360Giving Data Standard {STANDARD} describes them. "
        "Refused and dismissed applications are not published.",
        "identifier": f"360G-{publisher.prefix}-{period}",
        "issued": issued.isoformat(timespec="seconds"),
        "publisher": {"identifier": publisher.funder_id, "name": publisher.funder_name},
        "license": publisher.license,
        "grants": grants,
    }
    if publisher.website:
        package["publisher"]["website"] = publisher.website
    return package


# The CSV's columns: the standard's column titles (its spreadsheet "summary table"), each
# with where in a grant its value is.
CSV_COLUMNS: tuple[tuple[str, tuple[str | int, ...]], ...] = (
    ("Identifier", ("id",)),
    ("Title", ("title",)),
    ("Description", ("description",)),
    ("Currency", ("currency",)),
    ("Amount Applied For", ("amountAppliedFor",)),
    ("Amount Awarded", ("amountAwarded",)),
    ("Amount Disbursed", ("amountDisbursed",)),
    ("Award Date", ("awardDate",)),
    ("Planned Dates:Start Date", ("plannedDates", 0, "startDate")),
    ("Planned Dates:End Date", ("plannedDates", 0, "endDate")),
    ("Recipient Org:Identifier", ("recipientOrganization", 0, "id")),
    ("Recipient Org:Name", ("recipientOrganization", 0, "name")),
    ("Beneficiary Location:Name", ("beneficiaryLocation", 0, "name")),
    ("Beneficiary Location:Country Code", ("beneficiaryLocation", 0, "countryCode")),
    ("Beneficiary Location:Geographic Code", ("beneficiaryLocation", 0, "geoCode")),
    ("Funding Org:Identifier", ("fundingOrganization", 0, "id")),
    ("Funding Org:Name", ("fundingOrganization", 0, "name")),
    ("Grant Programme:Code", ("grantProgramme", 0, "code")),
    ("Grant Programme:Title", ("grantProgramme", 0, "title")),
    ("From an open call?", ("fromOpenCall",)),
)


def package_json(package: dict[str, Any]) -> bytes:
    """The package as the JSON file 360Giving's tools read: UTF-8, letters as written."""
    return (json.dumps(package, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def package_csv(package: dict[str, Any]) -> bytes:
    """The same grants as one CSV row each, under the standard's column titles (UTF-8)."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(title for title, _path in CSV_COLUMNS)
    for grant in package["grants"]:
        writer.writerow(_at(grant, path) for _title, path in CSV_COLUMNS)
    return text.getvalue().encode("utf-8")


def _at(grant: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    value: Any = grant
    for step in path:
        value = value[step]
    return value


def package_name(publisher: Publisher, first: date, last: date, suffix: str) -> str:
    """The file name: the prefix and the period, as 360Giving's registry lists files."""
    return f"360giving-{publisher.prefix}-{first.isoformat()}--{last.isoformat()}{suffix}"
