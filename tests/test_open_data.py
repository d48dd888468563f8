"""The grants as open data (360Giving Data Standard 1.4.3): `grants open-data` and the
office's download write the grants of a period, and only grants, as a JSON package that
meets the standard's schema and a CSV under its column titles; the amounts are the
decisions' and the payments', and no refused case nor any person's name is in them.

No package on PyPI ships the 360Giving schema (flattentool, libcove and libcoveweb carry
none; lib360dataquality is not on PyPI), so `PACKAGE_RULES` below is the 1.4 package and
grant schemas' rules as we read them (required fields, types, date and version patterns,
organisations with id and name), written for this test, with the fields we publish and no
others (a misspelt field name fails it), and checked with jsonschema as 360Giving's own
checker (CoVE) checks: with the date-time and uri formats checked.
"""

import csv
import io
import json
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft4Validator, FormatChecker
from sqlmodel import Session, select

from flows.intake import intake
from grants.embedded import run_flow
from grants.settings import PROJECT_ROOT, load
from models.access import case_for
from models.db import transaction
from models.decisions import sign
from models.open_data import organisation_identifier
from models.payments import attest_order, prepare_orders, register_paid
from models.rules import Rules
from models.tables import (
    STOCKHOLM,
    Case,
    Decision,
    DecisionStatus,
    Organisation,
    PaymentOrder,
    PaymentStatus,
    Person,
    Recommendation,
    ReviewTask,
    Role,
    TaskStatus,
)
from tests.conftest import SAMPLES, MadeOnce
from tests.helpers import ACTIVA, DECISION_MAKER, OFFICER, database_dump, grants
from tests.office import post, sign_in
from tests.test_decisions import person, to_awaiting_decision
from tests.test_payments import accept_for_test

FINANCE = "frida.ekman@regionorebrolan.example.se"
PAID_IN_FULL = ("SI-2026-0105", Recommendation.partly_granted, 30_000)  # ekonomisk förening
UNPAID = ("SI-2026-0101", Recommendation.partly_granted, 30_000)  # ideell förening
NO_NUMBER = ("SI-2026-0104", Recommendation.partly_granted, 32_000)  # no organisation number
REFUSED = ("SI-2026-0108", Recommendation.refused, None)
TITLES = [
    "Identifier", "Title", "Description", "Currency", "Amount Applied For", "Amount Awarded",
    "Amount Disbursed", "Award Date", "Planned Dates:Start Date", "Planned Dates:End Date",
    "Recipient Org:Identifier", "Recipient Org:Name", "Beneficiary Location:Name",
    "Beneficiary Location:Country Code", "Beneficiary Location:Geographic Code",
    "Funding Org:Identifier", "Funding Org:Name", "Grant Programme:Code",
    "Grant Programme:Title", "From an open call?",
]  # fmt: skip

