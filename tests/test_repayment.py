"""Repayment (återkrav): a claim on a signed grant drafted by the case officer, communicated
(FL 25 §), decided by the decision maker as a decision of its own with the Region's bankgiro,
an OCR reference and a due date on a working day, reminded once when overdue, listed for the
finance department, and settled when paid."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from flows.assessment import sweep
from flows.intake import intake
from flows.letters import send_letters
from grants.embedded import run_flow
from grants.render import format_date
from grants.seal import seal_fault
from grants.settings import load
from models import clock
from models.db import transaction
from models.identifiers import luhn_check_digit, luhn_valid, ocr_reference, ocr_valid
from models.tables import AuditEvent, Case, Person, Recommendation, RepaymentClaim, Role
from models.working_days import is_working_day
from tests.conftest import SAMPLES, MadeOnce, Mailbox
from tests.helpers import ACTIVA, DECISION_MAKER, OFFICER, grants, pdf_pages
from tests.test_decisions import letter_pdf, to_awaiting_decision

FINANCE = "ekonomi@regionorebrolan.example.se"


def test_the_ocr_reference_carries_a_length_digit_and_a_luhn_check_digit() -> None:
    # Numbers whose Luhn check digit anyone can verify: the textbook example and a test card.
    for known in ("79927398713", "4111111111111111", "5560360793"):
        assert luhn_valid(known)
    assert luhn_check_digit("7992739871") == "3"
    # 26RS12's first claim: 26 12 | 01 | length 8 | check digit.
    assert ocr_reference("26RS12", 1) == "26120188"
    assert ocr_reference("26RS1234", 2) == "26123402" + "0" + luhn_check_digit("261234020")
    assert ocr_valid("26120188")
    assert not ocr_valid("26120183")  # a wrong check digit
    assert not ocr_valid("2612088")  # a digit left out: the length digit says 8
    assert not ocr_valid("4111111111111111")  # Luhn-valid, but its length digit is wrong
    assert ocr_reference("26RS12", 1) != ocr_reference("26RS12", 2)


@pytest.fixture
def granted(made_once: MadeOnce, grants_home: Path) -> dict[str, str]:
    """Two signed grants, one to a Swedish case (35 000 kr) and one to an English one, and a
    person of the finance department; made once, copied for each test. Returns the case
    references by language."""

    def make() -> dict[str, str]:
        run_flow(intake, path=str(SAMPLES / "applications.json"), send_letters=False)
        made = {}
        for language, submission in (("sv", "SI-2026-0101"), ("en", "SI-2026-0108")):
            made[language] = to_awaiting_decision(submission, Recommendation.granted)
            grants("sign", made[language], "--as", DECISION_MAKER)
        with transaction(load().db_url) as session:
            session.add(Person(name="Eva Ek", email=FINANCE, role=Role.finance, organisation="RÖL"))
        return made

    return made_once("repayment-granted", make)


def _claim(ref: str) -> RepaymentClaim | None:
    """The case's first repayment claim, if it has one."""
    with transaction(load().db_url) as session:
        return session.exec(
            select(RepaymentClaim).join(Case).where(Case.case_reference == ref)
        ).first()


