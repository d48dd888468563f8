"""The office's own settings and the few things it keeps for its whole life.

One `Office` per process: the configuration's `[office]` and `[auth.oidc]`, the secret
that signs cookies and applicants' links, and the worker that sends what people's steps
ordered, so nobody waits for a letter to be rendered.
"""

import gc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from grants.config import Oidc
from grants.settings import Settings
from grants.steps import send_follow_up
from models.db import transaction
from models.delivery import due_ids, waiting_count
from models.letters import waiting_to_render
from models.tables import Letter, Notice

log = logging.getLogger("grants.office")


class FollowUp:
    """One background worker that runs the send-letters flow after steps commit.

    Pokes that come while it runs are folded into one more run, so a burst of steps costs
    one or two runs, never one each; anything a failed run leaves, the next run picks up
    from the database (the case database is the truth, not this worker's memory).
    """

    def __init__(self, run: Any) -> None:
        self._run = run
        self._wanted = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def poke(self) -> None:
        with self._lock:
            self._idle.clear()
            self._wanted.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="follow-up", daemon=True)
                self._thread.start()

    def every(self, seconds: float, due: Callable[[], bool]) -> threading.Thread:
        """Every `seconds` for the office's whole life, poke if `due()` says there is work,
        with no step to prompt it: a letter left `sending` by an office killed mid-send is
        claimable again once its claim is stale (twice the SMTP timeout), and retries come
        due, while nobody acts. A run still going when the time comes is followed by one
        more, never two at once; a minute with nothing due starts no flow run."""

        def tick() -> None:
            while True:
                time.sleep(seconds)
                try:
                    if due():
                        self.poke()
                except Exception:  # the database away for a moment: look again next time
                    log.exception("looking for letters and notices due failed")

        thread = threading.Thread(target=tick, name="follow-up-timer", daemon=True)
        thread.start()
        return thread

    def wait_idle(self, timeout: float) -> bool:
        """Whether every poke so far has been followed by a finished run (for tests, shutdown)."""
        return self._idle.wait(timeout)

    def _loop(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                self._run()
            except Exception:  # the next poke or the scheduled run retries from the database
                log.exception("sending what the steps ordered failed")
            with self._lock:
                if not self._wanted.is_set():
                    self._idle.set()


def something_due(settings: Settings) -> bool:
    """Whether a send-letters run has work now: a letter to render, or a letter or notice
    to send (queued and due, or left `sending` by an interrupted run), or waiting for the
    mail server, which the run asks whether it answers again (then they go at once)."""
    policy = settings.retry_policy
    with transaction(settings.db_url) as session:
        return bool(
            waiting_to_render(session, 1)
            or due_ids(session, Letter, policy)
            or due_ids(session, Notice, policy)
            or waiting_count(session)
        )


def freeze_after_start(follow_up: FollowUp, timeout: float = 600.0) -> threading.Thread:
    """Once the first follow-up has run (by then Prefect's client and the flows are
    imported too), put everything start-up made beyond the garbage collector's reach.

    A long-running office holds some 350 000 objects from start-up that never go away;
    every full collection walked them all, 150–300 ms in the middle of someone's page
    (bench/web.py). Frozen (gc.freeze), a full collection walks only what pages made."""

    def settle() -> None:
        follow_up.wait_idle(timeout)
        gc.collect()  # what start-up left as garbage is freed, not frozen
        gc.freeze()

    thread = threading.Thread(target=settle, name="freeze-after-start", daemon=True)
    thread.start()
    return thread


@dataclass
class Office:
    settings: Settings
    base_url: str
    idle: timedelta
    sign_in_link_lifetime: timedelta
    applicant_link_days: int
    oidc: Oidc | None
    secret: str
    follow_up: FollowUp = field(repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, follow_up: FollowUp | None = None) -> "Office":
        office = settings.config_file.office
        oidc = settings.config_file.auth.oidc
        if oidc is not None and settings.oidc_client_secret:
            oidc = oidc.model_copy(update={"client_secret": settings.oidc_client_secret})
        return cls(
            settings=settings,
            base_url=settings.base_url,
            idle=timedelta(minutes=office.idle_minutes),
            sign_in_link_lifetime=timedelta(minutes=office.sign_in_link_minutes),
            applicant_link_days=settings.applicant_link_days,
            oidc=oidc,
            secret=settings.signing_key,
            follow_up=follow_up or FollowUp(lambda: send_follow_up(settings, hand_over=False)),
        )

    @property
    def link_minutes(self) -> int:
        return int(self.sign_in_link_lifetime.total_seconds() // 60)

    @property
    def secure(self) -> bool:
        """Behind https the session cookie is sent over https only."""
        return self.base_url.startswith("https://")