DATE = {"pattern": "^[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])$"}
DAY_OR_MOMENT = {"type": "string", "oneOf": [{"format": "date-time"}, DATE]}
TEXT = {"type": "string"}
ORGANISATIONS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": TEXT, "name": TEXT},
        "additionalProperties": False,
    },
}
GRANT_RULES = {
    "type": "object",
    "required": [
        "id", "title", "description", "currency", "amountAwarded", "awardDate",
        "recipientOrganization", "fundingOrganization",
    ],
    "properties": {
        "id": TEXT,
        "title": TEXT,
        "description": TEXT,
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "amountAppliedFor": {"type": "number"},
        "amountAwarded": {"type": "number"},
        "amountDisbursed": {"type": "number"},
        "awardDate": DAY_OR_MOMENT,
        "plannedDates": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"startDate": DAY_OR_MOMENT, "endDate": DAY_OR_MOMENT},
                "additionalProperties": False,
            },
        },
        "recipientOrganization": ORGANISATIONS,
        "fundingOrganization": ORGANISATIONS,
        "beneficiaryLocation": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": TEXT,
                    "countryCode": {"type": "string", "pattern": "^[A-Z]{2}$"},
                    "geoCode": TEXT,
                },
                "additionalProperties": False,
            },
        },
        "grantProgramme": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"code": TEXT, "title": TEXT},
                "additionalProperties": False,
            },
        },
        "fromOpenCall": {"type": "string", "enum": ["Yes", "No"]},
    },
    "additionalProperties": False,
}  # fmt: skip
PACKAGE_RULES = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "required": ["grants"],
    "properties": {
        "grants": {"type": "array", "minItems": 1, "uniqueItems": True, "items": GRANT_RULES},
        "version": {"type": "string", "pattern": r"^(\d+\.)(\d+)$"},
        "title": TEXT,
        "description": TEXT,
        "identifier": TEXT,
        "issued": DAY_OR_MOMENT,
        "publisher": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "identifier": TEXT,
                "name": TEXT,
                "website": {"type": "string", "format": "uri"},
            },
            "additionalProperties": False,
        },
        "license": {"type": "string", "format": "uri"},
    },
    "additionalProperties": False,
}
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time")
def _moment(value: object) -> bool:
    """RFC 3339: a date, T, a time and a zone (as jsonschema's own checker, which needs a
    package we do not install)."""
    pattern = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"
    return not isinstance(value, str) or bool(re.fullmatch(pattern, value))


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme and urlsplit(value).netloc)


def schema_faults(package: dict) -> list[str]:
    """What the rules find, by a checker that checks formats (as CoVE does) and by one that
    does not (jsonschema's default): the package must meet both."""
    return [
        f"{list(e.absolute_path)}: {e.message}"
        for checker in (FORMATS, None)
        for e in Draft4Validator(PACKAGE_RULES, format_checker=checker).iter_errors(package)
    ]


def _signed(submission_id: str, recommendation: Recommendation, amount: int | None) -> str:
    reference = to_awaiting_decision(submission_id, recommendation, amount)
    with transaction(load().db_url) as session:
        maker = person(session, DECISION_MAKER)
        sign(session, case_for(session, reference, maker, lock=True), maker, Rules())
    return reference


def _paid(session: Session, reference: str) -> None:
    """The whole grant accepted, prepared, attested, sent to the bank and paid."""
    case = session.exec(select(Case).where(Case.case_reference == reference)).one()
    accept_for_test(session, case)
    for order in prepare_orders(session, case, person(session, OFFICER)):
        attest_order(session, case, person(session, DECISION_MAKER), order.id)
        order.status = PaymentStatus.exported  # the payment file's part
        session.add(order)
        session.flush()
        register_paid(session, case, person(session, FINANCE), order.id, date.today())


@pytest.fixture
def decided(made_once: MadeOnce, grants_home: Path) -> dict[str, str]:
    """Four sample cases decided today: a grant paid in full (an ekonomisk förening), a
    partial grant not paid (an ideell förening), a partial grant to an association without
    an organisation number, and a refusal. Returns their case references by name."""

    def make() -> dict[str, str]:
        run_flow(intake, path=str(SAMPLES / "applications.json"), send_letters=False)
        references = {
            name: _signed(*case)
            for name, case in (
                ("paid", PAID_IN_FULL),
                ("unpaid", UNPAID),
                ("no_number", NO_NUMBER),
                ("refused", REFUSED),
            )
        }
        with transaction(load().db_url) as session:
            session.add(
                Person(
                    name="Frida Ekman", email=FINANCE, role=Role.finance,
                    organisation="Region Örebro län",
                )
            )  # fmt: skip
            session.flush()
            _paid(session, references["paid"])
        return references

    return made_once("open-data-decided", make)


def _today() -> str:
    return date.today().isoformat()


