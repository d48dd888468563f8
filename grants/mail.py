"""Delivery of letters: by SMTP when a server is configured, else as .eml files in the outbox.

Standard library only (see STACK-NOTES.md): smtplib adds neither Date nor Message-ID,
so both are set here; the Message-ID is derived from the letter, so a copy that ever
went out twice would still be recognisable as the same message.
"""

import smtplib
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from grants.settings import Settings
from models.tables import utcnow


def build_message(
    sender: str,
    recipient: str,
    subject: str,
    body: str,
    identity: str,
    attachments: tuple[tuple[str, bytes, str], ...] = (),
) -> EmailMessage:
    """A message with Date and a Message-ID derived from `identity` (the item it carries).

    `attachments` are (file name, content, MIME type) triples.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    domain = sender.rsplit("@", 1)[-1].strip("> ")
    message["Message-ID"] = make_msgid(idstring=identity, domain=domain)
    message.set_content(body)
    for filename, content, mime in attachments:
        kind, *options = (part.strip() for part in mime.split(";"))
        maintype, subtype = kind.split("/", 1)
        params = dict(option.split("=", 1) for option in options)
        message.add_attachment(
            content, maintype=maintype, subtype=subtype, filename=filename, params=params
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
