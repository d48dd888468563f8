"""Swedish working days, for deadlines given in days.

Lag (1930:173) om beräkning av lagstadgad tid: a deadline that would fall on a Saturday,
a Sunday, a public holiday, Midsummer Eve, Christmas Eve or New Year's Eve moves to the
next working day. The same days are skipped when counting working days.
"""

import calendar
from datetime import date, timedelta
from functools import cache


def easter_sunday(year: int) -> date:
    """Gregorian Easter (the anonymous algorithm of Meeus, Jones and Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday) // 451
    month, day = divmod(h + weekday - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_weekday(start: date, weekday: int) -> date:
    """The first `weekday` (Monday 0 … Sunday 6) on or after `start`."""
    return start + timedelta(days=(weekday - start.weekday()) % 7)


@cache
def days_off(year: int) -> dict[date, str]:
    """Public holidays and the eves the law treats alike, weekdays or not."""
    easter = easter_sunday(year)
    midsummer_eve = _first_weekday(date(year, 6, 19), 4)  # Friday 19–25 June
    return {
        date(year, 1, 1): "nyårsdagen",
        date(year, 1, 6): "trettondedag jul",
        easter - timedelta(days=2): "långfredagen",
        easter: "påskdagen",
        easter + timedelta(days=1): "annandag påsk",
        date(year, 5, 1): "första maj",
        easter + timedelta(days=39): "Kristi himmelsfärds dag",
        easter + timedelta(days=49): "pingstdagen",
        date(year, 6, 6): "Sveriges nationaldag",
        midsummer_eve: "midsommarafton",
        midsummer_eve + timedelta(days=1): "midsommardagen",
        _first_weekday(date(year, 10, 31), 5): "alla helgons dag",  # Saturday 31 Oct–6 Nov
        date(year, 12, 24): "julafton",
        date(year, 12, 25): "juldagen",
        date(year, 12, 26): "annandag jul",
        date(year, 12, 31): "nyårsafton",
    }


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in days_off(day.year)


def next_working_day(day: date) -> date:
    """`day` itself if it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(start: date, count: int) -> date:
    """The working day `count` working days after `start` (start itself not counted)."""
    day = start
    for _ in range(count):
        day = next_working_day(day + timedelta(days=1))
    return day


def subtract_working_days(end: date, count: int) -> date:
    """The working day `count` working days before `end`."""
    day = end
    for _ in range(count):
        day -= timedelta(days=1)
        while not is_working_day(day):
            day -= timedelta(days=1)
    return day


def applicant_due(day: date) -> date:
    """The one rule for every date an applicant must act by, and every date we promise:
    a computed date that falls on a day off moves to the next working day (lag 1930:173).

    Deadlines counted in working days already end on one; dates counted in weeks or
    months (a final report, an expected decision) go through here.
    """
    return next_working_day(day)


def months_after(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day if it is shorter."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
