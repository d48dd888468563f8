"""The finance department's page in a real browser (Chromium): the attested orders waiting,
the payment file made with its downloads, the bank's report uploaded with what it changed,
a hostile file refused; each state of the page scanned by axe-core for WCAG 2.1 AA, in
Swedish and in English."""

from pathlib import Path

import pytest
from sqlmodel import col, select

from grants import bank_simulator as bank
from grants.payment_files import read_pain001, schema_problems
from grants.settings import load
from models.db import transaction
from models.tables import AccountKind, Case, PayeeAccount, PaymentOrder, PaymentStatus
from tests.bank_orders import attested_orders, finance_person
from tests.helpers import database_dump, pdf_pages
from tests.test_bank_files import BILLION_LAUGHS
from tests.test_office_browser import accessibility_violations, keep_screenshot, wait_for_link

pytestmark = pytest.mark.browser


def test_the_finance_department_pays_and_registers_the_banks_report_in_the_browser(
    sample_call: Path, live_office, chromium, tmp_path: Path
) -> None:
    base = live_office.state.base_url
    finance = finance_person()
    with transaction(load().db_url) as session:
        refs = list(session.exec(select(Case.case_reference).order_by(col(Case.id)).limit(4)))
        attested_orders(session, refs)
        held = session.exec(select(Case).where(Case.case_reference == refs[3])).one()
        session.add(
            PayeeAccount(
                case_id=held.id,
                kind=AccountKind.plusgiro,
                number="41095",
                given_by="applicant",
                needs_confirmation=True,
            )
        )
    context = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Din e-postadress").fill(finance)
    page.get_by_role("button", name="Skicka en inloggningslänk").click()
    page.get_by_role("heading", name="Titta i din e-post").wait_for()
    page.goto(wait_for_link(finance))
    page.get_by_role("button", name="Logga in").click()

    page.get_by_role("heading", name="Utbetalningar till banken").wait_for()
    assert page.get_by_role("link", name="Utbetalningar").get_attribute("aria-current") == "page"
    waiting = page.get_by_role("table", name="Attesterade, väntar på en betalfil")
    assert [waiting.get_by_role("rowheader", name=r).count() for r in refs[:3]] == [1, 1, 1]
    assert page.get_by_role("table", name="Vilande").get_by_text(refs[3]).count() == 1
    assert accessibility_violations(page) == []

    page.get_by_role("button", name="Skapa betalfilen").press("Enter")
    made = page.get_by_role("status")
    made.wait_for()
    assert "3 betalning(ar)" in made.inner_text()
    assert accessibility_violations(page) == []
    keep_screenshot(page, "office-payments", tmp_path)
    xml_link = page.get_by_role("link", name="(pain.001, XML)")
    xml = context.request.get(base + xml_link.get_attribute("href")).body()
    assert schema_problems(xml) == [] and read_pain001(xml).count == 3
    pdf_href = page.get_by_role("link", name="(PDF)").get_attribute("href")
    pdf = context.request.get(base + pdf_href).body()
    assert all(r in " ".join(pdf_pages(pdf)) for r in refs[:3])

    rejected = f"{refs[0]}-1"
    status = tmp_path / "status.xml"
    status.write_bytes(bank.status_report(xml, {rejected: "AC04"}))
    page.get_by_label("Statusrapport (pain.002) eller avisering (camt.054), XML").set_input_files(
        status
    )
    page.get_by_role("button", name="Registrera rapporten").press("Enter")
    page.get_by_text("Avvisade, tillbaka till handläggaren").wait_for()
    assert refs[0] in page.get_by_role("status").inner_text()
    assert accessibility_violations(page) == []
    with transaction(load().db_url) as session:
        order = session.exec(
            select(PaymentOrder).where(PaymentOrder.end_to_end_id == rejected)
        ).one()
    assert (order.status, order.bank_reason) == (PaymentStatus.rejected, "AC04: Kontot är avslutat")

    before = database_dump(sample_call)
    bomb = tmp_path / "bomb.xml"
    bomb.write_bytes(BILLION_LAUGHS)
    page.get_by_label("Statusrapport (pain.002) eller avisering (camt.054), XML").set_input_files(
        bomb
    )
    page.get_by_role("button", name="Registrera rapporten").press("Enter")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "bomb.xml" in alert.inner_text() and "dokumenttyp (DTD)" in alert.inner_text()
    assert accessibility_violations(page) == []
    assert database_dump(sample_call) == before

    page.get_by_role("button", name="In English").click()
    page.get_by_role("button", name="På svenska").wait_for()
    page.goto(f"{base}/payments")
    page.get_by_role("heading", name="Payments to the bank").wait_for()
    assert accessibility_violations(page) == []
    context.close()
