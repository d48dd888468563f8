import json
from datetime import date

import pytest

from models.tables import Call
from models.validation import (
    InvalidApplication,
    parse_amount,
    validate_application,
)
from tests.conftest import SAMPLES

TODAY = date(2026, 11, 23)
CALL = Call(
    code="T",
    name="Test",
    budget=500_000,
    minimum_grant=20_000,
    maximum_grant=50_000,
    closed_months=[7, 12],
    guidelines_version="1",
)


def sample(**changes: object) -> dict:
    record = json.loads((SAMPLES / "applications.json").read_text())[0]
    return record | changes


def faults(record: dict) -> dict[str, str]:
    with pytest.raises(InvalidApplication) as refused:
        validate_application(record, CALL, TODAY)
    return {f.field: f"{f.value!r}: {f.reason}" for f in refused.value.faults}


def test_every_sample_application_is_valid() -> None:
    for record in json.loads((SAMPLES / "applications.json").read_text()):
        validate_application(record, CALL, TODAY)


def test_fields_are_normalised() -> None:
    valid = validate_application(
        sample(
            email="  Anna.Berg@Example.SE ",
            municipality="örebro kommun",
            language="English",
            requested_amount="35 000 kr",
            organisation_number="8024763156",
        ),
        CALL,
        TODAY,
    )
    assert valid.organisation["email"] == "Anna.Berg@example.se"
    assert valid.organisation["municipality"] == "Örebro"
    assert valid.organisation["organisation_number"] == "802476-3156"
    assert valid.language == "en"
    assert valid.project["requested_amount"] == 35_000


@pytest.mark.parametrize(
    ("text", "kronor"),
    [
        ("50000", 50_000),
        ("50 000", 50_000),
        ("50\u00a0000 kr", 50_000),
        ("SEK 50,000", 50_000),
        ("50000,00", 50_000),
        ("20.000:-", 20_000),
        (35000, 35_000),
        (35000.0, 35_000),
    ],
)
def test_amounts_as_people_write_them(text: object, kronor: int) -> None:
    assert parse_amount(text) == kronor


def test_each_fault_names_field_value_and_reason() -> None:
    found = faults(
        sample(
            email="info@@forening.example.se",
            organisation_number="802476-3157",
            municipality="Västerås",
            requested_amount="femtiotusen",
            project_start="15/3/2027",
            contact_person="  ",
        )
    )
    assert set(found) == {
        "email",
        "organisation_number",
        "municipality",
        "requested_amount",
        "project_start",
        "contact_person",
    }
    assert "'info@@forening.example.se'" in found["email"]
    assert "check digit" in found["organisation_number"]
    assert "'Västerås'" in found["municipality"] and "Örebro county" in found["municipality"]
    assert "'femtiotusen'" in found["requested_amount"]
    assert "YYYY-MM-DD" in found["project_start"]
    assert "required" in found["contact_person"]


def test_amount_outside_the_calls_range_is_refused() -> None:
    assert "between 20000 and 50000" in faults(sample(requested_amount=75_000))["requested_amount"]
    assert "between 20000 and 50000" in faults(sample(requested_amount=15_000))["requested_amount"]


def test_co_financing_must_at_least_equal_the_amount() -> None:
    found = faults(sample(requested_amount=40_000, co_financing_cash=5_000, co_financing_hours=60))
    assert "5000 kr in cash plus 60 h × 330 kr = 24800 kr" in found["co_financing_cash"]
    # 20 000 in cash and 61 hours at 330 kr = 40 130 kr: enough.
    validate_application(
        sample(requested_amount=40_000, co_financing_cash=20_000, co_financing_hours=61),
        CALL,
        TODAY,
    )


def test_the_call_is_closed_in_july_and_december() -> None:
    found = faults(sample(submitted_at="2026-07-08", project_start="2027-01-15"))
    assert "closed for applications in July and December" in found["submitted_at"]


def test_project_dates() -> None:
    assert (
        "before project_start"
        in faults(sample(project_start="2027-03-01", project_end="2026-11-30"))["project_end"]
    )
    assert (
        "at most 24 months"
        in faults(sample(project_start="2027-03-01", project_end="2029-12-31"))["project_end"]
    )
    assert (
        "before the application was received"
        in faults(sample(project_start="2026-01-10"))["project_start"]
    )
    assert "future" in faults(sample(submitted_at="2026-11-30"))["submitted_at"]


def test_legal_form_and_organisation_number_must_agree() -> None:
    found = faults(sample(legal_form="aktiebolag", organisation_number="556036-0793"))
    assert "not a legal form of civil society" in found["legal_form"]
    found = faults(sample(legal_form="stiftelse", organisation_number="556036-0793"))
    assert "does not belong to a stiftelse" in found["organisation_number"]


def test_missing_organisation_number_is_a_warning_for_a_new_association_only() -> None:
    valid = validate_application(sample(organisation_number=""), CALL, TODAY)
    assert "no_organisation_number" in valid.warnings
    assert (
        "required for a stiftelse"
        in faults(sample(organisation_number="", legal_form="stiftelse"))["organisation_number"]
    )


def test_partners_as_text_or_list() -> None:
    valid = validate_application(
        sample(partners="Lindesbergs kommun: lokaler; Coompanion Mälardalen: rådgivning"),
        CALL,
        TODAY,
    )
    assert valid.project["partners"] == [
        {"name": "Lindesbergs kommun", "support": "lokaler"},
        {"name": "Coompanion Mälardalen", "support": "rådgivning"},
    ]
    assert "no_partners" in validate_application(sample(partners=[]), CALL, TODAY).warnings
