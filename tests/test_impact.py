"""The impact register: what each funded project led to, from its final report and from the
follow-up a year after it ended (sent once on its day, reminded once, answered through its
link and corrected until its deadline), and the figures the committee reads (further
funding won per krona granted, activities still running, projects presented at a Talk), on
the command line and on the office's Impact page."""

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from flows.assessment import sweep
from flows.intake import intake
from flows.letters import send_letters
from grants.applicant_links import follow_up_link, read_follow_up
from grants.embedded import run_flow
from grants.settings import load
from grants.steps.final_report import take_report_submit
from grants.steps.follow_ups import take_follow_up_answer
from models import clock
from models.db import transaction
from models.errors import Refused
from models.final_reports import Typed
from models.follow_ups import (
    REMINDER_AFTER,
    FollowUpTyped,
    answer_deadline,
    follow_up_day,
    follow_up_of,
    send_follow_ups,
)
from models.impact import figures_per_call, figures_per_year, impact_figures, impact_register
from models.letters import FOLLOW_UP
from models.tables import STOCKHOLM, AuditEvent, Case, Letter, Recommendation
from models.working_days import add_working_days
from tests.conftest import SAMPLES, MadeOnce, Mailbox
from tests.helpers import DECISION_MAKER, OFFICER, database_dump, grants, pdf_pages
from tests.office import post
from tests.test_assessment import attachment
from tests.test_decisions import to_awaiting_decision

FOLLOWED, NOT_FOLLOWED = 35_000, 40_000  # granted to SI-2026-0101 and SI-2026-0105
TALK = date(2028, 3, 16)
# The first project ends on 2027-12-31: its follow-up is due on the first working day a year
# on, Wednesday 2 January 2029 (31 December is a Sunday, 1 January a holiday). The second
# ends on 2028-03-31 and is not followed up by then.
FOLLOW_UP_DAY = date(2029, 1, 2)
LINK = re.compile(r"http://127\.0\.0\.1:\d+/f/[A-Za-z0-9_.-]+")
ARVSFONDEN = {"funder": "Allmänna arvsfonden", "amount": "2 900 000", "date": "2027-11-01"}
REPORTED = {
    "done": "Tolv kvällsträffar.",
    "results": "Fyrtio unga lärde sig laga cyklar.",
    "learned": "Kvällar passar bättre.",
    "spent_grant": "35000",
}
# The follow-up gives the fund's grant again (counted once) and a new one from the municipality.
ANSWER = FollowUpTyped(
    continues="yes",
    runner="other",
    taken_over_by="Örebro kommun, fritidsförvaltningen",
    text="Verkstaden drivs vidare av fritidsgården.",
    funding=[
        {**ARVSFONDEN, "amount": "2900000"},
        {"funder": "Örebro kommun", "amount": "150 000", "date": "2028-09-01"},
    ],
)


def _make() -> tuple[str, str]:
    """Two grants signed (35 000 kr and 40 000 kr, in 2026); the first invited to the Talk
    of 16 March 2028, presented there, and its final report sent with the fund's 2.9 million
    won (and a grant applied for, not won) and approved."""
    run_flow(intake, path=str(SAMPLES / "applications.json"), send_letters=False)
    followed = to_awaiting_decision("SI-2026-0101", Recommendation.granted)
    grants("sign", followed, "--as", DECISION_MAKER)
    other = to_awaiting_decision("SI-2026-0105", Recommendation.partly_granted, NOT_FOLLOWED)
    grants("sign", other, "--as", DECISION_MAKER)
    grants(
        "talk", "add", "--date", TALK.isoformat(), "--time", "14:00", "--ends", "16:00",
        "--theme", "Unga i bygden", "--theme-en", "Young people", "--venue", "Kulturhuset",
        "--address", "Fredsgatan 18, 702 10 Örebro", "--as", OFFICER,
    )  # fmt: skip
    run_flow(sweep, today=date(2027, 12, 3))  # four weeks before the first project ends
    with clock.simulated():
        clock.move_to(datetime(2028, 3, 17, 9, tzinfo=UTC))
        grants("talk", "attendance", followed, "--came", "3", "--presented-by", "Eva Lund",
               "--as", OFFICER)  # fmt: skip
        applied = {"funder": "Postkodstiftelsen", "amount": "500000", "date": "2028-01-15",
                   "status": "applied"}  # fmt: skip
        take_report_submit(
            load(), followed, Typed(REPORTED, {}, [{**ARVSFONDEN, "status": "won"}, applied]), []
        )
        grants("final-reports", "approve", followed, "--as", OFFICER)
    return followed, other


