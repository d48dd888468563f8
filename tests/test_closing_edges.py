"""Closing through the edges: the case officer registers the notice board's day, an appeal
and the court's ruling on the command line and in the office; `grants status CASE` and the
case page list the gates; the sweep closes a refused case only once its appeal is ruled
and its time for appeal has run out, never on the last day."""

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from flows.assessment import sweep
from grants.embedded import run_flow
from grants.settings import load
from models import clock
from models.db import transaction
from models.decisions import sign
from models.rules import Rules
from models.tables import STOCKHOLM, Case, Person, Recommendation
from models.working_days import next_working_day
from tests.helpers import DECISION_MAKER, OFFICER, database_dump, grants
from tests.office import post, sign_in
from tests.test_decisions import to_awaiting_decision


def refused_and_signed(submission_id: str) -> str:
    """A sample case refused by the decision maker today."""
    ref = to_awaiting_decision(submission_id, Recommendation.refused)
    settings = load()
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        maker = session.exec(select(Person).where(Person.email == DECISION_MAKER)).one()
        sign(session, case, maker, Rules.from_config(settings.file))
    return ref


def next_day() -> date:
    """The simulated clock moved on to tomorrow noon: the minutes reporting today's
    decisions can be announced no earlier."""
    clock.move_to(datetime.combine(date.today() + timedelta(days=1), time(12), STOCKHOLM))
    return clock.today()


def state_of(ref: str) -> str:
    with transaction(load().db_url) as session:
        return session.exec(select(Case).where(Case.case_reference == ref)).one().state


def said(*args: str, ok: bool = True) -> str:
    return " ".join(grants(*args, "--as", OFFICER, ok=ok).output.split())


def test_on_the_command_line_an_appeal_holds_a_refused_case_until_its_ruling(
    sample_call: Path, grants_home: Path
) -> None:
    ref = refused_and_signed("SI-2026-0103")
    signed_on = date.today()
    assert f"notice board day registered for the decisions signed {signed_on}: no" in said(
        "status", ref
    )
    with clock.simulated():
        today = next_day()
        before = database_dump(grants_home)
        tomorrow = str(today + timedelta(days=1))
        ahead = said(
            "notice-board-day",
            "--announced-on",
            tomorrow,
            "--covers-until",
            str(signed_on),
            ok=False,
        )
        assert f"announced_on = {tomorrow}" in ahead
        assert said(
            "notice-board-day", "--announced-on", "den 3:e", "--covers-until", "x", ok=False
        )
        assert database_dump(grants_home) == before
        said("notice-board-day", "--announced-on", str(today), "--covers-until", str(signed_on))
        last_day = next_working_day(today + timedelta(weeks=3))
        assert f"appeal time run out (last day {last_day}): no" in said("status", ref)
        appealed = said(
            "appeal",
            ref,
            "--appellant",
            "Per Persson",
            "--received-on",
            str(today),
            "--court",
            "Förvaltningsrätten i Karlstad",
            "--court-case-number",
            "1234-27",
        )
        assert "appeal 1 registered" in appealed
        after = last_day + timedelta(days=1)
        assert run_flow(sweep, today=after)["cases_closed"] == 0  # the appeal holds it
        assert "ruled (Förvaltningsrätten i Karlstad, 1234-27): no" in said("status", ref)
        said("appeal-ruling", ref, "--ruling", "upheld", "--date", str(today))
        assert run_flow(sweep, today=last_day)["cases_closed"] == 0  # the last day is the appeal's
        assert state_of(ref) == "decided"
        assert run_flow(sweep, today=after)["cases_closed"] == 1
        assert state_of(ref) == "closed"


def test_in_the_office_the_case_page_lists_the_gates_and_takes_the_appeal(
    sample_call: Path, office
) -> None:
    ref = refused_and_signed("SI-2026-0103")
    signed_on = date.today()
    with clock.simulated():
        _through_the_office(office, ref, signed_on, next_day())


def _through_the_office(office, ref: str, signed_on: date, today: date) -> None:
    sign_in(office, OFFICER)
    page = office.get(f"/cases/{ref}").text.replace("\u00a0", " ")
    assert 'id="closing-heading"' in page
    assert "Anslagsdag registrerad för besluten fattade" in page
    assert '<a href="/notice-board">registrera anslagsdagen</a>' in page
    wrong = {"announced_on": str(today), "covers_until": str(today + timedelta(days=2))}
    refused = post(office, "/notice-board", wrong)
    assert refused.status_code == 409
    assert "anmäler beslut fattade före den dagen" in refused.text
    assert f'value="{today + timedelta(days=2)}"' in refused.text
    done = post(
        office, "/notice-board", {"announced_on": str(today), "covers_until": str(signed_on)}
    )
    assert done.url.path == "/notice-board" and "Anslagsdagen" in done.text
    page = office.get(f"/cases/{ref}").text.replace("\u00a0", " ")
    assert "Överklagandetiden har gått ut (sista dag" in page
    appeal = {
        "appellant": "Per Persson",
        "received_on": str(today),
        "court": "",
        "court_case_number": "1234-27",
    }
    no_court = post(office, f"/cases/{ref}/appeal", appeal)
    assert no_court.status_code == 409 and "till vilken domstol" in no_court.text
    assert 'value="Per Persson"' in no_court.text
    taken = post(
        office, f"/cases/{ref}/appeal", appeal | {"court": "Förvaltningsrätten i Karlstad"}
    )
    assert taken.status_code == 200 and "Överklagande 1 registrerat" in taken.text
    assert "Överklagande 1 från Per Persson avgjort" in taken.text
    annulled = post(
        office,
        f"/cases/{ref}/appeal-ruling",
        {"number": "1", "ruling": "annulled", "ruled_on": str(today)},
    )
    assert annulled.status_code == 200 and "Beslutet är upphävt" in annulled.text
    assert state_of(ref) == "drafting_decision"


@pytest.mark.browser
def test_the_closing_section_and_the_notice_board_page_meet_wcag_21_aa(
    sample_call: Path, live_office, browser_page
) -> None:
    ref = refused_and_signed("SI-2026-0103")
    signed_on = date.today().isoformat()
    with clock.simulated():
        today = next_day().isoformat()
        _in_a_browser(live_office.state.base_url, browser_page, ref, signed_on, today)


def _in_a_browser(base: str, page, ref: str, signed_on: str, today: str) -> None:
    from tests.test_office_browser import accessibility_violations, browser_sign_in

    browser_sign_in(page, base, OFFICER)
    page.goto(f"{base}/cases/{ref}")
    gates = page.get_by_role("table", name="Det som håller ärendet öppet")
    assert "Anslagsdag registrerad" in gates.inner_text()
    assert accessibility_violations(page) == []
    page.get_by_role("link", name="registrera anslagsdagen").click()
    page.get_by_role("heading", name="Registrera en anslagsdag").wait_for()
    assert accessibility_violations(page) == []
    page.get_by_label("Dagen då protokollet tillkännagavs på anslagstavlan").fill(today)
    page.get_by_label("Protokollet anmälde besluten fattade till och med").fill(signed_on)
    page.get_by_role("button", name="Registrera dagen").click()
    page.get_by_role("status").filter(has_text="överklagandetiden har börjat").wait_for()
    assert accessibility_violations(page) == []
    page.goto(f"{base}/cases/{ref}")
    assert "Överklagandetiden har gått ut" in gates.inner_text()
    assert accessibility_violations(page) == []
