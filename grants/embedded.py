"""Prefect for one machine: the ephemeral API unless PREFECT_API_URL names a server.

Must run before `prefect` is imported, since Prefect reads its settings at import.
"""

import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grants.logs import configure_logging
from grants.settings import Settings


def configure_prefect(settings: Settings, verbose: bool = False) -> None:
    """Keep Prefect's files beside the case database and keep it offline and quiet: its
    run logs go to a file in `home`, and to the console too only when `verbose`."""
    configure_logging(settings.home, verbose)
    os.environ.setdefault("PREFECT_HOME", str((settings.home / "prefect").resolve()))
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
    # The temporary server takes 13–17 s to start on a new database, more on a busy machine;
    # Prefect's default wait of 20 s made a first command fail for no fault of its own.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def run_flow(flow: Callable[..., Any], **parameters: Any) -> Any:
    """Run a flow in this process.

    Embedded, the flow heartbeat only costs a second per run (its thread is joined at the
    end) and nobody watches for crashed runs; against a real server it stays on.
    """
    if os.environ.get("PREFECT_API_URL"):
        return flow(**parameters)
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    _start_temporary_server()
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return flow(**parameters)


def _start_temporary_server() -> None:
    """Start Prefect's temporary server now, one command at a time per PREFECT_HOME.

    Two first commands at once on a fresh home would both migrate its new database, and
    one would fail; under a file lock the second waits until the first server answers
    (its database migrated), then starts its own on a database that is ready.
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME

    if PREFECT_API_URL.value():  # a server is named (as in the tests' harness)
        return
    server = SubprocessASGIServer()
    if server.running:
        return
    home = Path(PREFECT_HOME.value())
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".grants-server-start.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        server.start()
