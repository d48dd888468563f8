"""Server mode for real: a Prefect server on PostgreSQL, the deployments of prefect.yaml and
two `grants worker`s. People's steps go through the step layer and are followed up by the
workers; every letter arrives once, also when a worker dies in the middle of a batch."""

import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import func, select

from flows.intake import intake
from grants.embedded import run_flow
from grants.settings import load
from grants.steps import HandedOver, send_follow_up, take
from models.checklist import Finding
from models.db import transaction
from models.tables import (
    Answer,
    AuditEvent,
    Case,
    ConflictGround,
    Criterion,
    DeliveryState,
    Letter,
    Recommendation,
)
from tests.conftest import SAMPLES, Mailbox, free_port
from tests.helpers import ACTIVA, DECISION_MAKER, OFFICER
from tests.postgres import create_database
from tests.server_mode import PrefectServer, prefect_server
from tests.test_processes import many_applications

pytestmark = [pytest.mark.server_mode, pytest.mark.slow]

BATCH = 160  # five chunks of 32 letters: each worker takes some, and some are left at the kill


@pytest.fixture(scope="module")
def server(postgres_base_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """`prefect server start` on its own PostgreSQL database, the pool and the deployments."""
    with prefect_server(postgres_base_url, tmp_path_factory.mktemp("server"), free_port()) as s:
        yield s


@pytest.fixture
def in_server_mode(
    server: PrefectServer,
    postgres_base_url: str,
    smtp_server: Mailbox,
    grants_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[PrefectServer]:
    """This test's case database on PostgreSQL, its SMTP server, and two workers on both;
    this process (the office's step layer) talks to the server as the office would."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    name = f"grants_{request.node.name}"[:60].lower()
    monkeypatch.setenv("GRANTS_DATABASE_URL", create_database(postgres_base_url, name))
    monkeypatch.setenv("PREFECT_API_URL", server.api_url)
    grants_env = {
        key: value
        for key in ("GRANTS_HOME", "GRANTS_DATABASE_URL", "GRANTS_SMTP_HOST", "GRANTS_SMTP_PORT")
        if (value := os.environ.get(key))
    }
    # Two workers share this machine's cores: one render process each, chunks of 32 letters.
    grants_env["GRANTS_RENDER_WORKERS"] = "1"
    for worker in ("w1", "w2"):
        server.start_worker(worker, grants_env)
    with temporary_settings({PREFECT_API_URL: server.api_url}):
        try:
            server.wait_for_workers("w1", "w2")
            yield server
        finally:
            server.stop_workers()


def step(name: str, reference: str, email: str, **parameters) -> None:
    """One person's step through the step layer, then its follow-up handed to the workers."""
    settings = load()
    taken = take(settings, name, email, reference, **parameters)
    if taken.to_send:
        assert send_follow_up(settings) == HandedOver("the workers")


def letters() -> list[Letter]:
    with transaction(load().db_url) as session:
        return list(session.exec(select(Letter).order_by(Letter.id)))


def all_sent(count: int, timeout: float) -> list[Letter]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        made = letters()
        if len(made) >= count and all(x.delivery_state == DeliveryState.sent for x in made):
            return made
        time.sleep(0.2)
    return letters()


def arrived_once(mailbox: Mailbox, made: list[Letter]) -> None:
    """Every letter arrived, each exactly once (by its stable Message-ID, made of its key)."""
    ids = Counter(message["Message-ID"] for message in mailbox.messages)
    for letter in made:
        carrying = [n for key, n in ids.items() if f"<{letter.letter_key}-" in key]
        assert carrying == [1], f"{letter.letter_key} arrived {carrying} time(s)"


def test_a_case_from_intake_to_signed_decision_with_the_workers(
    in_server_mode: PrefectServer, smtp_server: Mailbox
) -> None:
    from prefect.deployments import run_deployment

    run = run_deployment(
        "intake/intake",
        parameters={"path": str(SAMPLES / "applications.json"), "actor_email": OFFICER},
        timeout=180,
        _sync=True,  # an event loop an earlier test left in this thread must not matter
    )
    assert run.state.is_completed(), run.state
    acknowledgements = all_sent(8, timeout=60)
    assert len(acknowledgements) == 8

    with transaction(load().db_url) as session:
        reference = session.exec(
            select(Case.case_reference).where(Case.submission_id == "SI-2026-0101")
        ).one()
    met = {criterion: Finding(Answer.met) for criterion in Criterion}
    step("checklist", reference, OFFICER, findings=met, missing=[])
    for email in (ACTIVA, OFFICER):
        step("declare_conflict", reference, email, ground=ConflictGround.none, note="")
        step(
            "submit_review",
            reference,
            email,
            recommendation=Recommendation.granted,
            amount=None,
            reasons={c: f"{c.value}: uppfyllt." for c in Criterion},
            other_funding=[],
            comments="",
        )
    step("skip_meeting", reference, OFFICER, reason="Ansökan är tydlig.")
    step(
        "prepare_draft",
        reference,
        OFFICER,
        outcome=None,
        amount=None,
        reasons={c.value: f"Beslutets bedömning av {c.value}." for c in Criterion},
        decisive="",
        conditions=[],
        not_met=None,
        reply_assessment="",
    )
    step("submit_draft", reference, OFFICER, no_communication_because="")
    step("sign", reference, DECISION_MAKER)

    made = all_sent(9, timeout=60)
    assert [x.kind for x in made].count("decision") == 1, [x.kind for x in made]
    assert all(x.delivery_state == DeliveryState.sent for x in made)
    smtp_server.wait_for(len(made) + 1, timeout=5)
    arrived_once(smtp_server, made)
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == reference)).one()
        assert case.state == "decided"
    for worker in ("w1", "w2"):  # as systemctl stop does it: SIGTERM, and they leave
        assert in_server_mode.stop_worker(worker) == 0


