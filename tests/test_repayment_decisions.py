"""A repayment claim is a decision of its own: once the grantee has answered it waits on the
decision maker's lists (the office's and the command line's), with a link to decide it;
signed, its sealed PDF is checked by `grants verify` and the sweep as a grant's is."""

import hashlib
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from flows.assessment import sweep
from flows.intake import intake
from flows.letters import send_letters
from grants.embedded import run_flow
from grants.settings import load
from models.db import transaction
from models.tables import Notice, Person, Recommendation, RepaymentClaim
from models.tasks import TaskKind, open_tasks
from tests.conftest import SAMPLES, MadeOnce
from tests.helpers import DECISION_MAKER, OFFICER, grants
from tests.office import post, sign_in
from tests.test_decisions import to_awaiting_decision

REPLY = "Vi har använt 2 000 kr av beloppet till en avslutande träff."


@pytest.fixture
def answered(made_once: MadeOnce, grants_home: Path) -> str:
    """A signed grant with a repayment claim communicated and answered by the grantee: the
    decision maker's to decide. Returns the case reference."""

    def make() -> str:
        run_flow(intake, path=str(SAMPLES / "applications.json"), send_letters=False)
        ref = to_awaiting_decision("SI-2026-0101", Recommendation.granted)
        grants("sign", ref, "--as", DECISION_MAKER)
        grants("repayment", "draft", ref, "--amount", "10000", "--as", OFFICER,
               "--reason", "Projektet avslutades i förtid.")  # fmt: skip
        grants("repayment", "communicate", ref, "--as", OFFICER)
        grants("repayment", "reply", ref, "--reply", REPLY, "--as", OFFICER)
        return ref

    return made_once("repayment-answered", make)


def sealed_repayment_decision(home: Path) -> tuple[str, bytes]:
    """The signed repayment decision's file name and PDF, as stored."""
    with sqlite3.connect(home / "grants.db") as db:
        return db.execute(
            "SELECT filename, pdf FROM letters WHERE kind = 'repayment_decision'"
        ).fetchone()


def test_a_repayment_decision_changed_by_one_byte_is_found_by_its_seal(
    answered: str, grants_home: Path
) -> None:
    ref = answered
    grants("repayment", "decide", ref, "--reply-assessment", "Beloppet står fast.",
           "--as", DECISION_MAKER)  # fmt: skip
    run_flow(send_letters)
    filename, pdf = sealed_repayment_decision(grants_home)
    assert grants("verify", "--as", OFFICER).exit_code == 0  # sealed, and it holds

    at = pdf.index(b"stream", len(pdf) // 4) + 40  # inside a page's content, under the seal
    changed = pdf[:at] + bytes([pdf[at] ^ 1]) + pdf[at + 1 :]
    with sqlite3.connect(grants_home / "grants.db") as db:  # its SHA-256 changed with it
        db.execute(
            "UPDATE letters SET pdf = ?, sha256 = ? WHERE kind = 'repayment_decision'",
            (changed, hashlib.sha256(changed).hexdigest()),
        )
    result = grants("verify", "--as", OFFICER, ok=False)
    said = " ".join(result.output.split())
    assert result.exit_code == 1, said
    assert f"{ref}: {filename}: the seal does not hold: the PDF was changed after it" in said

    assert run_flow(sweep)["integrity_mismatches"] >= 1  # the sweep checks the same seals
    with transaction(load().db_url) as session:
        told = session.exec(select(Notice).where(Notice.kind == "integrity_mismatch")).all()
    findings = [finding for notice in told for finding in notice.data["findings"]]
    assert any(f.startswith(f"{ref}: {filename}: the seal does not hold") for f in findings)


def test_an_answered_claim_waits_on_the_decision_makers_lists_with_a_link_to_decide_it(
    answered: str, office
) -> None:
    ref = answered
    listed = " ".join(grants("tasks", "--as", DECISION_MAKER).output.split())
    assert ref in listed and "decide the repayment claim (grants repayment decide" in listed
    assert "repayment claim" not in grants("tasks", "--as", OFFICER).output  # not theirs

    sign_in(office, DECISION_MAKER)
    link = f'href="/cases/{ref}#repayment"'
    for page in ("/tasks", "/decisions"):
        shown = office.get(page).text
        assert link in shown and "Besluta om återkravet" in shown, page
    assert "1 återkrav väntar på ditt beslut." in office.get("/decisions").text
    case_page = office.get(f"/cases/{ref}").text
    assert f'action="/cases/{ref}/repayment/decide"' in case_page and REPLY in case_page

    decided = post(office, f"/cases/{ref}/repayment/decide",
                   {"number": "1", "reply_assessment": "Beloppet står fast."})  # fmt: skip
    assert "Återkrav 1 beslutat; beslutet skickas till bidragsmottagaren." in decided.text
    for page in ("/tasks", "/decisions"):
        assert link not in office.get(page).text, page
    assert "repayment claim" not in grants("tasks", "--as", DECISION_MAKER).output


def test_an_unanswered_claim_waits_on_the_decision_maker_once_its_deadline_has_passed(
    answered: str,
) -> None:
    ref = answered  # claim 1 answered; claim 2 sent for comments and not answered
    grants("repayment", "draft", ref, "--amount", "5000", "--as", OFFICER,
           "--reason", "Utrustning som inte köptes.")  # fmt: skip
    grants("repayment", "communicate", ref, "--number", "2", "--as", OFFICER)
    with transaction(load().db_url) as session:
        deadline = session.exec(
            select(RepaymentClaim.communication_deadline).where(RepaymentClaim.number == 2)
        ).one()
        maker = session.exec(select(Person).where(Person.email == DECISION_MAKER)).one()

        def waiting(today: date) -> int:
            tasks = open_tasks(session, maker, today)
            return sum(
                t.kind is TaskKind.decide_repayment and t.case_reference == ref for t in tasks
            )

        assert waiting(deadline) == 1  # the answered one; the grantee may still comment
        assert waiting(deadline + timedelta(days=1)) == 2


def test_the_decision_makers_list_of_claims_meets_wcag_21_aa(
    answered: str, live_office, chromium
) -> None:
    """In Chromium: the claim on *Förslag att besluta*, its link to the case's Återkrav."""
    from tests.test_office_browser import accessibility_violations, browser_sign_in

    context = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    browser_sign_in(page, live_office.state.base_url, DECISION_MAKER)
    page.get_by_role("link", name="Förslag att besluta").click()
    page.get_by_role("heading", name="Återkrav att besluta om").wait_for()
    assert accessibility_violations(page) == []
    page.get_by_role("link", name=answered).click()
    page.get_by_role("button", name="Besluta om återbetalningen").wait_for()
    assert page.url.endswith(f"/cases/{answered}#repayment")
    assert accessibility_violations(page) == []
    context.close()
