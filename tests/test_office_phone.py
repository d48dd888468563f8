"""The office on a phone (375 px wide, as an iPhone SE or mini): no page scrolls sideways,
for each of the four people, and the menu leaves room for the page on the first screen."""

import pytest

from tests.helpers import ACTIVA, CLI_ALL_MET, COOMPANION, DECISION_MAKER, OFFICER, grants
from tests.test_office_browser import (
    accessibility_violations,
    applicant_link,
    browser_sign_in,
    keep_screenshot,
)

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 667}
CRITERIA = ("benefit_to_society", "innovative", "new_locally", "anchored_with_partners")
# What sticks out: the first elements wider than the screen or scrolling within it.
WIDER_THAN_THE_SCREEN = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > 376 || e.scrollWidth > e.clientWidth + 1)
    .map(e => e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''))
    .slice(0, 5)"""


def reviewed(ref: str) -> None:
    """Through the checklist and both advisors' reviews: the meeting is next."""
    grants("checklist", ref, "--as", OFFICER, *CLI_ALL_MET)
    for advisor in (ACTIVA, COOMPANION):
        grants("declare", ref, "--as", advisor, "--no-conflict")
        grants("review", ref, "--as", advisor, "--recommend", "granted",
               *[f"--reason={c}=Uppfyllt." for c in CRITERIA])  # fmt: skip


def test_no_page_scrolls_sideways_on_a_phone(sample_call, live_office, chromium, tmp_path) -> None:
    """Every kind of page, as the person it is for sees it on a phone, in Swedish; and a
    refused form, its errors at the fields, also without a WCAG 2.1 AA violation."""
    base = live_office.state.base_url
    reviewed("26RS1")  # to the decision maker
    grants("meeting", "skip", "26RS1", "--as", OFFICER, "--reason", "Ansökan är tydlig.")
    grants("draft", "26RS1", "--as", OFFICER,
           *[f"--reason={c}=Beslutet: {c} är uppfyllt." for c in CRITERIA])  # fmt: skip
    grants("submit-draft", "26RS1", "--as", OFFICER)
    unclear = ["--anchored-with-partners", "unclear", "--note", "anchored_with_partners=Intyg?"]
    grants("checklist", "26RS3", "--as", OFFICER, *CLI_ALL_MET[:-2], *unclear)  # supplement
    grants("checklist", "26RS4", "--as", OFFICER, *CLI_ALL_MET)  # in review
    reviewed("26RS6")  # the meeting
    reviewed("26RS7")
    grants("meeting", "skip", "26RS7", "--as", OFFICER, "--reason", "Ansökan är tydlig.")
    pages_of = {
        None: ["/login", "/no-such-page", applicant_link("26RS3")],
        OFFICER: ["/tasks", "/cases", "/cases/26RS1", "/cases/26RS2", "/cases/26RS3",
                  "/cases/26RS4", "/cases/26RS6", "/cases/26RS7", "/intake", "/talks",
                  "/undelivered", "/delegation-report", "/reviews", "/cases/26RS999"],
        ACTIVA: ["/tasks", "/reviews", "/reviews/26RS4", "/reviews/26RS1"],
        DECISION_MAKER: ["/tasks", "/cases", "/decisions", "/decisions/26RS1",
                         "/decisions/26RS1/sign", "/delegation-report"],
    }  # fmt: skip
    faults = []
    for person, paths in pages_of.items():
        context = chromium.new_context(locale="sv-SE", viewport=PHONE)
        page = context.new_page()
        if person:
            browser_sign_in(page, base, person)
        for path in paths:
            page.goto(path if path.startswith("http") else base + path)
            if page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
                faults.append((person, path, page.evaluate(WIDER_THAN_THE_SCREEN)))
            if path in ("/cases", "/cases/26RS2", "/reviews/26RS4", "/decisions/26RS1"):
                keep_screenshot(page, "phone-" + path.strip("/").replace("/", "-"), tmp_path)
            menu = page.locator("header.top").bounding_box()
            if menu["height"] > PHONE["height"] / 3:
                faults.append((person, path, f"the menu is {menu['height']} px high"))
        if person == OFFICER:  # a refused form, its errors at the fields
            page.goto(base + "/cases/26RS2")
            page.get_by_role("button", name="Registrera kontrollen").click()
            assert page.locator("[aria-invalid=true]").count() == 4 * 3  # four questions
            assert accessibility_violations(page) == []
            if page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
                faults.append((person, "refused checklist", page.evaluate(WIDER_THAN_THE_SCREEN)))
        context.close()
    assert faults == [], "\n".join(map(str, faults))
