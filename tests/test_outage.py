"""A letter is never given up for a temporary reason: a mail server away for a
week ends no letter, and each arrives once as soon as the server answers; only a refusal for
good sets a letter aside, and a case officer sends it again, on the command line or in the
office, in the audit trail. Against real SMTP servers (aiosmtpd) and a closed port."""

import threading
import time
from datetime import timedelta

from aiosmtpd.controller import Controller
from sqlmodel import select

from flows.intake import intake
from flows.letters import send_letters
from grants import mail
from grants.embedded import run_flow
from grants.settings import load
from grants.steps import send_follow_up
from grants.web.office import FollowUp, something_due
from models import clock
from models.db import transaction
from models.delivery import due_ids
from models.tables import AuditEvent, Letter
from tests.conftest import SAMPLES, Mailbox, free_port
from tests.helpers import DECISION_MAKER, OFFICER, database_dump, grants
from tests.office import post, sign_in
from tests.test_delivery_faults import RefusesApplicants, letters, notices, smtp


def events(action: str) -> list[AuditEvent]:
    with transaction(load().db_url) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def message_ids(mailbox: Mailbox) -> list[str]:
    return [m["Message-ID"].strip() for m in mailbox.messages]


def letter_message_id(letter: Letter) -> str:
    """The Message-ID the letter carries on every attempt: derived from the letter alone."""
    sender = load().file["authority"]["mail_from"].strip("> ")
    return mail.message_id(f"{letter.letter_key}-{letter.sha256[:16]}", sender)


