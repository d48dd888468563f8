"""Health a monitor can read: `grants health` (exit 0/1/2) and the office's /healthz.

Each check says one line with no personal data in it (counts, ages, names of machines):
whether the case database answers, the Prefect server (in server mode), the pool's workers
by when each was last heard from, the letters waiting to be made or sent and the oldest's
age, the letters and notices set aside, how long the audit trail has gone unanchored, and
the disk under GRANTS_HOME. The thresholds are the configuration's `[health]`.

A worker's heartbeat comes every PREFECT_WORKER_HEARTBEAT_SECONDS (30 s); Prefect's server
marks a worker OFFLINE only after three missed heartbeats and its next check (15 s), so a
stopped worker shows ONLINE for up to 105 s. Here a worker counts by its last heartbeat's
age against our own `workers_seen_seconds`, not by that status.
"""

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum

from sqlmodel import col, select, text

from grants.anchors import read_anchors
from grants.config import HealthSection
from grants.embedded import answers, api_headers, server_mode
from grants.settings import Settings
from models.db import transaction
from models.delivery import backlog
from models.integrity import ANCHOR_NOTICE, chain_head
from models.tables import AuditEvent, Notice, utcnow

POOL = "grants"  # the work pool of prefect.yaml (flows.letters.POOL)
RETIRED = timedelta(days=1)  # a worker not heard from for a day was taken away: not counted


class Status(IntEnum):
    """Nagios's: the exit status of `grants health`."""

    ok = 0
    warning = 1
    failing = 2


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, how it stands, in words, and its figures
    (for /metrics)."""

    name: str
    status: Status
    said: str
    figures: dict[str, float] = field(default_factory=dict)


def report(settings: Settings) -> list[Check]:
    """Every check, in a fixed order. With the case database away, the checks that read it
    are left out: its own line says it."""
    limits = settings.config_file.health
    checks = [_database(settings), *_prefect(limits)]
    if checks[0].status == Status.ok:
        checks += [*_letters(settings, limits), _anchor(settings, limits)]
    return [*checks, _disk(settings, limits)]


def worst(checks: list[Check]) -> Status:
    return max((check.status for check in checks), default=Status.ok)


def _database(settings: Settings) -> Check:
    try:
        with transaction(settings.db_url) as session:
            session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception as error:  # any driver's: the line names its kind, not its address
        return Check("database", Status.failing, f"does not answer ({type(error).__name__})")
    return Check("database", Status.ok, "answers")


def _prefect(limits: HealthSection) -> list[Check]:
    """The Prefect server and the pool's workers; in embedded mode there are none to ask."""
    if not server_mode():
        return [
            Check("prefect", Status.ok, "embedded: each process runs its own"),
            Check("workers", Status.ok, "embedded: the office sends what steps order"),
        ]
    api_url = os.environ["PREFECT_API_URL"].rstrip("/")
    if not answers(api_url, timeout=2):
        return [
            Check("prefect", Status.failing, f"no answer at {api_url}"),
            Check("workers", Status.failing, "not known: the Prefect server does not answer"),
        ]
    return [Check("prefect", Status.ok, f"answers at {api_url}"), _workers(api_url, limits)]


def _workers(api_url: str, limits: HealthSection) -> Check:
    """The pool's workers by their last heartbeat: none recent is failing, one that was
    heard from today but not lately is a warning (a machine or a service stopped)."""
    import httpx

    try:
        response = httpx.post(
            f"{api_url}/work_pools/{POOL}/workers/filter", json={}, headers=api_headers(), timeout=5
        )
        response.raise_for_status()
    except httpx.HTTPError as error:
        return Check("workers", Status.failing, f"cannot be read ({type(error).__name__})")
    now = utcnow()
    ages = {
        worker["name"]: (
            now - datetime.fromisoformat(worker["last_heartbeat_time"])
        ).total_seconds()
        for worker in response.json()
        if worker.get("last_heartbeat_time")
    }
    seen = sorted(name for name, age in ages.items() if age <= limits.workers_seen_seconds)
    lost = sorted(
        f"{name} {_age(age)} ago"
        for name, age in ages.items()
        if limits.workers_seen_seconds < age <= RETIRED.total_seconds()
    )
    figures = {"seen": float(len(seen)), "lost": float(len(lost))}
    online = f"{len(seen)} seen in the last {limits.workers_seen_seconds} s"
    online += f" ({', '.join(seen)})" if seen else ""
    if not seen:
        return Check(
            "workers", Status.failing, f"none seen; last: {', '.join(lost) or 'none'}", figures
        )
    if lost:
        return Check("workers", Status.warning, f"{online}; not seen: {', '.join(lost)}", figures)
    return Check("workers", Status.ok, online, figures)


