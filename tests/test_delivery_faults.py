"""Delivery when things go wrong: crashes mid-send, refusals, dropped and silent servers,
letters that cannot be built. Each against a real SMTP server (or socket) in the test."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update
from sqlmodel import select

from flows.assessment import sweep
from flows.intake import intake
from flows.letters import send_letters
from grants.embedded import run_flow
from grants.settings import load
from models import clock
from models.db import transaction
from models.notices import order_notice
from models.rules import Rules
from models.tables import Answer, Case, Letter, Notice, Person
from models.working_days import add_working_days
from tests.conftest import SAMPLES, Mailbox, free_port
from tests.helpers import OFFICER, grants
from tests.test_sweep_and_concurrency import checklist

STAFF = "regionorebrolan.example.se"


def letters() -> list[Letter]:
    with transaction(load().db_url) as session:
        return list(session.exec(select(Letter).order_by(Letter.id)))


def notices() -> list[Notice]:
    with transaction(load().db_url) as session:
        return list(session.exec(select(Notice).order_by(Notice.id)))


@contextmanager
def smtp(handler: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    monkeypatch.setenv("GRANTS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GRANTS_SMTP_PORT", str(port))
    try:
        yield port
    finally:
        controller.stop()


class RefusesApplicants(Mailbox):
    """Staff mail is taken; every applicant's address is refused with `code`."""

    def __init__(self, code: int) -> None:
        super().__init__()
        self.code = code

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not address.endswith(STAFF):
            return f"{self.code} mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class DropsAfterData(Mailbox):
    """Reads the whole message, then hangs up instead of answering (the first `drops` times)."""

    def __init__(self, drops: int) -> None:
        super().__init__()
        self.drops = drops

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        if self.drops:
            self.drops -= 1
            server.transport.abort()  # what this server says next goes nowhere
        return "250 OK"


class HangsInData(Mailbox):
    """Reads the message, then never answers: the sender is killed while it waits."""

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        await asyncio.sleep(120)
        return "250 OK"


def test_a_permanent_refusal_fails_once_and_tells_the_officer(monkeypatch) -> None:
    mailbox = RefusesApplicants(550)
    with smtp(mailbox, monkeypatch):
        report = run_flow(intake, path=str(SAMPLES / "applications.csv"))
        assert report["letters"] == {"created": 3, "sent": 0, "failed": 3}
        again = run_flow(send_letters)  # the notices go; the refused letters are not retried
        assert again["sent"] == 0 and again["failed"] == 0
        assert run_flow(send_letters)["notices_sent"] == 0
    for letter in letters():
        assert letter.delivery_state == "failed" and letter.attempts == 1
        assert "550 mailbox unavailable" in letter.last_error
    told = [n for n in notices() if n.kind == "letter_undeliverable"]
    assert len(told) == 3 and {n.delivery_state for n in told} == {"sent"}
    assert all(n.recipient.endswith(STAFF) for n in told)
    assert len(mailbox.messages) == 3  # the notices, one per letter, and nothing else


def test_a_temporary_refusal_backs_off_and_is_never_given_up(monkeypatch) -> None:
    monkeypatch.setenv("GRANTS_RETRY_DELAY", "60")
    monkeypatch.setenv("GRANTS_GIVE_UP_AFTER", "1")  # hour
    with smtp(RefusesApplicants(451), monkeypatch):
        run_flow(intake, path=str(SAMPLES / "applications.csv"))
        assert {(x.delivery_state, x.attempts) for x in letters()} == {("queued", 1)}
        run_flow(send_letters)  # within the back-off: not tried again
        assert {(x.delivery_state, x.attempts) for x in letters()} == {("queued", 1)}
        with clock.simulated():
            for attempt in (2, 3):  # two hours later, twice
                clock.move_to(clock.now() + timedelta(hours=2))
                run_flow(send_letters)
                assert {(x.delivery_state, x.attempts) for x in letters()} == {("queued", attempt)}
    assert all("451" in x.last_error for x in letters())
    told = [n for n in notices() if n.kind == "letter_waiting"]
    assert len(told) == 3 and {n.delivery_state for n in told} == {"sent"}  # once per letter
    assert not [n for n in notices() if n.kind == "letter_undeliverable"]


def test_a_dropped_connection_is_retried_with_the_same_message_id(monkeypatch) -> None:
    monkeypatch.setenv("GRANTS_RETRY_DELAY", "0")
    mailbox = DropsAfterData(drops=3)
    with smtp(mailbox, monkeypatch):
        first = run_flow(intake, path=str(SAMPLES / "applications.csv"))
        assert first["letters"]["failed"] == 3
        assert run_flow(send_letters)["sent"] == 3
    assert [x.delivery_state for x in letters()] == ["sent"] * 3
    ids = [m["Message-ID"].strip() for m in mailbox.messages]
    assert len(ids) == 6 and ids[:3] == ids[3:]  # each copy can be folded with its duplicate
    assert len(set(ids)) == 3 and all(i.startswith("<") and i.endswith(">") for i in ids)


