"""Delivery of letters: by SMTP when a server is configured, else as .eml files in the outbox.

Standard library only (see STACK-NOTES.md): smtplib adds neither Date nor Message-ID,
so both are set here; the Message-ID is derived from the letter, so a copy that ever
went out twice would still be recognisable as the same message.
"""

import smtplib
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from grants.settings import Settings
from models.tables import Letter, utcnow


def build_message(letter: Letter, sender: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = letter.recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    domain = sender.rsplit("@", 1)[-1].strip("> ")
    message["Message-ID"] = make_msgid(
        idstring=f"letter-{letter.id}-{letter.sha256[:16]}", domain=domain
    )
    message.set_content(body)
    message.add_attachment(
        letter.pdf, maintype="application", subtype="pdf", filename=letter.filename
    )
    return message


def deliver(message: EmailMessage, settings: Settings, name: str) -> str:
    """Send the message; return how it went ("smtp" or "outbox"). Raises on failure."""
    if settings.smtp_host:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
        return "smtp"
    outbox = settings.outbox_dir
    outbox.mkdir(parents=True, exist_ok=True)
    partial = outbox / f".{name}.eml.partial"
    partial.write_bytes(message.as_bytes())
    partial.replace(outbox / f"{name}.eml")  # whole file or none
    return "outbox"
