"""The money's path walked in Chromium as the people on it do, one office and one walk:
the grantees accept on a phone through the link in the decision's e-mail (in Swedish and in
English), the case officer prepares the payment orders, the attestant attests them, the
finance department makes the payment file and registers the bank's camt.054, and a changed
account holds its order until a second person confirms it. Every page meets WCAG 2.1 AA."""

import re
import time
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from grants import bank_simulator as bank
from grants.payment_files import XSD, read_pain001
from grants.settings import load
from models import clock
from models.tables import PaymentStatus, Recommendation
from tests.conftest import Mailbox
from tests.helpers import DECISION_MAKER, OFFICER, database_dump, grants, pdf_pages
from tests.office import LINK as SIGN_IN_LINK
from tests.test_acceptance import LINK as GRANTEE_LINK
from tests.test_decisions import to_awaiting_decision
from tests.test_office_browser import accessibility_violations, keep_screenshot
from tests.test_payments import ATTESTANT, FINANCE, _people, orders_on

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True}
DESK = {"viewport": {"width": 1280, "height": 900}}
SIGN = "Jag har rätt att teckna organisationens firma"  # the acceptance's button begins so


def with_the_decision_maker() -> dict[str, str]:
    """Two drafts with the decision maker, to be signed in the walk (so that their e-mails
    reach its mailbox): Kryddgården 30 000 kr (Swedish), Karlskoga's cricket club 25 000 kr
    (English); an attestant, a finance person, and the case officer an attestant too."""
    drafts = {
        "sv": to_awaiting_decision("SI-2026-0105", Recommendation.partly_granted, 30_000),
        "en": to_awaiting_decision("SI-2026-0108", Recommendation.granted),
    }
    _people()
    grants("people", "change", OFFICER, "--attestant", "--as", DECISION_MAKER)
    return drafts


def mailed_link(mailbox: Mailbox, to: str, pattern: re.Pattern[str], timeout: float = 20) -> str:
    """The newest link matching `pattern` in the e-mails the SMTP server received for `to`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in reversed(mailbox.messages):
            if message["To"] == to:
                found = pattern.findall(message.get_body(("plain",)).get_content())
                if found:
                    return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no e-mail to {to} with a link like {pattern.pattern}")


def signed_in(chromium, base: str, email: str, mailbox: Mailbox, start: str):
    """A window of `email`'s own, signed in as they do: the link from the e-mail."""
    context = chromium.new_context(locale="sv-SE", **DESK)
    page = context.new_page()
    before = len(mailbox.messages)
    page.goto(f"{base}/login")
    page.get_by_label("Din e-postadress").fill(email)
    page.get_by_role("button", name="Skicka en inloggningslänk").click()
    page.get_by_role("heading", name="Titta i din e-post").wait_for()
    mailbox.wait_for(before + 1)
    page.goto(mailed_link(mailbox, email, SIGN_IN_LINK))
    page.get_by_role("button", name="Logga in").click()
    page.get_by_role("heading", name=start).wait_for()
    clean(page)
    return context, page


def clean(page) -> None:
    """No WCAG 2.1 AA violation, and nothing wider than the window."""
    assert accessibility_violations(page) == [], page.url
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def shown(locator) -> str:
    return re.sub(r"\s+", " ", locator.inner_text().replace("\u00a0", " "))


