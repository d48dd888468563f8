"""The committee's statistics: figures from a case database built through the real steps
(intake, checklist, reviews, draft, signature, acceptance, payment), compared with what a
person counts by hand; a cell of fewer than five suppressed, also against subtraction from
the total; the committee's role reads the statistics and no case; the page in Chromium
with axe, and the annual report read back from its PDF.

The applications are the ten samples, moved to three municipalities: six in Örebro, three
in Kumla, one in Laxå. Nine are decided (all today, well before the day promised): seven
grants (five in Örebro, 145 000 kr; 25 000 kr in Kumla; 20 000 kr in Laxå) and two
refusals (Örebro, Kumla); two Örebro grants are paid in full (60 000 kr).
"""

import csv
import io
import json
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlmodel import select

from flows.intake import intake
from grants.embedded import run_flow
from grants.settings import load
from models import clock
from models.access import StatisticsOnly, case_to_read, visible_cases
from models.db import transaction
from models.statistics import FEWER, PROTECTING, statistics
from models.tables import STOCKHOLM, Case, Person, Recommendation, Role
from tests.conftest import SAMPLES, MadeOnce
from tests.helpers import DECISION_MAKER, OFFICER, grants, pdf_pages
from tests.office import sign_in
from tests.test_decisions import person
from tests.test_open_data import FINANCE, _paid, _signed

COMMITTEE = "anders.nyberg@regionorebrolan.example.se"  # a member of the Cultural Affairs Committee
YEAR = 2026  # the samples' applications came in in 2026
MUNICIPALITIES = {
    **dict.fromkeys(("0101", "0103", "0104", "0105", "0106", "0109"), "Örebro"),
    **dict.fromkeys(("0102", "0107", "0108"), "Kumla"),
    "0110": "Laxå",
}
GRANTED = {
    "0101": 30_000, "0104": 30_000, "0105": 30_000, "0106": 30_000, "0109": 25_000,
    "0107": 25_000, "0110": 20_000,
}  # fmt: skip
REFUSED = ("0103", "0108")  # 0102 is not decided: Activa, a reviewer, is its partner
PAID = ("0101", "0105")
TALK_DAY = date(YEAR, 12, 17)  # a Community Talk later this year; none held before it


def _applications(folder: Path) -> Path:
    """The ten sample applications, each in the municipality above."""
    records = [
        *json.loads((SAMPLES / "applications.json").read_text(encoding="utf-8")),
        *json.loads((SAMPLES / "demo_more.json").read_text(encoding="utf-8")),
    ]
    for record in records:
        record["municipality"] = MUNICIPALITIES[record["submission_id"][-4:]]
    path = folder / "applications.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def figures_home(made_once: MadeOnce, grants_home: Path, tmp_path: Path) -> dict[str, str]:
    """The case database described above; returns the case references by sample number."""

    def make() -> dict[str, str]:
        run_flow(intake, path=str(_applications(tmp_path)), send_letters=False)
        references = {
            number: _signed(f"SI-2026-{number}", Recommendation.partly_granted, amount)
            for number, amount in GRANTED.items()
        }
        for number in REFUSED:
            references[number] = _signed(f"SI-2026-{number}", Recommendation.refused, None)
        with transaction(load().db_url) as session:
            session.add(
                Person(name="Frida Ekman", email=FINANCE, role=Role.finance,
                       organisation="Region Örebro län")
            )  # fmt: skip
            session.flush()
            for number in PAID:
                _paid(session, references[number])
        grants("people", "add", "--name", "Anders Nyberg", "--email", COMMITTEE, "--role",
               "committee", "--organisation", "Kulturnämnden", "--as", OFFICER)  # fmt: skip
        for held_on in (TALK_DAY, date(YEAR + 2, 3, 16)):  # this year's, and one far ahead
            grants("talk", "add", "--date", held_on.isoformat(), "--time", "14:00", "--ends",
                   "16:00", "--theme", "Samtal", "--theme-en", "Talk", "--venue", "Kulturhuset",
                   "--address", "Fredsgatan 18, 702 10 Örebro", "--as", OFFICER)  # fmt: skip
        return references

    return made_once("statistics-figures", make)


def _table(figures, name: str) -> dict[str, tuple]:
    table = figures.table(name)
    rows = {row.label: tuple(c.value for c in row.cells) for row in table.rows}
    if table.total is not None:
        rows["total"] = tuple(c.value for c in table.total.cells)
    return rows