def test_a_claim_goes_from_draft_to_decision_reminder_and_settlement(
    granted: dict[str, str], smtp_server: Mailbox
) -> None:
    ref = granted["sv"]
    sent_before = len(smtp_server.messages)

    refused = grants(
        "repayment", "draft", ref, "--amount", "40000", "--reason", "x", "--as", OFFICER, ok=False
    )
    assert refused.exit_code == 2
    assert "amount = 40000" in refused.text and "35000 kr granted" in refused.text
    assert _claim(ref) is None  # nothing changed

    reason = "Projektet avslutades i förtid; 10 000 kr av bidraget användes inte."
    draft = ("repayment", "draft", ref, "--amount", "10000", "--reason", reason)
    said = grants(*draft, "--as", OFFICER)
    ocr = ocr_reference(ref, 1)
    assert ocr in said.text and ocr_valid(ocr)

    refused = grants("repayment", "decide", ref, "--as", DECISION_MAKER, ok=False)
    assert refused.exit_code == 2 and "'drafted'" in refused.text  # communicate first
    grants("repayment", "communicate", ref, "--as", OFFICER)
    refused = grants("repayment", "decide", ref, "--as", DECISION_MAKER, ok=False)
    assert "may comment until" in refused.text  # the deadline runs, no reply yet
    reply = "Vi har använt 2 000 kr av beloppet till en avslutande träff."
    grants("repayment", "reply", ref, "--reply", reply, "--as", OFFICER)

    for who in (OFFICER, ACTIVA, FINANCE):  # only the decision maker decides
        refused = grants("repayment", "decide", ref, "--as", who, ok=False)
        assert refused.exit_code == 2 and "decision_maker" in refused.text
    refused = grants("repayment", "decide", ref, "--as", DECISION_MAKER, ok=False)
    assert "reply_assessment = ''" in refused.text  # the comments must be answered
    assessment = "Träffen ingick inte i projektplanen; beloppet står fast."
    said = grants(
        "repayment", "decide", ref, "--reply-assessment", assessment, "--as", DECISION_MAKER
    )
    claim = _claim(ref)
    assert claim.status == "decided" and is_working_day(claim.due_on)
    assert claim.due_on >= date.today() + timedelta(days=30)

    run_flow(send_letters)
    messages = smtp_server.wait_for(sent_before + 2)[sent_before:]
    subjects = [m["Subject"] for m in messages]
    assert any(s.startswith("Kommunicering inför beslut om återbetalning") for s in subjects)
    decision_mail = next(m for m in messages if m["Subject"].startswith("Beslut om återbetalning"))
    body = decision_mail.get_body(("plain",)).get_content()
    assert f"OCR-nummer: {ocr}" in body and "Bankgiro: 5050-1055" in body

    decision_pdf = letter_pdf("repayment_decision", ref)
    pages = pdf_pages(decision_pdf)
    text = " ".join(pages)
    assert all(ref in page for page in pages)  # the case reference on every page
    assert "10 000 kr" in text and "5050-1055" in text and ocr in text
    assert format_date(claim.due_on, "sv") in text
    assert reply in text and assessment in text and reason in text
    assert "laglighetsprövning" in text and "13 kap" in text
    assert "Elektroniskt förseglat av Region Örebro län" in text  # sealed as the grant is
    assert seal_fault(decision_pdf, load().seal.trust_anchor) is None

    # Past the due date, unpaid: one reminder, and the finance department's list.
    after_due = claim.due_on + timedelta(days=1)
    assert run_flow(sweep, today=after_due)["repayment_reminders"] == 1
    assert run_flow(sweep, today=after_due + timedelta(days=1))["repayment_reminders"] == 0
    reminder = " ".join(pdf_pages(letter_pdf("repayment_reminder", ref)))
    assert "10 000 kr" in reminder and ocr in reminder and "5050-1055" in reminder
    with clock.simulated():
        clock.move_to(clock.now() + (after_due - date.today()))
        listed = grants("repayment", "overdue", "--as", FINANCE)
        assert ref in listed.text and ocr in listed.text and "10000 kr" in listed.text

        refused = grants(
            "repayment", "paid", ref, "--amount", "12000", "--date", after_due.isoformat(),
            "--as", FINANCE, ok=False,
        )  # fmt: skip
        assert "amount = 12000" in refused.text and "10000 kr still owed" in refused.text
        said = grants(
            "repayment", "paid", ref, "--amount", "4000", "--date", after_due.isoformat(),
            "--as", FINANCE,
        )  # fmt: skip
        assert "6000 kr still owed" in said.text
        assert "6000 kr" in grants("repayment", "overdue", "--as", OFFICER).text
        said = grants(
            "repayment", "paid", ref, "--amount", "6000", "--date", after_due.isoformat(),
            "--as", OFFICER,
        )  # fmt: skip
        assert "settled" in said.text
        listed = grants("repayment", "overdue", "--as", FINANCE)
        assert "No repayment claim is overdue" in listed.text
    claim = _claim(ref)
    assert claim.status == "settled" and claim.settled_on == after_due
    assert claim.settled_by == OFFICER and claim.paid_amount == 10000

    with transaction(load().db_url) as session:
        actions = [
            e.action
            for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))
            if e.action.startswith("repayment")
        ]
    assert actions == [
        "repayment_drafted", "repayment_communicated", "repayment_reply", "repayment_decided",
        "repayment_reminder_ordered", "repayment_paid", "repayment_paid",
    ]  # fmt: skip


