"""E-mail to a real SMTP server started in the test; failures queue, retries send once."""

from email import policy
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlmodel import select

from flows.intake import intake
from flows.letters import send_letters
from grants.embedded import run_flow
from grants.mail import build_message, deliver
from grants.settings import load
from models.db import transaction
from models.tables import AuditEvent, Letter
from tests.conftest import SAMPLES, Mailbox, free_port
from tests.test_processes import many_applications


def letters() -> list[Letter]:
    with transaction(load().db_url) as session:
        return list(session.exec(select(Letter).order_by(Letter.id)))


def test_acknowledgements_arrive_by_smtp_with_the_pdf(smtp_server: Mailbox) -> None:
    run_flow(intake, path=str(SAMPLES / "applications.json"))
    messages = smtp_server.wait_for(8)
    assert len(messages) == 8
    by_recipient = {m["To"]: m for m in messages}
    for letter in letters():
        message = by_recipient[letter.recipient]
        assert (
            message["From"] == "Region Örebro län <sociala.innovationer@regionorebrolan.example.se>"
        )
        assert letter.letter_key.split("/")[0] in message["Subject"]
        [attachment] = message.iter_attachments()
        assert attachment.get_filename() == letter.filename
        assert attachment.get_content() == letter.pdf
        assert letter.delivery_state == "sent" and letter.delivered_via == "smtp"
    english = next(m for m in messages if "cricket" in m["To"].lower() or "kfcc" in m["To"])
    assert english["Subject"].startswith("Acknowledgement ")
    assert "Dear Imran Qureshi" in english.get_body(("plain",)).get_content()
    swedish = by_recipient[letters()[0].recipient]
    assert "Hej " in swedish.get_body(("plain",)).get_content()
    assert not list(Path(load().outbox_dir).glob("*.eml"))


def test_a_failed_delivery_stays_queued_and_is_sent_once_later(
    monkeypatch, grants_home: Path
) -> None:
    port = free_port()  # nothing listens here yet
    monkeypatch.setenv("GRANTS_RETRY_DELAY", "0")  # back-off has its own test
    monkeypatch.setenv("GRANTS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GRANTS_SMTP_PORT", str(port))
    report = run_flow(intake, path=str(SAMPLES / "applications.csv"))
    assert report["letters"] == {"created": 3, "sent": 0, "failed": 3}
    for letter in letters():
        assert letter.delivery_state == "queued" and letter.attempts == 1
        assert "ConnectionRefusedError" in letter.last_error
    with transaction(load().db_url) as session:
        failures = session.exec(
            select(AuditEvent).where(AuditEvent.action == "letter_delivery_failed")
        ).all()
        assert len(failures) == 3

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    try:
        nothing = {"created": 0, "sent": 0, "failed": 0, "notices_sent": 0, "notices_failed": 0}
        assert run_flow(send_letters) == nothing | {"sent": 3}
        assert run_flow(send_letters) == nothing
        assert run_flow(intake, path=str(SAMPLES / "applications.csv"))["letters"]["sent"] == 0
        assert len(mailbox.wait_for(3)) == 3
    finally:
        controller.stop()
    assert len(mailbox.messages) == 3
    assert all(letter.delivery_state == "sent" and letter.attempts == 2 for letter in letters())


def test_a_batchs_first_letters_go_out_while_the_rest_are_rendered(
    monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GRANTS_RENDER_WORKERS", "1")  # rendered here, one after the other
    report = run_flow(intake, path=str(many_applications(tmp_path, 10)))
    assert report["letters"] == {"created": 10, "sent": 10, "failed": 0}
    with transaction(load().db_url) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action.startswith("letter_")))
        at: dict[str, list] = {}
        for event in events:
            at.setdefault(event.action, []).append(event.at)
    assert len(at["letter_created"]) == len(at["letter_sent"]) == 10
    assert min(at["letter_sent"]) < max(at["letter_created"])


LONG_SUBJECTS = [
    # A meeting invitation as the office words it, in each language.
    "Inbjudan till ett möte 26RS5 – Kryddgården växer: odling och gemenskap i Lindesberg för alla",
    "Invitation to a meeting 26RS8 – Mind the Wicket – mental health in amateur sport, "
    "Örebro and Kumla",
    # Where the email package's own folding drops a space between two encoded words.
    "Inbjudan till ett möte 26RS5 – alla odling Örebro växer odling ÅÄÖ Örebro län Frövi möte möte",
    "Inbjudan till ett möte 26RS5 – – alla i Lindesberg ÅÄÖ Örebro 26RS5 odling Lindesberg "
    "Frövi växer växer Kryddgården – växer odling gemenskap 26RS5 för Lindesberg Frövi",
    # Two spaces, a word longer than a line, and letters outside Latin-1.
    "Beslut 26RS12 – Familjeboden  mat, mötesplats och gemenskap för familjer "
    + "Överkalixälvdalsföreningen" * 4
    + " – Łódź, Ærø och Þórshöfn ✓",
]


def test_long_subjects_arrive_with_every_space_they_had(smtp_server: Mailbox) -> None:
    """A long Subject that is not ASCII is folded over lines as encoded words; a reader
    (here the email package, policy.default) must get back exactly what was written."""
    settings = load()
    for number, subject in enumerate(LONG_SUBJECTS):
        message = build_message(
            "Region Örebro län <sociala.innovationer@regionorebrolan.example.se>",
            "hej@kryddgarden.example.se",
            subject,
            "Hej!",
            f"subject-{number}",
        )
        assert deliver(message, settings, f"subject-{number}") == "smtp"
    received = smtp_server.wait_for(len(LONG_SUBJECTS))
    assert [m["Subject"] for m in received] == LONG_SUBJECTS
    for message in received:
        raw = message.as_bytes(policy=policy.SMTP).split(b"\r\n\r\n", 1)[0]
        assert max(len(line) for line in raw.split(b"\r\n")) <= 78, "lines stay short"
