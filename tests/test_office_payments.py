"""Payment orders in the office: the case officer prepares and cancels them on the case
page, the attestant attests them from their own list after a confirmation, and four eyes
hold whoever posts (WCAG 2.1 AA in Chromium)."""

import re

import pytest

from models.tables import PaymentStatus
from tests.helpers import ACTIVA, DECISION_MAKER, OFFICER, grants
from tests.office import post, sign_in
from tests.test_office_browser import accessibility_violations, browser_sign_in
from tests.test_payments import (  # noqa: F401 - the fixture
    ATTESTANT,
    FINANCE,
    OTHER_OFFICER,
    granted,
    orders_on,
)

PAYEE = "Föreningen Unga röster i Hällefors"  # SI-2026-0101


@pytest.mark.parametrize(
    ("email", "status", "said"),
    [
        (OFFICER, 409, "förberedde utbetalningsorder"),  # the preparer, though an attestant
        (OTHER_OFFICER, 409, "är Handläggare och inte attestant"),
        (ACTIVA, 409, "är Rådgivare och inte attestant"),
        (FINANCE, 409, "är Ekonomi och inte attestant"),
        (ATTESTANT, 303, ""),
        (DECISION_MAKER, 303, ""),
    ],
)
def test_four_eyes_in_the_office_with_every_role(
    granted: tuple[str, str],  # noqa: F811
    office,
    email: str,
    status: int,
    said: str,
) -> None:
    accepted, _other = granted
    grants("people", "change", OFFICER, "--attestant", "--as", DECISION_MAKER)
    grants("payments", "prepare", accepted, "--as", OFFICER)
    [order] = orders_on(accepted)
    sign_in(office, email)
    for form in ({}, {"confirmed": "1"}):  # the confirmation refuses as the step does
        answer = post(office, f"/payments/{order.id}/attest", form, follow_redirects=False)
        if status == 303 and not form:
            assert answer.status_code == 200 and "Bekräfta attesten" in answer.text
            continue
        assert answer.status_code == status, answer.text
        assert said in re.sub(r"\s+", " ", answer.text)
    attested = orders_on(accepted)[0]
    expected = PaymentStatus.attested if status == 303 else PaymentStatus.prepared
    assert (attested.status, attested.attested_by) == (expected, email if status == 303 else None)


@pytest.mark.browser
def test_the_officer_prepares_and_the_attestant_attests_in_chromium(
    granted: tuple[str, str],  # noqa: F811
    live_office,
    chromium,
) -> None:
    accepted, _other = granted
    base = live_office.state.base_url
    officer = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = officer.new_page()
    browser_sign_in(page, base, OFFICER)
    page.goto(f"{base}/cases/{accepted}#payments")
    page.get_by_role("heading", name="Utbetalningar").wait_for()
    assert "60 % när villkoren är godtagna; 40 % när slutrapporten är godkänd." in page.content()
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="Förbered utbetalningsorder").click()
    page.get_by_role("status").wait_for()
    assert f"{accepted}-1 (19\u00a0999\u00a0kr)" in page.get_by_role("status").inner_text()
    assert accessibility_violations(page) == []  # the order and its cancel form
    officer.close()

    attestant = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = attestant.new_page()
    browser_sign_in(page, base, ATTESTANT)
    page.get_by_role("link", name="1 utbetalningsorder att attestera").click()
    page.get_by_role("heading", name="Utbetalningsorder att attestera").wait_for()
    row = page.get_by_role("row").filter(has_text=accepted)
    shown = row.inner_text().replace("\u00a0", " ")
    for text in (f"{accepted} (delbetalning 1)", PAYEE, "Bankgiro 5382411", "19 999 kr"):
        assert text in shown, (text, shown)
    assert "Maria Lindqvist" in shown
    assert accessibility_violations(page) == []
    page.get_by_role("button", name=f"Attestera {accepted}-1").click()
    page.get_by_role("heading", name="Bekräfta attesten").wait_for()
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="Attestera", exact=True).press("Enter")
    page.get_by_role("status").wait_for()
    assert f"Utbetalningsorder {accepted}-1 är attesterad: 19 999 kr." in page.get_by_role(
        "status"
    ).inner_text().replace("\u00a0", " ")
    assert "Ingen utbetalningsorder väntar på din attest just nu." in page.content()
    attestant.close()
    assert orders_on(accepted)[0].attested_by == ATTESTANT