def test_a_week_without_the_mail_server_ends_no_letter(monkeypatch) -> None:
    port = free_port()  # nothing listens there yet: every connection is refused
    monkeypatch.setenv("GRANTS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GRANTS_SMTP_PORT", str(port))
    with clock.simulated():
        report = run_flow(intake, path=str(SAMPLES / "applications.csv"))
        assert report["letters"] == {"created": 3, "sent": 0, "failed": 3}
        for _ in range(7):  # a week, a run a day: past every back-off (6 hours at most)
            clock.move_to(clock.now() + timedelta(days=1))
            run_flow(send_letters)
        assert {x.delivery_state for x in letters()} == {"queued"}
        assert all(x.attempts == 8 and "ConnectionRefusedError" in x.last_error for x in letters())
        told = [n for n in notices() if n.kind == "letter_waiting"]
        assert sorted(n.data["letter"] for n in told) == sorted(x.filename for x in letters())
        assert {n.recipient for n in told} == {OFFICER}
        assert {n.delivery_state for n in notices()} == {"queued"}  # they wait for it too

        during = grants("deliver", ok=False)
        assert during.exit_code == 1, during.output
        said = " ".join(during.output.split())
        assert "waiting for the mail server" in said and "failed" not in said
        assert "3 letter(s) have not arrived yet" in said
        assert "3 notice(s) to staff have not arrived" in said
        listing = grants("undelivered", "--as", OFFICER, ok=False)
        assert listing.exit_code == 1
        assert "3 letter(s) not delivered" in listing.output
        assert "3 notice(s) to staff not delivered" in listing.output

        mailbox = Mailbox()  # the server is back, hours before any letter's next try
        controller = Controller(mailbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            back = grants("deliver")
            assert "3 delivered" in back.output, back.output
            assert run_flow(send_letters)["sent"] == 0
            assert grants("undelivered", "--as", OFFICER).exit_code == 0
        finally:
            controller.stop()
    assert [x.delivery_state for x in letters()] == ["sent"] * 3
    assert {n.delivery_state for n in notices()} == {"sent"}
    ids = message_ids(mailbox)
    assert len(ids) == len(set(ids)) == 3 + len(notices())  # each arrived once
    assert {letter_message_id(x) for x in letters()} <= set(ids)
    assert sum(m["To"] == OFFICER for m in mailbox.messages) == 3  # told once per letter
    assert not events("letter_undeliverable") and not events("notice_undeliverable")


def test_the_offices_timer_sends_what_waits_for_the_server_as_soon_as_it_answers(
    monkeypatch,
) -> None:
    """While letters wait for the mail server, the office's timer (GRANTS_FOLLOW_UP_SECONDS)
    has the send-letters run ask it at every tick: once it answers, they go, not at the end
    of a back-off that grows to six hours."""
    port = free_port()  # nothing listens there yet
    monkeypatch.setenv("GRANTS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GRANTS_SMTP_PORT", str(port))
    report = run_flow(intake, path=str(SAMPLES / "applications.csv"))
    assert report["letters"] == {"created": 3, "sent": 0, "failed": 3}
    settings, ended = load(), threading.Event()
    with transaction(settings.db_url) as session:  # none due: each waits for its back-off
        assert not due_ids(session, Letter, settings.retry_policy)
    follow_up = FollowUp(lambda: send_follow_up(settings, hand_over=False))
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        follow_up.every(0.5, lambda: not ended.is_set() and something_due(settings))
        deadline = time.monotonic() + 60
        while {x.delivery_state for x in letters()} != {"sent"}:
            assert time.monotonic() < deadline, "the letters still wait, the server answering"
            time.sleep(0.2)
    finally:
        ended.set()
        follow_up.wait_idle(60)
        controller.stop()
    assert sorted(message_ids(mailbox)) == sorted(letter_message_id(x) for x in letters())
    assert not something_due(settings)


def test_a_letter_refused_for_good_goes_again_with_deliver_again(monkeypatch) -> None:
    with smtp(RefusesApplicants(550), monkeypatch):
        assert grants("intake", str(SAMPLES / "applications.csv"), ok=False).exit_code == 1
        stuck = grants("deliver", ok=False)
    assert stuck.exit_code == 1
    said = " ".join(stuck.output.split())
    assert "3 letter(s) could not be delivered" in said and "grants deliver --again" in said
    assert [(x.delivery_state, x.attempts) for x in letters()] == [("failed", 1)] * 3

    before = database_dump(load().home)
    for wrong in (["26RS1", "26RS99"], ["26RS1"], []):
        as_whom = DECISION_MAKER if wrong == ["26RS1"] else OFFICER
        refused = grants("deliver", "--again", *wrong, "--as", as_whom, ok=False)
        assert refused.exit_code == 2, refused.output
    assert database_dump(load().home) == before

    mailbox = Mailbox()
    with smtp(mailbox, monkeypatch):
        again = grants("deliver", "--again", "26RS1", "26RS2", "--as", OFFICER, ok=False)
        assert again.exit_code == 1, again.output  # 26RS3's letter is still refused
        assert "26RS1: sent again: 26RS1-mottagningsbekraftelse.pdf" in again.output
        nothing = grants("deliver", "--again", "26RS1", "--as", OFFICER, ok=False)
        assert nothing.exit_code == 2
        assert "has no letter that could not be delivered" in " ".join(nothing.output.split())
    assert [(x.delivery_state, x.attempts) for x in letters()] == [
        ("sent", 1),
        ("sent", 1),
        ("failed", 1),
    ]
    assert message_ids(mailbox) == [letter_message_id(x) for x in letters()[:2]]
    chosen = events("letter_sent_again")
    assert [(e.actor, e.detail["letter"]) for e in chosen] == [
        (OFFICER, "26RS1-mottagningsbekraftelse.pdf"),
        (OFFICER, "26RS2-mottagningsbekraftelse.pdf"),
    ]
    assert all("550" in e.detail["error"] for e in chosen)


def test_the_case_officer_sends_a_refused_letter_again_from_the_case_page(
    office, monkeypatch
) -> None:
    with smtp(RefusesApplicants(550), monkeypatch):
        run_flow(intake, path=str(SAMPLES / "applications.csv"))
    monkeypatch.delenv("GRANTS_SMTP_HOST")  # to the outbox now: as if the address were right
    sign_in(office, OFFICER)
    page = office.get("/cases/26RS1").text
    assert "Inte levererat: vägrat för gott" in page and 'action="/cases/26RS1/send-again"' in page
    done = post(office, "/cases/26RS1/send-again")
    assert "1 brev skickas igen: 26RS1-mottagningsbekraftelse.pdf" in done.text
    office.app.state.office.follow_up.wait_idle(60)
    assert [x.delivery_state for x in letters()] == ["sent", "failed", "failed"]
    assert (load().outbox_dir / "26RS1-mottagningsbekraftelse.eml").exists()
    [chosen] = events("letter_sent_again")
    assert chosen.actor == OFFICER
    page = office.get("/cases/26RS1").text
    assert "Brevet skickat igen" in page and 'action="/cases/26RS1/send-again"' not in page

    before = database_dump(load().home)
    refused = post(office, "/cases/26RS1/send-again")
    assert refused.status_code == 409
    assert "har inget brev som inte kunde levereras" in refused.text
    assert database_dump(load().home) == before


def test_letters_waiting_for_the_server_are_shown_as_waiting_in_the_office(
    office, monkeypatch
) -> None:
    monkeypatch.setenv("GRANTS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GRANTS_SMTP_PORT", str(free_port()))
    with clock.simulated():
        run_flow(intake, path=str(SAMPLES / "applications.csv"))
        clock.move_to(clock.now() + timedelta(hours=73))
        run_flow(send_letters)  # the letters fail again: the officer's notices are ordered
        run_flow(send_letters)  # and fail too
    sign_in(office, OFFICER)  # the office itself mails to its outbox
    page = office.get("/undelivered").text
    assert page.count("Väntar på e-postservern") == 3 + 3  # the letters, the notices of them
    assert "3 meddelanden till personalen har inte skickats" in page
    assert "Inte levererat" not in page
    assert "Väntar på e-postservern" in office.get("/cases/26RS1").text


class RefusesTheSender(Mailbox):
    """Refuses the authority's own address in MAIL FROM: the relay's settings, not a letter."""

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        return "550 5.7.1 sender not allowed"


def test_a_refused_sender_is_not_the_letters_fault_and_they_wait(monkeypatch) -> None:
    with smtp(RefusesTheSender(), monkeypatch):
        report = run_flow(intake, path=str(SAMPLES / "applications.csv"))
    assert report["letters"] == {"created": 3, "sent": 0, "failed": 3}
    assert {x.delivery_state for x in letters()} == {"queued"}
    assert all("550 5.7.1 sender not allowed" in x.last_error for x in letters())
    assert not [n for n in notices() if n.kind == "letter_undeliverable"]
