"""One case through the office alone, in Chromium, as the people of a working week take it:
from an uploaded form export to a signed decision, with what falls off the straight path:
the applicant's e-mail address corrected, a meeting booked, cancelled and booked
again, both advisors in a conflict of interest and a substitute reviewer named from outside the
group, a communication (FL 25 §) whose reply the applicant sends through their link and
the decision maker reads in the page. Each new kind of page is checked with axe (WCAG 2.1 AA).

Only the calendar is moved by the test (models.clock, in this process, as the office is): a
meeting's file note is written once the meeting has been held."""

import json
import re
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlmodel import select

from grants.settings import load
from models import clock
from models.db import transaction
from models.tables import Case, Letter, Meeting, local_time
from tests.conftest import SAMPLES
from tests.helpers import ACTIVA, COOMPANION, DECISION_MAKER, OFFICER, pdf_pages
from tests.test_meetings_and_delays import calendar
from tests.test_office_browser import (
    accessibility_violations,
    browser_sign_in,
    decision_letters,
    keep_screenshot,
)

pytestmark = pytest.mark.browser

WRONG, RIGHT = "info@ungaroster-halefors.example.se", "info@ungaroster-hallefors.example.se"
NEW_ADVISOR = ("Sara Lind", "sara.lind@vuxenskolan.example.se", "Studieförbundet Vuxenskolan")
REVIEW_REASONS = {
    "benefit_to_society": "Unga på landsbygden får en röst.",
    "innovative": "Ungdomsråd med psykisk hälsa i fokus är nytt i länsdelen.",
    "new_locally": "Inget liknande finns i Hällefors.",
    "anchored_with_partners": "Kommunen och bygdegårdsföreningen står bakom.",
}
REPLY = "Vi klarar projektet med 25 000 kronor om ungdomsforumet hålls i Grythyttan."
WEIGHED = "Beloppet står fast; forumet kan hållas i Grythyttan."


def the_export(folder: Path) -> Path:
    """A form export of one application whose partners include both advisors' own
    organisations, with its e-mail address mistyped."""
    record = json.loads((SAMPLES / "applications.json").read_text(encoding="utf-8"))[0]
    record |= {"submission_id": "SI-2026-0901", "email": WRONG}
    record["partners"] += [
        {"name": "Coompanion Mälardalen", "support": "Rådgivning om föreningens ekonomi"},
        {"name": "Stiftelsen Activa", "support": "Handledning av ungdomscoachen"},
    ]
    path = folder / "formularexport.json"
    path.write_text(json.dumps([record], ensure_ascii=False), encoding="utf-8")
    return path


def signed_in(chromium, base: str, email: str):
    """A window of its own for `email`, signed in through the e-mailed link."""
    context = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    browser_sign_in(page, base, email)
    return page


def confirm_by_keyboard(page, notice: str) -> None:
    """The confirmation page: its letter shown as a PDF, checked with axe, then sent by
    keyboard (headless Chromium loses a mouse click below the PDF's frame once axe ran)."""
    page.get_by_role("heading", name="Granska innan det skickas").wait_for()
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="Skicka", exact=True).press("Enter")
    page.get_by_text(notice).first.wait_for()


def declare(page, ref: str, ground: str, note: str = "") -> None:
    page.get_by_role("link", name=ref).first.click()
    page.locator(f"#conflict-{ground}").check()
    if note:
        page.locator("#note").fill(note)
    page.get_by_role("button", name="Lämna jävsförklaringen").click()
    done = "Du har anmält jäv" if ground != "none" else "Du har förklarat att du inte är jävig"
    page.get_by_text(done).wait_for()


def review(page) -> None:
    page.locator("#recommendation-partly_granted").check()
    page.locator("#proposed_amount").fill("25000")
    for criterion, reason in REVIEW_REASONS.items():
        page.locator(f"#reason_{criterion}").fill(reason)
    page.get_by_role("button", name="Lämna granskningen").click()
    page.get_by_text("Din granskning är lämnad").wait_for()