def exported(home: Path, *args: str) -> tuple[dict, list[dict[str, str]], str]:
    """`grants open-data` for today into GRANTS_HOME/open-data: the package, the CSV's
    rows by title, and both files' text."""
    said = grants("open-data", "--from", _today(), "--to", _today(), *args).text
    folder = home / "open-data"
    [json_file] = folder.glob("*.json")
    [csv_file] = folder.glob("*.csv")
    assert json_file.name == f"360giving-rol-{_today()}--{_today()}.json", said
    assert csv_file.stem == json_file.stem
    text = json_file.read_text(encoding="utf-8") + csv_file.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text(encoding="utf-8"))))
    return json.loads(json_file.read_text(encoding="utf-8")), rows, text


def test_the_grants_of_the_period_meet_the_360giving_schema_with_the_decisions_amounts(
    decided: dict[str, str], grants_home: Path
) -> None:
    package, _rows, _text = exported(grants_home, "--as", OFFICER)

    assert schema_faults(package) == []
    assert package["version"] == "1.4"
    assert package["publisher"] == {
        "identifier": "360G-rol-2321000164",
        "name": "Region Örebro län",
        "website": "https://www.regionorebrolan.se",
    }
    assert package["license"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    with transaction(load().db_url) as session:
        decisions = {
            d.case.case_reference: d
            for d in session.exec(select(Decision).where(Decision.status == DecisionStatus.signed))
        }
        paid = {
            reference: sum(
                o.amount
                for o in session.exec(select(PaymentOrder).where(PaymentOrder.case_id == d.case_id))
                if o.status is PaymentStatus.paid
            )
            for reference, d in decisions.items()
        }
        cases = {c.case_reference: c for c in session.exec(select(Case))}
        granted = {r: d.amount for r, d in decisions.items() if d.amount}
        facts = {
            r: (c.requested_amount, c.project_start, c.project_end, c.organisation.name)
            for r, c in cases.items()
        }
    by_id = {grant["id"]: grant for grant in package["grants"]}
    assert set(by_id) == {f"360G-rol-{decided[n]}" for n in ("paid", "unpaid", "no_number")}
    assert sum(g["amountAwarded"] for g in package["grants"]) == sum(granted.values())
    assert sum(g["amountDisbursed"] for g in package["grants"]) == sum(paid.values()) > 0
    for reference, amount in granted.items():
        grant = by_id[f"360G-rol-{reference}"]
        requested, start, end, organisation = facts[reference]
        assert (grant["amountAwarded"], grant["amountDisbursed"]) == (amount, paid[reference])
        assert grant["amountAppliedFor"] == requested
        signed = datetime.fromisoformat(grant["awardDate"])
        assert signed.date().isoformat() == _today() and signed.utcoffset() is not None
        assert grant["currency"] == "SEK"
        assert [
            {k: datetime.fromisoformat(v) for k, v in dates.items()}
            for dates in grant["plannedDates"]
        ] == [
            {
                "startDate": datetime.combine(start, time(), STOCKHOLM),
                "endDate": datetime.combine(end, time(), STOCKHOLM),
            }
        ]
        assert grant["recipientOrganization"][0]["name"] == organisation
        assert grant["fundingOrganization"] == [
            {"id": "360G-rol-2321000164", "name": "Region Örebro län"}
        ]
        assert grant["grantProgramme"] == [
            {"code": "SI-2026", "title": "Utvecklingsmedel för social innovation 2026–2027"}
        ]
    assert by_id[f"360G-rol-{decided['paid']}"]["amountDisbursed"] == granted[decided["paid"]]
    assert by_id[f"360G-rol-{decided['unpaid']}"]["amountDisbursed"] == 0
    recipients = {r: by_id[f"360G-rol-{decided[r]}"]["recipientOrganization"][0]["id"] for r in
                  ("paid", "unpaid", "no_number")}  # fmt: skip
    assert recipients["paid"] == "SE-BLV-7696402572"  # ekonomisk förening: Bolagsverket's
    assert recipients["unpaid"] == "360G-rol-org-8024763156"  # ideell förening: not
    assert re.fullmatch(r"360G-rol-organisation-\d+", recipients["no_number"])
    places = {g["id"]: g["beneficiaryLocation"] for g in package["grants"]}
    assert places[f"360G-rol-{decided['unpaid']}"] == [
        {"name": "Hällefors kommun", "countryCode": "SE", "geoCode": "1863"}
    ]
    assert places[f"360G-rol-{decided['no_number']}"] == [
        {"name": "Örebro kommun", "countryCode": "SE", "geoCode": "1880"}
    ]


def test_the_rules_catch_what_the_schema_refuses() -> None:
    """The rules the package is checked by are not empty words: each fault is caught."""
    package = {"version": "1.4.3", "grants": [{"id": "x", "title": "t"}]}
    faults = schema_faults(package)
    assert any("does not match" in f for f in faults)  # version is major.minor
    assert any("'currency' is a required property" in f for f in faults)
    good = {
        "id": "360G-rol-26RS1", "title": "t", "description": "d", "currency": "SEK",
        "amountAwarded": 1, "awardDate": "2026-12-07T14:03:11+01:00",
        "recipientOrganization": [{"id": "SE-BLV-7696318422", "name": "n"}],
        "fundingOrganization": [{"id": "360G-rol-1", "name": "f"}],
    }  # fmt: skip
    assert schema_faults({"grants": [good]}) == []
    assert schema_faults({"grants": [good | {"awardDate": "7 december 2026"}]})
    # a plain day meets both branches of the schema's oneOf for a checker without formats
    assert schema_faults({"grants": [good | {"awardDate": "2026-12-07"}]})
    assert schema_faults({"grants": [good | {"awardDate": "2026-12-07T10:00"}]})
    assert schema_faults({"grants": [good | {"recipientOrganisation": []}]})
    assert schema_faults({"grants": [good, good]})  # each grant once
    assert schema_faults({"grants": []})


@pytest.mark.parametrize(
    ("legal_form", "number", "identifier"),
    [
        ("ekonomisk förening", "769640-2572", "SE-BLV-7696402572"),
        ("aktiebolag", "556036-0793", "SE-BLV-5560360793"),
        ("ideell förening", "802476-3156", "360G-rol-org-8024763156"),
        ("stiftelse", "802433-9700", "360G-rol-org-8024339700"),
        ("samfällighetsförening", "716419-9013", "360G-rol-org-7164199013"),  # Lantmäteriet's
        ("ideell förening", None, "360G-rol-organisation-7"),
    ],
)
def test_only_an_organisation_bolagsverket_registers_is_identified_by_it(
    legal_form: str, number: str | None, identifier: str
) -> None:
    organisation = Organisation(
        id=7, name="n", organisation_number=number, legal_form=legal_form,
        municipality="Örebro", email="a@b.se", contact_person="x",
    )  # fmt: skip
    assert organisation_identifier("rol", organisation) == identifier


def test_no_refused_case_and_no_persons_name_is_published(
    decided: dict[str, str], grants_home: Path
) -> None:
    package, _rows, text = exported(grants_home, "--as", DECISION_MAKER)
    with transaction(load().db_url) as session:
        refused = session.exec(select(Case).where(Case.case_reference == decided["refused"])).one()
        refused_facts = [
            refused.case_reference, refused.project_title, refused.organisation.name,
            refused.description[:60],
        ]  # fmt: skip
        names = [p.name for p in session.exec(select(Person))]
        contacts = [o.contact_person for o in session.exec(select(Organisation))]
        emails = [o.email for o in session.exec(select(Organisation))]
    assert len(package["grants"]) == 3
    for fact in refused_facts:
        assert fact not in text
    for name in [*names, *contacts, "Anna Ek"]:  # Anna Ek signed the acceptance
        assert name not in text, name
    for address in [*emails, OFFICER, ACTIVA]:
        assert address not in text


def test_the_csv_has_the_standards_titles_and_a_row_for_each_grant_of_the_package(
    decided: dict[str, str], grants_home: Path
) -> None:
    package, rows, _text = exported(grants_home, "--as", OFFICER)
    csv_file = next((grants_home / "open-data").glob("*.csv"))
    header = next(csv.reader(io.StringIO(csv_file.read_text(encoding="utf-8"))))
    assert header == TITLES
    assert len(rows) == len(package["grants"]) == 3
    for row, grant in zip(rows, package["grants"], strict=True):
        assert row["Identifier"] == grant["id"]
        assert row["Title"] == grant["title"]
        assert row["Description"] == grant["description"]
        assert row["Currency"] == "SEK"
        assert int(row["Amount Awarded"]) == grant["amountAwarded"]
        assert int(row["Amount Applied For"]) == grant["amountAppliedFor"]
        assert int(row["Amount Disbursed"]) == grant["amountDisbursed"]
        assert row["Award Date"] == grant["awardDate"]
        assert row["Planned Dates:Start Date"] == grant["plannedDates"][0]["startDate"]
        assert row["Planned Dates:End Date"] == grant["plannedDates"][0]["endDate"]
        assert row["Recipient Org:Identifier"] == grant["recipientOrganization"][0]["id"]
        assert row["Recipient Org:Name"] == grant["recipientOrganization"][0]["name"]
        location = grant["beneficiaryLocation"][0]
        assert row["Beneficiary Location:Name"] == location["name"]
        assert row["Beneficiary Location:Country Code"] == "SE"
        assert row["Beneficiary Location:Geographic Code"] == location["geoCode"]
        assert row["Funding Org:Identifier"] == grant["fundingOrganization"][0]["id"]
        assert row["Funding Org:Name"] == "Region Örebro län"
        assert row["Grant Programme:Code"] == "SI-2026"
        assert row["Grant Programme:Title"] == grant["grantProgramme"][0]["title"]
        assert row["From an open call?"] == "Yes"


def test_bad_dates_and_an_empty_period_are_refused_naming_the_field_and_nothing_is_written(
    decided: dict[str, str], grants_home: Path
) -> None:
    before = database_dump(grants_home)
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    for args, said in (
        (("--from", "2026-13-01", "--to", _today()), "--from '2026-13-01': write the day as"),
        (("--from", _today(), "--to", "today"), "--to 'today': write the day as YYYY-MM-DD"),
        (("--from", _today(), "--to", yesterday), f"--to {yesterday} is before --from {_today()}"),
        (
            ("--from", "2026-01-01", "--to", "2026-01-31"),
            "no grant was decided from 2026-01-01 to 2026-01-31",
        ),
    ):
        refused = grants("open-data", *args, "--as", OFFICER, ok=False)
        assert said in refused.text, refused.text
    refused = grants("open-data", "--from", _today(), "--to", _today(), "--as", ACTIVA, ok=False)
    assert "only a case_officer or decision_maker may" in refused.text
    assert not (grants_home / "open-data").exists()
    assert database_dump(grants_home) == before


def test_a_person_with_a_conflict_in_a_grant_of_the_period_does_not_publish_it(
    decided: dict[str, str], grants_home: Path
) -> None:
    """The package is the public's, whole; for the case officer who declared a conflict in
    one of its grants that case does not exist: refused, and the decision maker publishes."""
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == decided["unpaid"])).one()
        officer = person(session, OFFICER)
        [task] = session.exec(
            select(ReviewTask).where(
                ReviewTask.case_id == case.id, ReviewTask.reviewer_id == officer.id
            )
        )
        task.status = TaskStatus.conflicted
        session.add(task)
    today = ("--from", _today(), "--to", _today())
    refused = grants("open-data", *today, "--as", OFFICER, ok=False)
    assert "Maria Lindqvist declared a conflict of interest in a case granted from" in refused.text
    assert decided["unpaid"] not in refused.text
    assert not (grants_home / "open-data").exists()
    package, _rows, _text = exported(grants_home, "--as", DECISION_MAKER)
    assert len(package["grants"]) == 3


