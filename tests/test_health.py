"""Health a monitor can read: `grants health` (exit 0/1/2, one line per check), the office's
/healthz (JSON, no sign-in, no personal data) and /metrics (behind a bearer token); and
`grants undelivered`, which counts the letters still waiting to be made or sent."""

import json
from datetime import timedelta
from pathlib import Path

from sqlmodel import update

from grants.anchors import anchor
from grants.settings import load
from models.audit import SYSTEM, record_office
from models.db import transaction
from models.tables import DeliveryState, Letter, utcnow
from tests.helpers import OFFICER, grants


def ordered_ago(minutes: float, state: DeliveryState | None = None) -> None:
    """Every letter ordered `minutes` ago (and put in `state`), never tried."""
    values = {"created_at": utcnow() - timedelta(minutes=minutes)}
    with transaction(load().db_url) as session:
        session.exec(
            update(Letter).values(**values, **({"delivery_state": state} if state else {}))
        )


def health() -> tuple[int, dict[str, str]]:
    result = grants("health", ok=False)
    lines = dict(line.split(" ", 1) for line in result.text.splitlines())
    return result.exit_code, lines


def test_undelivered_counts_letters_waiting_to_be_made_or_sent(sample_call: Path) -> None:
    """With the Prefect server away a step's letter waited unmade while `grants undelivered`
    said 0 and exited 0: a letter waiting longer than `[health] letters_warning_minutes`
    is listed as waiting to be made (or sent) and fails the morning check; one just ordered
    is said to be on its way."""
    ordered_ago(1)
    young = grants("undelivered", "--as", OFFICER)
    assert "0 letter(s) not delivered" in young.text
    assert "8 letter(s) ordered in the last 20 minutes on their way" in young.text

    ordered_ago(30)
    late = grants("undelivered", "--as", OFFICER, ok=False)
    assert late.exit_code == 1, late.text
    assert "8 letter(s) not delivered" in late.text
    assert late.text.count("waiting to be made") == 8
    assert "26RS1" in late.text and "on their way" not in late.text

    ordered_ago(30, DeliveryState.queued)
    made = grants("undelivered", "--as", OFFICER, ok=False)
    assert made.exit_code == 1 and made.text.count("waiting to be sent") == 8


def test_grants_health_says_each_check_and_exits_as_nagios(sample_call: Path) -> None:
    ordered_ago(1)
    code, lines = health()
    assert code == 0, lines
    assert list(lines) == ["database", "prefect", "workers", "letters", "failed", "anchor", "disk"]
    assert lines["database"] == "OK: answers"
    assert lines["prefect"] == "OK: embedded: each process runs its own"
    assert lines["letters"].startswith("OK: 8 to make, 0 to send; the oldest ordered")

    ordered_ago(30)
    code, lines = health()
    assert code == 1
    assert lines["letters"] == "WARNING: 8 to make, 0 to send; the oldest ordered 30 min ago"

    ordered_ago(180, DeliveryState.queued)
    code, lines = health()
    assert code == 2
    assert lines["letters"] == "FAILING: 0 to make, 8 to send; the oldest ordered 3 h ago"

    with transaction(load().db_url) as session:
        session.exec(update(Letter).values(delivery_state=DeliveryState.failed))
    code, lines = health()
    assert code == 1
    assert lines["failed"].startswith("WARNING: 8 letter(s) and 0 notice(s) to staff refused")


def test_the_anchor_check_counts_events_since_the_last_anchor(sample_call: Path) -> None:
    """The sweep anchors the trail's head; events after it, left unanchored longer than
    `anchor_warning_hours`, are a warning."""
    code, lines = health()
    assert (
        lines["anchor"].startswith("OK: ") and "event(s) since the last anchor" in lines["anchor"]
    )
    anchor(load(), at=utcnow() - timedelta(hours=100))
    assert health()[1]["anchor"] == "OK: the trail's head is anchored"
    with transaction(load().db_url) as session:
        record_office(session, SYSTEM, "health_test")
    code, lines = health()
    assert (
        lines["anchor"].startswith("WARNING: ") and " ago (the sweep writes it)" in lines["anchor"]
    )
    assert code == 1


def test_healthz_needs_no_sign_in_and_names_nobody(sample_call: Path, office, monkeypatch) -> None:
    ordered_ago(1)
    response = office.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    letters = next(check for check in body["checks"] if check["name"] == "letters")
    assert letters["to_make"] == 8 and letters["status"] == "ok"
    text = json.dumps(body)
    assert "@" not in text and "26RS" not in text and "Lindqvist" not in text

    # Failing: 503, so that a plain HTTP probe catches it (made anew after FRESH seconds).
    from grants.web import health as web_health

    ordered_ago(180)
    monkeypatch.setattr(web_health, "FRESH", 0.0)
    failing = office.get("/healthz")
    assert failing.status_code == 503 and failing.json()["status"] == "failing"


def test_metrics_only_for_the_bearer_of_the_token(sample_call: Path, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from grants.web.app import create_app

    with TestClient(create_app()) as client:
        assert client.get("/metrics").status_code == 404  # no token: no such page
    monkeypatch.setenv("GRANTS_METRICS_TOKEN", "s3cret-token")
    with TestClient(create_app()) as client:
        refused = client.get("/metrics", headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert client.get("/metrics").status_code == 401
        shown = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert shown.status_code == 200
    assert 'grants_health{check="database"} 0' in shown.text
    assert "grants_letters_to_make 8" in shown.text
    assert "# TYPE grants_disk_free_bytes gauge" in shown.text


def test_grants_health_says_in_one_line_that_the_database_does_not_answer(
    grants_home: Path, monkeypatch
) -> None:
    """What stops every command is a line of its own too, exit 2, the password hidden."""
    monkeypatch.setenv("GRANTS_DATABASE_URL", "postgresql+psycopg://grants:pw@127.0.0.1:1/grants")
    code, lines = health()
    assert code == 2
    assert list(lines) == ["settings"]
    assert lines["settings"].startswith(
        "FAILING: GRANTS_DATABASE_URL 'postgresql+psycopg://grants:***@"
    )
