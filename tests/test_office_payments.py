"""Payment orders in the office: the case officer prepares and cancels them on the case
page, the attestant attests them from their own list after a confirmation, and four eyes
hold whoever posts (WCAG 2.1 AA in Chromium)."""

import csv
import io
import re
from datetime import date, timedelta

import pytest

from grants.settings import load
from models.db import transaction
from models.tables import (
    AccountKind,
    Case,
    PayeeAccount,
    PaymentStatus,
    RepaymentClaim,
    RepaymentStatus,
)
from tests.helpers import ACTIVA, DECISION_MAKER, OFFICER, grants, pdf_pages
from tests.office import post, sign_in
from tests.test_office_browser import accessibility_violations, browser_sign_in
from tests.test_payments import (  # noqa: F401 - the fixture
    ATTESTANT,
    FINANCE,
    OTHER_GRANTED,
    OTHER_OFFICER,
    changed_by_another_part,
    granted,
    orders_on,
)

PAYEE = "Föreningen Unga röster i Hällefors"  # SI-2026-0101


@pytest.mark.parametrize(
    ("email", "status", "said"),
    [
        (OFFICER, 409, "förberedde utbetalningsorder"),  # the preparer, though an attestant
        (OTHER_OFFICER, 409, "har rollen Handläggare och är inte attestant"),
        (ACTIVA, 409, "har rollen Rådgivare och är inte attestant"),
        (FINANCE, 409, "har rollen Ekonomi och är inte attestant"),
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
def test_the_officer_prepares_the_attestant_attests_and_finance_registers_in_chromium(
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
    said = "60 % när villkoren är godtagna; 40 % när slutrapporten är godkänd. Varje order"
    assert said in page.content()
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
    for text in (f"{accepted} (delbetalning 1)", PAYEE, "Bankgiro 538-2411", "19 999 kr"):
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
    [order] = orders_on(accepted)
    assert order.attested_by == ATTESTANT

    changed_by_another_part(order.id, status=PaymentStatus.exported)  # in a payment file
    finance = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = finance.new_page()
    browser_sign_in(page, base, FINANCE, start="Utbetalningar till banken")
    page.get_by_role("link", name="Skickade till banken").click()
    page.get_by_role("heading", name="Utbetalningsorder skickade till banken").wait_for()
    assert accessibility_violations(page) == []
    page.get_by_role("button", name=f"Registrera {accepted}-1 som betald").click()
    page.get_by_role("status").wait_for()
    assert "är registrerad som betald" in page.get_by_role("status").inner_text()
    finance.close()
    assert orders_on(accepted)[0].status is PaymentStatus.paid


def test_finance_registers_paid_in_the_office_and_the_overview_knows_the_money(
    granted: tuple[str, str],  # noqa: F811
    office,
) -> None:
    accepted, other = granted
    grants("payments", "prepare", accepted, "--as", OFFICER)
    [order] = orders_on(accepted)
    grants("payments", "attest", str(order.id), "--as", DECISION_MAKER)
    changed_by_another_part(order.id, status=PaymentStatus.exported)  # in a payment file
    sign_in(office, FINANCE)
    assert "/payments/sent" in office.get("/tasks").text
    listed = office.get("/payments/sent").text.replace("\u00a0", " ")
    assert f"Registrera {accepted}-1 som betald" in listed and "19 999 kr" in listed
    ahead = (date.today() + timedelta(days=1)).isoformat()
    refused = post(office, f"/payments/{order.id}/paid", {"paid_on": ahead})
    assert (
        refused.status_code == 409 and "En betalning registreras när den är gjord" in refused.text
    )
    today = date.today()
    done = post(office, f"/payments/{order.id}/paid", {"paid_on": today.isoformat()})
    assert done.status_code == 200 and "är registrerad som betald" in done.text
    assert orders_on(accepted)[0].paid_on == today
    with transaction(load().db_url) as session:
        session.add(
            RepaymentClaim(
                case_id=order.case_id, amount=5_000, reason="Oanvända medel",
                status=RepaymentStatus.settled, paid_amount=5_000, ocr_reference="1234567897",
                drafted_by=OFFICER,
            )
        )  # fmt: skip

    sign_in(office, OFFICER)
    overview = re.sub(r"\s+", " ", office.get("/dashboard").text.replace("\u00a0", " "))
    assert 'Utbetalt</th><td class="num">19 999 kr' in overview
    assert 'Återbetalt på återkrav</th><td class="num">5 000 kr' in overview
    period = {"first": today.isoformat(), "last": today.isoformat()}
    report = office.get("/delegation-report", params=period).text.replace("\u00a0", " ")
    assert re.search(rf"{accepted}</a>.*?33 333 kr</td><td class=\"num\">19 999 kr", report, re.S)
    rows = list(
        csv.DictReader(io.StringIO(office.get("/delegation-report.csv", params=period).text))
    )
    assert {(r["case_reference"], r["amount"], r["paid"]) for r in rows} == {
        (accepted, "33333", "19999"),
        (other, str(OTHER_GRANTED), "0"),
    }
    pdf = " ".join(pdf_pages(office.get("/delegation-report.pdf", params=period).content))
    assert "Utbetalt" in pdf and "33 333 kr 19 999 kr" in pdf, pdf


def test_the_officer_cancels_an_order_with_a_reason_after_confirming(
    granted: tuple[str, str],  # noqa: F811
    office,
) -> None:
    accepted, _other = granted
    grants("payments", "prepare", accepted, "--as", OFFICER)
    [order] = orders_on(accepted)
    sign_in(office, OFFICER)
    assert f"Makulera utbetalningsorder {accepted}-1" in office.get(f"/cases/{accepted}").text
    address = f"/cases/{accepted}/payments/{order.id}/cancel"
    refused = post(office, address, {"payment_cancel_reason": " ", "preview": "1"})
    assert refused.status_code == 409 and "Ange varför utbetalningsordern makuleras" in refused.text
    confirm = post(office, address, {"payment_cancel_reason": "Fel konto", "preview": "1"})
    assert confirm.status_code == 200 and "Bekräfta åtgärden" in confirm.text
    assert orders_on(accepted)[0].status is PaymentStatus.prepared  # nothing yet
    token = re.search(r'name="preview_token" value="([^"]+)"', confirm.text).group(1)
    done = post(office, address, {"payment_cancel_reason": "Fel konto", "preview_token": token})
    assert f"Utbetalningsorder {accepted}-1 är makulerad." in done.text
    cancelled = orders_on(accepted)[0]
    assert (cancelled.status, cancelled.bank_reason) == (PaymentStatus.cancelled, "Fel konto")


def test_a_changed_account_holds_the_attestation_in_the_office(
    granted: tuple[str, str],  # noqa: F811
    office,
) -> None:
    accepted, _other = granted
    grants("payments", "prepare", accepted, "--as", OFFICER)
    [order] = orders_on(accepted)
    with transaction(load().db_url) as session:
        case = session.get(Case, order.case_id)
        session.add(
            PayeeAccount(
                case_id=case.id, kind=AccountKind.bankgiro, number="56781234",
                given_by=case.organisation.email, needs_confirmation=True,
            )
        )  # fmt: skip
    for email in (ATTESTANT, DECISION_MAKER):
        sign_in(office, email)
        for form in ({}, {"confirmed": "1"}):
            held = post(office, f"/payments/{order.id}/attest", form, follow_redirects=False)
            said = re.sub(r"\s+", " ", held.text)
            assert held.status_code == 409 and "kontot har ändrats och ingen andra person" in said
    assert orders_on(accepted)[0].status is PaymentStatus.prepared
