"""The committee's statistics: the page "Statistik" for the case officers, the decision
maker and the members of the committee (who see nothing else), with a chart beside each
table, and the annual report (PDF) and its CSV to download, made as `grants statistics`
makes them."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from grants.statistics import (
    SUPPRESSION_NOTE,
    Wording,
    statistics_csv,
    statistics_name,
    statistics_pdf,
)
from grants.steps.statistics import read_statistics
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.i18n import _, current_language
from grants.web.office import Office
from grants.web.pages import render
from models import clock
from models.statistics import calendar_year

router = APIRouter()
FILES = {".pdf": "application/pdf", ".csv": "text/csv; charset=utf-8"}
FIRST_YEAR = 2000
YearQuery = Annotated[str, Query(max_length=4)]


def _year(given: str) -> int | None:
    """The year asked for, this year where none is; None where it is not a year."""
    if not given:
        return clock.today().year
    if given.isdigit() and FIRST_YEAR <= int(given) <= clock.today().year + 1:
        return int(given)
    return None


@router.get("/statistics")
def statistics_page(
    request: Request, office: OfficeDep, person: CurrentPerson, year: YearQuery = ""
):
    """The figures of a calendar year, each table with its chart; a year that is not one is
    said at the field, with this year's figures shown."""
    chosen = _year(year)
    error = None
    if chosen is None:
        error = _("Year “%(year)s”: give a year from %(first)s to %(last)s.") % {
            "year": year,
            "first": FIRST_YEAR,
            "last": clock.today().year + 1,
        }
        chosen = clock.today().year
    figures = read_statistics(office.settings, person.email, *calendar_year(chosen))
    words = Wording(current_language())
    context = {
        "person": person,
        "year": chosen,
        "asked": year or str(chosen),
        "tables": words.tables(figures),
        "note": words(SUPPRESSION_NOTE),
        "error": error,
    }
    return render(request, "statistics.html", context, 422 if error else 200)


@router.get("/statistics/annual-report.pdf")
def annual_report_pdf(office: OfficeDep, person: CurrentPerson, year: YearQuery = "") -> Response:
    return _file(office, person.email, year, ".pdf")


@router.get("/statistics/figures.csv")
def statistics_csv_file(office: OfficeDep, person: CurrentPerson, year: YearQuery = "") -> Response:
    return _file(office, person.email, year, ".csv")


def _file(office: Office, email: str, year: str, suffix: str) -> Response:
    """The annual report or its CSV, as the committee gets it from the command line."""
    chosen = _year(year)
    if chosen is None:
        return Response(_("Give the year as four digits."), 422, media_type="text/plain")
    figures = read_statistics(office.settings, email, *calendar_year(chosen))
    if suffix == ".pdf":
        content = statistics_pdf(office.settings, figures)
    else:
        content = statistics_csv(figures)
    name = statistics_name(figures.first, figures.last, suffix)
    return Response(
        content,
        media_type=FILES[suffix],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
