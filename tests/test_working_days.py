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


def test_every_date_an_applicant_must_act_by_is_a_working_day() -> None:
    """One rule for every computed due date, checked against an independent calendar (the
    `holidays` package) for every possible project end and request day over seven years."""
    import holidays

    from models.decisions import final_report_due
    from models.working_days import applicant_due

    oracle = holidays.SE(years=range(2026, 2036), categories=("public", "de_facto"))

    def working(day: date) -> bool:
        return day.weekday() < 5 and day not in oracle

    day = date(2026, 1, 1)
    while day < date(2033, 1, 1):
        assert working(final_report_due(day, 2)), day
        assert working(add_working_days(day, 10)), day
        assert working(applicant_due(day)), day
        assert applicant_due(day) == day or not working(day)
        day += timedelta(days=1)
    # The demo's Kumla project ends 29 February 2028: its report was due on Saturday 29 April.
    assert final_report_due(date(2028, 2, 29), 2) == date(2028, 5, 2)
    assert final_report_due(date(2027, 10, 31), 2) == date(2028, 1, 3)  # not New Year's Eve