def communication_link(ref: str) -> str:
    """The applicant's link in the communication's e-mail, as the applicant reads it."""
    for path in sorted(load().outbox_dir.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(("plain",)).get_content()
        if ref in message["Subject"] and "Lämna era synpunkter här:" in body:
            assert message["To"] == RIGHT  # the corrected address
            return re.search(r"Lämna era synpunkter här: (\S+)", body).group(1)
    raise AssertionError(f"no communication for {ref} in the outbox")


def test_a_case_goes_through_the_office_alone_off_the_straight_path(
    grants_home, live_office, chromium, tmp_path
) -> None:
    base = live_office.state.base_url
    officer = signed_in(chromium, base, OFFICER)

    # Intake of the form export, and the e-mail address put right.
    officer.get_by_role("link", name="Registrering").click()
    officer.get_by_label("Formulärexport (.json eller .csv)").set_input_files(the_export(tmp_path))
    officer.get_by_role("button", name="Registrera ansökningarna").click()
    officer.get_by_role("status").wait_for()
    assert accessibility_violations(officer) == []
    ref = officer.locator("table a[href^='/cases/']").first.inner_text()
    officer.get_by_role("link", name=ref).click()
    officer.locator("summary", has_text="Rätta sökandens uppgifter").click()
    officer.get_by_label("E-post").fill(RIGHT)
    officer.get_by_label("Skäl till rättelsen").fill("Stavfel i formuläret; sökanden ringde.")
    assert accessibility_violations(officer) == []
    officer.get_by_role("button", name="Spara rättelsen").click()
    officer.get_by_role("button", name="Registrera kontrollen").wait_for()

    # The checklist: all met, so the advisory group reviews.
    for criterion in REVIEW_REASONS:
        officer.locator(f"#checklist-{criterion}-met").check()
    officer.get_by_role("button", name="Registrera kontrollen").click()
    officer.get_by_role("heading", name="Lägg till en granskare").wait_for()

    # Both advisors' organisations are partners: each declares the conflict.
    for email, organisation in ((COOMPANION, "Coompanion"), (ACTIVA, "Activa")):
        advisor = signed_in(chromium, base, email)
        declare(advisor, ref, "own_organisation", f"{organisation} är partner i projektet.")
        if email == COOMPANION:
            assert accessibility_violations(advisor) == []
        advisor.context.close()

    # Too few reviewers: the case officer's task list says so and leads to the case's
    # forms, where a substitute from outside the group is named for this case.
    officer.get_by_role("link", name="Mina uppgifter").click()
    stuck = officer.get_by_role("row").filter(has_text="utse en ersättare eller gå vidare")
    stuck.get_by_role("link", name=ref).click()
    name, email, organisation = NEW_ADVISOR
    officer.get_by_label("Namn", exact=True).fill(name)
    officer.locator("#substitute-email").fill(email)
    officer.locator("#substitute-organisation").fill(organisation)
    assert accessibility_violations(officer) == []
    officer.get_by_role("button", name="Lägg till ersättaren").click()
    officer.get_by_text(f"{name} ({email}) har lagts till som rådgivare").wait_for()
    assert accessibility_violations(officer) == []

    # The case officer and the new advisor review.
    officer.get_by_role("link", name="Din egen granskning av ansökan").click()
    officer.locator("#conflict-none").check()
    officer.get_by_role("button", name="Lämna jävsförklaringen").click()
    officer.get_by_text("Du har förklarat att du inte är jävig").wait_for()
    review(officer)
    advisor = signed_in(chromium, base, email)
    declare(advisor, ref, "none")
    review(advisor)
    advisor.context.close()

    # The meeting: booked, cancelled with a reason, booked again.
    officer.goto(f"{base}/cases/{ref}")
    officer.get_by_label("Plats, eller hur man ansluter").fill("Regionens hus, rum 3")
    officer.get_by_role("button", name="Boka och skicka inbjudan").click()
    confirm_by_keyboard(officer, "Mötet är bokat")
    assert accessibility_violations(officer) == []  # the meeting's forms, the cancel form too
    officer.get_by_label("Varför mötet ställs in").fill("Handläggaren är sjuk den dagen.")
    officer.locator("#cancel-heading").scroll_into_view_if_needed()
    keep_screenshot(officer, "office-meeting-cancel", tmp_path)
    officer.get_by_role("button", name="Ställ in mötet").click()
    officer.get_by_role("heading", name="Granska innan det skickas").wait_for()
    keep_screenshot(officer, "office-meeting-cancel-confirm", tmp_path)
    confirm_by_keyboard(officer, "Mötet är inställt")
    officer.get_by_label("Plats, eller hur man ansluter").fill("Teams")
    officer.get_by_role("button", name="Boka och skicka inbjudan").click()
    confirm_by_keyboard(officer, "Mötet är bokat")
    officer.context.close()

    with clock.simulated():
        walk_on_after_the_meeting(chromium, base, ref, live_office)

    live_office.state.office.follow_up.wait_idle(60)
    [letter] = decision_letters(load().outbox_dir)
    text = " ".join(pdf_pages(letter))
    assert ref in text and "25 000" in text and WEIGHED in text  # the reply weighed
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        assert case.state == "decided" and case.organisation.email == RIGHT
        meetings = session.exec(select(Meeting).where(Meeting.case_id == case.id)).all()
        assert [m.status for m in meetings] == ["skipped", "held"]
        letters = session.exec(select(Letter).where(Letter.case_id == case.id)).all()
        kinds = [x.kind for x in letters]
        assert kinds.count("meeting_invitation") == 2 and "meeting_cancellation" in kinds
    invitations = [calendar(m) for m in meeting_mails(ref)]
    assert [c["METHOD"] for c in invitations] == ["REQUEST", "CANCEL", "REQUEST"]
    assert invitations[0]["UID"] == invitations[1]["UID"] != invitations[2]["UID"]


def meeting_mails(ref: str) -> list:
    """The meeting's e-mails in the order sent (invitation, cancellation, invitation)."""
    found = []
    for path in load().outbox_dir.glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if ref in message["Subject"] and "möte" in message["Subject"].lower():
            found.append(message)
    return sorted(found, key=lambda m: calendar(m)["DTSTAMP"])


def walk_on_after_the_meeting(chromium, base: str, ref: str, live_office) -> None:
    """Once the meeting was held: the file note, the draft communicated, the applicant's
    reply through their link, the draft revised and submitted, the decision signed."""
    with transaction(load().db_url) as session:
        [held] = session.exec(select(Meeting).where(Meeting.status == "booked")).all()
        clock.move_to(local_time(held.ends_at) + timedelta(minutes=5))
    officer = signed_in(chromium, base, OFFICER)  # the sessions ended with the days gone
    officer.goto(f"{base}/cases/{ref}")
    officer.get_by_label("Tjänsteanteckning: vad som sades").fill(
        "Vi gick igenom budgeten; föreningen kan genomföra projektet i mindre skala."
    )
    officer.get_by_role("button", name="Registrera tjänsteanteckningen").click()

    # The draft: partly granted, so it is communicated first (FL 25 §).
    officer.locator("#draft-outcome").select_option("partly_granted")
    officer.locator("#draft-amount").fill("25000")
    officer.locator("#draft-decisive").fill("Budgeten för ungdomsforumet är för hög.")
    for criterion, reason in REVIEW_REASONS.items():
        officer.locator(f"#draft-reason-{criterion}").fill(f"Regionen bedömer: {reason}")
    officer.get_by_role("button", name="Upprätta förslaget").click()
    officer.get_by_role("button", name="Skicka underlaget till sökanden").click()
    confirm_by_keyboard(officer, "Underlaget är skickat")
    live_office.state.office.follow_up.wait_idle(60)

    # The applicant replies through their link.
    applicant = chromium.new_context(locale="sv-SE").new_page()
    applicant.goto(communication_link(ref))
    assert accessibility_violations(applicant) == []
    applicant.get_by_label("Meddelande (frivilligt)").fill(REPLY)
    applicant.get_by_role("button", name="Skicka till Region Örebro län").click()
    applicant.get_by_role("heading", name="Tack: ert svar har kommit in").wait_for()
    applicant.context.close()

    # The case officer weighs the reply in a new draft and submits it.
    officer.goto(f"{base}/cases/{ref}")
    assert REPLY in officer.content()
    officer.locator("#draft-reply-assessment").fill(WEIGHED)
    officer.get_by_role("button", name="Spara en ny version av förslaget").click()
    officer.get_by_text("Förslag version 2: Beviljas delvis").wait_for()
    assert accessibility_violations(officer) == []  # with the form for material from others
    # The new version rests on nothing from others: recorded, since it changed (FL 25 §).
    officer.get_by_label(
        "Inget nytt underlag från andra har tillkommit sedan kommuniceringen"
    ).check()
    officer.get_by_role("button", name="Lämna förslaget").click()
    confirm_by_keyboard(officer, "ligger hos beslutsfattaren")
    officer.context.close()

    # The decision maker reads the reply itself, and signs.
    maker = signed_in(chromium, base, DECISION_MAKER)
    maker.get_by_role("link", name=ref).first.click()
    maker.get_by_text(REPLY).first.wait_for()
    assert accessibility_violations(maker) == []
    maker.get_by_role("link", name="Signera beslutet …").click()
    maker.get_by_role("button", name="Signera beslutet").click()
    maker.get_by_role("status").wait_for()
    maker.context.close()
