"""The case list and the dashboard (Översikt) in the office.

The list is searched, filtered, sorted and paged by plain links, and exported as a
spreadsheet Excel in Sweden opens as it is; neither the list nor the dashboard shows a case
the reader declared a conflict of interest in. The eight sample applications
(tests/conftest.py) are the known state: their amounts, municipalities, contact people and
organisation numbers are in samples/applications.json.

The dashboard's known state (`known_state`): the sample call with one signed decision
(SI-2026-0101, partly granted 30 000 kr of 35 000), one draft granting 20 000 kr with the
decision maker (SI-2026-0103), one case in review whose review is overdue (SI-2026-0105),
one undecided case past the date promised (SI-2026-0107), and four just received."""

import csv
import io
import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from grants.settings import load
from models import case_list, clock
from models.checklist import Finding, complete_checklist
from models.db import transaction
from models.rules import Rules
from models.states import CaseState
from models.tables import Answer, Case, Criterion, Person, Recommendation
from tests.helpers import ACTIVA, DECISION_MAKER, OFFICER
from tests.office import post
from tests.test_access import CONFLICTED, officer_conflicted  # noqa: F401  (fixture)
from tests.test_decisions import to_awaiting_decision
from tests.test_integrity import decided, signed_call  # noqa: F401  (fixtures)
from tests.test_office_review_decide import person_in_office, text

ROW = re.compile(r'<tr>\s*<td><a href="/cases/([^"]+)">')


def references() -> dict[str, str]:
    """Case reference by the sample's submission id."""
    with transaction(load().db_url) as session:
        return dict(session.exec(select(Case.submission_id, Case.case_reference)).all())


def listed(client: TestClient, query: str) -> list[str]:
    """The submission ids of the cases the list shows for `query`, in its order."""
    page = client.get(f"/cases?{query}")
    assert page.status_code == 200, page.text
    by_reference = {ref: sid for sid, ref in references().items()}
    return [by_reference[ref] for ref in ROW.findall(page.text)]


def ids(*numbers: int) -> list[str]:
    return [f"SI-2026-01{n:02}" for n in numbers]


def test_the_list_is_searched_by_contact_e_mail_and_organisation_number(
    sample_call: Path, office: TestClient
) -> None:
    maria = person_in_office(office, OFFICER)
    assert listed(maria, "q=Amina+Yusuf") == ids(5)  # the contact person
    assert listed(maria, "q=KFCC.example") == ids(8)  # the e-mail, any case
    assert listed(maria, "q=8025290738") == ids(3)  # the organisation number without hyphen
    assert listed(maria, "q=802529-0738") == ids(3)  # … and with it
    assert listed(maria, "q=Kryddg%C3%A5rden") == ids(5)  # the organisation, as before
    assert listed(maria, "q=") == ids(1, 2, 3, 4, 5, 6, 7, 8)


