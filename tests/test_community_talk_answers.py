"""The Community Talk after the invitation: the grantee answers through the link in the
invitation's e-mail (which Talk, who presents, how many come) and may change the answer
until the reply-by date, not after; the organiser, who arranges the Talks, reads each Talk's
programme (page, PDF, CSV) and nothing of the cases; after the Talk the case officer
registers who came and who presented."""

import csv
import io
import re
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlmodel import select

from flows.assessment import sweep
from flows.intake import intake
from flows.letters import send_letters
from grants.applicant_links import talk_link
from grants.embedded import run_flow
from grants.settings import load
from models import clock
from models.access import TalksOnly, case_to_read, visible_cases
from models.audit import SYSTEM, move
from models.db import transaction
from models.errors import Refused
from models.states import CaseState
from models.tables import (
    AuditEvent,
    Case,
    CommunityTalk,
    Recommendation,
    Reporting,
    TalkAnswer,
    TalkAttendance,
)
from models.talk_answers import answer_talk, talk_choices
from tests.conftest import SAMPLES, MadeOnce
from tests.helpers import DECISION_MAKER, OFFICER, grants, pdf_pages
from tests.office import post, sign_in
from tests.test_decisions import letter_pdf, person, to_awaiting_decision

ORGANISER = "sofia.berg@coompanion.example.se"  # arranges the Talks for the Partnership
ADDRESS = "Fredsgatan 18, 702 10 Örebro"
FIRST, SECOND = date(2028, 3, 16), date(2028, 9, 14)  # reply by 24 February, 24 August
LINK = re.compile(r"https?://\S+/t/[A-Za-z0-9_.-]+")


def _talk(day: date, theme: str, theme_en: str) -> None:
    grants(
        "talk", "add", "--date", day.isoformat(), "--time", "14:00", "--ends", "16:00",
        "--theme", theme, "--theme-en", theme_en, "--venue", "Kulturhuset",
        "--address", ADDRESS, "--as", OFFICER,
    )  # fmt: skip


def _make() -> str:
    """A grant signed (SI-2026-0101, the project ends 2027-12-31), two Talks in 2028, the
    invitation to the first sent; an organiser registered."""
    run_flow(intake, path=str(SAMPLES / "applications.json"), send_letters=False)
    ref = to_awaiting_decision("SI-2026-0101", Recommendation.granted)
    grants("sign", ref, "--as", DECISION_MAKER)
    _talk(FIRST, "Skateboard och odling – sociala innovationer?", "Skateboarding and growing")
    _talk(SECOND, "Unga i bygden", "Young people in the countryside")
    run_flow(sweep, today=date(2027, 12, 3))  # four weeks before the project ends: invited
    run_flow(send_letters)
    grants(
        "people", "add", "--name", "Sofia Berg", "--email", ORGANISER, "--role", "organiser",
        "--organisation", "Coompanion Mälardalen", "--as", OFFICER,
    )  # fmt: skip
    return ref


@pytest.fixture
def invited(made_once: MadeOnce, grants_home: Path) -> str:
    """The case reference of a funded project invited to the Talk of 16 March 2028."""
    return made_once("talk-invited", _make)


def talk_ids() -> dict[date, int]:
    with transaction(load().db_url) as session:
        return {t.held_on: t.id for t in session.exec(select(CommunityTalk))}


def answer_now(ref: str) -> tuple | None:
    with transaction(load().db_url) as session:
        answer = session.exec(
            select(TalkAnswer).join(Case).where(Case.case_reference == ref)
        ).first()
        return (answer.community_talk_id, answer.presenters, answer.attendees) if answer else None


def actions(ref: str, *names: str) -> list[dict]:
    with transaction(load().db_url) as session:
        query = select(AuditEvent).join(Case).where(Case.case_reference == ref)
        return [e.detail for e in session.exec(query.order_by(AuditEvent.id)) if e.action in names]


def link_of(ref: str) -> str:
    """The grantee's link as the invitation's e-mail carries it, for this office's address."""
    return talk_link(load(), ref, date(2029, 12, 31)).split("/t/", 1)[1]