def _figures(first: date, last: date):
    with transaction(load().db_url) as session:
        return statistics(session, first, last, clock.today())


def test_the_figures_of_the_year_are_what_the_case_database_holds_counted_by_hand(
    figures_home: dict[str, str],
) -> None:
    figures = _figures(date(YEAR, 1, 1), date(YEAR, 12, 31))

    assert _table(figures, "applications_by_call") == {"SI-2026": (10,), "total": (10,)}
    assert _table(figures, "applications_by_municipality") == {
        "Örebro kommun": (6,),
        "Kumla kommun": (None,),  # 3: fewer than five
        "Laxå kommun": (None,),  # 1
        "total": (10,),
    }
    assert _table(figures, "outcomes") == {
        "granted": (0,),
        "partly_granted": (None,),  # 7, hidden so that the 2 cannot be worked out
        "refused": (None,),  # 2: fewer than five, and no other row counts 1 to 4
        "dismissed": (0,),
        "closed": (0,),
        "total": (9,),
    }
    assert figures.table("outcomes").rows[1].cells[0].hidden == PROTECTING
    assert _table(figures, "promise") == {"on_time": (9,), "late": (0,), "total": (9,)}
    days = _table(figures, "decision_days")
    assert days["share_on_time"] == (100,)
    with transaction(load().db_url) as session:
        cases = session.exec(select(Case).where(Case.case_reference.in_(figures_home.values())))
        taken = sorted((clock.today() - c.date_received).days for c in cases)
    assert days["median_days"] == (taken[4],)  # the fifth of nine
    assert _table(figures, "money_by_municipality") == {
        "Örebro kommun": (5, 145_000, 60_000),  # five grants; two paid in full
        "Kumla kommun": (None, None, None),  # one grant: its amounts hidden with it
        "Laxå kommun": (None, None, None),
        "total": (7, 190_000, 60_000),
    }
    assert _table(figures, "community_talks") == {"talks_held": (0,), "projects_presented": (0,)}
    assert _table(figures, "impact") == {  # no final report nor follow-up yet: nothing won
        "projects": (7,),
        "granted_kronor": (190_000,),
        "further_funding_won": (0,),
        "leverage": (0,),
        "followed_up": (0,),
        "still_running": (0,),
    }
    with clock.simulated():  # the Talk's day has come: it is held, the one ahead is not
        clock.move_to(datetime.combine(TALK_DAY, time(16), STOCKHOLM))
        later = _figures(date(YEAR, 1, 1), date(YEAR + 2, 12, 31))
    assert _table(later, "community_talks")["talks_held"] == (1,)


def test_a_municipality_with_three_applications_is_fewer_than_five_and_not_the_total_less_the_rest(
    figures_home: dict[str, str],
) -> None:
    """Up to 24 November only Örebro (6) and Kumla (3) have applied: Kumla is "fewer than
    5", and as 9 − 6 would give it back, Örebro is hidden too; the total stays."""
    figures = _figures(date(YEAR, 1, 1), date(YEAR, 11, 24))
    table = figures.table("applications_by_municipality")
    assert [(r.label, r.cells[0].value, r.cells[0].hidden) for r in table.rows] == [
        ("Örebro kommun", None, PROTECTING),
        ("Kumla kommun", None, FEWER),
    ]
    assert table.total is not None and table.total.cells[0].value == 9

    bad = grants("statistics", "--year", "1999", "--as", COMMITTEE, ok=False)
    assert bad.exit_code == 2 and "--year 1999" in bad.text
    said = grants("statistics", "--year", str(YEAR), "--as", COMMITTEE).text
    assert "Kumla kommun | fewer than 5" in said
    assert "Örebro kommun | 6" in said  # the whole year: Laxå's 1 keeps two rows hidden
    for reference in figures_home.values():
        assert reference not in said