def test_after_the_first_timeout_the_rest_wait_for_the_next_run(monkeypatch) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never says a word
    monkeypatch.setenv("GRANTS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GRANTS_SMTP_PORT", str(silent.getsockname()[1]))
    monkeypatch.setenv("GRANTS_SMTP_TIMEOUT", "1")
    try:
        started = time.monotonic()
        report = run_flow(intake, path=str(SAMPLES / "applications.csv"))
        took = time.monotonic() - started
    finally:
        silent.close()
    assert report["letters"] == {"created": 3, "sent": 0, "failed": 3}
    assert [x.attempts for x in letters()] == [1, 0, 0]
    assert "TimeoutError" in letters()[0].last_error
    assert all(x.delivery_state == "queued" for x in letters())
    assert took < 15


def test_a_timeout_on_a_notice_holds_the_letters_of_the_run_too(monkeypatch) -> None:
    run_flow(intake, path=str(SAMPLES / "applications.csv"))  # to the outbox
    with transaction(load().db_url) as session:
        officer = session.exec(select(Person).where(Person.role == "case_officer")).first()
        case = session.exec(select(Case)).first()
        order_notice(session, "test/1", "supplement_expired", officer, case,
                     case_reference=case.case_reference, project_title="x", deadline="2026-12-01",
                     state="in_review")  # fmt: skip
        session.exec(update(Letter).values(delivery_state="queued"))
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    monkeypatch.setenv("GRANTS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GRANTS_SMTP_PORT", str(silent.getsockname()[1]))
    monkeypatch.setenv("GRANTS_SMTP_TIMEOUT", "1")
    try:
        report = run_flow(send_letters)
    finally:
        silent.close()
    assert (report["notices_failed"], report["failed"], report["sent"]) == (1, 3, 0)
    assert [n.attempts for n in notices()] == [1]
    assert [x.attempts for x in letters()] == [1, 1, 1]  # from the outbox run, not this one


def test_a_line_break_in_a_title_blocks_nothing(smtp_server: Mailbox, tmp_path: Path) -> None:
    records = json.loads((SAMPLES / "applications.json").read_text())[:3]
    records[0]["project_title"] = "Första raden\r\nAndra raden\rTredje"  # Alt+Enter in Excel
    path = tmp_path / "line-breaks.json"
    path.write_text(json.dumps(records, ensure_ascii=False))
    report = run_flow(intake, path=str(path))
    assert report["letters"] == {"created": 3, "sent": 3, "failed": 0}
    subjects = [m["Subject"] for m in smtp_server.wait_for(3)]
    assert any("Första raden Andra raden Tredje" in s for s in subjects)


def test_a_letter_that_cannot_be_built_is_set_aside(smtp_server: Mailbox) -> None:
    run_flow(intake, path=str(SAMPLES / "applications.csv"), send_letters=False)
    with transaction(load().db_url) as session:
        session.exec(update(Letter).where(Letter.id == 1).values(kind="no_such_kind"))
    report = run_flow(send_letters)
    assert report["created"] == 2 and report["sent"] == 2
    broken = letters()[0]
    assert broken.delivery_state == "failed" and "cannot be" in broken.last_error
    assert run_flow(send_letters)["failed"] == 0  # set aside: not tried again


