"""The dashboard (Översikt) of the case officer and the decision maker, against a known
state: the sample call with one signed decision (SI-2026-0101, partly granted 30 000 kr of
35 000), one draft granting 20 000 kr with the decision maker (SI-2026-0103), one case in
review whose review is overdue (SI-2026-0105), one undecided case past the date promised
(SI-2026-0107), and four just received."""

import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from grants.settings import load
from models import clock
from models.checklist import Finding, complete_checklist
from models.db import transaction
from models.rules import Rules
from models.tables import Answer, Case, Criterion, Person, Recommendation
from tests.helpers import ACTIVA, DECISION_MAKER, OFFICER
from tests.office import post
from tests.test_decisions import to_awaiting_decision
from tests.test_integrity import decided, signed_call  # noqa: F401  (fixtures)
from tests.test_office_review_decide import person_in_office, text

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
        page.get_by_role("link", name={"sv": "Översikt", "en": "Overview"}[language]).click()
        assert accessibility_violations(page) == [], (language, page.url)
        keep_screenshot(page, f"office-dashboard-{language}", tmp_path)
    context.close()
