"""The grantee accepts a grant's conditions and gives the account to pay to; a changed
account holds the money until a second person confirms it.

The account numbers are published examples, each checked by the rules of Bankgirot's
"Bankernas kontonummeruppbyggnad": Skatteverket's bankgiro 5050-1055; the account numbers
in the test suites of the open-source validators kontonummer (svbeon, JavaScript: Forex
9420-4172385, Handelsbanken 6789-123456789, Swedbank 8424-4 983 189 224-6 and 8129-9
043 386 711-6, Sparbanken Tanum 8351-9 392 242 224-5, Nordea personkonto 3300-0006205124,
Klarna 9789-1111113) and SwedishBankAccounts (kajetan-kazimierczak, C#: Nordea 1860-1089976
and 3244-4609298, Swedbank 8214-9 923 472 612-4); each wrong one is a right one with one
digit changed.
"""

import re
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlmodel import select

from grants.settings import load
from models import identifiers
from models.acceptance import acceptance_of, account_given
from models.accounts import current_account, on_hold
from models.db import transaction
from models.identifiers import IdentifierError
from models.tables import AccountKind, AuditEvent, Case, Document, Notice, Recommendation
from models.validation import InvalidField
from tests.conftest import Mailbox
from tests.helpers import DECISION_MAKER, OFFICER, database_dump, grants, pdf_pages
from tests.test_assessment import attachment
from tests.test_decisions import small_budget, to_awaiting_decision  # noqa: F401 (a fixture)

LINK = re.compile(r"http://127\.0\.0\.1:\d+/g/[A-Za-z0-9_.-]+")
GRANTEE = "hej@kryddgarden.example.se"  # SI-2026-0105, Kryddgården Lindesberg


@pytest.mark.parametrize(
    ("clearing", "account", "bank", "rule"),
    [
        ("9420", "417 23 85", "Forex Bank", "type 1, comment 1"),
        ("1860", "1089976", "Nordea", "type 1, comment 1"),
        ("3244", "4609298", "Nordea", "type 1, comment 1"),
        ("9789", "1111113", "Klarna Bank", "type 1, comment 2"),
        ("3300", "0006205124", "Nordea (personkonto)", "type 2, comment 1"),
        ("6789", "123 456 789", "Handelsbanken", "type 2, comment 2"),
        ("8424-4", "983 189 224-6", "Swedbank", "type 2, comment 3"),
        ("8129-9", "043 386 711-6", "Swedbank", "type 2, comment 3"),
        ("8351-9", "3922422245", "Swedbank", "type 2, comment 3"),
        ("82149", "9234726124", "Swedbank", "type 2, comment 3"),
        ("8214", "9234726124", "Swedbank", "type 2, comment 3, four-digit clearing"),
    ],
)
def test_published_bank_accounts_pass_their_banks_check_digit(
    clearing: str, account: str, bank: str, rule: str
) -> None:
    checked = identifiers.bank_account_number(identifiers.clearing_number(clearing), account)
    assert checked.bank == bank, rule
    assert checked.number == re.sub(r"\D", "", account)


@pytest.mark.parametrize(
    ("clearing", "account", "field", "reason"),
    [
        ("9420", "4172386", "account", "check digit"),  # type 1, comment 1: mod 11
        ("1860", "1089975", "account", "check digit"),
        ("9789", "1111114", "account", "check digit"),  # type 1, comment 2: mod 11
        ("3300", "0006205125", "account", "check digit"),  # type 2, comment 1: mod 10
        ("6789", "123456788", "account", "check digit"),  # type 2, comment 2: mod 11
        ("8424-4", "9831892245", "account", "check digit"),  # type 2, comment 3: mod 10
        ("8424-1", "9831892246", "clearing", "fifth digit"),  # Swedbank's clearing check digit
        ("9420", "41723851", "account", "Forex Bank has 7 digits"),
        ("6789", "12345678", "account", "Handelsbanken has 9 digits"),
        ("0001", "1234567", "clearing", "no Swedish bank has the clearing number 0001"),
        ("942", "4172385", "clearing", "must be 4 digits"),
        ("94201", "4172385", "clearing", "must be 4 digits"),
    ],
)
def test_a_wrong_bank_account_is_refused_naming_the_field_and_the_value(
    clearing: str, account: str, field: str, reason: str
) -> None:
    with pytest.raises(InvalidField) as refused:
        account_given(clearing=clearing, account=account)
    assert refused.value.params["field"] == field
    assert refused.value.params["value"] == (clearing if field == "clearing" else account)
    assert reason in str(refused.value)