def test_the_office_drafts_a_claim_and_the_grantee_comments_through_the_link(
    granted: dict[str, str], office, smtp_server: Mailbox
) -> None:
    """The case officer drafts in the office (a claim over the grant refused at its field)
    and communicates; the grantee answers through the personal link in the e-mail, never in
    the PDF; the answer is the claim's reply, once."""
    from tests.office import post, sign_in
    from tests.test_office_applicant import LINK, path_of

    ref = granted["sv"]
    sign_in(office, OFFICER)
    page = office.get(f"/cases/{ref}")
    assert 'id="repayment-heading"' in page.text and "Ta fram ett återkrav" in page.text
    form = {"repayment_reason_kind": "unused", "repayment_reason": "Inte använt."}
    refused = post(office, f"/cases/{ref}/repayment/draft", form | {"repayment_amount": "40 000"})
    assert refused.status_code == 409
    assert "40\xa0000\xa0kr är mer än de 35\xa0000\xa0kr" in refused.text
    assert 'name="repayment_amount"' in refused.text and 'aria-invalid="true"' in refused.text
    assert _claim(ref) is None  # nothing changed
    done = post(office, f"/cases/{ref}/repayment/draft", form | {"repayment_amount": "10 000"})
    assert done.status_code == 200 and "Återkrav 1 framtaget." in done.text
    assert ocr_reference(ref, 1) in done.text
    overdue = office.get("/repayment/overdue")
    assert overdue.status_code == 200 and "Inget återkrav är förfallet." in overdue.text

    shown = post(office, f"/cases/{ref}/repayment/communicate", {"number": "1", "preview": "1"})
    assert shown.status_code == 200 and f"{ref}-kommunicering-aterkrav-1.pdf" in shown.text
    assert _claim(ref).status == "drafted"  # shown, not sent
    sent = post(office, f"/cases/{ref}/repayment/communicate", {"number": "1"})
    assert "Återkrav 1 skickat till bidragsmottagaren för synpunkter." in sent.text
    office.app.state.office.follow_up.wait_idle(60)
    subject = "Kommunicering inför beslut om återbetalning"
    [mail] = [m for m in smtp_server.wait_for(2) if m["Subject"].startswith(subject)]
    [link] = LINK.findall(mail.get_body(("plain",)).get_content())
    pdf = next(a for a in mail.iter_attachments() if a.get_content_type() == "application/pdf")
    letter = " ".join(pdf_pages(pdf.get_content()))
    assert "127.0.0.1:8000" not in letter and link.rsplit("/", 1)[1][:20] not in letter
    assert "genom den personliga länken i e-" in letter  # says where it is, and no more
    assert "10 000 kr" in letter and "35 000 kr" in letter and ref in letter

    office.cookies.clear()  # the grantee signs in to nothing
    page = office.get(path_of(link))
    assert page.status_code == 200 and "Återkrav nr 1" in page.text
    reply = "Vi använde 2 000 kr till en avslutande träff."
    answered = post(office, path_of(link), {"message": reply}, follow_redirects=False)
    assert answered.status_code == 303
    claim = _claim(ref)
    assert claim.reply == reply and claim.replied_at is not None
    again = post(office, path_of(link), {"message": "En sak till."}, follow_redirects=False)
    assert again.status_code == 409 and _claim(ref).reply == reply
    with transaction(load().db_url) as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "repayment_reply"))
        assert event.role == Role.applicant

    # The decision maker decides on the case page; the comments must be answered first.
    sign_in(office, DECISION_MAKER)
    page = office.get(f"/cases/{ref}")
    assert reply in page.text and "Besluta om återbetalningen" in page.text
    decide = f"/cases/{ref}/repayment/decide"
    refused = post(office, decide, {"number": "1", "reply_assessment": ""})
    assert refused.status_code == 409 and "skriv hur de har bedömts" in refused.text
    assert 'name="reply_assessment"' in refused.text and 'aria-invalid="true"' in refused.text
    assessment = {"number": "1", "reply_assessment": "Träffen ingick inte i projektet."}
    decided = post(office, decide, assessment)
    assert "Återkrav 1 beslutat" in decided.text and _claim(ref).status == "decided"

    # Past the due date the finance department finds it on its list and registers the payment.
    office.cookies.clear()
    due = _claim(ref).due_on
    with clock.simulated():
        clock.move_to(clock.now() + (due - date.today()) + timedelta(days=1))
        sign_in(office, FINANCE)
        listed = office.get("/repayment/overdue")
        assert (
            listed.status_code == 200
            and ref in listed.text
            and ocr_reference(ref, 1) in listed.text
        )
        paid = {"number": "1", "paid_on": clock.today().isoformat(), "paid_amount": "10000"}
        done = post(office, f"/cases/{ref}/repayment/paid", paid)
        assert done.status_code == 200 and "Betalning på återkrav 1 registrerad." in done.text
        assert "Inget återkrav är förfallet." in done.text
    claim = _claim(ref)
    assert claim.status == "settled" and claim.settled_by == FINANCE


