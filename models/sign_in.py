"""Signing in to the office: one-time links, sessions, and the security log.

A link or a session is a secret held by one person; the database keeps only its SHA-256,
so a copy of the database signs no one in. Every request for a link, every sign-in,
failed sign-in and sign-out is logged, whoever it names: the log is how a region finds
out that someone tried. An address nobody holds gets the same treatment as a known one
(logged, rate-limited, no link), so the answer never tells who has an account.
"""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlmodel import Field, Session, SQLModel, col, select

from models.people import find_person
from models.tables import Person, utcnow

LINK_REQUESTS_PER_WINDOW = 5  # per address, per link lifetime


class SecurityEventKind(StrEnum):
    link_requested = "link_requested"
    link_refused = "link_refused"  # rate limit reached: no link made
    sign_in = "sign_in"
    sign_in_failed = "sign_in_failed"
    sign_out = "sign_out"
    session_expired = "session_expired"


class SignInLink(SQLModel, table=True):
    """A one-time sign-in link sent by e-mail; only its hash is kept."""

    __tablename__ = "sign_in_links"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True)
    person_id: int = Field(foreign_key="people.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class OfficeSession(SQLModel, table=True):
    """A signed-in person's session; the cookie holds the secret, this row its hash."""

    __tablename__ = "office_sessions"

    id: int | None = Field(default=None, primary_key=True)
    session_hash: str = Field(unique=True, index=True)
    person_id: int = Field(foreign_key="people.id", index=True)
    method: str  # email_link or oidc
    started_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    end_reason: str | None = None


class SecurityEvent(SQLModel, table=True):
    """The security log: append-only, one row per sign-in event."""

    __tablename__ = "security_events"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    kind: SecurityEventKind = Field(index=True)
    email: str = Field(default="", index=True)  # as given, for failed attempts too
    person_id: int | None = Field(default=None, foreign_key="people.id")
    method: str = ""
    client: str = ""  # the client's address as the server saw it
    detail: str = ""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    """SQLite hands back times without their zone; they are stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def log(
    session: Session,
    kind: SecurityEventKind,
    email: str = "",
    person: Person | None = None,
    method: str = "",
    client: str = "",
    detail: str = "",
) -> None:
    session.add(
        SecurityEvent(
            kind=kind,
            email=email[:320],
            person_id=person.id if person else None,
            method=method,
            client=client[:100],
            detail=detail[:500],
        )
    )


def request_link(
    session: Session, email: str, lifetime: timedelta, client: str = ""
) -> tuple[Person, str] | None:
    """A new one-time link's secret for the person with `email`, or None.

    None for an unknown address and for one that asked too often in the link's lifetime;
    the caller answers the same in every case.
    """
    address = email.strip().lower()
    if asking_again_at(session, address, lifetime) is not None:
        log(session, SecurityEventKind.link_refused, address, client=client, detail="rate limit")
        return None
    person = find_person(session, address)
    log(session, SecurityEventKind.link_requested, address, person, "email_link", client)
    if person is None or not person.active:
        return None
    token = secrets.token_urlsafe(32)
    session.add(
        SignInLink(token_hash=_hash(token), person_id=person.id, expires_at=utcnow() + lifetime)
    )
    return person, token


def asking_again_at(session: Session, email: str, lifetime: timedelta) -> datetime | None:
    """When `email` may ask for a sign-in link again, if it has asked (or been refused)
    LINK_REQUESTS_PER_WINDOW times within a link's lifetime; None if it may ask now."""
    asked = session.exec(
        select(SecurityEvent.at)
        .where(
            SecurityEvent.email == email.strip().lower(),
            col(SecurityEvent.kind).in_(
                [SecurityEventKind.link_requested, SecurityEventKind.link_refused]
            ),
            SecurityEvent.at >= utcnow() - lifetime,
        )
        .order_by(col(SecurityEvent.at).desc())
        .limit(LINK_REQUESTS_PER_WINDOW)
    ).all()
    if len(asked) < LINK_REQUESTS_PER_WINDOW:
        return None
    return asked[-1] + lifetime


def redeem_link(session: Session, token: str, client: str = "") -> Person | None:
    """The person a link signs in, the link then spent; None (logged, for the caller to
    commit) if it is unknown, used or expired."""
    link = session.exec(select(SignInLink).where(SignInLink.token_hash == _hash(token))).first()
    why = (
        "unknown link"
        if link is None
        else "link already used"
        if link.used_at is not None
        else "link expired"
        if _aware(link.expires_at) <= utcnow()
        else ""
    )
    person = session.get(Person, link.person_id) if link else None
    if person is not None and not person.active and not why:
        why = "person deactivated"
    if why:
        log(
            session,
            SecurityEventKind.sign_in_failed,
            person.email if person else "",
            person,
            "email_link",
            client,
            why,
        )
        return None
    link.used_at = utcnow()
    session.add(link)
    return person


def start_session(session: Session, person: Person, method: str, client: str = "") -> str:
    """A new session for `person`; returns the secret for the cookie."""
    secret = secrets.token_urlsafe(32)
    session.add(OfficeSession(session_hash=_hash(secret), person_id=person.id, method=method))
    log(session, SecurityEventKind.sign_in, person.email, person, method, client)
    return secret


def session_person(session: Session, secret: str, idle: timedelta) -> Person | None:
    """Who a session cookie belongs to, or None once it ended or sat idle too long."""
    office_session = _office_session(session, secret)
    if office_session is None or office_session.ended_at is not None:
        return None
    now = utcnow()
    person = session.get(Person, office_session.person_id)
    if not person.active:  # deactivated while signed in: the session ends at once
        _end(session, office_session, "person deactivated")
        return None
    if now - _aware(office_session.last_seen_at) > idle:
        _end(session, office_session, "idle")
        log(session, SecurityEventKind.session_expired, person.email, person, office_session.method)
        return None
    if now - _aware(office_session.last_seen_at) > timedelta(minutes=1):
        office_session.last_seen_at = now  # at most one write a minute per person
        session.add(office_session)
    return person


def end_session(session: Session, secret: str, client: str = "") -> None:
    office_session = _office_session(session, secret)
    if office_session is None or office_session.ended_at is not None:
        return
    _end(session, office_session, "signed out")
    person = session.get(Person, office_session.person_id)
    log(session, SecurityEventKind.sign_out, person.email, person, office_session.method, client)


def _office_session(session: Session, secret: str) -> OfficeSession | None:
    query = select(OfficeSession).where(OfficeSession.session_hash == _hash(secret))
    return session.exec(query).first()


def _end(session: Session, office_session: OfficeSession, reason: str) -> None:
    office_session.ended_at = utcnow()
    office_session.end_reason = reason
    session.add(office_session)
