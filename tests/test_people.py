"""People, the advisory group and its quorum live in the database: the
configuration file seeds them at the first start, then the case officer changes them on
the command line and in the office, every change in the audit trail and enforced."""

import html
import json
import re
from pathlib import Path

import pytest
from sqlmodel import Session, col, create_engine, select

from grants.settings import PROJECT_ROOT, load
from models.db import transaction
from models.tables import AuditEvent, Letter
from tests.conftest import SAMPLES, Mailbox
from tests.helpers import ACTIVA, COOMPANION, OFFICER, database_dump, grants
from tests.test_delivery_faults import smtp

SHIPPED = PROJECT_ROOT / "config" / "grants.toml"
EVA = "eva.berg@ideellkraft.example.se"


def office_events() -> list[AuditEvent]:
    """The audit trail's events about the office itself (on no case), oldest first."""
    engine = create_engine(load().db_url)
    try:
        with Session(engine) as session:
            query = select(AuditEvent).where(col(AuditEvent.case_id).is_(None))
            return list(session.exec(query.order_by(col(AuditEvent.id))))
    finally:
        engine.dispose()


def test_people_are_seeded_from_the_file_once_then_the_database_is_the_truth(
    grants_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = grants("people", "list", "--as", OFFICER).text
    assert "5 person(s)" in first and "Johan Ek" in first and "Karin Sjöberg" in first
    assert "Advisory group: 2 member(s) and the case's officer; 2 review(s)" in first

    edited = tmp_path / "grants.toml"
    text = SHIPPED.read_text(encoding="utf-8")
    edited.write_text(
        text.replace('name = "Johan Ek"', 'name = "Johan Eek"').replace(
            "review_quorum = 2", "review_quorum = 1"
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("GRANTS_CONFIG", str(edited))
    again = grants("people", "list", "--as", OFFICER).text

    assert "Johan Ek " in again and "Johan Eek" not in again
    assert "2 review(s) move a case on" in again


def test_the_case_officer_changes_people_and_the_group_audited_and_enforced(
    grants_home: Path,
) -> None:
    grants("people", "list", "--as", OFFICER)  # the first start seeds
    before = database_dump(grants_home)
    bad = grants(
        *("people", "add", "--name", "Eva Berg", "--email", "eva.berg@", "--role", "advisor"),
        *("--organisation", "Ideell Kraft", "--as", OFFICER),
        ok=False,
    )
    assert bad.exit_code == 2 and "email = 'eva.berg@': is not a valid e-mail" in bad.output
    not_admin = grants(
        *("people", "add", "--name", "Eva Berg", "--email", EVA, "--role", "advisor"),
        *("--organisation", "Ideell Kraft", "--as", COOMPANION),
        ok=False,
    )
    assert not_admin.exit_code == 2
    assert "only a case_officer or decision_maker may" in not_admin.output, not_admin.output
    too_many = grants("people", "group", "--quorum", "4", "--as", OFFICER, ok=False)
    assert too_many.exit_code == 2
    assert "review_quorum = 4: more than the 3 reviewer(s) of the advisory group" in (
        too_many.output
    )
    assert database_dump(grants_home) == before

    grants(
        *("people", "add", "--name", "Eva Berg", "--email", EVA, "--role", "advisor"),
        *("--organisation", "Ideell Kraft", "--advisory-group", "--as", OFFICER),
    )
    grants("people", "group", "--quorum", "4", "--as", OFFICER)
    grants("people", "change", ACTIVA, "--organisation", "Activa Örebro", "--as", OFFICER)
    leaving = grants("people", "deactivate", ACTIVA, "--as", OFFICER, ok=False)
    assert "review_quorum = 4: more than the 3 reviewer(s)" in leaving.output
    grants("people", "group", "--quorum", "2", "--as", OFFICER)
    grants("people", "deactivate", COOMPANION, "--as", OFFICER)

    listed = grants("people", "list", "--as", OFFICER).text
    assert "Eva Berg" in listed and "Activa Örebro" in listed
    assert "Advisory group: 2 member(s) and the case's officer; 2 review(s)" in listed
    refused = grants("status", "--as", COOMPANION, ok=False)
    assert refused.exit_code == 2 and "Johan Ek <johan.ek@" in refused.output
    assert "is deactivated" in refused.output
    assert grants("sign-in-link", COOMPANION, ok=False).exit_code == 2
    assert grants("sign-in-link", EVA).text.count("/login/link?token=") == 1

    events = [(e.actor, e.action, e.detail) for e in office_events()]
    assert [action for _, action, _ in events] == [
        "person_added",
        "advisory_group_changed",
        "person_changed",
        "advisory_group_changed",
        "person_changed",
    ]
    assert all(actor == OFFICER for actor, _, _ in events)
    assert events[2][2] == {
        "person": ACTIVA,
        "old": {"organisation": "Stiftelsen Activa"},
        "new": {"organisation": "Activa Örebro"},
    }
    assert events[4][2]["old"] == {"active": True} and events[4][2]["new"] == {"active": False}
    assert grants("verify", "--as", OFFICER, ok=False).exit_code == 0


def test_the_office_page_adds_and_deactivates_people_and_refuses_others(office) -> None:
    from tests.office import post, sign_in, sign_in_mails

    advisor = office.__class__(office.app, base_url="http://127.0.0.1:8000")
    sign_in(advisor, COOMPANION)
    assert advisor.get("/people").status_code == 403
    refused = post(advisor, "/people/group", {"review_quorum": "1"})
    assert refused.status_code == 403

    sign_in(office, OFFICER)
    page = office.get("/people")
    assert page.status_code == 200 and "Johan Ek" in page.text and "Karin Sjöberg" in page.text
    bad = post(
        office,
        "/people",
        {"name": "Eva Berg", "email": "eva.berg@", "role": "advisor", "organisation": "Ideell"},
    )
    assert bad.status_code == 409 and "E-post = ”eva.berg@”" in bad.text
    assert 'value="Eva Berg"' in bad.text  # what was typed is kept
    too_many = post(office, "/people/group", {"review_quorum": "9", "include_case_officer": "on"})
    assert too_many.status_code == 409
    assert "(review_quorum) = 9: fler än den rådgivande gruppens 3 granskare" in too_many.text

    added = post(
        office,
        "/people",
        {"name": "Eva Berg", "email": EVA, "role": "advisor", "organisation": "Ideell Kraft"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    johan = re.search(r'href="/people/(\d+)">Johan Ek<', office.get("/people").text).group(1)
    form = {"name": "Johan Ek", "email": COOMPANION, "role": "advisor"}
    form |= {"organisation": "Coompanion Mälardalen", "in_advisory_group": "on"}
    deactivated = post(office, f"/people/{johan}", form, follow_redirects=False)
    assert deactivated.status_code == 303

    listed = office.get("/people").text
    assert "Eva Berg" in listed and "Inaktiverad" in listed
    assert advisor.get("/tasks", follow_redirects=False).status_code in (303, 307)
    mails = sign_in_mails(load().outbox_dir)
    assert post(advisor, "/login", {"email": COOMPANION}).status_code == 200
    assert sign_in_mails(load().outbox_dir) == mails  # no link for a deactivated person
    assert [e.action for e in office_events()] == ["person_added", "person_changed"]


class RefusesOneAddress(Mailbox):
    """Takes every message except to `refused`, which it refuses for good (550)."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refused:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


BOUNCED = "info@ungaroster-hallefors.example.se"  # 26RS1's address in the sample
CORRECTED = "linnea.astrom@ungaroster-hallefors.example.se"


def applicant_letters() -> list[Letter]:
    with transaction(load().db_url) as session:
        return list(session.exec(select(Letter).order_by(col(Letter.id))))


def test_a_corrected_email_sends_the_set_aside_letter_again_to_it_with_the_same_pdf(
    grants_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = tmp_path / "one.json"
    records = json.loads((SAMPLES / "applications.json").read_text(encoding="utf-8"))
    export.write_text(json.dumps(records[:1], ensure_ascii=False), encoding="utf-8")
    mailbox = RefusesOneAddress(BOUNCED)
    with smtp(mailbox, monkeypatch):
        grants("intake", str(export), "--as", OFFICER, ok=False)
        [bounced] = applicant_letters()
        assert (bounced.recipient, bounced.delivery_state) == (BOUNCED, "failed")

        before = database_dump(grants_home)
        bad = grants(
            "correct", "26RS1", "--email", "linnea@", "--reason", "Ny", "--as", OFFICER, ok=False
        )
        assert bad.exit_code == 2 and "email = 'linnea@': is not a valid e-mail" in bad.output
        bad = grants(
            *("correct", "26RS1", "--organisation-number", "802476-3157", "--reason", "x"),
            *("--as", OFFICER),
            ok=False,
        )
        assert "organisation_number = '802476-3157': the check digit" in bad.output
        bad = grants(
            "correct", "26RS1", "--email", CORRECTED, "--reason", " ", "--as", OFFICER, ok=False
        )
        assert "reason = ' ': is required" in bad.output
        assert database_dump(grants_home) == before
        reason = "Adressen studsade; Linnéa gav en ny per telefon"
        grants(
            *("correct", "26RS1", "--email", CORRECTED, "--bankgiro", "5050-1055"),
            *("--reason", reason, "--as", OFFICER),
        )
        staff = len(mailbox.messages)  # the officer was told of the bounce
        mailbox.wait_for(staff + 1)

    [message] = [m for m in mailbox.messages if m["To"] != OFFICER]
    assert message["To"] == CORRECTED
    [again] = applicant_letters()
    assert (again.recipient, again.delivery_state) == (CORRECTED, "sent")
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content() == again.pdf == bounced.pdf
    with transaction(load().db_url) as session:
        trail = {e.action: e.detail for e in session.exec(select(AuditEvent))}
    assert trail["case_facts_corrected"] == {
        "old": {"email": BOUNCED, "bankgiro": "538-2411"},
        "new": {"email": CORRECTED, "bankgiro": "5050-1055"},
        "reason": reason,
    }
    assert trail["letter_sent_again"]["to"] == CORRECTED
    shown = grants("status", "26RS1", "--as", OFFICER).text
    assert CORRECTED in shown


def test_the_case_page_corrects_the_applicants_details_with_a_reason(
    sample_call: Path, office
) -> None:
    from tests.office import post, sign_in

    sign_in(office, OFFICER)
    page = office.get("/cases/26RS1").text
    assert 'action="/cases/26RS1/facts"' in page and f'value="{BOUNCED}"' in page
    fields = re.findall(r'name="(facts_\w+)" type="\w+" value="([^"]*)"', page)
    form = {name: html.unescape(value) for name, value in fields}  # as the page shows them
    assert len(form) == 9 and form["facts_contact_person"] == "Linnéa Åström"
    before = database_dump(sample_call)
    bad = post(
        office, "/cases/26RS1/facts", form | {"facts_email": "linnea@", "facts_reason": "Ny"}
    )
    assert bad.status_code == 409
    assert "E-post = ”linnea@”: är inte en giltig e-postadress" in bad.text
    assert 'value="linnea@"' in bad.text  # what was typed is kept
    no_reason = post(office, "/cases/26RS1/facts", form | {"facts_email": CORRECTED})
    assert no_reason.status_code == 409 and "Skäl = ””: måste fyllas i" in no_reason.text
    assert database_dump(sample_call) == before

    done = post(
        office,
        "/cases/26RS1/facts",
        form | {"facts_email": CORRECTED, "facts_reason": "Adressen studsade"},
    )
    notice = re.search(r"Rättat[^<]*", done.text)
    assert done.status_code == 200 and notice, done.text[-3000:]
    assert notice.group(0) == "Rättat: E-post.", notice.group(0)
    assert f"&lt;{CORRECTED}&gt;" in done.text


def test_people_and_a_correction_in_the_browser_meet_wcag_21_aa(
    sample_call, live_office, chromium, tmp_path
) -> None:
    """The case officer adds a colleague, deactivates an advisor and corrects an address,
    in Swedish, with the keyboard's labels; axe finds nothing on the pages on the way."""
    from tests.test_office_browser import (
        accessibility_violations,
        browser_sign_in,
        keep_screenshot,
    )

    base = live_office.state.base_url
    context = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    browser_sign_in(page, base, OFFICER)
    page.get_by_role("link", name="Personer").click()
    assert accessibility_violations(page) == []
    form = page.get_by_role("form", name="Lägg till en person")
    form.get_by_label("Namn").fill("Eva Berg")
    form.get_by_label("E-post").fill("eva.berg@ideell")
    form.get_by_label("Organisation").fill("Ideell Kraft")
    form.get_by_label("Roll").select_option("advisor")
    form.get_by_role("button", name="Lägg till personen").click()
    page.get_by_role("alert").filter(has_text="E-post = ”eva.berg@ideell”").wait_for()
    assert accessibility_violations(page) == []
    form.get_by_label("E-post").fill(EVA)
    form.get_by_label("Ledamot i den rådgivande gruppen").check()
    form.get_by_role("button", name="Lägg till personen").click()
    page.get_by_text("Eva Berg är tillagd.").wait_for()
    assert page.get_by_role("row", name="Eva Berg").get_by_text("Rådgivare").is_visible()
    keep_screenshot(page, "office-people", tmp_path)

    page.get_by_role("link", name="Johan Ek").click()
    assert accessibility_violations(page) == []
    page.get_by_label("Aktiv (kan logga in och tilldelas uppgifter)").uncheck()
    page.get_by_role("button", name="Spara ändringarna").click()
    page.get_by_text("Uppgifterna för Johan Ek är ändrade.").wait_for()
    assert page.get_by_role("row", name="Johan Ek").get_by_text("Inaktiverad").is_visible()

    page.goto(f"{base}/cases/26RS1")
    page.get_by_text("Rätta sökandens uppgifter").click()
    page.get_by_label("E-post", exact=True).fill(CORRECTED)
    page.get_by_label("Organisationsnummer").fill("802476-3157")
    page.get_by_label("Skäl till rättelsen").fill("Adressen studsade.")
    page.get_by_role("button", name="Spara rättelsen").click()
    page.get_by_role("alert").filter(has_text="Organisationsnummer = ”802476-3157”").wait_for()
    assert accessibility_violations(page) == []
    page.get_by_label("Skäl till rättelsen").scroll_into_view_if_needed()
    keep_screenshot(page, "office-case-correction", tmp_path)
    page.get_by_label("Organisationsnummer").fill("802476-3156")
    page.get_by_role("button", name="Spara rättelsen").click()
    page.get_by_text("Rättat: E-post.").wait_for()
    assert CORRECTED in page.content()
    keep_screenshot(page, "office-case-corrected", tmp_path)
    context.close()