def test_the_grantee_answers_changes_until_the_reply_by_date_and_not_after(invited: str) -> None:
    """Refused input names the field and the value and changes nothing; the answer moves the
    project to the Talk it chose, and each change is in the audit trail."""
    talks = talk_ids()
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == invited)).one()
        for talk, presenters, attendees, said in [
            ("999", "Eva Lund", "3", "talk = '999'"),
            (str(talks[FIRST]), "  ", "3", "presenters = '  '"),
            (str(talks[FIRST]), "Eva Lund", "många", "attendees = 'många'"),
            (str(talks[FIRST]), "Eva Lund", "0", "attendees = '0'"),
        ]:
            with pytest.raises(Refused, match=re.escape(said)):
                answer_talk(session, case, talk, presenters, attendees, date(2028, 1, 10))
    assert answer_now(invited) is None and actions(invited, "talk_answered") == []

    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == invited)).one()
        answer_talk(
            session, case, str(talks[FIRST]), " Eva  Lund, Omar Said ", "4", date(2028, 1, 10)
        )
    assert answer_now(invited) == (talks[FIRST], "Eva Lund, Omar Said", 4)
    with transaction(load().db_url) as session:  # on the reply-by day itself: still open
        case = session.exec(select(Case).where(Case.case_reference == invited)).one()
        answer_talk(session, case, str(talks[SECOND]), "Eva Lund", "2", date(2028, 2, 24))
        reporting = session.exec(select(Reporting).where(Reporting.case_id == case.id)).one()
        assert reporting.community_talk_id == talks[SECOND]  # the programme follows the answer
        # The first Talk's answers closed: only the second is offered now.
        assert [t.held_on for t in talk_choices(session, date(2028, 2, 25))] == [SECOND]
    assert actions(invited, "talk_answered", "talk_answer_changed") == [
        {"held_on": "2028-03-16", "presenters": "Eva Lund, Omar Said", "attendees": 4},
        {"held_on": "2028-09-14", "presenters": "Eva Lund", "attendees": 2},
    ]

    with transaction(load().db_url) as session:  # the second Talk's reply-by date is past
        case = session.exec(select(Case).where(Case.case_reference == invited)).one()
        with pytest.raises(Refused, match="closed on 2028-08-24; the answer stands"):
            answer_talk(session, case, str(talks[SECOND]), "Omar Said", "5", date(2028, 8, 25))
    assert answer_now(invited) == (talks[SECOND], "Eva Lund", 2)


def test_the_invitation_email_carries_the_answer_link_and_the_calendar_file_the_pdf_no_link(
    invited: str,
) -> None:
    [eml] = load().outbox_dir.glob(f"{invited}-inbjudan-samhallssamtal.eml")
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    body = message.get_body(("plain",)).get_content()
    [link] = LINK.findall(body)
    assert "Svara senast 24 februari 2028 genom er personliga länk nedan" in body
    calendar = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert [p.get_filename() for p in calendar] == ["samhallssamtal.ics"]
    assert "DTSTART:20280316T130000Z" in calendar[0].get_content()
    text = " ".join(pdf_pages(letter_pdf("community_talk_invitation", invited)))
    assert "personliga länken i e-postmeddelandet" in text
    assert link.rsplit("/", 1)[-1] not in text.replace(" ", "") and "/t/" not in text


def test_the_grantees_page_takes_the_answer_and_says_when_it_no_longer_can(
    invited: str, office
) -> None:
    token = link_of(invited)
    page = office.get(f"/t/{token}")
    assert page.status_code == 200 and "Er presentation vid Samhällssamtalet" in page.text
    assert "Svara senast 24 februari 2028" in page.text
    talks = talk_ids()
    refused = post(office, f"/t/{token}", {"talk": talks[FIRST], "presenters": "Eva Lund",
                                           "attendees": "sju"})  # fmt: skip
    assert refused.status_code == 422
    assert "Hur många som kommer ”sju”: ange ett heltal från 1 till 50." in refused.text
    assert 'id="attendees-error"' in refused.text and answer_now(invited) is None
    taken = post(office, f"/t/{token}", {"talk": talks[FIRST], "presenters": "Eva Lund",
                                         "attendees": "3"}, follow_redirects=False)  # fmt: skip
    assert taken.status_code == 303
    page = office.get(f"/t/{token}")
    assert "Tack, vi har fått ert svar" in page.text and "Ändra svaret" in page.text
    assert answer_now(invited) == (talks[FIRST], "Eva Lund", 3)

    with clock.simulated():
        clock.move_to(datetime(2028, 2, 25, 9, tzinfo=UTC))
        page = office.get(f"/t/{token}")
        assert "Svaren till Samhällssamtalet 16 mars 2028 stängde 24 februari 2028" in page.text
        assert "Ändra svaret" not in page.text
        # Not even to the later Talk, still open for others: this answer's day has passed.
        late = post(office, f"/t/{token}", {"talk": talks[SECOND], "presenters": "Omar Said",
                                            "attendees": "9"})  # fmt: skip
        assert late.status_code == 422
        assert "stängde 24 februari 2028: svaret står kvar" in late.text
    assert answer_now(invited) == (talks[FIRST], "Eva Lund", 3)
    assert office.get(f"/t/{token}x").status_code == 404  # a changed link opens nothing