def test_the_committee_reads_the_statistics_and_is_refused_every_case(
    figures_home: dict[str, str], office
) -> None:
    reference = figures_home["0101"]
    with transaction(load().db_url) as session:
        member = person(session, COMMITTEE)
        with pytest.raises(StatisticsOnly, match="reads the committee's statistics"):
            case_to_read(session, reference, member)
        assert visible_cases(session, member) == []
    refused = grants("status", reference, "--as", COMMITTEE, ok=False)
    assert refused.exit_code == 2 and "Anders Nyberg" in refused.text

    sign_in(office, COMMITTEE)
    assert office.get("/tasks", follow_redirects=False).headers["location"] == "/statistics"
    for url in (f"/cases/{reference}", "/cases", "/dashboard", "/delegation-report", "/talks"):
        assert office.get(url).status_code == 403, url
    page = office.get(f"/statistics?year={YEAR}")
    assert page.status_code == 200
    assert "Örebro kommun" in page.text and "färre än 5" in page.text
    for case_reference in figures_home.values():
        assert case_reference not in page.text
    assert "Föreningen" not in page.text and "förening" not in page.text  # no applicant named
    assert "360Giving" not in page.text  # publishing open data is the officers'

    sign_in(office, OFFICER)
    page = office.get(f"/statistics?year={YEAR}")
    assert page.status_code == 200 and "360Giving" in page.text


def test_the_annual_report_is_a_swedish_pdf_with_the_same_figures(
    figures_home: dict[str, str], office, tmp_path: Path
) -> None:
    report, table = tmp_path / "arsrapport.pdf", tmp_path / "siffror.csv"
    grants("statistics", "--year", str(YEAR), "--pdf", str(report), "--csv", str(table),
           "--as", DECISION_MAKER)  # fmt: skip
    text = " ".join(pdf_pages(report.read_bytes()))
    for expected in (
        f"Årsrapport {YEAR}",
        "Region Örebro län",
        "Inkomna ansökningar per kommun",
        "Örebro kommun 6",
        "Kumla kommun färre än 5",
        "Beviljat och utbetalt per kommun",
        "145 000 kr",
        "190 000 kr",
        "60 000 kr",
        "Senast utlovat datum 9",
        "Vad bidragen ledde till",
        "Annan finansiering per beviljad krona 0,00",
    ):
        assert expected in text, expected
    for reference in figures_home.values():
        assert reference not in text
    rows = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    kumla = [r["värde"] for r in rows if r["rad"] == "Kumla kommun"]
    assert kumla and set(kumla) <= {"färre än 5", "visas inte"}

    sign_in(office, COMMITTEE)
    downloaded = office.get(f"/statistics/annual-report.pdf?year={YEAR}")
    assert downloaded.headers["content-type"] == "application/pdf"
    assert f'filename="arsrapport-{YEAR}.pdf"' in downloaded.headers["content-disposition"]
    assert "Örebro kommun 6" in " ".join(pdf_pages(downloaded.content))


@pytest.mark.browser
def test_the_statistics_page_in_chromium_meets_wcag_with_a_chart_beside_each_table(
    figures_home: dict[str, str], live_office, chromium, tmp_path: Path
) -> None:
    from tests.test_office_browser import (
        accessibility_violations,
        browser_sign_in,
        keep_screenshot,
    )

    base = live_office.state.base_url
    desk = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    browser_sign_in(page, base, COMMITTEE, start="Statistik för nämnden")
    page.goto(f"{base}/statistics?year={YEAR}")
    page.get_by_role("heading", name="Statistik för nämnden").wait_for()
    assert accessibility_violations(page) == []
    charts = page.get_by_role("img")
    assert charts.count() == 5  # none for the days, the Talks and the impact: a figure each
    assert page.get_by_role("img", name="Inkomna ansökningar per kommun: Ansökningar").count() == 1
    assert page.get_by_role("table").count() == 8
    assert page.get_by_role("heading", name="Vad bidragen ledde till").count() == 1
    keep_screenshot(page, "statistics", tmp_path)
    page.get_by_label("År").fill("tjug")
    page.get_by_role("button", name="Visa siffrorna").press("Enter")
    page.locator("#statistics-year-error").wait_for()
    assert "”tjug”" in page.inner_text("main")
    assert accessibility_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 667})  # on a phone: nothing sideways
    page.goto(f"{base}/statistics?year={YEAR}")
    page.get_by_role("heading", name="Statistik för nämnden").wait_for()
    keep_screenshot(page, "statistics-phone", tmp_path)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="In English").press("Enter")
    page.get_by_role("heading", name="Statistics for the committee").wait_for()
    assert "fewer than 5" in page.inner_text("main")
    assert accessibility_violations(page) == []
    desk.close()
