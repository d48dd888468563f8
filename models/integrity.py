"""Integrity after the fact: is what is stored still what was written?

The database refuses changes to letters, signed decisions and the audit trail through the
application, but someone with the database itself can change a row. Three checks find it:

- every stored PDF against the SHA-256 it was registered with (and that the trail recorded);
- every signed decision against the values its decision letter states and the trail
  recorded when it was signed;
- the audit trail as a hash chain (models.audit): each event carries the hash of the one
  before, so an edited or removed event breaks the chain where it was; the chain is keyed
  with a key kept outside the database, so a trail rewritten and chained again without it
  is found too; and the anchors written outside the database (grants.anchors) pin the head
  as it was, so events removed from the end are counted.
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, func, select

from models.audit import KEYED, chain_hash, keyed_chain_hash
from models.decision_letter import signed_facts
from models.letters import DECISION, SEALED
from models.notices import order_notice
from models.tables import (
    AuditEvent,
    Case,
    Decision,
    DecisionStatus,
    Letter,
    Notice,
    Person,
    Role,
)

MAX_TOLD = 50  # findings listed in one notice; the rest by `grants verify`
ANCHOR_NOTICE = "audit_anchor"


@dataclass(frozen=True)
class Mismatch:
    """One thing found changed: in which case (if any), what, and how."""

    case_reference: str | None
    what: str
    finding: str

    def __str__(self) -> str:
        where = f"{self.case_reference}: " if self.case_reference else ""
        return f"{where}{self.what}: {self.finding}"


@dataclass(frozen=True)
class Anchor:
    """The trail's head as it was written outside the database at a moment: the last
    event's id and hash. `sealed`: whether the line still carries its own valid HMAC."""

    at: str
    event_id: int
    head_hash: str
    sealed: bool = True


def chain_head(session: Session) -> tuple[int, str] | None:
    """The last event's id and hash: what an anchor pins."""
    last = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(1)).first()
    return (last.id, last.hash) if last is not None and last.id is not None else None


def verify(
    session: Session,
    key: bytes,
    anchors: Iterable[Anchor] = (),
    read_facts: Callable[[bytes], dict[str, Any] | None] | None = None,
    seal_fault: Callable[[bytes], str | None] | None = None,
) -> list[Mismatch]:
    """Every check, in one read of the database; an empty list means intact.

    `key`: the chain's key; `anchors`: the heads written outside the database;
    `read_facts`: what a signed decision's PDF states as data (grants.render), or None
    not to read the PDFs; `seal_fault`: what is wrong with a signed decision's seal, or
    None if it holds (grants.seal, against the configured trust anchor)."""
    references = dict(session.exec(select(Case.id, Case.case_reference)).all())
    return [
        *check_letters(session, references),
        *check_decisions(session, references, read_facts),
        *check_seals(session, references, seal_fault),
        *check_audit_chain(session, references, key),
        *check_anchors(session, list(anchors)),
    ]


def check_letters(session: Session, references: dict[int, str]) -> list[Mismatch]:
    """Each rendered letter's PDF against its SHA-256, and that against the trail's record;
    each letter the trail recorded must still be there."""
    recorded = _recorded(session, "letter_created", "sha256")
    found = []
    kept: set[tuple[int, str, str | None]] = set()
    for letter in session.exec(select(Letter).where(col(Letter.sha256).is_not(None))):
        where = references.get(letter.case_id)
        kept.add((letter.case_id, letter.kind, letter.sha256))
        actual = hashlib.sha256(letter.pdf).hexdigest() if letter.pdf is not None else None
        if actual != letter.sha256:
            found.append(
                Mismatch(
                    where,
                    letter.filename,
                    f"PDF has SHA-256 {(actual or 'none')[:16]}…, "
                    f"registered {(letter.sha256 or 'none')[:16]}…",
                )
            )
        if letter.sha256 not in recorded.get((letter.case_id, letter.kind), {letter.sha256}):
            found.append(
                Mismatch(where, letter.filename, "SHA-256 differs from the audit trail's record")
            )
    for (case_id, kind), hashes in recorded.items():
        for sha256 in hashes:
            if (case_id, kind, sha256) not in kept:
                found.append(
                    Mismatch(
                        references.get(case_id),
                        f"{kind} letter {sha256[:16]}…",
                        "recorded in the audit trail but no longer stored",
                    )
                )
    return found


def check_decisions(
    session: Session,
    references: dict[int, str],
    read_facts: Callable[[bytes], dict[str, Any] | None] | None = None,
) -> list[Mismatch]:
    """Each signed decision against its decision letter, the trail's record of signing and,
    with `read_facts`, the facts its signed PDF carries (which the database cannot rewrite
    without changing the PDF, whose SHA-256 the keyed trail holds)."""
    letters = {
        letter.case_id: letter
        for letter in session.exec(select(Letter).where(Letter.kind == DECISION))
    }
    signed = {
        (event.case_id, event.detail.get("version")): event.detail
        for event in session.exec(select(AuditEvent).where(AuditEvent.action == "decision_signed"))
    }
    found = []
    query = select(Decision).where(Decision.status == DecisionStatus.signed)
    for decision in session.exec(query):
        where = references.get(decision.case_id)
        what = f"signed decision (version {decision.version})"
        stored = {"outcome": decision.outcome.value, "amount": decision.amount}
        letter = letters.get(decision.case_id)
        sources = {"the audit trail": (signed.get((decision.case_id, decision.version)), stored)}
        if letter is not None:
            sources["its decision letter"] = (letter.data, stored)
        if letter is not None and letter.pdf is not None and read_facts is not None:
            facts = read_facts(letter.pdf)
            if facts is not None:  # a letter rendered before the facts were embedded has none
                sources["its signed PDF"] = (facts, signed_facts(where, decision))
        for source, (values, expected) in sources.items():
            if values is None:
                found.append(Mismatch(where, what, f"{source} has no record of it"))
                continue
            for name, value in expected.items():
                if values.get(name) != value:
                    found.append(
                        Mismatch(
                            where, what, f"{name} is {value!r}, {source} says {values.get(name)!r}"
                        )
                    )
    return found