def test_a_bank_account_in_bankgirots_sixteen_digits_leaves_out_swedbanks_fifth() -> None:
    # SwedishBankAccounts' own examples of the form
    assert identifiers.bgc16("82149", "9234726124") == "8214009234726124"
    assert identifiers.bgc16("3300", "1212121212") == "3300001212121212"


def test_bankgiro_and_plusgiro_are_checked_and_one_account_is_given() -> None:
    assert account_given(bankgiro_number="5050-1055").number == "50501055"  # Skatteverket
    assert account_given(plusgiro_number="487312-1").kind is AccountKind.plusgiro
    with pytest.raises(InvalidField, match="bankgiro = '5050-1056': the check digit"):
        account_given(bankgiro_number="5050-1056")
    with pytest.raises(InvalidField, match="plusgiro = '487312-2': the check digit"):
        account_given(plusgiro_number="487312-2")
    with pytest.raises(IdentifierError):
        identifiers.bankgiro("5050-1056")
    with pytest.raises(Exception, match="give one account"):
        account_given(bankgiro_number="5050-1055", clearing="9420", account="4172385")
    with pytest.raises(Exception, match="give one account"):
        account_given()


def the_case(ref: str) -> Case:
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        session.refresh(case, ["organisation"])
        return case


def account_now(ref: str) -> tuple[str, str | None, bool]:
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        account = current_account(session, case)
        return (account.number if account else ""), (account and account.clearing), on_hold(account)


def actions(ref: str) -> list[str]:
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        query = select(AuditEvent.action).where(AuditEvent.case_id == case.id)
        return list(session.exec(query.order_by(AuditEvent.id)))


def signed_grant(mailbox: Mailbox) -> tuple[str, EmailMessage]:
    """Kryddgården's grant signed on the command line: its reference and the decision's
    e-mail (the case is in Swedish)."""
    ref = to_awaiting_decision("SI-2026-0105", Recommendation.partly_granted, 30_000)
    before = len(mailbox.messages)
    grants("sign", ref, "--as", DECISION_MAKER)
    mails = mailbox.wait_for(before + 1)[before:]
    [decision] = [m for m in mails if m["Subject"].startswith(f"Beslut {ref}")]
    return ref, decision


def test_the_decision_email_carries_the_grantees_link_and_no_pdf_does(
    small_budget: None,  # noqa: F811 (the fixture)
    smtp_server: Mailbox,
) -> None:
    _, mail = signed_grant(smtp_server)
    body = mail.get_body().get_content()
    [link] = LINK.findall(body)
    assert "Innan bidraget betalas ut ska den som har rätt att teckna" in body
    token = link.rsplit("/", 1)[-1]
    for message in smtp_server.messages:
        for part in message.iter_attachments():
            if part.get_filename().endswith(".pdf"):
                text = "".join(pdf_pages(attachment(message, part.get_filename())))
                assert token not in text.replace(" ", "") and "/g/" not in text
    decision = " ".join(pdf_pages(attachment(mail, "-beslut.pdf")))
    assert "Innan bidraget betalas ut ska organisationen godta villkoren i beslutet." in decision
    assert "genom den personliga länken i e-postmeddelandet" in decision
    assert "Villkoren kan också godtas på papper" in decision
    assert "Bidraget betalas ut när vi har tagit emot godkännandet." in decision