def test_an_english_claim_is_withdrawn_and_the_drafter_never_decides(
    granted: dict[str, str],
) -> None:
    """An English case's claim is communicated in English; the person who drafted it cannot
    decide it even as a decision maker; a decided claim is withdrawn only by the decision
    maker, with a reason; a withdrawn claim no longer counts against the grant."""
    from models.access import case_for
    from models.repayment import RepaymentRefused, decide_claim
    from models.rules import Rules

    ref = granted["en"]
    reason = "The project was cancelled before it started."
    grants("repayment", "draft", ref, "--amount", "5000", "--reason", reason, "--as", OFFICER)
    grants("repayment", "communicate", ref, "--as", OFFICER)
    run_flow(send_letters)
    letter = " ".join(pdf_pages(letter_pdf("repayment_communication", ref)))
    assert "We intend to claim back money from your grant" in letter
    assert "SEK 5,000" in letter and reason in letter and "Comments by" in letter

    with transaction(load().db_url) as session:  # the drafter, made a decision maker since
        drafter = session.exec(select(Person).where(Person.email == OFFICER)).one()
        drafter.role = Role.decision_maker
        case = case_for(session, ref, drafter)
        with pytest.raises(RepaymentRefused) as refused:
            decide_claim(session, case, drafter, 1, "", "5050-1055", Rules(), date(2030, 1, 7))
        assert refused.value.code == "repayment.drafted_it"
        session.rollback()

    with clock.simulated():  # after the deadline, without a reply
        clock.move_to(clock.now() + timedelta(days=30))
        grants("repayment", "decide", ref, "--as", DECISION_MAKER)
    refused = grants(
        "repayment", "withdraw", ref, "--reason", "Paid otherwise.", "--as", OFFICER, ok=False
    )
    assert refused.exit_code == 2 and "only a decision maker withdraws it" in refused.text
    refused = grants(
        "repayment", "withdraw", ref, "--reason", " ", "--as", DECISION_MAKER, ok=False
    )
    assert "reason = ''" in refused.text
    grants("repayment", "withdraw", ref, "--reason", "Paid otherwise.", "--as", DECISION_MAKER)
    claim = _claim(ref)
    assert claim.status == "withdrawn" and claim.withdrawal_reason == "Paid otherwise."
    run_flow(send_letters)
    withdrawn = " ".join(pdf_pages(letter_pdf("repayment_withdrawal", ref)))
    assert "You do not need to repay the money" in withdrawn and "Paid otherwise." in withdrawn
    decision = " ".join(pdf_pages(letter_pdf("repayment_decision", ref)))
    assert "Decision on repayment" in decision and "OCR reference" in decision
    assert "We have received no comments" in decision and "laglighetsprövning" in decision
    # Withdrawn, the claim no longer counts: the whole grant can be claimed again.
    said = grants(
        "repayment", "draft", ref, "--amount", "50000", "--reason", "x", "--as", OFFICER, ok=False
    )
    assert "amount = 50000" in said.text


def test_the_repayment_section_and_the_overdue_list_meet_wcag_21_aa(
    granted: dict[str, str], live_office, chromium, tmp_path: Path
) -> None:
    """The case officer drafts a claim by the form's labels, in Swedish; axe finds nothing on
    the case page after a refusal and after the draft, nor on the overdue list."""
    from tests.test_office_browser import (
        accessibility_violations,
        browser_sign_in,
        keep_screenshot,
    )

    ref, base = granted["sv"], live_office.state.base_url
    context = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    browser_sign_in(page, base, OFFICER)
    page.goto(f"{base}/cases/{ref}")
    form = page.get_by_role("form", name="Ta fram ett återkrav")
    form.get_by_label("Belopp att kräva tillbaka, kronor").fill("40 000")
    form.get_by_label("använts i strid med villkoren").check()
    form.get_by_label("Varför, på ärendets språk").fill("Bidraget gick till annat.")
    form.get_by_role("button", name="Ta fram kravet").click()
    page.get_by_role("alert").filter(has_text="är mer än").wait_for()
    assert accessibility_violations(page) == []
    form.get_by_label("Belopp att kräva tillbaka, kronor").fill("10 000")
    form.get_by_role("button", name="Ta fram kravet").click()
    page.get_by_text("Återkrav 1 framtaget.").wait_for()
    assert accessibility_violations(page) == []
    page.locator("#repayment").scroll_into_view_if_needed()
    keep_screenshot(page, "office-case-repayment", tmp_path)
    page.goto(f"{base}/repayment/overdue")
    assert accessibility_violations(page) == []
    context.close()
    assert _claim(ref).reason_kind == "misused"
