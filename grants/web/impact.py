"""The impact register (Effekter) for the case officer and the decision maker: what each
funded project led to, the figures per call and over the years, and the register as CSV.
A read (`grants.steps.reading`): nothing is changed; a case where the reader declared a
conflict of interest is left out, as in the delegation report."""

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from grants.render import format_decimal
from grants.steps import DECISION_MAKERS, OFFICERS, reading
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.i18n import _, current_language
from grants.web.pages import render
from models.access import conflicted_case_ids
from models.impact import (
    ImpactRow,
    calls_of,
    figures_of,
    impact_register,
    period_of,
    register_csv,
    years_of,
)
from models.tables import Case, Person

router = APIRouter()
IMPACT_READERS = OFFICERS + DECISION_MAKERS
YearQuery = Annotated[str, Query(max_length=4)]


@router.get("/impact")
def impact_page(request: Request, office: OfficeDep, person: CurrentPerson, year: YearQuery = ""):
    """The register of the grants decided in `year` (all years without one), its figures
    per call, and the figures of each year."""
    chosen = _year(year)
    with reading(office.settings, person.email, IMPACT_READERS) as (session, reader):
        rows = _visible(session, reader, impact_register(session, *period_of(chosen)))
        per_call = calls_of(session, rows, *period_of(chosen))
        years = years_of(_visible(session, reader, impact_register(session, *period_of(None))))
    context = {
        "person": reader,
        "year": chosen,
        "typed_year": year,
        "rows": rows,
        "total": figures_of(rows, *period_of(chosen)),
        "per_call": per_call,
        "years": years,
        "leverage": format_leverage,
        "error": _("Year: “%(year)s” is not a year.") % {"year": year}
        if year and chosen is None
        else None,
    }
    return render(request, "impact.html", context, 422 if context["error"] else 200)


@router.get("/impact.csv")
def impact_csv(office: OfficeDep, person: CurrentPerson, year: YearQuery = "") -> Response:
    """The register as the page shows it, as CSV."""
    chosen = _year(year)
    with reading(office.settings, person.email, IMPACT_READERS) as (session, reader):
        rows = _visible(session, reader, impact_register(session, *period_of(chosen)))
    name = f"impact-{chosen or 'all'}.csv"
    return Response(
        register_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def format_leverage(value: Decimal) -> str:
    """Kronor won per krona granted, two decimals, as the page's language writes them."""
    return format_decimal(value, current_language())


def _year(typed: str) -> int | None:
    """The year asked for; None for every year (or a year that is none)."""
    text = typed.strip()
    return int(text) if text.isdigit() and 1900 <= int(text) <= 9999 else None


def _visible(session: Session, reader: Person, rows: list[ImpactRow]) -> list[ImpactRow]:
    """Without the cases where the reader declared a conflict of interest."""
    hidden = {
        case.case_reference
        for case in (session.get(Case, i) for i in conflicted_case_ids(session, reader))
    }
    return [row for row in rows if row.case_reference not in hidden]