def _letters(settings: Settings, limits: HealthSection) -> list[Check]:
    with transaction(settings.db_url) as session:
        waiting = backlog(session)
    age = (utcnow() - waiting.oldest).total_seconds() if waiting.oldest else 0.0
    minutes = age / 60
    status = (
        Status.failing
        if minutes > limits.letters_failing_minutes
        else Status.warning
        if minutes > limits.letters_warning_minutes
        else Status.ok
    )
    said = f"{waiting.to_make} to make, {waiting.to_send} to send"
    said += f"; the oldest ordered {_age(age)} ago" if waiting.oldest else ""
    figures = {"to_make": waiting.to_make, "to_send": waiting.to_send, "oldest_seconds": age}
    failed = waiting.failed_letters + waiting.failed_notices
    set_aside = Check(
        "failed",
        Status.warning if failed else Status.ok,
        f"{waiting.failed_letters} letter(s) and {waiting.failed_notices} notice(s) to staff "
        "refused for good" + (": see `grants undelivered`" if failed else ""),
        {"letters": waiting.failed_letters, "notices": waiting.failed_notices},
    )
    return [Check("letters", status, said, figures), set_aside]


def _anchor(settings: Settings, limits: HealthSection) -> Check:
    """How long the trail's newest events have gone without an anchor outside the database:
    this machine's anchors.log, or the anchor e-mailed to the case officers (written by
    whichever machine ran the sweep). A head already anchored is fine however old."""
    with transaction(settings.db_url) as session:
        head = chain_head(session)
        notices = session.exec(
            select(Notice.created_at, Notice.data)
            .where(Notice.kind == ANCHOR_NOTICE)
            .order_by(col(Notice.id).desc())
            .limit(1)
        ).all()
        if head is None:
            return Check("anchor", Status.ok, "no audit events yet")
        anchored = [
            (a.event_id, datetime.fromisoformat(a.at)) for a in read_anchors(settings) if a.sealed
        ]
        anchored += [(data.get("event_id", 0), _utc(at)) for at, data in notices]
        newest_id = max((event_id for event_id, _ in anchored), default=0)
        if newest_id >= head[0]:
            return Check("anchor", Status.ok, "the trail's head is anchored", {"unanchored": 0})
        since = max((at for _, at in anchored), default=None)
        if since is None:
            first = session.exec(select(AuditEvent.at).order_by(col(AuditEvent.id)).limit(1)).one()
            since = _utc(first)
        unanchored = head[0] - newest_id
    hours = (utcnow() - since).total_seconds() / 3600
    status = (
        Status.failing
        if hours > limits.anchor_failing_hours
        else Status.warning
        if hours > limits.anchor_warning_hours
        else Status.ok
    )
    said = f"{unanchored} event(s) since the last anchor, {_age(hours * 3600)} ago"
    said += " (the sweep writes it)"
    return Check("anchor", status, said, {"unanchored": unanchored, "age_seconds": hours * 3600})


def _disk(settings: Settings, limits: HealthSection) -> Check:
    settings.home.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(settings.home).free
    megabytes = free // (1024 * 1024)
    status = (
        Status.failing
        if megabytes < limits.disk_failing_megabytes
        else Status.warning
        if megabytes < limits.disk_warning_megabytes
        else Status.ok
    )
    return Check("disk", status, f"{megabytes} MB free under GRANTS_HOME", {"free_bytes": free})


def _utc(moment: datetime) -> datetime:
    """A stored time as UTC (SQLite returns it without a zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def _age(seconds: float) -> str:
    """An age as a person reads it: 40 s, 12 min, 5 h, 3 days."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def lines(checks: list[Check]) -> list[str]:
    """Nagios-like: `database OK: answers`."""
    return [f"{check.name} {check.status.name.upper()}: {check.said}" for check in checks]


def as_json(checks: list[Check]) -> dict[str, object]:
    """/healthz's body."""
    return {
        "status": worst(checks).name,
        "checks": [
            {"name": c.name, "status": c.status.name, "said": c.said, **c.figures} for c in checks
        ],
    }


def prometheus(checks: list[Check]) -> str:
    """The checks in Prometheus's text format (version 0.0.4), written out: a handful of
    gauges, which the format makes plain lines of; prometheus_client's registry would add a
    dependency to say the same."""
    out = [
        "# HELP grants_health 0 ok, 1 warning, 2 failing, by check.",
        "# TYPE grants_health gauge",
        *(f'grants_health{{check="{c.name}"}} {int(c.status)}' for c in checks),
    ]
    for check in checks:
        for figure, value in check.figures.items():
            name = f"grants_{check.name}_{figure}"
            out += [f"# TYPE {name} gauge", f"{name} {float(value):g}"]
    return "\n".join(out) + "\n"