def test_paper_acceptance_then_a_changed_account_is_held_until_a_second_person_confirms(
    small_budget: None,  # noqa: F811 (the fixture)
    smtp_server: Mailbox,
    tmp_path,
) -> None:
    ref, decision_mail = signed_grant(smtp_server)
    paper = tmp_path / "godkannande.pdf"
    paper.write_bytes(attachment(decision_mail, "-beslut.pdf"))  # a PDF as the scan would be
    accept = ["accept", ref, "--as", OFFICER, "--signatory", "Eva Lund"]
    accept += ["--signatory-role", "ordförande", "--document", str(paper)]

    # A wrong check digit names the field and the value, and changes nothing.
    before = database_dump(load().home)
    refused = grants(*accept, "--clearing", "8424-4", "--account", "9831892245", ok=False)
    assert refused.exit_code == 2
    assert "account = '9831892245': the check digit (the last digit) does not match" in (
        refused.text
    )
    assert database_dump(load().home) == before

    grants(*accept, "--clearing", "8424-4", "--account", "983 189 224-6")
    assert account_now(ref) == ("9831892246", "84244", False)
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        acceptance = acceptance_of(session, case)
        assert (acceptance.signatory_name, acceptance.registered_by) == ("Eva Lund", OFFICER)
        assert session.get(Document, acceptance.document_id).filename == "godkannande.pdf"
    again = grants(*accept, "--bankgiro", "5050-1055", ok=False)
    assert again.exit_code == 2 and "they are accepted once" in again.text

    # The organisation's e-mail is corrected; then the account is changed.
    grants("correct", ref, "--as", OFFICER, "--email", "styrelsen@kryddgarden.example.se",
           "--reason", "Föreningen bytte adress.")  # fmt: skip
    before = len(smtp_server.messages)
    grants("account", "change", ref, "--as", OFFICER, "--bankgiro", "5050-1055")
    assert account_now(ref) == ("50501055", None, True)
    told = smtp_server.wait_for(before + 2)[before:]
    assert sorted(m["To"] for m in told) == [GRANTEE, "styrelsen@kryddgarden.example.se"]
    for message in told:
        assert message["Subject"] == f"Kontot för bidraget i {ref} har ändrats"
        body = message.get_body().get_content()
        assert "Nytt konto: bankgiro 5050-1055" in body
        assert "Tidigare konto: clearingnummer 8424-4, kontonummer 9831892246" in body

    # The one who changed it cannot confirm it; another can, saying how it was verified.
    same = grants("account", "confirm", ref, "--as", OFFICER, "--verified", "Ringde.", ok=False)
    assert same.exit_code == 2 and "another person confirms it (grants account" in same.text
    assert account_now(ref)[2] is True
    grants("account", "confirm", ref, "--as", DECISION_MAKER,
           "--verified", "Ringde ordföranden på numret i ansökan.")  # fmt: skip
    assert account_now(ref) == ("50501055", None, False)
    nothing = grants("account", "confirm", ref, "--as", DECISION_MAKER, "--verified", "x", ok=False)
    assert nothing.exit_code == 2 and "no changed account waiting" in nothing.text
    money = ("conditions_accepted", "payee_account_changed", "payee_account_confirmed")
    assert [action for action in actions(ref) if action in money] == list(money)


