"""The audit trail's head, written where the database cannot rewrite it.

Someone who can rewrite the database can delete the last events of the trail, and the chain
that is left still holds. So the head (the last event's id and hash) is written out: as a
line appended to GRANTS_HOME/anchors.log, sealed with an HMAC under the chain's key, which
`grants verify` reads back (`read_anchors`); into the run log; and into what leaves the
office (the sweep's daily e-mail to the case officers, the delegation report). An event
an anchor names must still be there with that hash, and the events after the newest
anchor's are counted when they are gone.

A line: `TIME EVENT-ID HEAD-HASH HMAC`, the HMAC over the first three.
"""

import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from grants.logs import note
from grants.settings import Settings
from models import clock
from models.db import transaction
from models.integrity import Anchor, chain_head
from models.tables import local_time

ANCHORS = "anchors.log"


def anchors_file(settings: Settings) -> Path:
    """Where the anchors are appended: beside the chain's key, not in the database."""
    return settings.home / ANCHORS


@dataclass(frozen=True)
class Written:
    """An anchor as written: its line, and the event it names."""

    line: str
    event_id: int


def anchor(settings: Settings, at: datetime | None = None) -> Written | None:
    """Write the trail's head now as an anchor (file and log file); None while the trail is
    empty."""
    with transaction(settings.db_url) as session:
        head = chain_head(session)
    if head is None:
        return None
    moment = local_time(at or clock.now()).isoformat(timespec="seconds")
    body = f"{moment} {head[0]} {head[1]}"
    line = f"{body} {_seal(settings, body)}"
    path = anchors_file(settings)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as file:
        file.write(line + "\n")
    note(settings.home, f"audit trail anchor: {line}")
    return Written(line, head[0])


def read_anchors(settings: Settings) -> list[Anchor]:
    """Every anchor written on this home, oldest first; a line whose HMAC does not match (or
    that cannot be read) is returned unsealed, for verify to report."""
    path = anchors_file(settings)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as file:
        return [_anchor(settings, line.strip()) for line in file if line.strip()]


def _anchor(settings: Settings, line: str) -> Anchor:
    body, _, seal = line.rpartition(" ")
    parts = body.split(" ")
    if len(parts) != 3 or not parts[1].isdigit():
        return Anchor(line[:25], 0, "", sealed=False)
    sealed = hmac.compare_digest(seal, _seal(settings, body))
    return Anchor(parts[0], int(parts[1]), parts[2], sealed=sealed)


def _seal(settings: Settings, body: str) -> str:
    """The line's HMAC under the chain's key (kept apart from the events' own by a label)."""
    message = f"grants anchor\n{body}".encode()
    return hmac.new(settings.audit_chain_key, message, hashlib.sha256).hexdigest()
