"""Preview and confirm: a step that sends a letter out of the authority, or cannot be
taken back, shows the letter as it will be sent first; only the confirmation takes it,
and the preview leaves the case database as it was."""

import html
import re

import pytest
from sqlmodel import select

from grants.settings import load
from models.db import transaction
from models.tables import Case, Document, Letter, Meeting
from tests.helpers import OFFICER, database_dump, pdf_pages, settled_dump
from tests.office import post, sign_in
from tests.test_office_officer import ALL_MET, sent, the_case

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
PREVIEW_PDF = re.compile(r'<iframe class="letter" src="([^"]+)"')
NOTE = "Beskriv hur projektet skiljer sig från Odla i Stan."


@pytest.fixture
def registered(sample_call, office) -> str:
    """The sample applications registered, the case officer signed in: Kryddgården's case."""
    sign_in(office, OFFICER)
    return the_case().case_reference


def confirmation_form(page: str) -> dict[str, str]:
    """What the confirmation page's form posts, but its session token (post adds it)."""
    fields = {name: html.unescape(value) for name, value in HIDDEN.findall(page)}
    return {k: v for k, v in fields.items() if k not in ("csrf_token", "next")}


def test_the_supplement_request_is_previewed_as_sent_and_only_the_confirmation_sends_it(
    office, registered: str
) -> None:
    ref = registered
    page = office.get(f"/cases/{ref}").text
    assert 'name="preview" value="1">Registrera kontrollen' in page  # the first click previews
    checklist = ALL_MET | {"new_locally": "unclear", "note_new_locally": NOTE}
    before = settled_dump(office)

    preview = post(office, f"/cases/{ref}/checklist", checklist | {"preview": "1"})
    assert preview.status_code == 200 and "Granska innan det skickas" in preview.text
    assert "Till: hej@kryddgarden.example.se" in preview.text
    assert "Ärendet blir sedan: Väntar på komplettering." in preview.text
    [address] = PREVIEW_PDF.findall(preview.text)
    pdf = office.get(address)
    assert pdf.headers["content-type"] == "application/pdf"
    shown = pdf_pages(pdf.content)
    assert NOTE in " ".join(shown) and NOTE in preview.text  # the text is readable in the page
    assert database_dump(load().home) == before  # no letter, no audit event, no state

    back = post(office, f"/cases/{ref}/checklist", confirmation_form(preview.text) | {"back": "1"})
    assert back.status_code == 200 and f">{NOTE}</textarea>" in back.text  # what was typed
    assert database_dump(load().home) == before

    confirmed = post(office, f"/cases/{ref}/checklist", confirmation_form(preview.text))
    assert confirmed.status_code == 200 and the_case().state == "awaiting_supplement"
    sent(office)
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        query = select(Letter).where(Letter.case_id == case.id, Letter.kind == "supplement_request")
        letter = session.exec(query).one()
    assert pdf_pages(letter.pdf) == shown  # the applicant's link and the date included
    assert office.get(address).status_code == 404  # the preview is gone once taken


def test_a_withdrawal_is_confirmed_first_with_its_file_kept(office, registered: str) -> None:
    ref = registered
    before = settled_dump(office)
    withdrawal = {"withdrawal_reason": "Föreningen har återkallat ansökan."}
    files = {"withdrawal_file": ("aterkallelse.txt", "Vi återkallar.".encode(), "text/plain")}
    url = f"/cases/{ref}/withdrawal"
    preview = post(office, url, withdrawal | {"preview": "1"}, files=files)
    assert preview.status_code == 200 and "Bekräfta åtgärden" in preview.text
    assert "aterkallelse.txt" in preview.text and ">Bekräfta</button>" in preview.text
    assert database_dump(load().home) == before

    assert post(office, url, confirmation_form(preview.text)).status_code == 200
    assert the_case().state == "drafting_decision"
    with transaction(load().db_url) as session:
        [filed] = session.exec(select(Document).where(Document.kind == "withdrawal"))
        assert filed.content == "Vi återkallar.".encode()


@pytest.mark.browser
def test_booking_a_meeting_in_the_browser_suggests_a_time_and_shows_the_invitation_first(
    sample_call, live_office, browser_page, tmp_path
) -> None:
    from tests.test_meetings_and_delays import to_meeting
    from tests.test_office_browser import accessibility_violations, browser_sign_in, keep_screenshot

    ref = to_meeting("SI-2026-0101")
    page, base = browser_page, live_office.state.base_url
    browser_sign_in(page, base, OFFICER)
    page.goto(f"{base}/cases/{ref}")
    assert page.get_by_label("Datum").input_value()  # the next free time, filled in
    page.get_by_label("Plats, eller hur man ansluter").fill("Regionens hus, rum 3")
    page.get_by_role("button", name="Boka och skicka inbjudan").click()
    page.get_by_role("heading", name="Granska innan det skickas").wait_for()
    frame = page.frame_locator("iframe.letter")
    assert frame.locator("embed, body").first.is_visible()  # the PDF opens in the page
    keep_screenshot(page, "office-confirm", tmp_path)
    assert accessibility_violations(page) == []
    # By keyboard, as a keyboard user sends it: once axe has run in this page, headless
    # Chromium loses a mouse click below the PDF's frame (without axe the click sends).
    page.get_by_role("button", name="Skicka", exact=True).press("Enter")
    page.get_by_text("Mötet är bokat").wait_for()
    with transaction(load().db_url) as session:
        assert [m.place for m in session.exec(select(Meeting))] == ["Regionens hus, rum 3"]


def test_a_booked_meeting_is_cancelled_from_the_case_page_after_its_letter_is_shown(
    office, registered: str
) -> None:
    from tests.test_meetings_and_delays import MONDAY, at, book, to_meeting

    ref = to_meeting("SI-2026-0101")
    url = f"/cases/{ref}/meeting/cancel"
    refused = post(office, url, {"cancel_reason": "Sjuk.", "preview": "1"})
    assert refused.status_code == 409  # nothing booked yet: said in Swedish
    assert f"Inget möte är bokat i ärende {ref}: det finns inget att ställa in." in refused.text
    book(ref, at(MONDAY, 10))
    page = office.get(f"/cases/{ref}").text
    assert 'name="preview" value="1" class="secondary">Ställ in mötet' in page
    empty = post(office, url, {"cancel_reason": " ", "preview": "1"})
    assert 'id="cancel_reason-error"' in empty.text and "Ange varför mötet ställs in" in empty.text
    before = settled_dump(office)

    reason = "Handläggaren är sjuk den dagen."
    preview = post(office, url, {"cancel_reason": reason, "preview": "1"})
    assert preview.status_code == 200 and "Granska innan det skickas" in preview.text
    [address] = PREVIEW_PDF.findall(preview.text)
    shown = " ".join(pdf_pages(office.get(address).content))
    assert "Mötet om ert projekt är inställt" in shown and reason in shown
    assert database_dump(load().home) == before  # nothing sent, nothing recorded

    confirmed = post(office, url, confirmation_form(preview.text))
    assert confirmed.status_code == 200 and "Mötet är inställt" in confirmed.text
    assert "Boka mötet med sökanden" in confirmed.text  # not "Boka om": a new booking
    sent(office)
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        assert case.state == "applicant_meeting"
        [letter] = session.exec(select(Letter).where(Letter.kind == "meeting_cancellation"))
        assert letter.data["reason"] == reason and letter.delivery_state == "sent"