def test_the_organiser_reads_the_programme_as_pdf_and_csv_and_no_case(
    invited: str, tmp_path: Path
) -> None:
    talks = talk_ids()
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == invited)).one()
        answer_talk(
            session, case, str(talks[FIRST]), "Eva Lund, Omar Said", "4", date(2027, 12, 10)
        )
        organiser = person(session, ORGANISER)
        with pytest.raises(TalksOnly, match="arranges the Community Talks"):
            case_to_read(session, invited, organiser)
        assert visible_cases(session, organiser) == []

    for command in (["status", invited], ["status"], ["presented", invited, "--on", "2028-03-16"]):
        refused = grants(*command, "--as", ORGANISER, ok=False)
        assert refused.exit_code == 2 and "Sofia Berg" in refused.text, command
    pdf, table = tmp_path / "program.pdf", tmp_path / "program.csv"
    said = grants("talk", "programme", "--talk", str(talks[FIRST]), "--pdf", str(pdf),
                  "--csv", str(table), "--as", ORGANISER)  # fmt: skip
    assert "Eva Lund, Omar Said" in said.text
    text = " ".join(pdf_pages(pdf.read_bytes()))
    for expected in (
        "Program för Samhällssamtal 16 mars 2028",
        "Skateboard och odling – sociala innovationer?",
        "kl. 14.00–16.00",
        "Kulturhuset",
        ADDRESS,
        "Ungas röster i bygden",
        "Eva Lund, Omar Said",
        "Anmälda deltagare 4",
    ):
        assert expected in text, expected
    assert invited not in text  # the organiser's document names no case
    rows = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    assert [(r["project_title"], r["presenters"], r["attendees"]) for r in rows] == [
        (
            "Ungas röster i bygden – psykisk hälsa och framtidstro i Hällefors",
            "Eva Lund, Omar Said",
            "4",
        )
    ]


def test_the_organiser_is_refused_case_pages_and_steps_in_the_office(invited: str, office) -> None:
    sign_in(office, ORGANISER)
    assert office.get("/tasks", follow_redirects=False).headers["location"] == "/talks"
    for url in (f"/cases/{invited}", "/cases", "/dashboard", "/delegation-report"):
        assert office.get(url).status_code == 403, url
    refused = post(office, f"/cases/{invited}/final-report", files={"file": ("r.pdf", b"%PDF")})
    assert refused.status_code == 403
    talks = talk_ids()
    page = office.get(f"/talks/{talks[FIRST]}")
    assert page.status_code == 200 and "Ungas röster i bygden" in page.text
    assert invited not in page.text  # no case reference, no link to the case
    assert office.get(f"/talks/{talks[FIRST]}/programme.csv").status_code == 200
    pdf = office.get(f"/talks/{talks[FIRST]}/programme.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "Kulturhuset" in " ".join(pdf_pages(pdf.content))
    attendance = post(office, f"/talks/{talks[FIRST]}/attendance/{invited}", {"came": "2"})
    assert attendance.status_code == 403


def test_after_the_talk_the_officer_registers_who_came_and_who_presented(
    invited: str, office
) -> None:
    talks = talk_ids()
    early = grants("talk", "attendance", invited, "--came", "3", "--presented-by", "Eva Lund",
                   "--as", OFFICER, ok=False)  # fmt: skip
    assert early.exit_code == 2 and "2028-03-16 is not held yet" in early.text
    with clock.simulated():
        clock.move_to(datetime(2028, 3, 17, 9, tzinfo=UTC))
        sign_in(office, OFFICER)
        bad = post(office, f"/talks/{talks[FIRST]}/attendance/{invited}",
                   {"came": "tre", "presented_by": "Eva Lund"})  # fmt: skip
        assert bad.status_code == 409 and "Hur många som kom ”tre”" in bad.text
        bad = grants("talk", "attendance", invited, "--came", "-1", "--as", OFFICER, ok=False)
        assert bad.exit_code == 2 and "--came '-1'" in bad.text
        with transaction(load().db_url) as session:
            assert session.exec(select(TalkAttendance)).all() == []
        done = post(office, f"/talks/{talks[FIRST]}/attendance/{invited}",
                    {"came": "3", "presented_by": "Eva Lund"}, follow_redirects=False)  # fmt: skip
        assert done.status_code == 303
        page = office.get(f"/talks/{talks[FIRST]}")
        assert "Närvaron är registrerad för" in page.text
    with transaction(load().db_url) as session:
        [attendance] = session.exec(select(TalkAttendance)).all()
        assert (attendance.came, attendance.presented_by) == (3, "Eva Lund")
        reporting = session.exec(select(Reporting)).one()
        assert reporting.presented_on == FIRST  # recorded on the case as its presentation
    assert actions(invited, "talk_attendance_registered") == [
        {"held_on": "2028-03-16", "came": 3, "presented_by": "Eva Lund"}
    ]
    assert [e["on"] for e in actions(invited, "presented_at_community_talk")] == ["2028-03-16"]


def test_a_grant_closed_before_its_talk_still_has_its_attendance_registered(invited: str) -> None:
    """Its report approved and its money paid, a grant closes (the sweep, models.closing)
    before its Talk is held: the Talk is no gate. Who came and presented is still recorded."""
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == invited)).one()
        move(session, case, CaseState.closed, SYSTEM, "case_closed")
    with clock.simulated():
        clock.move_to(datetime(2028, 3, 17, 9, tzinfo=UTC))
        grants("talk", "attendance", invited, "--came", "2", "--presented-by", "Eva Lund",
               "--as", OFFICER)  # fmt: skip
    assert actions(invited, "talk_attendance_registered") == [
        {"held_on": "2028-03-16", "came": 2, "presented_by": "Eva Lund"}
    ]
    assert [e["on"] for e in actions(invited, "presented_at_community_talk")] == ["2028-03-16"]


