import pytest

from models import identifiers
from models.identifiers import IdentifierError


@pytest.mark.parametrize("value", ["212000-0142", "556036-0793", "232100-0214", "2120000142"])
def test_valid_organisation_numbers_are_normalised(value: str) -> None:
    assert identifiers.organisation_number(value) == value[:6] + "-" + value[-4:]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("212000-0143", "check digit"),
        ("21200-0142", "10 digits"),
        ("880320-0016", "digits 3–4"),  # a personal number, not an organisation
        ("ABCDEF-GHIJ", "10 digits"),
    ],
)
def test_invalid_organisation_numbers_say_why(value: str, reason: str) -> None:
    with pytest.raises(IdentifierError, match=reason):
        identifiers.organisation_number(value)


def test_bankgiro_and_plusgiro_check_digits() -> None:
    assert identifiers.bankgiro("160-9908") == "160-9908"
    assert identifiers.bankgiro("50501501") == "5050-1501"
    with pytest.raises(IdentifierError, match="check digit"):
        identifiers.bankgiro("5050-1502")
    with pytest.raises(IdentifierError, match="7 or 8 digits"):
        identifiers.bankgiro("123-45")
    assert identifiers.plusgiro("4873121") == "487312-1"
    with pytest.raises(IdentifierError, match="check digit"):
        identifiers.plusgiro("487312-2")
