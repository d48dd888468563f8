"""Delivery of letters: by SMTP when a server is configured, else as .eml files in the outbox.

Standard library only (prefect-email would pull in about 100 packages and mangles non-ASCII
attachment names): smtplib adds neither Date nor Message-ID,
so both are set here. The Message-ID is derived from the item alone (the same on every
attempt), so a letter sent again after an interrupted run is folded by mail clients.
A message is serialised once (`serialise`), in the form its way out takes, so a message
that cannot be serialised is known before it is handed over, at no second cost.
Header values never carry a line break: a project title typed with Alt+Enter would
otherwise make the message impossible to serialise. An internationalised address goes
out with SMTPUTF8 where the server offers it, and is refused for good where it does not.
"""

import re
import smtplib
from dataclasses import dataclass
from email.generator import NLCRE, BytesGenerator
from email.header import Header
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, getaddresses
from io import BytesIO
from typing import Any

from grants.settings import Settings
from models.tables import utcnow

LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
NOT_ATEXT = re.compile(r"[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]")


class DeliveryFailed(Exception):
    """Why a message did not go: `permanent` (5xx: do not retry), `timed_out` (the server
    did not answer: the rest of this run waits for the next), `away` (no word from the
    server at all, refused, dropped or silent: the message waits for it to answer)."""

    def __init__(
        self, reason: str, permanent: bool = False, timed_out: bool = False, away: bool = False
    ) -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.timed_out = timed_out
        self.away = away or timed_out


class Headers(HeaderRegistry):
    """The email package's header classes, each made once: the package makes a new class
    for every header it parses or sets (some thirty a message, a third of a millisecond)."""

    def __init__(self) -> None:
        super().__init__()
        self.made: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        if key not in self.made:
            self.made[key] = super().__getitem__(name)
        return self.made[key]


class Policy(EmailPolicy):
    """The email package's default policy, with its header classes made once (Headers), and
    folding the sender from memory: a display name in encoded words (Region Örebro län)
    costs the package about a millisecond to fold, more than all other headers together,
    and it is the same on every message.

    A text header that is not ASCII (a Subject with the project's title) is written as a
    run of RFC 2047 encoded words that carry every one of its spaces: the package's own
    folding (before CPython gh-144156) may fold between two encoded words at a space,
    which a reader must then drop ("Kryddgårdenväxer"). In UTF-8 form it needs no words."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        if self._in_encoded_words(value):
            return self._encoded_words(name, value).encode("ascii")
        if name.lower() != "from":
            return super().fold_binary(name, value)
        key = (str(value), self.linesep, self.utf8, self.max_line_length, self.cte_type)
        if key not in SENDERS:
            SENDERS[key] = super().fold_binary(name, value)
        return SENDERS[key]

    def fold(self, name: str, value: Any) -> str:
        if self._in_encoded_words(value):
            return self._encoded_words(name, value)
        return super().fold(name, value)

    def _in_encoded_words(self, value: Any) -> bool:
        return isinstance(value, UnstructuredHeader) and not self.utf8 and not value.isascii()

    def _encoded_words(self, name: str, value: str) -> str:
        """`name: value` folded, each line an encoded word, spaces inside the words."""
        words = Header(value, "utf-8", self.max_line_length or 0, name).encode(self.linesep)
        return f"{name}: {words}{self.linesep}"


SENDERS: dict[tuple[Any, ...], bytes] = {}  # the authority's address, a form or two
POLICY = Policy(header_factory=Headers())


class Generator(BytesGenerator):
    """The email package's generator, writing a body with its line ends made this policy's
    in one piece: it splits the body into lines and writes them one by one, and a PDF in
    base64 is a thousand lines (a large share of a letter's serialising). The bytes are
    the same."""

    def _write_lines(self, lines: str) -> None:
        if "\r" not in lines:  # the usual case: str.replace, faster than a pattern
            self.write(lines.replace("\n", self._NL))
        else:
            self.write(NLCRE.sub(self._NL, lines))


def header_value(text: str) -> str:
    """One line: line breaks of any kind become a space."""
    return LINE_BREAKS.sub(" ", text).strip()


def message_id(identity: str, sender: str) -> str:
    """<identity@sender's domain>, the same for the same item on every attempt."""
    domain = NOT_ATEXT.sub("", sender.rsplit("@", 1)[-1]) or "localhost"
    return f"<{NOT_ATEXT.sub('-', identity)}@{domain}>"


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
    message = EmailMessage(policy=POLICY)
    message["From"] = header_value(sender)
    message["To"] = header_value(recipient)
    message["Subject"] = header_value(subject)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id(identity, sender.strip("> "))
    message.set_content(body)
    for filename, content, mime in attachments:
        kind, *options = (part.strip() for part in mime.split(";"))
        maintype, subtype = kind.split("/", 1)
        params = dict(option.split("=", 1) for option in options)
        message.add_attachment(
            content,
            maintype=maintype,
            subtype=subtype,
            filename=header_value(filename),
            params=params,
        )
    return message


@dataclass(frozen=True)
class Outgoing:
    """A message serialised for its way out: with SMTP's line ends for a server, a file's
    for the outbox; with UTF-8 headers only where an address itself is not ASCII (a
    display name is encoded by RFC 2047 instead)."""

    sender: str
    recipients: tuple[str, ...]
    international: bool
    data: bytes


def serialise(message: EmailMessage, settings: Settings) -> Outgoing:
    """The message as it will be handed over (as smtplib's send_message would make it);
    raises what the email package raises for a message that cannot be serialised."""
    sender = getaddresses([str(message["From"])])[0][1]
    recipients = tuple(address for _, address in getaddresses([str(message["To"])]))
    international = not all(address.isascii() for address in (sender, *recipients))
    form = message.policy.clone(utf8=international, linesep="\r\n" if settings.smtp_host else "\n")
    data = BytesIO()
    Generator(data, mangle_from_=False, policy=form).flatten(message)  # as message.as_bytes
    return Outgoing(sender, recipients, international, data.getvalue())


def deliver(message: EmailMessage, settings: Settings, name: str) -> str:
    """Send the message; return how it went ("smtp" or "outbox"). Raises DeliveryFailed."""
    return send(serialise(message, settings), settings, name)


def send(outgoing: Outgoing, settings: Settings, name: str) -> str:
    """Send a serialised message; return how it went ("smtp" or "outbox"). Raises
    DeliveryFailed."""
    if not settings.smtp_host:
        outbox = settings.outbox_dir
        outbox.mkdir(parents=True, exist_ok=True)
        partial = outbox / f".{name}.eml.partial"
        partial.write_bytes(outgoing.data)
        partial.replace(outbox / f"{name}.eml")  # whole file or none
        return "outbox"
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.sendmail(
                outgoing.sender, outgoing.recipients, outgoing.data, _options(smtp, outgoing)
            )
        return "smtp"
    except (OSError, smtplib.SMTPException) as error:
        raise _failure(error, settings) from error


def answers(settings: Settings) -> None:
    """Whether the mail server answers now (a greeting and NOOP, nothing sent): raises
    DeliveryFailed as `send` would if it does not. The outbox always answers."""
    if not settings.smtp_host:
        return
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout
        ) as smtp:
            smtp.noop()
    except (OSError, smtplib.SMTPException) as error:
        raise _failure(error, settings) from error