def test_the_list_is_filtered_sorted_and_paged_keeping_the_filters(
    sample_call: Path, office: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    maria = person_in_office(office, OFFICER)
    assert listed(maria, "municipality=Nora") == ids(3)
    assert listed(maria, "amount_from=40+000&amount_to=48000") == ids(2, 4, 5)
    assert listed(maria, "received_from=2026-10-01&received_to=2026-10-31") == ids(4, 5)
    assert listed(maria, "state=received&outcome=granted") == []  # nothing decided yet

    by_amount = "sort=applied&order=desc"
    assert listed(maria, by_amount) == ids(6, 5, 2, 4, 1, 7, 8, 3)
    page = text(maria.get(f"/cases?{by_amount}"))
    [sorted_column] = re.findall(
        r'<th scope="col"[^>]*aria-sort="(\w+)"[^>]*>\s*<a[^>]*>([^<]+)', page
    )
    assert (sorted_column[0], sorted_column[1].strip()) == ("descending", "Applied for")
    assert listed(maria, "sort=applicant") == ids(3, 4, 1, 8, 2, 5, 6, 7)  # by name, A to Ö
    assert listed(maria, "sort=received&order=desc") == ids(8, 7, 6, 5, 4, 3, 2, 1)

    monkeypatch.setattr(case_list, "PAGE_SIZE", 3)
    asked = "amount_from=25000&sort=applied"  # seven cases: 3 + 3 + 1
    assert listed(maria, asked) == ids(8, 7, 1)
    assert listed(maria, f"{asked}&page=2") == ids(4, 2, 5)
    second = text(maria.get(f"/cases?{asked}&page=2"))
    assert "7 cases, page 2 of 3" in second
    links = re.findall(r'href="(/cases\?[^"]*page=\d[^"]*)"', second)
    assert links and all("amount_from=25000" in x and "sort=applied" in x for x in links)
    assert 'aria-current="page">2<' in second
    assert listed(maria, f"{asked}&page=3") == ids(6)
    assert listed(maria, f"{asked}&page=9") == ids(6)  # beyond the last: the last
    assert listed(maria, f"{asked}&page=zwei") == ids(8, 7, 1)  # no number: the first


def test_a_filter_it_cannot_read_is_named_at_its_field(
    sample_call: Path, office: TestClient
) -> None:
    maria = person_in_office(office, OFFICER)
    answer = maria.get("/cases?amount_from=lots&received_to=2026-13-01&q=Nora")
    assert answer.status_code == 422
    page = text(answer)
    assert "Applied for, from (kr): “lots”. Write the amount in whole kronor" in page
    assert "Received to: “2026-13-01”. Give the date as YYYY-MM-DD." in page
    assert (
        'id="amount_from" name="amount_from" type="text" inputmode="numeric" size="9" '
        'value="lots" aria-describedby="amount_from-error" aria-invalid="true"' in page
    )
    assert 'value="Nora"' in page  # what was typed is kept
    csv_answer = maria.get("/cases.csv?amount_to=-5")
    assert csv_answer.status_code == 422 and "“-5”" in csv_answer.text


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel reads UTF-8 by
    body = response.content.decode("utf-8-sig")
    assert "\r\n" in body
    return list(csv.DictReader(io.StringIO(body, newline=""), delimiter=";"))


def test_the_export_is_the_filtered_list_as_excel_in_sweden_opens_it(
    decided: Path,  # noqa: F811
    office: TestClient,
) -> None:
    formula = '=HYPERLINK("http://evil.example/","Klicka")'
    with sqlite3.connect(decided / "grants.db", isolation_level=None) as db:
        db.execute(
            "UPDATE organisations SET contact_person = ? WHERE organisation_number = ?",
            (formula, "769640-2572"),
        )
    maria = person_in_office(office, OFFICER)
    rows = read_csv(maria.get("/cases.csv?sort=applied&order=desc&amount_from=30000"))
    assert list(rows[0]) == [
        "Diarienummer",
        "Status",
        "Inkom",
        "Organisation",
        "Organisationsnummer",
        "Kommun",
        "Kontaktperson",
        "E-post",
        "Projekt",
        "Sökt belopp (kr)",
        "Beslut",
        "Beviljat belopp (kr)",
        "Beslutsdatum",
    ]
    refs = references()
    assert [r["Diarienummer"] for r in rows] == [refs[i] for i in ids(6, 5, 2, 4, 1, 7)]
    signed = next(r for r in rows if r["Diarienummer"] == refs["SI-2026-0101"])
    assert signed["Status"] == "Beslutat"  # Swedish, whatever the page's language
    assert signed["Beslut"] == "Beviljas delvis"
    assert (signed["Sökt belopp (kr)"], signed["Beviljat belopp (kr)"]) == ("35000", "30000")
    assert signed["Inkom"] == "2026-08-24"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", signed["Beslutsdatum"])
    assert signed["Organisation"] == "Föreningen Unga röster i Hällefors"
    assert signed["Kontaktperson"] == "Linnéa Åström"
    other = next(r for r in rows if r["Diarienummer"] == refs["SI-2026-0105"])
    assert (other["Status"], other["Beslut"], other["Beviljat belopp (kr)"]) == ("Inkom", "", "")
    assert other["Organisationsnummer"] == "769640-2572"
    assert other["Kontaktperson"] == f"'{formula}"  # text in Excel, never a formula


def test_the_list_and_export_leave_out_a_case_the_reader_declared_a_conflict_in(
    officer_conflicted: Path,  # noqa: F811
    office: TestClient,
) -> None:
    maria = person_in_office(office, OFFICER)
    assert CONFLICTED not in ROW.findall(maria.get("/cases").text)
    searched = text(maria.get(f"/cases?q={CONFLICTED}"))
    assert ROW.findall(searched) == [] and "0 cases" in searched
    assert "7 cases" in text(maria.get("/cases"))
    exported = [r["Diarienummer"] for r in read_csv(maria.get("/cases.csv"))]
    assert len(exported) == 7 and CONFLICTED not in exported
    assert "Hällefors" not in text(maria.get("/cases"))  # nor in the municipalities offered

    karin = person_in_office(office, DECISION_MAKER)
    assert CONFLICTED in [r["Diarienummer"] for r in read_csv(karin.get("/cases.csv"))]

    lena = person_in_office(office, ACTIVA)  # an advisor reads cases only by reviewing them
    for url in ("/cases", "/cases.csv"):
        answer = lena.get(url)
        assert answer.status_code == 403 and CONFLICTED not in answer.text


OVERDUE_SINCE = date(2026, 1, 5)


def section(page: str, heading: str) -> str:
    """The part of the page under the heading `heading`, up to the next section."""
    start = page.index(f">{heading}</h2>")
    return page[start : page.find("</section>", start)]


def cells(part: str) -> list[list[str]]:
    """The rows of the tables in `part`, each a list of its cells' words."""
    rows = re.findall(r"<tr>(.*?)</tr>", part, re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)]
        for r in rows
    ]