def test_the_money_from_the_decision_email_to_the_bank_and_back(
    sample_call: Path,
    smtp_server: Mailbox,
    live_office,
    chromium,
    tmp_path: Path,
) -> None:
    drafts = with_the_decision_maker()
    sv, en = drafts["sv"], drafts["en"]
    base = live_office.state.base_url
    for ref in (sv, en):
        grants("sign", ref, "--as", DECISION_MAKER)

    # The grantee in Swedish, on a phone: a mistyped account is refused at its field.
    grantee = chromium.new_context(locale="sv-SE", **PHONE)
    page = grantee.new_page()
    page.goto(mailed_link(smtp_server, "hej@kryddgarden.example.se", GRANTEE_LINK))
    page.get_by_role("heading", name="Godta villkoren för ert bidrag").wait_for()
    assert "30 000 kr" in shown(page.locator("main"))
    mail = page.get_by_role("link", name="maria.lindqvist@regionorebrolan.example.se")
    assert mail.get_attribute("href") == "mailto:maria.lindqvist@regionorebrolan.example.se"
    clean(page)
    keep_screenshot(page, "money-grantee-sv", tmp_path, full_page=True)
    for field in ("Bankgiro", "Plusgiro", "Clearingnummer", "Kontonummer"):  # one column
        label, box = page.get_by_text(field, exact=True), page.get_by_label(field)
        assert label.bounding_box()["y"] + label.bounding_box()["height"] <= box.bounding_box()["y"]
    page.get_by_label("Ert namn").fill("Eva Lund")
    page.get_by_label("Er roll i organisationen").fill("ordförande")
    page.get_by_label("Clearingnummer").fill("8424-4")
    page.get_by_label("Kontonummer").fill("983 189 224-5")
    before = database_dump(load().home)
    page.get_by_role("button", name=re.compile(SIGN)).click()
    page.locator("#account-error").wait_for()
    said = shown(page.get_by_role("alert").first)
    assert "Kontonummer" in said and "983 189 224-5" in said, said
    assert page.get_by_label("Ert namn").input_value() == "Eva Lund"  # what was typed is kept
    assert database_dump(load().home) == before  # nothing stored
    clean(page)
    keep_screenshot(page, "money-grantee-sv-refused", tmp_path, full_page=True)
    page.get_by_label("Kontonummer").fill("983 189 224-6")
    page.get_by_role("button", name=re.compile(SIGN)).click()
    page.get_by_role("heading", name="Ert godkännande har kommit in").wait_for()
    assert "clearingnummer 8424-4, kontonummer 9831892246" in shown(page.locator("main"))
    clean(page)
    keep_screenshot(page, "money-grantee-sv-receipt", tmp_path, full_page=True)
    grantee.close()

    # The grantee in English, on a phone.
    grantee = chromium.new_context(locale="en-GB", **PHONE)
    page = grantee.new_page()
    english_link = mailed_link(smtp_server, "secretary@kfcc.example.org", GRANTEE_LINK)
    page.goto(english_link)
    page.get_by_role("heading", name="Accept the conditions of your grant").wait_for()
    assert "SEK 25,000" in shown(page.locator("main"))
    clean(page)
    keep_screenshot(page, "money-grantee-en", tmp_path, full_page=True)
    page.get_by_label("Your name").fill("Sam Patel")
    page.get_by_label("Your role in the organisation").fill("secretary")
    page.get_by_label("Bankgiro").fill("5402-9681")
    page.get_by_role("button", name=re.compile("I am entitled to sign")).click()
    page.get_by_role("heading", name="Your acceptance has been received").wait_for()
    clean(page)
    grantee.close()

    # The case officer prepares both orders, and may not attest their own.
    officer, page = signed_in(chromium, base, OFFICER, smtp_server, "Mina uppgifter")
    for ref, amount in ((sv, "30 000 kr"), (en, "25 000 kr")):
        page.goto(f"{base}/cases/{ref}#payments")
        page.get_by_role("heading", name="Utbetalningar", exact=True).wait_for()
        page.get_by_role("button", name="Förbered utbetalningsorder").click()
        page.get_by_role("status").wait_for()
        assert f"{ref}-1 ({amount})" in shown(page.get_by_role("status")), ref
        section = shown(page.locator("#payments"))
        assert f"Bidraget, {amount}, betalas ut i en enda utbetalning när villkoren" in section
        assert "Varje delbetalning har sin utbetalningsorder." in section  # nothing to prepare
        assert page.get_by_role("button", name="Förbered utbetalningsorder").count() == 0
        clean(page)
    page.locator("#payments").scroll_into_view_if_needed()
    keep_screenshot(page, "money-officer-prepared", tmp_path)
    page.goto(f"{base}/payments/to-attest")
    page.get_by_role("heading", name="Utbetalningsorder att attestera").wait_for()
    assert "Ingen utbetalningsorder väntar på din attest just nu." in shown(page.locator("main"))
    clean(page)
    [own] = orders_on(sv)
    page.evaluate(  # as a stale confirmation page would post it
        """([order, token]) => {
            const form = Object.assign(document.createElement('form'),
                {method: 'post', action: `/payments/${order}/attest`});
            for (const [name, value] of [['csrf_token', token], ['confirmed', '1']])
                form.append(Object.assign(document.createElement('input'),
                    {type: 'hidden', name, value}));
            document.body.append(form);
            form.submit();
        }""",
        [own.id, page.locator("input[name=csrf_token]").first.get_attribute("value")],
    )
    page.get_by_text(f"Maria Lindqvist förberedde utbetalningsorder {sv}-1;").wait_for()
    clean(page)
    keep_screenshot(page, "money-own-order-refused", tmp_path)
    officer.close()
    assert orders_on(sv)[0].status is PaymentStatus.prepared

    # The attestant attests both from their list, each after a confirmation.
    attestant, page = signed_in(chromium, base, ATTESTANT, smtp_server, "Mina uppgifter")
    page.get_by_role("link", name="2 utbetalningsorder att attestera").click()
    page.get_by_role("heading", name="Utbetalningsorder att attestera").wait_for()
    listed = shown(page.get_by_role("table"))
    for account in ("Bankkonto 8424-4, 9831892246", "Bankgiro 5402-9681"):  # as given
        assert account in listed, listed
    clean(page)
    keep_screenshot(page, "money-to-attest", tmp_path)
    for ref, amount in ((sv, "30 000 kr"), (en, "25 000 kr")):
        page.get_by_role("button", name=f"Attestera {ref}-1").click()
        page.get_by_role("heading", name="Bekräfta attesten").wait_for()
        clean(page)
        page.get_by_role("button", name="Attestera", exact=True).press("Enter")
        page.get_by_role("status").wait_for()
        said = shown(page.get_by_role("status"))
        assert f"Utbetalningsorder {ref}-1 är attesterad: {amount}." in said, said
    attestant.close()

    # The English grantee changes the account: their attested order is held.
    grantee = chromium.new_context(locale="en-GB", **PHONE)
    page = grantee.new_page()
    page.goto(english_link)
    page.get_by_role("heading", name="Your acceptance has been received").wait_for()
    page.get_by_label("Bankgiro").fill("5050-1055")
    page.get_by_role("button", name="Change the account").click()
    page.get_by_text("The new account has been received").wait_for()
    clean(page)
    keep_screenshot(page, "money-grantee-en-changed", tmp_path, full_page=True)
    grantee.close()

    # The finance department: one file, the held order left out; the bank's answer.
    finance, page = signed_in(chromium, base, FINANCE, smtp_server, "Utbetalningar till banken")
    ready = shown(page.locator("table[aria-labelledby=ready-heading]"))
    assert sv in ready and en not in ready, ready
    page.get_by_role("heading", name="Vilande: kontot har ändrats och är ännu inte bekräftat")
    assert en in shown(page.locator("table[aria-labelledby=held-heading]"))
    clean(page)
    page.get_by_role("button", name="Skapa betalfilen").click()
    page.get_by_role("status").wait_for()
    assert "1 betalning(ar)" in shown(page.get_by_role("status"))
    made = page.locator("table[aria-labelledby=files-heading] tbody tr")
    assert "Frida Ekman" in shown(made) and "30 000 kr" in shown(made)  # by name, not e-mail
    amount = made.get_by_text("30 000 kr")
    assert amount.evaluate("cell => getComputedStyle(cell).textAlign") == "right"
    clean(page)
    keep_screenshot(page, "money-finance", tmp_path)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"Betalfil .* \(pain\.001, XML\)")).click()
    payment_file = Path(download.value.path()).read_bytes()
    schema = etree.XMLSchema(etree.parse(str(XSD / "pain.001.001.03.xsd")))
    assert schema.validate(etree.fromstring(payment_file)), schema.error_log
    read = read_pain001(payment_file)
    [paid] = read.payments
    assert (read.count, read.control_sum) == (1, Decimal(30_000))
    assert (paid.end_to_end_id, paid.amount, paid.clearing) == (f"{sv}-1", 30_000, "8424")
    assert sv in paid.remittance and paid.account == "9831892246"

    with page.expect_download() as download:  # the payment order that goes with it
        page.get_by_role("link", name=re.compile(r"Utbetalningsorder .* \(PDF\)")).click()
    order = " ".join(pdf_pages(Path(download.value.path()).read_bytes())).replace("\u00a0", " ")
    assert f"{sv}-1" in order and "Bankkonto 8424-4, 9831892246" in order, order

    camt = tmp_path / "camt054.xml"
    camt.write_bytes(bank.debit_notification(payment_file, clock.today()))
    page.get_by_label("Statusrapport (pain.002) eller avisering (camt.054), XML").set_input_files(
        camt
    )
    page.get_by_role("button", name="Registrera rapporten").click()
    page.get_by_text(f"Utbetalda: {sv}").wait_for()
    clean(page)
    finance.close()

    # The case officer sees it paid, and confirms the changed account as a second person.
    officer, page = signed_in(chromium, base, OFFICER, smtp_server, "Mina uppgifter")
    page.goto(f"{base}/cases/{sv}#payments")
    orders = shown(page.locator("#payments table"))
    assert "Betald" in orders and "30 000 kr" in orders, orders
    clean(page)
    page.locator("#payments").scroll_into_view_if_needed()
    keep_screenshot(page, "money-officer-paid", tmp_path)
    page.goto(f"{base}/cases/{en}#payee")
    page.get_by_role("heading", name="Godkännande och konto").wait_for()
    clean(page)
    page.get_by_label("Hur ändringen kontrollerades").fill(
        "Ringde sekreteraren på numret i ansökan."
    )
    page.get_by_role("button", name="Bekräfta kontot").press("Enter")
    page.get_by_text("Kontot är bekräftat").wait_for()
    clean(page)
    officer.close()

    finance, page = signed_in(chromium, base, FINANCE, smtp_server, "Utbetalningar till banken")
    ready = shown(page.locator("table[aria-labelledby=ready-heading]"))
    assert en in ready and "Bankgiro 5050-1055" in ready, ready  # on to the confirmed account
    assert page.locator("table[aria-labelledby=held-heading]").count() == 0
    finance.close()
    assert [o.status for o in orders_on(sv)] == [PaymentStatus.paid]
