from datetime import date, timedelta

import pytest

from models.working_days import (
    add_working_days,
    days_off,
    easter_sunday,
    is_working_day,
    next_working_day,
    subtract_working_days,
)


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_the_swedish_days_off_of_2026() -> None:
    off = days_off(2026)
    assert off[date(2026, 4, 3)] == "långfredagen"
    assert off[date(2026, 5, 14)] == "Kristi himmelsfärds dag"
    assert off[date(2026, 6, 19)] == "midsommarafton"
    assert off[date(2026, 10, 31)] == "alla helgons dag"
    assert off[date(2026, 12, 24)] == "julafton"
    assert not is_working_day(date(2026, 1, 6))  # trettondedag jul, a Tuesday
    assert is_working_day(date(2026, 1, 7))


def test_ten_working_days_over_christmas_and_new_year() -> None:
    # From Friday 18 December 2026: 21, 22, 23, 28, 29, 30 Dec, 4, 5, 7, 8 Jan (6 Jan off).
    assert add_working_days(date(2026, 12, 18), 10) == date(2027, 1, 8)


def test_over_easter_and_midsummer() -> None:
    # Thursday 25 March 2027 + 3: Good Friday 26th and Easter Monday 29th are off.
    assert add_working_days(date(2027, 3, 25), 3) == date(2027, 4, 1)
    # Thursday 24 June 2027 + 1: Midsummer Eve is Friday the 25th.
    assert add_working_days(date(2027, 6, 24), 1) == date(2027, 6, 28)
    assert next_working_day(date(2027, 6, 25)) == date(2027, 6, 28)


def test_no_deadline_ever_falls_on_a_day_off() -> None:
    start = date(2026, 1, 1)
    for offset in range(0, 800, 3):
        for count in (1, 5, 10, 15):
            deadline = add_working_days(start + timedelta(days=offset), count)
            assert is_working_day(deadline), deadline


def test_reminder_day_counts_back() -> None:
    assert subtract_working_days(date(2027, 1, 8), 3) == date(2027, 1, 4)
