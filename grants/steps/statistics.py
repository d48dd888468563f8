"""The committee's statistics, read by the case officers, the decision maker and the
members of the committee (`Role.committee`, who read nothing else): the page, the annual
report and `grants statistics` all read them here.

The figures are aggregates with every small cell suppressed (models.statistics), so they
count every case, a case in which the reader declared a conflict of interest too: no case
is shown, and leaving it out would make the committee's figures depend on who made them.
"""

from datetime import date

from grants.settings import Settings
from grants.steps.layer import DECISION_MAKERS, OFFICERS, reading
from models import clock
from models.statistics import Statistics, calendar_year, statistics
from models.tables import Role

STATISTICS_READERS = (*OFFICERS, *DECISION_MAKERS, Role.committee)


def read_statistics(
    settings: Settings, actor_email: str | None, first: date | None = None, last: date | None = None
) -> Statistics:
    """The figures of `first`..`last`, this calendar year where no period is given; the
    reader must hold one of `STATISTICS_READERS`."""
    today = clock.today()
    default_first, default_last = calendar_year(today.year)
    with reading(settings, actor_email, STATISTICS_READERS) as (session, _reader):
        return statistics(session, first or default_first, last or default_last, today)