@pytest.fixture
def funded(made_once: MadeOnce, grants_home: Path) -> tuple[str, str]:
    """The followed project's and the other's case references."""
    return made_once("impact-funded", _make)


def _case(reference: str) -> Case:
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == reference)).one()
        session.refresh(case, ["organisation", "call"])
        return case


def _swept(day: date) -> int:
    """The follow-ups' part of the sweep on `day`, at eight in the morning."""
    with clock.simulated():
        clock.move_to(datetime.combine(day, time(8), tzinfo=STOCKHOLM))
        with transaction(load().db_url) as session:
            return send_follow_ups(session, day)


def _answered(reference: str, typed: FollowUpTyped, day: date) -> None:
    with clock.simulated():
        clock.move_to(datetime.combine(day, time(10), tzinfo=STOCKHOLM))
        take_follow_up_answer(load(), reference, typed)


def _follow_up_letters() -> list[tuple[str, str]]:
    with transaction(load().db_url) as session:
        letters = session.exec(select(Letter).where(Letter.kind == FOLLOW_UP)).all()
        return [(letter.case.case_reference, letter.data["stage"]) for letter in letters]


def test_the_follow_up_goes_on_the_working_day_a_year_after_the_project_ended(
    funded: tuple[str, str],
) -> None:
    followed, other = funded
    assert follow_up_day(_case(followed)) == FOLLOW_UP_DAY
    # 31 March 2029 is a Saturday, 1 April Easter Day and 2 April Easter Monday.
    assert follow_up_day(_case(other)) == date(2029, 4, 3)
    # A project that ended on a Tuesday is followed up on the Wednesday a year on, 365 days
    # later, not a day late.
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == other)).one()
        case.project_end = date(2028, 3, 14)  # as a correction of the case's facts would
        session.add(case)
    assert _swept(date(2029, 3, 13)) == 0
    assert _swept(date(2029, 3, 14)) == 1
    assert _follow_up_letters() == [(other, "first")]


def test_the_sweep_mails_the_follow_up_once_with_its_link_and_reminds_once(
    funded: tuple[str, str], smtp_server: Mailbox
) -> None:
    """The follow-up goes on its day, once however often the sweep runs, its link in the
    e-mail and not in the PDF; unanswered, one reminder REMINDER_AFTER working days later."""
    followed, _other = funded
    remind_on = add_working_days(FOLLOW_UP_DAY, REMINDER_AFTER)
    assert _swept(date(2028, 12, 29)) == 0  # the working day before
    with clock.simulated():
        for day in (FOLLOW_UP_DAY, FOLLOW_UP_DAY):
            clock.move_to(datetime.combine(day, time(8), tzinfo=STOCKHOLM))
            grants("sweep")
    mails = [m for m in smtp_server.messages if m["Subject"].startswith("Uppföljning")]
    assert len(mails) == 1 and followed in mails[0]["Subject"]
    body = mails[0].get_body().get_content()
    [link] = LINK.findall(body)
    claims = read_follow_up(load(), link.rsplit("/", 1)[-1], today=FOLLOW_UP_DAY)
    assert claims.case_reference == followed
    pdf = " ".join(pdf_pages(attachment(mails[0], f"{followed}-uppfoljning-1.pdf")))
    assert "Ett år senare" in pdf and "/f/" not in pdf
    assert link.rsplit("/", 1)[-1] not in pdf.replace(" ", "")

    assert _swept(add_working_days(FOLLOW_UP_DAY, REMINDER_AFTER - 1)) == 0
    assert _swept(remind_on) == 1
    assert _swept(remind_on) == 0
    assert _swept(answer_deadline(_case(followed))) == 0
    assert _follow_up_letters() == [(followed, "first"), (followed, "reminder")]


