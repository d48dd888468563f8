"""The final report through the grantee's link: saved and come back to, submitted, sent back
with a request for more, submitted again and approved; bad input refused naming the field and
the value; reminders before, on and after the due date, once each; the approval releases the
last instalment and says what of the grant is unspent."""

import re
import time as timer
from datetime import date, datetime, time, timedelta
from email import message_from_bytes, policy

import pytest
from sqlmodel import select

from grants.applicant_links import read_report, report_link
from grants.render import format_date
from grants.settings import load
from grants.steps.final_report import take_report_save, take_report_submit
from models import clock
from models.db import transaction
from models.decisions import signed_grant
from models.errors import Refused
from models.final_reports import (
    REMINDERS,
    Typed,
    final_report_approved,
    remind_final_reports,
    reminder_day,
    report_of,
)
from models.letters import FINAL_REPORT_MORE, FINAL_REPORT_REMINDER
from models.payments import final_report_approved as payments_approved
from models.tables import (
    STOCKHOLM,
    Case,
    Document,
    FinalReport,
    FinalReportStatus,
    Letter,
    Notice,
    PaymentStatus,
    Recommendation,
    RepaymentClaim,
)
from tests.conftest import Mailbox
from tests.helpers import DECISION_MAKER, OFFICER, database_dump, grants, pdf_pages
from tests.test_assessment import attachment
from tests.test_decisions import small_budget, to_awaiting_decision  # noqa: F401 (a fixture)
from tests.test_payments import GRANTED, changed_by_another_part, granted, orders_on  # noqa: F401

REPORT_LINK = re.compile(r"http://127\.0\.0\.1:\d+/r/[A-Za-z0-9_.-]+")
COMPLETE = {
    "done": "Vi höll tolv kvällsträffar i stället för tio.",
    "results": "Fyrtio unga lärde sig laga cyklar.",
    "partners": "Hyresgästföreningen lånade ut lokalen.",
    "learned": "Kvällar passar bättre än helger.",
    "spent_grant": "15 000",
    "co_financing_cash": "5000",
    "co_financing_hours": "120",
}
FUNDED = [{"funder": "Allmänna arvsfonden", "amount": "2 900 000", "date": "2027-03-01",
           "status": "won"}]  # fmt: skip


def case_of(reference: str) -> Case:
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == reference)).one()
        session.refresh(case, ["organisation", "call"])
        return case


def report_now(reference: str) -> FinalReport:
    with transaction(load().db_url) as session:
        return report_of(session, case_of(reference))


