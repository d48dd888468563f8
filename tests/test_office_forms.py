"""What people type into the office's forms is read as they mean it, or refused with why
(in Swedish, the office's default language)."""

import pytest

from grants.web.form_values import UnreadableForm, amount, lines


@pytest.mark.parametrize("typed", ["40 000", "40000", "40\u00a0000 kr", " 40000kr "])
def test_amounts_are_read_as_people_write_them(typed: str) -> None:
    assert amount(typed) == 40_000


@pytest.mark.parametrize("typed", ["35000²", "10①", "٣٥٠٠٠", "-5000", "4O 000", "40,5"])
def test_only_ascii_digits_make_an_amount(typed: str) -> None:
    with pytest.raises(UnreadableForm, match="hela kronor"):
        amount(typed)


def test_an_empty_amount_is_none_and_lines_drop_blanks() -> None:
    assert amount("  ") is None
    assert lines("Allmänna arvsfonden\n\n  Mikrofonden Mälardalen  \n") == [
        "Allmänna arvsfonden",
        "Mikrofonden Mälardalen",
    ]