@pytest.fixture
def known_state(decided: Path) -> dict[str, Case]:  # noqa: F811
    """The state the module's docstring describes; the cases by submission id."""
    to_awaiting_decision("SI-2026-0103", Recommendation.granted)
    settings = load()
    with transaction(settings.db_url) as session:
        officer = session.exec(select(Person).where(Person.email == OFFICER)).one()
        case = session.exec(select(Case).where(Case.submission_id == "SI-2026-0105")).one()
        findings = {c: Finding(Answer.met) for c in Criterion}
        complete_checklist(
            session, case, officer, findings, Rules.from_config(settings.file), date.today()
        )
    with sqlite3.connect(decided / "grants.db", isolation_level=None) as db:
        db.execute(
            "UPDATE review_tasks SET due = ? WHERE reviewer_id = "
            "(SELECT id FROM people WHERE email = ?) AND case_id = "
            "(SELECT id FROM cases WHERE submission_id = 'SI-2026-0105')",
            (OVERDUE_SINCE.isoformat(), ACTIVA),
        )
        db.execute(
            "UPDATE cases SET expected_decision_on = ? WHERE submission_id = 'SI-2026-0107'",
            (OVERDUE_SINCE.isoformat(),),
        )
    with transaction(settings.db_url) as session:
        return {c.submission_id: c for c in session.exec(select(Case))}


def test_the_dashboard_shows_budget_states_overdue_tasks_and_time_to_decision(
    known_state: dict[str, Case], office: TestClient
) -> None:
    karin = person_in_office(office, DECISION_MAKER)
    page = karin.get("/dashboard")
    assert page.status_code == 200
    words = text(page)
    assert 'href="/dashboard" aria-current="page">Overview<' in words

    budget = section(words, "Budget")
    assert cells(budget) == [
        ["Budget", "SEK 600,000"],
        ["Granted (signed decisions)", "SEK 30,000"],
        ["In drafts not yet decided", "SEK 20,000"],
        ["Left when the drafts are granted", "SEK 550,000"],
        ["Paid out", "SEK 0"],  # nothing accepted, so nothing paid yet
        ["Paid back on repayment claims", "SEK 0"],
    ]
    [label] = re.findall(r'<svg class="chart" role="img" aria-label="([^"]+)"', budget)
    assert "SEK 30,000 granted, SEK 20,000 in drafts, SEK 550,000 left of SEK 600,000" in label

    states = dict(row for row in cells(section(words, "Cases by state")) if len(row) == 2)
    assert states["Received"] == "5" and states["In review"] == "1"
    assert states["With the decision maker"] == "1" and states["Decided"] == "1"
    assert states["Closed"] == "0"

    overdue = cells(section(words, "Overdue tasks"))
    review = known_state["SI-2026-0105"].case_reference
    days = (clock.today() - OVERDUE_SINCE).days
    assert ["Lena Holm", "1"] in overdue
    assert [
        review,
        "Declare any conflict of interest, then review",
        "Lena Holm",
        "5 January 2026",
        str(days),
    ] in overdue

    signed = known_state["SI-2026-0101"]
    times = section(words, "Days from receipt to decision")
    taken = (clock.today() - signed.date_received).days
    assert "1 decision: 1 by the date promised in the acknowledgement;" in times
    assert f"median {taken} days" in times
    assert "1 undecided case has passed the date promised." in times
    [row] = [r for r in cells(times) if r and r[0] == signed.case_reference]
    assert row[4:] == [str(taken), "Yes"]

    svg = re.findall(r"<svg[^>]*>", words)
    assert len(svg) == 4 and all('role="img"' in s and "aria-label=" in s for s in svg)
    assert "<script" not in page.text


