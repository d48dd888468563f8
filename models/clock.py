"""The time the domain goes by: real time, unless a simulation moves it on.

Every record of the case (audit events, file notes, letters, e-mails) is dated by `now()`.
The demo runs a call's weeks on a simulated clock, so that a file note is written after its
meeting and a deadline passes before the sweep acts on it: a demo that dated a meeting's
note before the meeting was held would be a false record (Förvaltningslagen 27 §).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_STOCKHOLM = ZoneInfo("Europe/Stockholm")
_offset = timedelta(0)


def now() -> datetime:
    """The current time (UTC), as the domain sees it."""
    return datetime.now(UTC) + _offset


def today() -> date:
    """Today in Sweden, as the domain sees it."""
    return now().astimezone(_STOCKHOLM).date()


def move_to(moment: datetime) -> None:
    """Move the simulated clock on to `moment` (never back: records keep their order)."""
    global _offset
    _offset = max(_offset, moment - datetime.now(UTC))


@contextmanager
def simulated() -> Iterator[None]:
    """A simulation that starts at the real time and ends back on it."""
    global _offset
    try:
        yield
    finally:
        _offset = timedelta(0)
