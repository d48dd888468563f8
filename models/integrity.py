"""Integrity after the fact: is what is stored still what was written?

The database refuses changes to letters, signed decisions and the audit trail through the
application, but someone with the database itself can change a row. Three checks find it:

- every stored PDF against the SHA-256 it was registered with (and that the trail recorded);
- every signed decision against the values its decision letter states and the trail
  recorded when it was signed;
- the audit trail as a hash chain (models.audit): each event carries the hash of the one
  before, so an edited or removed event breaks the chain where it was.
"""

import hashlib
from dataclasses import dataclass

from sqlmodel import Session, col, select

from models.audit import chain_hash
from models.letters import DECISION
from models.notices import order_notice
from models.tables import AuditEvent, Case, Decision, DecisionStatus, Letter, Person, Role

MAX_TOLD = 50  # findings listed in one notice; the rest by `grants verify`


@dataclass(frozen=True)
class Mismatch:
    """One thing found changed: in which case (if any), what, and how."""

    case_reference: str | None
    what: str
    finding: str

    def __str__(self) -> str:
        where = f"{self.case_reference}: " if self.case_reference else ""
        return f"{where}{self.what}: {self.finding}"


def verify(session: Session) -> list[Mismatch]:
    """Every check, in one read of the database; an empty list means intact."""
    references = dict(session.exec(select(Case.id, Case.case_reference)).all())
    return [
        *check_letters(session, references),
        *check_decisions(session, references),
        *check_audit_chain(session, references),
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


def check_decisions(session: Session, references: dict[int, str]) -> list[Mismatch]:
    """Each signed decision against its decision letter and the trail's record of signing."""
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
        sources = {"the audit trail": signed.get((decision.case_id, decision.version))}
        if letter is not None:
            sources["its decision letter"] = letter.data
        for source, values in sources.items():
            if values is None:
                found.append(Mismatch(where, what, f"{source} has no record of it"))
                continue
            for name, value in stored.items():
                if values.get(name) != value:
                    found.append(
                        Mismatch(
                            where, what, f"{name} is {value!r}, {source} says {values.get(name)!r}"
                        )
                    )
    return found


def check_audit_chain(session: Session, references: dict[int, str]) -> list[Mismatch]:
    """Recompute the chain event by event; report where it breaks (edited or removed)."""
    found = []
    previous = ""
    for event in session.exec(select(AuditEvent).order_by(col(AuditEvent.id))):
        where = references.get(event.case_id) if event.case_id else None
        what = f"audit event {event.id} ({event.action})"
        if event.prev_hash != previous:
            found.append(Mismatch(where, what, "the event before it was removed or changed"))
        if event.hash != chain_hash(event, references.get(event.case_id), event.prev_hash):
            found.append(Mismatch(where, what, "changed after it was written"))
        previous = event.hash or ""
    return found


def _recorded(session: Session, action: str, key: str) -> dict[tuple[int, str], set[str]]:
    """Per (case, letter kind): the values of `key` the trail recorded for `action`."""
    recorded: dict[tuple[int, str], set[str]] = {}
    for event in session.exec(select(AuditEvent).where(AuditEvent.action == action)):
        recorded.setdefault((event.case_id, event.detail.get("kind")), set()).add(
            event.detail.get(key)
        )
    return recorded


def tell_officers(session: Session, found: list[Mismatch]) -> int:
    """Order one notice about these findings to every case officer; the same findings found
    again by a later sweep are not told twice. Return how many were told."""
    if not found:
        return 0
    findings = [str(mismatch) for mismatch in found]
    digest = hashlib.sha256("\n".join(findings).encode()).hexdigest()[:16]
    officers = session.exec(select(Person).where(Person.role == Role.case_officer)).all()
    for officer in officers:
        order_notice(
            session,
            f"integrity/{digest}/{officer.email}",
            "integrity_mismatch",
            officer,
            None,
            count=len(findings),
            findings=findings[:MAX_TOLD],
        )
    return len(officers)