def test_the_dashboard_in_swedish_writes_money_the_swedish_way(
    known_state: dict[str, Case], office: TestClient
) -> None:
    maria = person_in_office(office, OFFICER)
    post(maria, "/language", {"language": "sv", "next": "/dashboard"})
    swedish = text(maria.get("/dashboard"))
    assert "<h1>Översikt</h1>" in swedish
    assert ["Kvar när förslagen beviljas", "550 000 kr"] in cells(section(swedish, "Budget"))


def test_the_dashboard_does_not_count_a_case_the_reader_declared_a_conflict_in(
    known_state: dict[str, Case],
    office: TestClient,
    decided: Path,  # noqa: F811
) -> None:
    signed = known_state["SI-2026-0101"]
    with sqlite3.connect(decided / "grants.db", isolation_level=None) as db:
        db.execute(
            "UPDATE review_tasks SET status = 'conflicted', conflict = 'close_relative' "
            "WHERE case_id = ? AND reviewer_id = (SELECT id FROM people WHERE email = ?)",
            (signed.id, OFFICER),
        )
    words = text(person_in_office(office, OFFICER).get("/dashboard"))
    assert signed.case_reference not in words
    states = dict(row for row in cells(section(words, "Cases by state")) if len(row) == 2)
    assert states["Decided"] == "0"
    assert "0 decisions" in section(words, "Days from receipt to decision")
    # the call's budget is the call's, whoever reads it
    assert ["Granted (signed decisions)", "SEK 30,000"] in cells(section(words, "Budget"))

    lena = person_in_office(office, ACTIVA)
    assert lena.get("/dashboard").status_code == 403


def on_a_phone(page, language: str) -> None:
    """The page 375 px wide: nothing scrolls sideways but a table in its own region, which
    the keyboard reaches; then back to a desktop's width."""
    from tests.test_office_browser import accessibility_violations

    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, page.url
    assert accessibility_violations(page) == [], (language, page.url, "375 px")
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.browser
def test_the_case_list_and_the_dashboard_meet_wcag_21_aa_in_a_browser(
    known_state: dict[str, Case], live_office, chromium, tmp_path: Path
) -> None:
    from tests.test_office_browser import (
        accessibility_violations,
        browser_sign_in,
        keep_screenshot,
    )

    base = live_office.state.base_url
    context = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    browser_sign_in(page, base, DECISION_MAKER)
    for language in ("sv", "en"):
        if language == "en":
            page.get_by_role("button", name="In English").click()
        page.get_by_role("link", name={"sv": "Ärenden", "en": "Cases"}[language]).click()
        page.get_by_label(
            {"sv": "Sökt belopp, från (kr)", "en": "Applied for, from (kr)"}[language]
        ).fill("30000")
        page.get_by_role("button", name={"sv": "Sök", "en": "Search"}[language]).click()
        page.get_by_role("link", name={"sv": "Sökt belopp", "en": "Applied for"}[language]).click()
        assert "amount_from=30000" in page.url and "sort=applied" in page.url
        assert accessibility_violations(page) == [], (language, page.url)
        keep_screenshot(page, f"office-cases-{language}", tmp_path)
        on_a_phone(page, language)
        page.get_by_role("link", name={"sv": "Översikt", "en": "Overview"}[language]).click()
        assert accessibility_violations(page) == [], (language, page.url)
        keep_screenshot(page, f"office-dashboard-{language}", tmp_path)
        on_a_phone(page, language)
    context.close()


def test_the_list_and_the_dashboard_query_postgresql_alike(on_postgres: str) -> None:
    """Production's database: every order, the organisation number's search and the
    dashboard's counts (PostgreSQL compares a state only with a state, not with a text)."""
    from flows.intake import intake
    from grants.embedded import run_flow
    from models.case_list import CaseFilter, SortKey, all_listed, list_page
    from models.dashboard import cases_by_state
    from tests.conftest import SAMPLES

    run_flow(intake, path=str(SAMPLES / "applications.json"), send_letters=False)
    with transaction(load().db_url) as session:
        maria = session.exec(select(Person).where(Person.email == OFFICER)).one()
        for key in SortKey:
            for descending in (False, True):
                page = list_page(session, maria, CaseFilter(), key, descending, 2, 3)
                assert (page.total, page.pages, len(page.rows)) == (8, 3, 3), key
        [nora] = all_listed(session, maria, CaseFilter(text="8025290738"))
        assert nora.municipality == "Nora"
        assert dict(cases_by_state(session, maria))[CaseState.received] == 8