def test_a_crash_mid_send_is_sent_again_with_the_same_message_id(
    monkeypatch, grants_home: Path, prefect_server: str
) -> None:
    run_flow(intake, path=str(SAMPLES / "applications.csv"), send_letters=False)
    hanging = HangsInData()
    with smtp(hanging, monkeypatch) as port:
        env = os.environ | {
            "PREFECT_API_URL": prefect_server,
            "GRANTS_SMTP_PORT": str(port),
            "GRANTS_SMTP_TIMEOUT": "60",
        }
        sender = subprocess.Popen(
            [sys.executable, "-m", "grants", "deliver"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert hanging.wait_for(1, timeout=120), "the first letter never reached DATA"
        finally:
            os.kill(sender.pid, signal.SIGKILL)
            sender.wait()
    interrupted = letters()[0]
    assert interrupted.delivery_state == "sending"

    mailbox = Mailbox()
    with smtp(mailbox, monkeypatch):
        monkeypatch.setenv("GRANTS_SMTP_TIMEOUT", "0.5")  # a claim older than 1 s was interrupted
        time.sleep(1.1)
        assert run_flow(send_letters)["sent"] == 3
        assert run_flow(send_letters)["sent"] == 0
    assert [x.delivery_state for x in letters()] == ["sent"] * 3
    resent = next(m for m in mailbox.messages if m["To"] == interrupted.recipient)
    assert resent["Message-ID"].strip() == hanging.messages[0]["Message-ID"].strip()
    assert letters()[0].attempts == 2


def test_a_deadline_runs_from_its_letters_delivery(monkeypatch) -> None:
    run_flow(intake, path=str(SAMPLES / "applications.json"))
    with smtp(RefusesApplicants(550), monkeypatch):
        reference = checklist("SI-2026-0103", anchored_with_partners=Answer.unclear)
        run_flow(send_letters)
        [request] = [x for x in letters() if x.kind == "supplement_request"]
        assert request.delivery_state == "failed"
        stated = add_working_days(date.today(), Rules().supplement_working_days)
        for _ in range(2):
            done = run_flow(sweep, today=stated + timedelta(days=30))
            assert (done["expired"], done["reminders"], done["held"]) == (0, 0, 1)
    assert case_state(reference) == "awaiting_supplement"
    assert [n.kind for n in notices()].count("deadline_held") == 1
    # One notice for the request (the sweep's delay notices to the other applicants bounce
    # on this server too, each with its own notice).
    bounced = [n.data["letter"] for n in notices() if n.kind == "letter_undeliverable"]
    assert bounced.count(request.filename) == 1

    # Delivered at last, on the stated deadline: the applicant has the full period from then.
    arrived = datetime.combine(stated, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    with transaction(load().db_url) as session:
        session.exec(
            update(Letter)
            .where(Letter.id == request.id)
            .values(delivery_state="sent", sent_at=arrived)
        )
    new_deadline = add_working_days(stated, Rules().supplement_working_days)
    assert run_flow(sweep, today=new_deadline)["expired"] == 0
    assert run_flow(sweep, today=new_deadline + timedelta(days=1))["expired"] == 1
    assert case_state(reference) != "awaiting_supplement"


def case_state(reference: str) -> str:
    with transaction(load().db_url) as session:
        return session.exec(select(Case).where(Case.case_reference == reference)).one().state


def test_undelivered_letters_are_listed_and_make_commands_fail(monkeypatch) -> None:
    with smtp(RefusesApplicants(550), monkeypatch):
        intake_run = grants("intake", str(SAMPLES / "applications.csv"), ok=False)
        assert intake_run.exit_code == 1, intake_run.output
        assert "3 letter(s) could not be delivered" in intake_run.output
        listing = grants("undelivered", "--as", OFFICER, ok=False)
        assert listing.exit_code == 1
        assert "3 letter(s) not delivered" in listing.output
        assert "26RS1-mottagningsbekraftelse.pdf" in listing.output
        assert "550 mailbox unavailable" in listing.output and "failed" in listing.output

        step = grants(
            "checklist", "26RS2", "--as", OFFICER, "--benefit-to-society", "met",
            "--innovative", "met", "--new-locally", "unclear", "--anchored-with-partners", "met",
            "--note", "new_locally=Beskriv förebilderna.", ok=False,
        )  # fmt: skip
        assert step.exit_code == 1, step.output
        assert "26RS2-begaran-om-komplettering-1.pdf" in step.output, step.output
        assert "1 letter(s) could not be delivered" in step.output
    assert case_state("26RS2") == "awaiting_supplement"  # the step itself stands
    detail = grants("status", "26RS2", "--as", OFFICER)
    assert "failed" in detail.output and "550 mailbox unavailable" in detail.output


def test_with_every_letter_delivered_the_commands_succeed(smtp_server: Mailbox) -> None:
    assert grants("intake", str(SAMPLES / "applications.csv")).exit_code == 0
    listing = grants("undelivered", "--as", OFFICER)
    assert listing.exit_code == 0 and "0 letter(s) not delivered" in listing.output


def test_the_calendar_file_carries_no_bare_line_break() -> None:
    from types import SimpleNamespace

    from grants.calendar_invite import calendar_invite

    letter = SimpleNamespace(
        case=SimpleNamespace(
            case_reference="26RS1",
            project_title="Rad ett\rrad två\u2028tre",
            case_officer=SimpleNamespace(name="Maria\rLindqvist", email="maria@example.se"),
        ),
        data={
            "starts_at": "2026-12-03T10:00:00+01:00",
            "ends_at": "2026-12-03T11:30:00+01:00",
            "place": "Regionens hus\r\nRum 3",
        },
        letter_key="26RS1/meeting_invitation",
        kind="meeting_invitation",
        language="sv",
        recipient="info@example.se",
    )
    authority = {
        "name": "Region Örebro län",
        "email": "a@example.se",
        "phone": "019-60 20 00",
        "mail_from": "Region Örebro län <a@example.se>",
    }
    ics = calendar_invite(letter, authority)
    lines = ics.split(b"\r\n")
    assert all(b"\r" not in line and b"\n" not in line for line in lines)
    assert b"LOCATION:Regionens hus\\nRum 3" in ics


class RefusesOne(Mailbox):
    """Every address is taken but one, which is refused for good."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refused:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.mark.slow
def test_the_demo_says_so_when_a_letter_could_not_be_delivered(monkeypatch) -> None:
    with smtp(RefusesOne("styrelsen@skatekollektivet.example.org"), monkeypatch):
        result = grants("demo", ok=False)
    assert result.exit_code == 1, result.output
    assert "Where to look" in result.output
    assert "RS6-mottagningsbekraftelse.pdf" in result.output
    assert "could not be delivered" in result.output