def _failure(error: Exception, settings: Settings) -> DeliveryFailed:
    """What a failure to send means. Permanent only where the server refused this message
    for good: the recipient (5xx to RCPT), the message itself (5xx after DATA, or too large
    for it), an address that needs SMTPUTF8 it lacks. The server away, refusing service or
    the sender (our settings), or answering 4xx is temporary: the message waits."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        reason = "; ".join(
            f"{to}: {code} {_text(text)}" for to, (code, text) in error.recipients.items()
        )
        return DeliveryFailed(f"SMTPRecipientsRefused: {reason}", permanent=min(codes) >= 500)
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return DeliveryFailed(f"SMTPNotSupportedError: {error}", permanent=True)
    if isinstance(error, smtplib.SMTPAuthenticationError):  # our settings, not this letter
        return DeliveryFailed(f"SMTPAuthenticationError: {error}")
    if isinstance(error, smtplib.SMTPResponseException):
        reason = f"{type(error).__name__}: {error.smtp_code} {_text(error.smtp_error)}"
        this_message = isinstance(error, smtplib.SMTPDataError) or error.smtp_code == 552
        return DeliveryFailed(
            reason,
            permanent=this_message and error.smtp_code >= 500,
            away=isinstance(error, smtplib.SMTPConnectError),  # no service: 421 or 554
        )
    # smtplib reports a reply that never came as a disconnection caused by the timeout
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        reason = f"TimeoutError: no answer from {settings.smtp_host} in {settings.smtp_timeout} s"
        return DeliveryFailed(reason, timed_out=True)
    away = isinstance(error, OSError | smtplib.SMTPServerDisconnected)
    return DeliveryFailed(f"{type(error).__name__}: {error}", away=away)


def _options(smtp: smtplib.SMTP, outgoing: Outgoing) -> tuple[str, ...]:
    """SMTPUTF8 for an internationalised address, refused where the server lacks it."""
    if not outgoing.international:
        return ()
    smtp.ehlo_or_helo_if_needed()
    if not smtp.has_extn("smtputf8"):
        raise smtplib.SMTPNotSupportedError(
            "One or more source or delivery addresses require internationalized email "
            "support, but the server does not advertise the required SMTPUTF8 capability"
        )
    return ("SMTPUTF8", "BODY=8BITMIME")


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
