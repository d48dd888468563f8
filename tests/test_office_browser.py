"""The office in a real browser (Chromium): people's paths through it, and an axe-core scan
of each kind of page for WCAG 2.1 AA. Pages are also kept as screenshots
(OFFICE_SCREENSHOTS=docs/ keeps the README's)."""

import os
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from grants.settings import load
from tests.helpers import (
    ACTIVA,
    CLI_ALL_MET,
    COOMPANION,
    DECISION_MAKER,
    OFFICER,
    grants,
    pdf_pages,
)
from tests.office import sign_in_links

pytestmark = pytest.mark.browser
CRITERIA = ("benefit_to_society", "innovative", "new_locally", "anchored_with_partners")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def browser_sign_in(page, base_url: str, email: str, start: str = "Mina uppgifter") -> None:
    """As a person does: ask for a link, open the e-mail's link, press the button, and land
    on their start page (its heading `start`)."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Din e-postadress").fill(email)
    page.get_by_role("button", name="Skicka en inloggningslänk").click()
    page.get_by_role("heading", name="Titta i din e-post").wait_for()
    page.goto(wait_for_link(email))
    page.get_by_role("button", name="Logga in").click()
    page.get_by_role("heading", name=start).wait_for()


def wait_for_link(email: str, timeout: float = 20) -> str:
    """The newest sign-in link for `email`: the e-mail goes out just after the answer."""
    deadline = time.monotonic() + timeout
    while not (links := sign_in_links(load().outbox_dir, email)):
        assert time.monotonic() < deadline, f"no sign-in link for {email} in the outbox"
        time.sleep(0.1)
    return links[-1]


def decision_letters(outbox: Path) -> list[bytes]:
    """The PDFs of the decision letters in the outbox (the draft to the decision maker aside)."""
    pdfs = []
    for path in outbox.glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        for part in message.iter_attachments():
            if part.get_filename().endswith("-beslut.pdf"):
                pdfs.append(part.get_content())
    return pdfs


def accessibility_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state()  # a page still loading after a click has no document yet
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}× e.g. {v['nodes'][0]['target']})"
        for v in results.response["violations"]
    ]


def keep_screenshot(page, name: str, tmp_path: Path, full_page: bool = False) -> Path:
    folder = Path(os.environ.get("OFFICE_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def test_each_kind_of_page_meets_wcag_21_aa(sample_call, live_office, chromium, tmp_path) -> None:
    """Every kind of page, as the person it is for sees it, in Swedish and in English."""
    base = live_office.state.base_url
    grants("checklist", "26RS1", "--as", OFFICER, *CLI_ALL_MET)
    unclear = ["--anchored-with-partners", "unclear", "--note", "anchored_with_partners=Intyg?"]
    grants("checklist", "26RS3", "--as", OFFICER, *CLI_ALL_MET[:-2], *unclear)
    pages_of = {
        None: ["/login", "/login/link?token=not-a-token", applicant_link("26RS3")],
        OFFICER: ["/tasks", "/cases", "/cases/26RS2", "/cases/26RS1", "/intake", "/talks",
                  "/undelivered", "/delegation-report", "/cases/26RS999"],
        ACTIVA: ["/reviews", "/reviews/26RS1"],
        DECISION_MAKER: ["/decisions"],
    }  # fmt: skip
    for person, paths in pages_of.items():
        context = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        if person:
            browser_sign_in(page, base, person)
        for language in ("sv", "en"):
            if language == "en":
                page.goto(base + "/login")
                page.get_by_role("button", name="In English").click()
            for path in paths:
                page.goto(path if path.startswith("http") else base + path)
                assert accessibility_violations(page) == [], (person, language, path)
                shot = {"/tasks": "office-tasks", "/cases/26RS2": "office-case"}.get(path)
                if language == "sv" and shot:
                    keep_screenshot(page, shot, tmp_path)
        if person is None:
            page.goto(base + "/login")
            page.get_by_label("E-mail").fill("nobody@example.se")
            page.get_by_role("button", name="Send").click()
            assert accessibility_violations(page) == []
        context.close()


def applicant_link(case_reference: str) -> str:
    """The link the supplement request letter carries, as the send-letters flow makes it."""
    from sqlmodel import select

    from grants.applicant_links import link_for
    from models.db import transaction
    from models.tables import Case, SupplementRequest

    settings = load()
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == case_reference)).one()
        request = session.exec(
            select(SupplementRequest).where(SupplementRequest.case_id == case.id)
        ).one()
        return link_for(settings, case_reference, "supplement", request.number, request.deadline)


REASONS = {
    "Benefit to society": "Ungdomar på landsbygden får en röst och ett sammanhang.",
    "Innovative, with long-term and sustainable effects": "Ungdomsråd som lever vidare.",
    "New locally": "Inget liknande finns i Hällefors.",
    "Anchored with partners": "Kommunen och bygdegårdsföreningen står bakom.",
}


def test_an_advisor_reviews_and_the_decision_maker_signs_in_the_browser(
    sample_call, live_office, chromium, tmp_path
) -> None:
    """The people's own paths: the advisor with the link from the outbox declares no
    conflict and reviews; the decision maker opens the draft and signs; the decision
    letter then goes to the applicant."""
    base = live_office.state.base_url
    ref = "26RS1"  # SI-2026-0101, Hällefors: neither advisor's organisation is a partner
    grants("checklist", ref, "--as", OFFICER, "--benefit-to-society", "met", "--innovative",
           "met", "--new-locally", "met", "--anchored-with-partners", "met")  # fmt: skip

    advisor = chromium.new_context(locale="sv-SE")
    page = advisor.new_page()
    browser_sign_in(page, base, ACTIVA)
    page.get_by_role("button", name="In English").click()
    page.get_by_role("link", name=ref).click()
    page.get_by_label("I have no conflict of interest in this case").check()
    page.get_by_role("button", name="Submit the declaration").click()
    assert accessibility_violations(page) == []
    page.get_by_label("Granted", exact=True).check()
    for criterion, reason in REASONS.items():
        page.get_by_label(criterion, exact=True).fill(reason)
    page.get_by_label("Other funding to suggest").fill("Allmänna arvsfonden")
    page.get_by_role("button", name="Submit the review").click()
    page.get_by_role("status").filter(has_text="part of the case's record").wait_for()
    advisor.close()

    grants("declare", ref, "--as", COOMPANION, "--no-conflict")
    grants("review", ref, "--as", COOMPANION, "--recommend", "granted",
           *[f"--reason={c}=Uppfyllt." for c in CRITERIA])  # fmt: skip
    grants("meeting", "skip", ref, "--as", OFFICER, "--reason", "Ansökan är tydlig.")
    grants("draft", ref, "--as", OFFICER,
           *[f"--reason={c}=Beslutet: {c} är uppfyllt." for c in CRITERIA])  # fmt: skip
    grants("submit-draft", ref, "--as", OFFICER)  # granted in full: nothing against them

    maker = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = maker.new_page()
    browser_sign_in(page, base, DECISION_MAKER)
    page.get_by_role("link", name=ref).first.click()
    keep_screenshot(page, "office-decision", tmp_path)
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="In English").click()
    page.get_by_role("link", name="Sign the decision…").click()
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="Sign the decision").click()
    page.get_by_role("status").wait_for()
    maker.close()

    live_office.state.office.follow_up.wait_idle(60)
    letters = decision_letters(load().outbox_dir)
    assert len(letters) == 1
    text = " ".join(pdf_pages(letters[0]))
    assert ref in text and "beviljar" in text and "35 000" in text