def test_a_worker_killed_mid_batch_leaves_the_rest_to_the_other(
    in_server_mode: PrefectServer, smtp_server: Mailbox, tmp_path: Path
) -> None:
    from prefect.deployments import run_deployment

    run_flow(
        intake,
        path=str(many_applications(tmp_path, BATCH)),
        actor_email=OFFICER,
        send_letters=False,
    )

    run_deployment("send-letters/send-letters", timeout=0, _sync=True)  # as the schedule does
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        by = rendered_by()
        if set(by) == {"w1", "w2"}:
            break
        time.sleep(0.2)
    assert set(by) == {"w1", "w2"}, f"both workers take a share of the batch: {by}"
    assert sum(1 for x in letters() if x.delivery_state == DeliveryState.to_render) > 0
    # Killed while it renders, not between SMTP's acceptance of a letter and its record:
    # that one would go again once its claim is stale (test_delivery_faults shows it).
    in_server_mode.kill_worker("w1", at=lambda: not sending())
    at_kill = rendered_by()["w1"]

    made = all_sent(BATCH, timeout=240)
    assert len(made) == BATCH and all(x.delivery_state == DeliveryState.sent for x in made), (
        Counter(x.delivery_state for x in made)
    )
    by = rendered_by()
    assert by["w1"] == at_kill and by["w1"] + by["w2"] == BATCH, by
    smtp_server.wait_for(BATCH, timeout=10)
    arrived_once(smtp_server, made)


def sending() -> int:
    """Letters handed to SMTP and not yet recorded as sent."""
    with transaction(load().db_url) as session:
        query = select(func.count()).where(Letter.delivery_state == DeliveryState.sending)
        return session.exec(query).one()


def rendered_by() -> Counter:
    """How many letters each worker rendered, from the audit trail."""
    with transaction(load().db_url) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "letter_created"))
        return Counter(event.detail.get("rendered_by") for event in events)