def decision_link(ref: str, timeout: float = 30) -> str:
    """The grantee's link in the decision's e-mail, which the office's worker writes to the
    outbox (no mail server configured)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for eml in load().outbox_dir.glob(f"{ref}-*beslut*.eml"):
            message = message_from_bytes(eml.read_bytes(), policy=policy.default)
            found = LINK.findall(message.get_body().get_content())
            if found:
                return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no decision e-mail with the grantee's link for {ref}")


@pytest.mark.browser
def test_the_grantee_accepts_on_a_phone_and_every_page_meets_wcag_21_aa(
    small_budget: None,  # noqa: F811 (the fixture)
    live_office,
    chromium,
    tmp_path,
) -> None:
    """As the chair does on a phone: the link from the decision's e-mail, the conditions and
    the amount, a mistyped clearing number refused at its field, the acceptance, the
    receipt; then a new account, held. Each page scanned by axe-core, in Swedish."""
    from tests.test_office_browser import (
        accessibility_violations,
        browser_sign_in,
        keep_screenshot,
    )

    ref = to_awaiting_decision("SI-2026-0105", Recommendation.partly_granted, 30_000)
    grants("sign", ref, "--as", DECISION_MAKER)
    link = decision_link(ref)
    context = chromium.new_context(
        locale="sv-SE", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(link)
    page.get_by_role("heading", name="Godta villkoren för ert bidrag").wait_for()
    assert accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    text = page.inner_text("main").replace("\u00a0", " ")
    assert "30 000 kr" in text
    assert "Bidraget får bara användas för det projekt som beskrivs i ansökan." in text
    keep_screenshot(page, "grantee-acceptance", tmp_path)

    page.get_by_label("Ert namn").fill("Eva Lund")
    page.get_by_label("Er roll i organisationen").fill("ordförande")
    page.get_by_label("Clearingnummer").fill("8424-1")
    page.get_by_label("Kontonummer").fill("983 189 224-6")
    page.get_by_role("button", name="Jag har rätt att teckna organisationens firma").click()
    page.locator("#clearing-error").wait_for()
    assert "Clearingnummer = ”8424-1”" in page.get_by_role("alert").inner_text() or (
        "8424-1" in page.get_by_role("alert").inner_text()
    )
    assert accessibility_violations(page) == []
    assert account_now(ref) == ("", None, True)  # nothing stored: no account, so held

    page.get_by_label("Clearingnummer").fill("8424-4")
    page.get_by_role("button", name="Jag har rätt att teckna organisationens firma").click()
    page.get_by_role("heading", name="Ert godkännande har kommit in").wait_for()
    receipt = page.get_by_role("status").first.inner_text()
    assert "Eva Lund (ordförande) godtog villkoren" in receipt
    assert "clearingnummer 8424-4, kontonummer 9831892246" in receipt
    assert accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    keep_screenshot(page, "grantee-receipt", tmp_path)
    assert account_now(ref) == ("9831892246", "84244", False)

    page.get_by_label("Bankgiro").fill("5050-1055")
    page.get_by_role("button", name="Ändra kontot").click()
    page.get_by_text("Det nya kontot har tagits emot").wait_for()
    assert accessibility_violations(page) == []
    assert account_now(ref) == ("50501055", None, True)
    with transaction(load().db_url) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "conditions_accepted")
        ).all()
        assert [(e.actor, e.role) for e in events] == [(GRANTEE, "applicant")]
        # The grantee is told once (its e-mail is unchanged); the case officer is asked.
        told = session.exec(select(Notice.kind, Notice.recipient).order_by(Notice.id)).all()
        assert ("account_changed.sv", GRANTEE) in told
        assert ("account_to_confirm", OFFICER) in told
        assert len([kind for kind, _ in told if kind.startswith("account_changed")]) == 1
    context.close()

    # The case officer, at the office, confirms the grantee's change on the case page.
    office = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = office.new_page()
    browser_sign_in(page, live_office.state.base_url, OFFICER)
    page.goto(f"{live_office.state.base_url}/cases/{ref}#payee")
    page.get_by_role("heading", name="Godkännande och konto").wait_for()
    assert accessibility_violations(page) == []
    verified = "Ringde ordföranden på numret i ansökan."
    page.get_by_label("Hur ändringen kontrollerades").fill(verified)
    page.locator("#payee").scroll_into_view_if_needed()
    keep_screenshot(page, "office-payee", tmp_path)
    page.get_by_role("button", name="Bekräfta kontot").press("Enter")
    page.get_by_text("Kontot är bekräftat").wait_for()
    assert accessibility_violations(page) == []
    assert account_now(ref) == ("50501055", None, False)
    office.close()


def test_on_the_case_page_paper_acceptance_a_change_and_a_second_persons_confirmation(
    small_budget: None,  # noqa: F811 (the fixture)
    office,
    tmp_path,
) -> None:
    """The case officer registers the paper and changes the account on the case page; the
    change cannot be confirmed by them, and is by the decision maker, with a note."""
    from models.access import case_for
    from models.decisions import sign
    from models.rules import Rules
    from tests.office import post, sign_in
    from tests.test_decisions import person

    ref = to_awaiting_decision("SI-2026-0105", Recommendation.partly_granted, 30_000)
    with transaction(load().db_url) as session:
        maker = person(session, DECISION_MAKER)
        sign(session, case_for(session, ref, maker, lock=True), maker, Rules())
    sign_in(office, OFFICER)
    page = office.get(f"/cases/{ref}").text
    assert "Registrera ett godkännande som kommit på papper" in page

    paper = {"signatory_name": "Eva Lund", "signatory_role": "kassör"}
    before = database_dump(load().home)
    refused = post(office, f"/cases/{ref}/acceptance", paper | {"bankgiro": "5050-1056"})
    assert refused.status_code == 409
    assert "Bankgiro = ”5050-1056”: kontrollsiffran" in refused.text.replace("\u00a0", " ")
    assert 'id="bankgiro-error"' in refused.text and 'value="Eva Lund"' in refused.text
    assert database_dump(load().home) == before

    scan = ("godkannande.pdf", b"%PDF-1.4\n% signed on paper\n", "application/pdf")
    taken = post(office, f"/cases/{ref}/acceptance", paper | {"plusgiro": "487312-1"},
                 files={"acceptance_file": scan}, follow_redirects=False)  # fmt: skip
    assert taken.status_code == 303, taken.text
    page = office.get(f"/cases/{ref}").text
    assert "Eva Lund (kassör)" in page and "plusgiro 487312-1" in page
    assert account_now(ref) == ("4873121", None, False)

    changed = post(office, f"/cases/{ref}/account", {"clearing": "9420", "account": "4172385"},
                   follow_redirects=False)  # fmt: skip
    assert changed.status_code == 303, changed.text
    assert account_now(ref) == ("4172385", "9420", True)
    page = office.get(f"/cases/{ref}").text
    assert "alla utbetalningar som inte gjorts väntar" in page
    assert "Bekräfta kontot" not in page  # not offered to the one who changed it
    same = post(office, f"/cases/{ref}/account/confirm", {"verification": "Ringde."})
    assert "Inte bekräftat" in same.text and "en annan person bekräftar den" in same.text
    assert account_now(ref)[2] is True

    post(office, "/logout")
    sign_in(office, DECISION_MAKER)
    assert "Bekräfta kontot" in office.get(f"/cases/{ref}").text
    confirmed = post(office, f"/cases/{ref}/account/confirm",
                     {"verification": "Ringde kassören på numret i ansökan."})  # fmt: skip
    assert "Kontot är bekräftat" in confirmed.text
    assert account_now(ref) == ("4172385", "9420", False)
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        account = current_account(session, case)
        assert (account.confirmed_by, account.verification) == (
            DECISION_MAKER,
            "Ringde kassören på numret i ansökan.",
        )


def test_the_grantees_page_speaks_the_cases_english_and_a_bad_link_opens_nothing(
    small_budget: None,  # noqa: F811 (the fixture)
    smtp_server: Mailbox,
    office,
) -> None:
    """Karlskoga Friends Cricket Club applied in English: the decision's e-mail, in English,
    carries the link, which neither the Swedish decision nor its translation does; the page
    is in English, refuses a wrong plusgiro at its field and takes nothing; a changed or
    expired link opens nothing."""
    from datetime import date, timedelta

    from flows.letters import send_letters
    from grants.applicant_links import acceptance_link
    from grants.embedded import run_flow
    from models.access import case_for
    from models.decisions import sign
    from models.rules import Rules
    from tests.office import post
    from tests.test_decisions import person

    ref = to_awaiting_decision("SI-2026-0108", Recommendation.granted)
    with transaction(load().db_url) as session:
        maker = person(session, DECISION_MAKER)
        sign(session, case_for(session, ref, maker, lock=True), maker, Rules())
    run_flow(send_letters)
    [mail] = [m for m in smtp_server.messages if m["Subject"].startswith(f"Decision {ref}")]
    body = mail.get_body().get_content()
    assert "Before the grant is paid, the person entitled to sign" in body
    [emailed] = LINK.findall(body)
    pdfs = [p for p in mail.iter_attachments() if p.get_filename().endswith(".pdf")]
    assert len(pdfs) == 2  # the decision in Swedish and its English translation
    for part in pdfs:
        text = "".join(pdf_pages(attachment(mail, part.get_filename())))
        assert emailed.rsplit("/", 1)[-1] not in text.replace(" ", "") and "/g/" not in text
    assert "through the personal link in the e-mail" in " ".join(
        pdf_pages(attachment(mail, "translation.pdf"))
    )
    link = acceptance_link(load(), ref, date.today() + timedelta(days=30))
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = office.get(f"/{path}")
    assert page.status_code == 200
    text = page.text.replace("\u00a0", " ")
    assert "Accept the conditions of your grant" in text and "SEK 25,000" in text
    assert "The funds may be used only for the project described in the application." in text

    before = database_dump(load().home)
    refused = post(office, f"/{path}", {"signatory_name": "Sam Patel",
                   "signatory_role": "secretary", "plusgiro": "487312-2"})  # fmt: skip
    assert refused.status_code == 422
    assert "Plusgiro = “487312-2”: the check digit" in refused.text
    assert 'id="plusgiro-error"' in refused.text and 'value="Sam Patel"' in refused.text
    assert database_dump(load().home) == before

    assert office.get(f"/{path}x").status_code == 404
    expired = acceptance_link(load(), ref, date.today() - timedelta(days=1))
    gone = office.get("/" + expired.split("://", 1)[1].split("/", 1)[1])
    assert gone.status_code == 410 and "This link has expired" in gone.text
