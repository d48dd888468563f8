"""Prefect shutting down is not the person's business: once a command has reported, what
Prefect's services say while they stop (to a server already gone), and whatever its
temporary server logs, go to GRANTS_HOME/logs/grants.log, never to the console."""

import os
import subprocess
import sys
from pathlib import Path

from grants.logs import LOGGING_YML
from tests.conftest import SAMPLES

PROJECT = Path(__file__).resolve().parent.parent


def first_command_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A person's first command: its own home and Prefect home, nothing of the tests'."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRANTS_", "PREFECT_"))}
    return env | {
        "GRANTS_HOME": str(tmp_path / "home"),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "COLUMNS": "300",
        **extra,
    }


def test_prefect_shutting_down_without_its_server_stays_off_the_console(tmp_path: Path) -> None:
    """The temporary server gone before the command exits: its events worker fails to
    reach it (deterministically what a busy machine did now and then)."""
    env = first_command_env(tmp_path, PREFECT_CLIENT_MAX_RETRIES="0")
    command = [
        sys.executable,
        "-m",
        "tests.prefect_gone",
        "intake",
        str(SAMPLES / "applications.csv"),
    ]
    done = subprocess.run(
        [*command, "--no-letters"],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert "3 application(s) read: 3 registered" in done.stdout
    assert done.stderr == ""
    log = (tmp_path / "home" / "logs" / "grants.log").read_text(encoding="utf-8")
    assert "Service 'EventsWorker' failed with" in log, log
    assert log.count("Service 'EventsWorker' failed with") == 1  # once, not again as console


SERVER_SHUTDOWN = """
import asyncio, logging
from prefect.logging.configuration import setup_logging
setup_logging()  # as the server's create_app does: from PREFECT_LOGGING_SETTINGS_PATH
try:
    raise asyncio.CancelledError("Cancelled via cancel scope 7f7cf1283380")
except asyncio.CancelledError:
    logging.getLogger("prefect.server.services.task_run_recorder").exception(
        "Error flushing 1 events (1 to retry, 0 dropped)"
    )
"""


def test_the_temporary_servers_records_go_to_the_file_only(tmp_path: Path) -> None:
    """Logging as the temporary server has it (a command's environment, marked by Prefect
    as its temporary server): its flush cut off at shutdown is in the file, not on the
    console it shares with the command; in the command itself, an error still shows."""
    log = tmp_path / "grants.log"
    ours = {
        "PREFECT_LOGGING_SETTINGS_PATH": str(LOGGING_YML),
        "PREFECT_LOGGING_HANDLERS_FILE_FILENAME": str(log),
    }
    for server in (True, False):
        marked = {"PREFECT__SERVER_EPHEMERAL": "1"} if server else {}
        done = subprocess.run(
            [sys.executable, "-c", SERVER_SHUTDOWN],
            env=first_command_env(tmp_path, **ours, **marked),
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert ("Error flushing 1 events" in done.stderr) is not server, done.stderr
    assert log.read_text(encoding="utf-8").count("CancelledError: Cancelled via cancel scope") == 2
