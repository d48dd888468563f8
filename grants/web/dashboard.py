"""Översikt: the dashboard of the case officer and the decision maker.

The charts are drawn here, on the server, as SVG (no script in the page); each stands
beside a table of the same figures, which is what a screen reader reads. Bars are
measured here so that the template only places them.
"""

from dataclasses import dataclass

from fastapi import APIRouter, Request

from grants.steps import DECISION_MAKERS, OFFICERS, reading
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.i18n import current_language
from grants.web.labels import label
from grants.web.pages import render
from models import clock
from models.dashboard import Budget, budgets, cases_by_state, lead_times, overdue_tasks

router = APIRouter()
DASHBOARD_READERS = OFFICERS + DECISION_MAKERS
BAR_WIDTH = 300  # the longest bar of a chart, in the SVG's units
BUDGET_WIDTH = 540  # the budget's one bar


@dataclass(frozen=True)
class Bar:
    value: int
    length: float  # in the SVG's units


def bars(items: list[tuple[str, int]]) -> list[tuple[str, Bar]]:
    """Each named value as a bar, the longest `BAR_WIDTH` long."""
    top = max((value for _, value in items), default=0) or 1
    return [(name, Bar(value, round(value * BAR_WIDTH / top, 1))) for name, value in items]


def days_text(days: float | None) -> str:
    """A median of days as a person writes it: 41, or 41,5 in Swedish."""
    if days is None:
        return ""
    text = f"{days:g}" if days == int(days) else f"{days:.1f}"
    return text.replace(".", ",") if current_language() == "sv" else text


def budget_bars(budget: Budget) -> dict[str, float]:
    """The budget's one bar cut into granted, proposed in drafts and left (never below 0)."""
    whole = max(budget.call.budget, budget.granted + budget.in_drafts) or 1
    granted = round(budget.granted * BUDGET_WIDTH / whole, 1)
    in_drafts = round(budget.in_drafts * BUDGET_WIDTH / whole, 1)
    left = round(BUDGET_WIDTH - granted - in_drafts, 1)
    return {"granted": granted, "in_drafts": in_drafts, "left": left}


@router.get("/dashboard")
def dashboard(request: Request, office: OfficeDep, person: CurrentPerson):
    """The budget, the cases by state, the overdue tasks and the time to a decision."""
    today = clock.today()
    with reading(office.settings, person.email, DASHBOARD_READERS) as (session, reader):
        calls = [(b, budget_bars(b)) for b in budgets(session)]
        states = cases_by_state(session, reader)
        overdue = overdue_tasks(session, reader, today)
        times = lead_times(session, reader, today)
        holders: dict[str, int] = {}
        for item in overdue:
            holders[item.holder.name] = holders.get(item.holder.name, 0) + 1
        longest = max([1] + [max(t.days, t.promised_days) for t in times.recent])
        context = {
            "person": reader,
            "today": today,
            "calls": calls,
            "states": states,
            "state_rows": bars([(label(state), count) for state, count in states]),
            "overdue": overdue,
            "holder_rows": bars(sorted(holders.items())),
            "times": times,
            "median_days": days_text(times.median_days),
            "scale": BAR_WIDTH / longest,
        }
        return render(request, "dashboard.html", context)