@pytest.mark.browser
def test_on_a_phone_the_grantee_answers_and_the_organiser_reads_the_programme(
    invited: str, live_office, chromium, tmp_path: Path
) -> None:
    """As the project's chair does on a phone: the link, the Talks to choose from, a count
    refused at its field, the answer, the receipt; then the organiser's programme with the
    answer in it. Each page scanned by axe-core (WCAG 2.1 AA), none scrolls sideways."""
    from tests.test_office_browser import (
        accessibility_violations,
        browser_sign_in,
        keep_screenshot,
    )

    base = live_office.state.base_url
    phone = chromium.new_context(
        locale="sv-SE", viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    page.goto(f"{base}/t/{link_of(invited)}")
    page.get_by_role("heading", name="Er presentation vid Samhällssamtalet").wait_for()
    assert accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    keep_screenshot(page, "talk-answer", tmp_path)
    page.get_by_label("16 mars 2028", exact=False).check()
    page.get_by_label("Vem som presenterar").fill("Eva Lund och Omar Said")
    page.get_by_label("Hur många ni blir").fill("0")
    page.get_by_role("button", name="Skicka svaret").click()
    page.locator("#attendees-error").wait_for()
    assert "”0”" in page.get_by_role("alert").inner_text()
    assert accessibility_violations(page) == []
    assert answer_now(invited) is None
    page.get_by_label("Hur många ni blir").fill("4")
    page.get_by_role("button", name="Skicka svaret").click()
    page.get_by_text("Tack, vi har fått ert svar").wait_for()
    assert "Eva Lund och Omar Said" in page.inner_text("main")
    assert accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    keep_screenshot(page, "talk-answered", tmp_path)
    phone.close()

    office = chromium.new_context(
        locale="sv-SE", viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
    )
    page = office.new_page()
    browser_sign_in(page, base, ORGANISER, start="Samhällssamtal")
    page.get_by_role("link", name="Program 16 mars 2028").click()
    page.get_by_role("heading", name="Program för Samhällssamtalet 16 mars 2028").wait_for()
    text = page.inner_text("main")
    assert "Eva Lund och Omar Said" in text and invited not in text
    assert accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    keep_screenshot(page, "talk-programme", tmp_path)
    office.close()

    with clock.simulated():  # the day after the Talk: the case officer registers attendance
        clock.move_to(datetime(2028, 3, 17, 9, tzinfo=UTC))
        desk = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
        page = desk.new_page()
        browser_sign_in(page, base, OFFICER)
        page.goto(f"{base}/talks/{talk_ids()[FIRST]}")
        page.get_by_role(
            "heading", name="Efter samtalet: vilka som kom och vem som presenterade"
        ).wait_for()
        assert page.get_by_label("Presenterades av").input_value() == "Eva Lund och Omar Said"
        assert accessibility_violations(page) == []
        page.get_by_label("Hur många som kom").fill("3")
        page.get_by_label("Presenterades av").fill("Eva Lund")
        keep_screenshot(page, "talk-attendance", tmp_path)
        page.get_by_role("button", name="Registrera närvaron").press("Enter")
        page.get_by_role("status").wait_for()
        assert "Närvaron är registrerad" in page.get_by_role("status").inner_text()
        assert accessibility_violations(page) == []
        desk.close()
    assert actions(invited, "talk_attendance_registered") == [
        {"held_on": "2028-03-16", "came": 3, "presented_by": "Eva Lund"}
    ]