def test_a_municipality_without_a_code_is_refused_naming_the_case(
    decided: dict[str, str], grants_home: Path
) -> None:
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == decided["unpaid"])).one()
        case.organisation.municipality = "Sundsvall"
        session.add(case.organisation)
    refused = grants("open-data", "--from", _today(), "--to", _today(), "--as", OFFICER, ok=False)
    assert (
        f"case {decided['unpaid']}: the municipality Sundsvall has no municipality code" in
        refused.text
    )  # fmt: skip
    assert not (grants_home / "open-data").exists()


def test_without_an_open_data_section_nothing_is_published(
    decided: dict[str, str], grants_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (PROJECT_ROOT / "config" / "grants.toml").read_text(encoding="utf-8")
    section = text[text.index("[open_data]") : text.index("[office]")]
    config = tmp_path / "grants.toml"
    config.write_text(text.replace(section, ""), encoding="utf-8")
    monkeypatch.setenv("GRANTS_CONFIG", str(config))
    refused = grants("open-data", "--from", _today(), "--to", _today(), "--as", OFFICER, ok=False)
    assert "the configuration needs its [open_data] section" in refused.text
    config.write_text(text.replace('prefix = "rol"', 'prefix = "360G-rol"'), encoding="utf-8")
    refused = grants("open-data", "--from", _today(), "--to", _today(), "--as", OFFICER, ok=False)
    assert "[open_data] prefix: '360G-rol' starts with 360G-: write the prefix" in refused.text


def test_the_decision_maker_downloads_the_package_from_the_delegation_report(
    decided: dict[str, str], grants_home: Path, office
) -> None:
    sign_in(office, DECISION_MAKER)
    page = office.get("/delegation-report", params={"first": _today(), "last": _today()})
    assert "Öppna data (360Giving)" in page.text
    form = {"first": _today(), "last": _today()}
    package = post(office, "/open-data", form | {"format": "json"})
    assert package.status_code == 200
    assert f"360giving-rol-{_today()}--{_today()}.json" in package.headers["content-disposition"]
    assert schema_faults(package.json()) == []
    assert len(package.json()["grants"]) == 3
    table = post(office, "/open-data", form | {"format": "csv"})
    assert table.text.splitlines()[0] == ",".join(f'"{t}"' if "," in t else t for t in TITLES)
    refused = post(office, "/open-data", form | {"first": "2026-02-30"})
    assert refused.status_code == 422
    assert "Första dag: Ange datumet som ÅÅÅÅ-MM-DD." in refused.text


def test_the_case_officer_downloads_the_grants_in_a_browser_from_a_page_that_meets_wcag(
    decided: dict[str, str], live_office, chromium, tmp_path: Path
) -> None:
    from tests.test_office_browser import accessibility_violations, browser_sign_in

    base = live_office.state.base_url
    context = chromium.new_context(
        locale="sv-SE", viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    browser_sign_in(page, base, OFFICER)
    page.goto(f"{base}/delegation-report?first={_today()}&last={_today()}")
    page.get_by_role("heading", name="Öppna data (360Giving)").wait_for()
    assert accessibility_violations(page) == []
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Ladda ner bidragen (360Giving, JSON)").press("Enter")
    download = downloading.value
    assert download.suggested_filename == f"360giving-rol-{_today()}--{_today()}.json"
    package = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert schema_faults(package) == []
    assert len(package["grants"]) == 3
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Ladda ner bidragen (360Giving, CSV)").press("Enter")
    header = Path(downloading.value.path()).read_text(encoding="utf-8").splitlines()[0]
    assert next(csv.reader([header])) == TITLES
    context.close()