@pytest.mark.parametrize(
    ("typed", "uploads", "field", "value"),
    [
        (Typed({"spent_grant": "-5"}), [], "spent_grant", "-5"),
        (Typed({"co_financing_hours": "tolv"}), [], "co_financing_hours", "tolv"),
        (Typed(participants={"young": "-3"}), [], "participants_young", "-3"),
        (Typed(participants={"young": "många"}), [], "participants_young", "många"),
        (Typed(funding=[{**FUNDED[0], "date": "2027-02-30"}]), [], "funding_1_date", "2027-02-30"),
        (Typed(funding=[{**FUNDED[0], "amount": "-100"}]), [], "funding_1_amount", "-100"),
        (Typed(funding=[{**FUNDED[0], "status": "maybe"}]), [], "funding_1_status", "maybe"),
        (Typed(), [("rapport.pdf", b"MZ\x90\x00 not a pdf at all")], "rapport.pdf", None),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_the_value_and_changes_nothing(
    granted: tuple[str, str],  # noqa: F811 (the fixture)
    typed: Typed,
    uploads: list[tuple[str, bytes]],
    field: str,
    value: str | None,
) -> None:
    accepted, _other = granted
    take_report_save(load(), accepted, Typed({"done": "Första utkastet."}), [])
    before = database_dump(load().home)
    for take in (take_report_save, take_report_submit):
        with pytest.raises(Refused) as refused:
            take(load(), accepted, Typed({**COMPLETE, **typed.fields}, typed.participants,
                                         typed.funding), uploads)  # fmt: skip
        said = str(refused.value)
        assert field in said and (value is None or repr(value) in said), said
        assert database_dump(load().home) == before
    assert report_now(accepted).answers["done"] == "Första utkastet."


def test_the_grantee_saves_comes_back_and_submits_and_the_officer_is_told(
    granted: tuple[str, str],  # noqa: F811 (the fixture)
) -> None:
    accepted, _other = granted
    settings = load()
    take_report_save(
        settings,
        accepted,
        Typed({"done": "Tolv träffar."}, {"young": "40", "adults": ""}, FUNDED),
        [("bilaga.txt", b"Deltagarlista\n")],
    )
    saved = report_now(accepted)
    assert saved.status is FinalReportStatus.draft and saved.submitted_at is None
    assert saved.answers["participants"] == {"young": 40}
    [funded] = saved.answers["further_funding"]
    assert funded == {"funder": "Allmänna arvsfonden", "amount": 2_900_000, "date": "2027-03-01",
                      "status": "won"}  # fmt: skip
    [attached] = saved.answers["attachments"]
    assert attached["filename"] == "bilaga.txt"

    # Incomplete, it is not sent, and nothing of it is kept.
    before = database_dump(settings.home)
    with pytest.raises(Refused, match="still empty: results, learned, spent_grant"):
        take_report_submit(settings, accepted, Typed({"done": "Tolv träffar."}), [])
    assert database_dump(settings.home) == before

    take_report_submit(settings, accepted, Typed(COMPLETE, {"young": "40"}, FUNDED), [])
    sent = report_now(accepted)
    assert sent.status is FinalReportStatus.submitted and sent.submitted_at is not None
    assert sent.answers["spent_grant"] == 15_000 and sent.answers["attachments"] == [attached]
    assert [entry["kind"] for entry in sent.rounds] == ["submitted"]
    with pytest.raises(Refused, match="waits for the case officer"):
        take_report_save(settings, accepted, Typed(COMPLETE), [])
    with transaction(settings.db_url) as session:
        case = case_of(accepted)
        assert not final_report_approved(session, case) and not payments_approved(session, case)
        told = session.exec(select(Notice).where(Notice.kind == "final_report_submitted")).all()
        assert [notice.recipient for notice in told] == [OFFICER]
        assert session.exec(select(Document).where(Document.kind == "final_report")).all()


def test_more_asked_on_the_command_line_then_sent_again_approved_and_the_last_instalment_paid(
    granted: tuple[str, str],  # noqa: F811 (the fixture)
    smtp_server: Mailbox,
) -> None:
    accepted, _other = granted
    settings = load()
    grants("payments", "prepare", accepted, "--as", OFFICER)
    take_report_submit(settings, accepted, Typed(COMPLETE), [])

    # A request for more needs a reason; then the grantee gets a letter whose e-mail has the
    # link to the report and whose PDF has not.
    before = database_dump(settings.home)
    empty = grants("final-reports", "more", accepted, "--reason", " ", "--as", OFFICER, ok=False)
    assert empty.exit_code == 2 and "say what more the report needs" in empty.text
    assert database_dump(settings.home) == before
    reason = "Bifoga deltagarlistan och beskriv samarbetet med fritidsgården."
    said = grants("final-reports", "more", accepted, "--reason", reason, "--as", OFFICER).text
    assert "more asked for in the final report" in said
    mail = next(m for m in smtp_server.wait_for(1) if "Slutrapport" in m["Subject"])
    body = mail.get_body().get_content()
    [link] = REPORT_LINK.findall(body)
    assert read_report(settings, link.rsplit("/", 1)[-1]).case_reference == accepted
    pdf = attachment(mail, "komplettering-slutrapport-1.pdf")
    letter = " ".join(pdf_pages(pdf))
    assert "fritidsgården" in letter and "/r/" not in letter
    assert report_now(accepted).status is FinalReportStatus.more_requested
    not_now = grants("final-reports", "approve", accepted, "--as", OFFICER, ok=False)
    assert not_now.exit_code == 2 and "no final report waiting" in not_now.text

    # The grantee adds what was asked and sends again; both rounds are kept.
    take_report_submit(settings, accepted, Typed({**COMPLETE, "partners": "Fritidsgården"}), [])
    rounds = report_now(accepted).rounds
    assert [entry["kind"] for entry in rounds] == ["submitted", "more_requested", "submitted"]
    assert rounds[0]["answers"]["partners"] == COMPLETE["partners"]
    assert rounds[1]["reason"] == reason

    refused = grants("payments", "prepare", accepted, "--as", OFFICER, ok=False)
    assert "paid once the final report is approved" in refused.text
    said = grants("final-reports", "approve", accepted, "--as", OFFICER).text
    assert f"{accepted}: final report approved." in said and "unspent" not in said
    assert report_now(accepted).status is FinalReportStatus.approved
    grants("payments", "prepare", accepted, "--as", OFFICER)
    assert [o.instalment for o in orders_on(accepted)] == [1, 2]


def test_the_approval_says_what_is_unspent_and_drafts_the_repayment_claim_when_asked(
    granted: tuple[str, str],  # noqa: F811 (the fixture)
) -> None:
    accepted, _other = granted
    grants("payments", "prepare", accepted, "--as", OFFICER)
    [first] = orders_on(accepted)
    changed_by_another_part(first.id, status=PaymentStatus.paid)  # 19 999 kr paid
    take_report_submit(load(), accepted, Typed({**COMPLETE, "spent_grant": "12000"}), [])
    said = grants("final-reports", "approve", accepted, "--claim-unspent", "--as", OFFICER).text
    assert "Repayment claim 1 drafted for the 7999 kr unspent" in said
    with transaction(load().db_url) as session:
        [claim] = session.exec(select(RepaymentClaim)).all()
        assert (claim.amount, claim.status, claim.reason_kind) == (7_999, "drafted", "unused")
        assert "Enligt den godkända slutrapporten användes inte 7999 kr" in claim.reason


def test_claiming_the_unspent_when_all_was_spent_is_refused_and_approves_nothing(
    granted: tuple[str, str],  # noqa: F811 (the fixture)
) -> None:
    accepted, _other = granted
    grants("payments", "prepare", accepted, "--as", OFFICER)
    [first] = orders_on(accepted)
    changed_by_another_part(first.id, status=PaymentStatus.paid)
    take_report_submit(load(), accepted, Typed({**COMPLETE, "spent_grant": "19999"}), [])
    nothing = grants("final-reports", "approve", accepted, "--claim-unspent", "--as", OFFICER,
                     ok=False)  # fmt: skip
    assert nothing.exit_code == 2 and "shows nothing unspent (19999 kr paid" in nothing.text
    assert report_now(accepted).status is FinalReportStatus.submitted


def test_reminders_before_on_and_after_the_due_date_go_once_each_in_working_days(
    granted: tuple[str, str],  # noqa: F811 (the fixture)
) -> None:
    accepted, other = granted
    settings = load()
    take_report_submit(settings, accepted, Typed(COMPLETE), [])  # the one that reported
    with transaction(settings.db_url) as session:
        due = signed_grant(session, case_of(other)).final_report_due
    days = {stage: reminder_day(due, offset) for stage, offset in REMINDERS}
    assert days["before"] < due <= days["on"] < days["after"]
    swept = []
    before, on, after = days["before"], days["on"], days["after"]
    one = timedelta(days=1)
    for day in (before - one, before, before, on, on + one, after, after):
        with transaction(settings.db_url) as session:
            swept.append(remind_final_reports(session, day))
    assert swept == [0, 1, 0, 1, 0, 1, 0]
    with transaction(settings.db_url) as session:
        letters = session.exec(select(Letter).where(Letter.kind == FINAL_REPORT_REMINDER)).all()
        assert [(x.case.case_reference, x.data["stage"]) for x in letters] == [
            (other, "before"), (other, "on"), (other, "after")
        ]  # fmt: skip
        assert not session.exec(select(Letter).where(Letter.kind == FINAL_REPORT_MORE)).all()


def test_a_sweep_that_missed_a_day_sends_only_the_latest_reminder(
    granted: tuple[str, str],  # noqa: F811 (the fixture)
) -> None:
    _accepted, other = granted
    settings = load()
    with transaction(settings.db_url) as session:
        due = signed_grant(session, case_of(other)).final_report_due
        late = reminder_day(due, 5) + timedelta(days=3)
        assert remind_final_reports(session, late) == 2  # both grants, "after" only
        assert remind_final_reports(session, late) == 0
        stages = session.exec(select(Letter).where(Letter.kind == FINAL_REPORT_REMINDER)).all()
        assert {letter.data["stage"] for letter in stages} == {"after"}


def test_the_link_names_its_case_and_expires(grants_home: object) -> None:
    settings = load()
    link = report_link(settings, "26RS7", date(2027, 1, 31))
    claims = read_report(settings, link.rsplit("/", 1)[-1], today=date(2027, 1, 31))
    assert (claims.case_reference, claims.kind) == ("26RS7", "final_report")
    with pytest.raises(Exception, match="expired"):
        read_report(settings, link.rsplit("/", 1)[-1], today=date(2027, 2, 1))


def reminder_link(reference: str, timeout: float = 30) -> str:
    """The grantee's link in the final report's reminder, which the office's worker writes
    to the outbox (no mail server configured)."""
    deadline = timer.monotonic() + timeout
    while timer.monotonic() < deadline:
        for eml in load().outbox_dir.glob(f"{reference}-*slutrapport*.eml"):
            message = message_from_bytes(eml.read_bytes(), policy=policy.default)
            found = REPORT_LINK.findall(message.get_body().get_content())
            if found:
                return found[0]
        timer.sleep(0.1)
    raise AssertionError(f"no reminder with the grantee's link for {reference}")


@pytest.mark.browser
def test_the_grantee_reports_on_a_phone_and_the_officer_asks_for_more_then_approves(
    granted: tuple[str, str],  # noqa: F811 (the fixture)
    live_office,
    chromium,
    tmp_path,
) -> None:
    """As the chair does on a phone: the link from the reminder's e-mail, a mistyped number
    refused at its field, a draft saved, the link opened again, the report completed with a
    file and sent. The case officer asks for more on the case page; the grantee adds it and
    sends again; the case officer approves. Each page scanned by axe-core, in Swedish."""
    from tests.test_office_browser import (
        accessibility_violations,
        browser_sign_in,
        keep_screenshot,
    )

    accepted, _other = granted
    base = live_office.state.base_url
    with transaction(load().db_url) as session:
        due = signed_grant(session, case_of(accepted)).final_report_due
        remind_final_reports(session, reminder_day(due, -10))
    live_office.state.office.follow_up.poke()
    link = reminder_link(accepted)
    phone = chromium.new_context(
        locale="sv-SE", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    page.goto(link)
    page.get_by_role("heading", name="Er slutrapport").wait_for()
    assert accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    keep_screenshot(page, "final-report-form", tmp_path)

    done = "Vi höll tolv kvällsträffar i stället för tio."
    page.get_by_label("Vad som gjordes, jämfört med planen (obligatoriskt)").fill(done)
    page.get_by_label("Unga 13–25 år").fill("-3")
    page.get_by_role("button", name="Spara och fortsätt senare").click()
    page.locator("#participants_young-error").wait_for()
    assert "Unga 13–25 år = ”-3”" in page.get_by_role("alert").first.inner_text()
    assert accessibility_violations(page) == []
    assert report_now(accepted) is None  # nothing kept

    page.get_by_label("Unga 13–25 år").fill("40")
    page.get_by_role("button", name="Spara och fortsätt senare").click()
    page.get_by_text("Sparat.").wait_for()
    assert report_now(accepted).status is FinalReportStatus.draft

    page = phone.new_page()  # the grantee comes back through the same link
    page.goto(link)
    page.get_by_role("heading", name="Er slutrapport").wait_for()
    field = page.get_by_label("Vad som gjordes, jämfört med planen (obligatoriskt)")
    assert field.input_value() == done
    assert page.get_by_label("Unga 13–25 år").input_value() == "40"
    page.get_by_label("Resultat (obligatoriskt)").fill(COMPLETE["results"])
    page.get_by_label("Vad ni lärde er (obligatoriskt)").fill(COMPLETE["learned"])
    page.get_by_label("Använt av bidraget, kronor (obligatoriskt)").fill("15000")
    page.get_by_label("Medfinansiering i ideellt arbete, timmar").fill("120")
    page.get_by_label("Finansiär").first.fill("Allmänna arvsfonden")
    page.get_by_label("Belopp, kronor").first.fill("2 900 000")
    page.get_by_label("Datum då den söktes eller beviljades").first.fill("2027-03-01")
    page.get_by_label("Sökt eller beviljat").first.select_option("won")
    attached = tmp_path / "deltagare.txt"
    attached.write_text("Deltagarlista\n", encoding="utf-8")
    page.get_by_label("Lägg till filer (frivilligt)").set_input_files(attached)
    page.get_by_role("button", name="Skicka slutrapporten").click()
    page.get_by_text("Er slutrapport kom in").wait_for()
    assert accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    keep_screenshot(page, "final-report-receipt", tmp_path)
    sent = report_now(accepted)
    assert sent.status is FinalReportStatus.submitted
    assert sent.answers["further_funding"][0]["amount"] == 2_900_000
    assert [a["filename"] for a in sent.answers["attachments"]] == ["deltagare.txt"]

    # The case officer asks for more on the case page.
    office = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    desk = office.new_page()
    browser_sign_in(desk, base, OFFICER)
    desk.goto(f"{base}/cases/{accepted}#final-report")
    desk.get_by_role("heading", name="Slutrapport", exact=True).wait_for()
    assert accessibility_violations(desk) == []
    desk.locator("#final-report").scroll_into_view_if_needed()
    keep_screenshot(desk, "final-report-office", tmp_path)
    reason = "Beskriv samarbetet med fritidsgården."
    desk.get_by_label("Vad rapporten behöver kompletteras med").fill(reason)
    desk.get_by_role("button", name="Begär komplettering").press("Enter")
    desk.get_by_text("Komplettering är begärd").wait_for()
    assert accessibility_violations(desk) == []

    page.goto(link)
    page.get_by_text("Handläggaren behöver mer").wait_for()
    assert reason in page.get_by_role("alert").inner_text()
    assert accessibility_violations(page) == []
    keep_screenshot(page, "final-report-more", tmp_path)
    page.get_by_label("Samarbetspartner", exact=True).fill("Fritidsgården i Hällefors")
    page.get_by_role("button", name="Skicka slutrapporten").click()
    page.get_by_text("Er slutrapport kom in").wait_for()
    phone.close()

    desk.goto(f"{base}/cases/{accepted}")  # loaded again: the report came in meanwhile
    desk.get_by_role("button", name="Godkänn slutrapporten").press("Enter")
    desk.get_by_text("Slutrapporten är godkänd.", exact=True).wait_for()
    assert accessibility_violations(desk) == []
    office.close()
    approved = report_now(accepted)
    assert approved.status is FinalReportStatus.approved and approved.approved_by == OFFICER
    kinds = [entry["kind"] for entry in approved.rounds]
    assert kinds == ["submitted", "more_requested", "submitted", "approved"]


def test_the_sweep_mails_the_reminder_with_the_link_which_its_pdf_has_not(
    granted: tuple[str, str],  # noqa: F811 (the fixture)
    smtp_server: Mailbox,
) -> None:
    accepted, _other = granted
    with transaction(load().db_url) as session:
        due = signed_grant(session, case_of(accepted)).final_report_due
    with clock.simulated():
        clock.move_to(datetime.combine(reminder_day(due, -10), time(8), tzinfo=STOCKHOLM))
        grants("sweep")
        grants("sweep")
    mails = [m for m in smtp_server.messages if m["Subject"].startswith("Slutrapport")]
    assert len(mails) == 2  # once to each grantee, however often the sweep ran
    [mail] = [m for m in mails if accepted in m["Subject"]]
    body = mail.get_body().get_content()
    assert f"ska lämnas senast {format_date(due, 'sv')}" in body
    [link] = REPORT_LINK.findall(body)
    pdf = attachment(mail, "paminnelse-slutrapport-1.pdf")
    text = " ".join(pdf_pages(pdf))
    assert "Dags att skriva er slutrapport" in text and "länken i vårt e-postmeddelande" in text
    assert link.rsplit("/", 1)[-1] not in text.replace(" ", "") and "/r/" not in text


def test_the_form_speaks_the_cases_english_and_refuses_a_hostile_file_and_a_bad_date(
    small_budget: None,  # noqa: F811 (the fixture)
    office,
) -> None:
    """Karlskoga Friends Cricket Club applied in English: its report's form is in English,
    with the call's groups in English; a file that is no PDF, or a date that does not exist,
    is refused at its field naming it and nothing is kept; a changed or expired link opens
    nothing."""
    from models.access import case_for
    from models.decisions import sign
    from models.rules import Rules
    from tests.office import post
    from tests.test_decisions import person

    ref = to_awaiting_decision("SI-2026-0108", Recommendation.granted)
    with transaction(load().db_url) as session:
        maker = person(session, DECISION_MAKER)
        sign(session, case_for(session, ref, maker, lock=True), maker, Rules())
    path = "/" + report_link(load(), ref, date.today() + timedelta(days=30)).split("/", 3)[3]
    page = office.get(path)
    assert page.status_code == 200
    assert "Your final report" in page.text and "Young people 13–25" in page.text

    before = database_dump(load().home)
    hostile = {"attachments": ("report.pdf", b"MZ\x90\x00\x03 an executable", "application/pdf")}
    refused = post(office, path, {"action": "save", "done": "Twelve evenings."}, files=hostile)
    assert refused.status_code == 422
    assert 'id="attachments-error"' in refused.text and "report.pdf" in refused.text
    assert "Twelve evenings." in refused.text  # what was typed is kept on the page
    bad_day = {"action": "save", "funding_1_funder": "Arvsfonden", "funding_1_amount": "1000",
               "funding_1_date": "2027-02-30", "funding_1_status": "won"}  # fmt: skip
    refused = post(office, path, bad_day)
    assert refused.status_code == 422 and 'id="funding_1_date-error"' in refused.text
    assert "Funding 1: Date applied for or won = “2027-02-30”: is not a date" in refused.text
    assert database_dump(load().home) == before

    assert office.get(f"{path}x").status_code == 404
    expired = report_link(load(), ref, date.today() - timedelta(days=1))
    assert office.get("/" + expired.split("/", 3)[3]).status_code == 410


def test_the_invitation_mails_the_link_and_a_paper_report_goes_through_the_same_approval(
    small_budget: None,  # noqa: F811 (the fixture)
    tmp_path,
) -> None:
    """The Community Talk invitation's e-mail carries the grantee's link to the report (its
    PDF does not); a report that came on paper instead is registered and then approved like
    one sent through the link."""
    from flows.assessment import sweep
    from flows.letters import send_letters
    from grants.embedded import run_flow
    from tests.test_community_talk_invitation import ADDRESS, TALK

    ref = to_awaiting_decision("SI-2026-0101", Recommendation.granted)  # ends 2027-12-31
    grants("sign", ref, "--as", DECISION_MAKER)
    grants(*TALK, "--ends", "16:00", "--address", ADDRESS)
    run_flow(sweep, today=date(2027, 12, 3))  # four weeks before the project ends: invited
    run_flow(send_letters)
    [eml] = load().outbox_dir.glob(f"{ref}-inbjudan-samhallssamtal.eml")
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    [link] = REPORT_LINK.findall(message.get_body(("plain",)).get_content())
    assert read_report(load(), link.rsplit("/", 1)[-1]).case_reference == ref
    pdf = " ".join(pdf_pages(attachment(message, "inbjudan-samhallssamtal.pdf")))
    assert "/r/" not in pdf and link.rsplit("/", 1)[-1] not in pdf.replace(" ", "")

    paper = tmp_path / "slutrapport.pdf"
    paper.write_bytes(attachment(message, "inbjudan-samhallssamtal.pdf"))  # a PDF, as a scan
    grants("final-report", ref, str(paper), "--as", OFFICER)
    registered = report_now(ref)
    assert registered.status is FinalReportStatus.submitted and registered.document_id
    assert [entry["kind"] for entry in registered.rounds] == ["submitted"]
    with transaction(load().db_url) as session:
        assert not payments_approved(session, case_of(ref))
    said = grants("final-reports", "approve", ref, "--as", OFFICER).text
    assert f"{ref}: final report approved." in said  # a paper report gives no spending
    with transaction(load().db_url) as session:
        assert payments_approved(session, case_of(ref))


@pytest.mark.parametrize(
    ("groups", "said"),
    [
        ('[{ code = "unga", name = "Unga", name_en = "Young" }, '
         '{ code = "unga", name = "Unga igen", name_en = "Young again" }]',
         "[call] participant_groups: ['unga'] names a group twice"),
        ('[{ code = "unga människor", name = "Unga", name_en = "Young" }]',
         "[[call.participant_groups]] 1 (Unga) code: 'unga människor' is not a code"),
        ('[{ code = "unga", name = "Unga" }]',
         "[[call.participant_groups]] 1 (Unga) name_en: missing"),
    ],
)  # fmt: skip
def test_the_calls_participant_groups_are_checked_naming_the_key_and_the_value(
    tmp_path, groups: str, said: str
) -> None:
    from grants.config import ConfigError, read_config
    from grants.settings import PROJECT_ROOT

    text = (PROJECT_ROOT / "config" / "grants.toml").read_text(encoding="utf-8")
    start = text.index("participant_groups = [")
    end = text.index("]\n", text.index("name_en", start)) + 1
    config = tmp_path / "grants.toml"
    config.write_text(f"{text[:start]}participant_groups = {groups}{text[end:]}", "utf-8")
    with pytest.raises(ConfigError) as refused:
        read_config(config)
    assert str(refused.value).startswith(said), str(refused.value)
    shipped = read_config(PROJECT_ROOT / "config" / "grants.toml").plain()["call"]
    assert [group["code"] for group in shipped["participant_groups"]] == [
        "children", "young", "adults", "seniors"
    ]  # fmt: skip


def test_on_the_case_page_the_approval_names_the_unspent_money_and_offers_its_claim(
    granted: tuple[str, str],  # noqa: F811 (the fixture)
    office,
) -> None:
    """19 999 kr paid, 12 000 kr spent: the case page shows the report against the budget,
    the approval says 7 999 kr is unspent, and one button drafts the repayment claim for it
    (the repayment section's own step)."""
    from tests.office import post, sign_in

    accepted, _other = granted
    grants("payments", "prepare", accepted, "--as", OFFICER)
    [first] = orders_on(accepted)
    changed_by_another_part(first.id, status=PaymentStatus.paid)
    take_report_submit(load(), accepted, Typed({**COMPLETE, "spent_grant": "12000"}), [])
    sign_in(office, OFFICER)
    page = office.get(f"/cases/{accepted}").text.replace("\u00a0", " ")
    assert "Rapporten visar att 7 999 kr av det utbetalda bidraget inte har använts." in page
    assert 'name="claim_unspent"' in page  # the box that drafts the claim with the approval

    approved = post(office, f"/cases/{accepted}/final-report/approve", {}, follow_redirects=True)
    text = approved.text.replace("\u00a0", " ")
    assert "Den visar att 7 999 kr av det utbetalda bidraget inte har använts" in text
    offer = re.search(r'action="/cases/[^"]+/repayment/draft">(.*?)</form>', approved.text, re.S)
    assert offer and "Gör ett utkast till återkrav på 7 999 kr" in offer.group(1).replace(
        "\u00a0", " "
    )
    fields = dict(re.findall(r'name="(repayment_[a-z_]+)" value="([^"]*)"', offer.group(1)))
    post(office, f"/cases/{accepted}/repayment/draft", fields)
    with transaction(load().db_url) as session:
        [claim] = session.exec(select(RepaymentClaim)).all()
        assert (claim.amount, claim.reason_kind) == (7_999, "unused")
        assert claim.reason.startswith("Enligt den godkända slutrapporten")
