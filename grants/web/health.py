"""/healthz for a monitor (no sign-in, no personal data) and /metrics for Prometheus.

The checks are `grants health`'s (grants.health). A monitor may ask every few seconds, and
several may ask at once: the report is made at most once in `FRESH` seconds (a few small
queries, one request to the Prefect server) and the others are given it as it stands.
"""

import hmac
import threading
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from grants.health import Check, Status, as_json, prometheus, report, worst
from grants.settings import Settings
from grants.web.deps import OfficeDep

router = APIRouter()
FRESH = 10.0  # seconds a report is given again


class Reports:
    """The latest report of each home and when it was made, made anew by one request at a
    time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[tuple[str, str], tuple[float, list[Check]]] = {}

    def latest(self, settings: Settings) -> list[Check]:
        key = (str(settings.home), settings.db_url)
        with self._lock:
            made, checks = self._latest.get(key, (-FRESH, []))
            if time.monotonic() - made >= FRESH:
                checks = report(settings)
                self._latest[key] = (time.monotonic(), checks)
            return checks


_reports = Reports()


@router.get("/healthz")
def healthz(office: OfficeDep) -> Response:
    """200 while nothing is failing (a warning is in the body), 503 when something is."""
    checks = _reports.latest(office.settings)
    code = 503 if worst(checks) == Status.failing else 200
    return JSONResponse(as_json(checks), status_code=code)


@router.get("/metrics")
def metrics(request: Request, office: OfficeDep) -> Response:
    """Prometheus's text, for the bearer of GRANTS_METRICS_TOKEN; no such page without one."""
    token = office.settings.metrics_token
    if not token:
        return PlainTextResponse("Not Found\n", status_code=404)
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return PlainTextResponse(
            "Unauthorized\n", status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    text = prometheus(_reports.latest(office.settings))
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