def test_an_answered_follow_up_is_not_reminded(funded: tuple[str, str]) -> None:
    followed, _other = funded
    assert _swept(FOLLOW_UP_DAY) == 1
    _answered(followed, ANSWER, FOLLOW_UP_DAY)
    assert _swept(add_working_days(FOLLOW_UP_DAY, REMINDER_AFTER)) == 0
    assert _follow_up_letters() == [(followed, "first")]


@pytest.mark.parametrize(
    ("typed", "field", "value"),
    [
        (FollowUpTyped(continues="kanske"), "continues", "kanske"),
        (FollowUpTyped(continues="yes", runner="other"), "taken_over_by", ""),
        (FollowUpTyped(continues="yes", runner="kommunen"), "runner", "kommunen"),
        (
            FollowUpTyped(continues="no", funding=[{**ARVSFONDEN, "amount": "-5"}]),
            "funding_1_amount",
            "-5",
        ),
        (
            FollowUpTyped(continues="no", funding=[{**ARVSFONDEN, "date": "2028-02-30"}]),
            "funding_1_date",
            "2028-02-30",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_the_value_and_changes_nothing(
    funded: tuple[str, str], typed: FollowUpTyped, field: str, value: str
) -> None:
    followed, _other = funded
    _swept(FOLLOW_UP_DAY)
    _answered(followed, ANSWER, FOLLOW_UP_DAY)
    before = database_dump(load().home)
    with pytest.raises(Refused) as refused:
        _answered(followed, typed, FOLLOW_UP_DAY)
    said = str(refused.value)
    assert field in said and repr(value) in said, said
    assert database_dump(load().home) == before


def test_the_answer_is_corrected_until_its_deadline_and_not_after_each_change_recorded(
    funded: tuple[str, str],
) -> None:
    followed, other = funded
    with pytest.raises(Refused, match="has not been sent its follow-up"):
        _answered(followed, ANSWER, FOLLOW_UP_DAY)
    _swept(FOLLOW_UP_DAY)
    _answered(followed, FollowUpTyped(continues="no"), FOLLOW_UP_DAY)
    deadline = answer_deadline(_case(followed))
    _answered(followed, ANSWER, deadline)
    with pytest.raises(Refused, match="could be answered until"):
        _answered(followed, FollowUpTyped(continues="no"), deadline + timedelta(days=1))
    with transaction(load().db_url) as session:
        answer = follow_up_of(session, _case(followed))
        assert answer.continues and answer.taken_over_by == "Örebro kommun, fritidsförvaltningen"
        assert answer.further_funding[1] == {
            "funder": "Örebro kommun", "amount": 150_000, "date": "2028-09-01"
        }  # fmt: skip
        actions = session.exec(
            select(AuditEvent.action).join(Case).where(Case.case_reference == followed)
        ).all()
    assert [a for a in actions if a.startswith("follow_up")] == [
        "follow_up_sent", "follow_up_answered", "follow_up_changed"
    ]  # fmt: skip
    with pytest.raises(Refused, match="has not been sent its follow-up"):
        _answered(other, ANSWER, FOLLOW_UP_DAY)


def test_after_its_deadline_the_page_shows_the_answer_and_takes_no_change(
    funded: tuple[str, str], office
) -> None:
    followed, _other = funded
    _swept(FOLLOW_UP_DAY)
    _answered(followed, ANSWER, FOLLOW_UP_DAY)
    deadline = answer_deadline(_case(followed))
    path = "/f/" + follow_up_link(load(), followed, deadline).rsplit("/", 1)[-1]
    with clock.simulated():
        clock.move_to(datetime.combine(deadline + timedelta(days=1), time(9), tzinfo=STOCKHOLM))
        page = office.get(path)
        assert page.status_code == 200 and "Spara svaret" not in page.text
        assert "Uppföljningen kunde besvaras till och med" in page.text
        assert "Örebro kommun, fritidsförvaltningen" in page.text
        before = database_dump(load().home)
        refused = post(office, path, {"continues": "no"})
        assert refused.status_code == 422 and "svaret står fast" in refused.text
        assert database_dump(load().home) == before


def test_the_figures_from_the_final_report_and_the_follow_up_counted_once(
    funded: tuple[str, str], tmp_path: Path
) -> None:
    """Granted 35 000 + 40 000 = 75 000 kr. Won: the fund's 2 900 000 kr (in the report and
    again in the follow-up: once) and the municipality's 150 000 kr = 3 050 000 kr; the
    500 000 kr only applied for is not won. Leverage 3 050 000 / 75 000 = 40.666… → 40.67."""
    followed, other = funded
    _swept(FOLLOW_UP_DAY)
    _answered(followed, ANSWER, FOLLOW_UP_DAY)
    year = (date(2026, 1, 1), date(2026, 12, 31))
    with transaction(load().db_url) as session:
        figures = impact_figures(session, *year)
        assert (figures.granted, figures.further_funding_won) == (75_000, 3_050_000)
        assert figures.leverage == Decimal("40.67")
        assert (figures.projects, figures.followed_up, figures.still_running) == (2, 1, 1)
        assert figures.presented == 1
        rows = {row.case_reference: row for row in impact_register(session, *year)}
        assert rows[followed].further_funding_won == 3_050_000
        assert rows[followed].taken_over_by == "Örebro kommun, fritidsförvaltningen"
        assert rows[followed].presented and not rows[other].presented
        assert rows[other].continues is None and rows[other].further_funding_won == 0
        [(call, per_call)] = figures_per_call(session, *year)
        assert per_call == replace(figures, call_id=call.id)  # the only call granted
        [per_year] = figures_per_year(session)
        assert (per_year.first.year, per_year.leverage) == (2026, Decimal("40.67"))
        assert impact_figures(session, date(2027, 1, 1), date(2027, 12, 31)).projects == 0

    register = tmp_path / "effekter.csv"
    said = grants("impact", "--year", "2026", "--csv", str(register), "--as", DECISION_MAKER).text
    assert "2 funded project(s)" in said
    assert "75000 kr granted, 3050000 kr further funding won, 40.67 kr won per krona" in said
    assert "1 of 1 followed up still running, 1 presented at a Talk" in said
    lines = {r["case_reference"]: r for r in csv.DictReader(io.StringIO(register.read_text()))}
    assert lines[followed]["further_funding_won"] == "3050000"
    assert (lines[followed]["continues"], lines[other]["continues"]) == ("yes", "")
    refused = grants("impact", "--as", "someone@example.se", ok=False)
    assert refused.exit_code == 2


def test_the_link_names_its_case_and_expires(grants_home: object) -> None:
    settings = load()
    token = follow_up_link(settings, "26RS7", date(2029, 2, 13)).rsplit("/", 1)[-1]
    claims = read_follow_up(settings, token, today=date(2029, 2, 13))
    assert (claims.case_reference, claims.kind) == ("26RS7", "follow_up")
    with pytest.raises(Exception, match="expired"):
        read_follow_up(settings, token, today=date(2030, 1, 1))


@pytest.mark.browser
def test_on_a_phone_the_grantee_answers_and_the_office_reads_the_impact(
    funded: tuple[str, str], live_office, chromium, tmp_path: Path
) -> None:
    """As the chair does on a phone, through the follow-up's link: a choice left without the
    organisation it needs refused at its field and nothing kept, then the answer saved. The
    case officer reads the Impact page. Each page scanned by axe-core, in Swedish."""
    from tests.test_office_browser import (
        accessibility_violations,
        browser_sign_in,
        keep_screenshot,
    )

    followed, _other = funded
    base = live_office.state.base_url
    _swept(FOLLOW_UP_DAY)
    link = follow_up_link(load(), followed, answer_deadline(_case(followed)))
    assert link.startswith(base)
    phone = chromium.new_context(
        locale="sv-SE", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    page.goto(link)
    page.get_by_role("heading", name="Ett år senare: vad ledde projektet till?").wait_for()
    assert accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    keep_screenshot(page, "follow-up-form", tmp_path)

    page.get_by_label("Ja, den fortsätter").check()
    page.get_by_label("En annan organisation har tagit över").check()
    page.get_by_role("button", name="Spara svaret").click()
    page.locator("#taken_over_by-error").wait_for()
    assert "Organisationen som har tagit över" in page.get_by_role("alert").first.inner_text()
    assert accessibility_violations(page) == []
    with transaction(load().db_url) as session:
        assert follow_up_of(session, _case(followed)) is None  # nothing kept

    page.get_by_label("Organisationen som har tagit över").fill("Örebro kommun")
    page.get_by_label("Finansiär").first.fill("Örebro kommun")
    page.get_by_label("Belopp, kronor").first.fill("150 000")
    page.get_by_label("Datum då den beviljades").first.fill("2028-09-01")
    page.get_by_label("Med några ord (frivilligt)").fill("Fritidsgården driver verkstaden.")
    page.get_by_role("button", name="Spara svaret").click()
    page.get_by_text("Tack, ert svar är sparat").wait_for()
    assert accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.get_by_label("Belopp, kronor").first.input_value() == "150000"
    keep_screenshot(page, "follow-up-saved", tmp_path)
    phone.close()

    office = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    desk = office.new_page()
    browser_sign_in(desk, base, OFFICER)
    desk.get_by_role("link", name="Statistik").click()  # the register is one of its reports
    desk.get_by_role("link", name="Vad varje projekt ledde till: effektregistret").click()
    desk.get_by_role("heading", name="Effekter").wait_for()
    assert accessibility_violations(desk) == []
    keep_screenshot(desk, "impact-page", tmp_path)
    text = desk.locator("main").inner_text()
    assert "3\xa0050\xa0000\xa0kr" in text and "40,67" in text and "Örebro kommun" in text
    download = desk.request.get(f"{base}/impact.csv?year=2026")
    assert download.headers["content-disposition"] == 'attachment; filename="impact-2026.csv"'
    lines = {r["case_reference"]: r for r in csv.DictReader(io.StringIO(download.text()))}
    assert lines[followed]["further_funding_won"] == "3050000"
    office.close()


def test_an_english_grantee_is_followed_up_in_english(
    funded: tuple[str, str], smtp_server: Mailbox, office
) -> None:
    """SI-2026-0108 applied in English; its project ended on 2027-10-31, a Sunday: its
    follow-up goes on Tuesday 31 October 2028, e-mail, letter and page in English."""
    english = to_awaiting_decision("SI-2026-0108", Recommendation.granted)
    grants("sign", english, "--as", DECISION_MAKER)
    assert _swept(date(2028, 10, 31)) == 1
    run_flow(send_letters)
    [mail] = [m for m in smtp_server.messages if m["Subject"].startswith("Follow-up")]
    assert english in mail["Subject"]
    body = mail.get_body().get_content()
    assert "A year has passed since the project" in body and "Please answer here by" in body
    [link] = LINK.findall(body)
    pdf = " ".join(pdf_pages(attachment(mail, f"{english}-follow-up-1.pdf")))
    assert "A year on: what did your project lead to?" in pdf and "/f/" not in pdf
    page = office.get("/f/" + link.rsplit("/", 1)[-1])
    assert page.status_code == 200 and "A year on: what did the project lead to?" in page.text