def check_seals(
    session: Session,
    references: dict[int, str],
    seal_fault: Callable[[bytes], str | None] | None = None,
) -> list[Mismatch]:
    """Each sealed decision's PDF (a grant's and a repayment claim's) against its seal: the
    seal must hold and chain to the trust anchor. It holds the PDF as it was sealed, so a
    change to the bytes is found even where the SHA-256 beside them was changed too."""
    if seal_fault is None:
        return []
    query = select(Letter).where(col(Letter.kind).in_(SEALED), col(Letter.pdf).is_not(None))
    found = []
    for letter in session.exec(query.order_by(col(Letter.id))):
        fault = seal_fault(letter.pdf or b"")
        if fault is not None:
            found.append(Mismatch(references.get(letter.case_id), letter.filename, fault))
    return found


def check_audit_chain(session: Session, references: dict[int, str], key: bytes) -> list[Mismatch]:
    """Recompute the chain event by event; report where it breaks (edited or removed), and
    any event after the first keyed one that is not keyed (chained again without the key).
    """
    found = []
    previous = ""
    keyed = False
    for event in session.exec(select(AuditEvent).order_by(col(AuditEvent.id))):
        where = references.get(event.case_id) if event.case_id else None
        what = f"audit event {event.id} ({event.action})"
        if event.prev_hash != previous:
            found.append(Mismatch(where, what, "the event before it was removed or changed"))
        if event.hash.startswith(KEYED):
            keyed = True
            expected = keyed_chain_hash(event, where, event.prev_hash, key)
        elif keyed:
            found.append(Mismatch(where, what, "chained again without the chain's key"))
            expected = event.hash
        else:  # written before the chain was keyed
            expected = chain_hash(event, where, event.prev_hash)
        if event.hash != expected:
            found.append(Mismatch(where, what, "changed after it was written"))
        previous = event.hash or ""
    return found


def check_anchors(session: Session, anchors: list[Anchor]) -> list[Mismatch]:
    """The trail against the heads written outside the database: each anchored event must
    still be there with its hash; events removed from the end are counted."""
    found = [
        Mismatch(None, f"anchor of {anchor.at}", "the line was changed (its HMAC differs)")
        for anchor in anchors
        if not anchor.sealed
    ]
    sealed = {anchor.event_id: anchor for anchor in reversed(anchors) if anchor.sealed}
    if not sealed:
        return found
    hashes = dict(
        session.exec(
            select(AuditEvent.id, AuditEvent.hash).where(col(AuditEvent.id).in_(list(sealed)))
        ).all()
    )
    last = session.exec(select(func.max(AuditEvent.id))).one() or 0
    for event_id, anchor in sorted(sealed.items()):
        what = f"audit event {event_id}"
        if event_id in hashes and hashes[event_id] != anchor.head_hash:
            found.append(Mismatch(None, what, f"differs from the anchor of {anchor.at}: rewritten"))
        elif event_id not in hashes and event_id <= last:
            found.append(Mismatch(None, what, f"removed: the anchor of {anchor.at} names it"))
    newest = sealed[max(sealed)]
    if newest.event_id > last:
        found.append(
            Mismatch(
                None,
                "audit trail",
                f"{newest.event_id - last} event(s) missing at its end: the anchor of "
                f"{newest.at} names event {newest.event_id}, the last is {last}",
            )
        )
    return found


def _recorded(session: Session, action: str, key: str) -> dict[tuple[int, str], set[str]]:
    """Per (case, letter kind): the values of `key` the trail recorded for `action`."""
    recorded: dict[tuple[int, str], set[str]] = {}
    for event in session.exec(select(AuditEvent).where(AuditEvent.action == action)):
        recorded.setdefault((event.case_id, event.detail.get("kind")), set()).add(
            event.detail.get(key)
        )
    return recorded


def tell_officers(session: Session, found: list[Mismatch], anchor: str | None = None) -> int:
    """Order one notice about these findings to every case officer, with the trail's anchor;
    the same findings found again by a later sweep are not told twice. Return how many were
    told."""
    if not found:
        return 0
    findings = [str(mismatch) for mismatch in found]
    digest = hashlib.sha256("\n".join(findings).encode()).hexdigest()[:16]
    for officer in _officers(session):
        order_notice(
            session,
            f"integrity/{digest}/{officer.email}",
            "integrity_mismatch",
            officer,
            None,
            count=len(findings),
            findings=findings[:MAX_TOLD],
            anchor=anchor,
        )
    return len(_officers(session))


def tell_anchor(session: Session, anchor: str, event_id: int, today: date) -> None:
    """The trail's anchor to every case officer, at most once a day and only when the
    trail has grown since the last one they were sent: their mailboxes keep copies of the
    head that nobody with the database can reach."""
    for officer in _officers(session):
        last = session.exec(
            select(Notice)
            .where(Notice.kind == ANCHOR_NOTICE, Notice.recipient == officer.email)
            .order_by(col(Notice.id).desc())
            .limit(1)
        ).first()
        if last is not None and last.data.get("event_id") == event_id:
            continue
        key = f"anchor/{today.isoformat()}/{officer.email}"
        order_notice(session, key, ANCHOR_NOTICE, officer, None, anchor=anchor, event_id=event_id)


def _officers(session: Session) -> list[Person]:
    return list(session.exec(select(Person).where(Person.role == Role.case_officer)))
