"""Server mode, the Prefect server stopped and started again: the office and a worker each
say so in the log once when they lose it and once when they regain it, `grants health`
and /healthz say it is failing meanwhile, and the worker works on."""

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, migrated_prefect_home
from tests.server_mode import BIN, QUIET, ROOT, stop

pytestmark = pytest.mark.slow


def start_prefect(home: Path, port: int) -> subprocess.Popen:
    """`prefect server start` on a SQLite database in `home` (kept over a restart)."""
    database = f"sqlite+aiosqlite:///{home / 'prefect.db'}"
    return subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=clean_env()
        | {"PREFECT_HOME": str(home), "PREFECT_API_DATABASE_CONNECTION_URL": database},
        cwd=home,
        stdout=(home / "server.log").open("ab"),
        stderr=subprocess.STDOUT,
    )


def clean_env() -> dict[str, str]:
    """This machine's environment without the test session's Prefect and grants settings."""
    return {
        k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GRANTS_"))
    } | QUIET


def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.2)


def grants_health(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "grants"), "health"], env=env, capture_output=True, text=True, timeout=60
    )


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False


# Not "w1": tests/server_mode.py stops and kills a worker by the name its processes carry
# (GRANTS_WORKER_NAME), and the server-mode tests may run beside this one.
WORKER = "health-watch"


def test_the_office_and_a_worker_say_once_when_they_lose_and_regain_the_server(
    tmp_path: Path, migrated_prefect_database: Path
) -> None:
    prefect_home = migrated_prefect_home(tmp_path / "prefect", migrated_prefect_database)
    home = tmp_path / "grants-home"
    port, office_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = clean_env() | {
        "GRANTS_HOME": str(home),
        "PREFECT_API_URL": api_url,
        "GRANTS_RENDER_WORKERS": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    processes: list[subprocess.Popen] = []
    server = start_prefect(prefect_home, port)
    try:
        until(lambda: answers(f"{api_url}/health"), 120, "the Prefect server did not start")
        worker_log = tmp_path / "worker.log"
        processes.append(
            subprocess.Popen(
                [str(BIN / "grants"), "worker", "--name", WORKER],
                env=env,
                cwd=ROOT,
                stdout=worker_log.open("ab"),
                stderr=subprocess.STDOUT,
            )
        )
        processes.append(
            subprocess.Popen(
                [str(BIN / "grants"), "serve", "--port", str(office_port)],
                env=env,
                cwd=ROOT,
                stdout=(tmp_path / "office.log").open("ab"),
                stderr=subprocess.STDOUT,
            )
        )
        until(lambda: "ready" in worker_log.read_text(), 120, "the worker did not start")
        healthz = f"http://127.0.0.1:{office_port}/healthz"
        until(lambda: answers(healthz), 60, "the office did not start")
        assert httpx.get(healthz, timeout=10).json()["status"] == "ok"
        health = grants_health(env)
        assert health.returncode == 0, health.stdout
        assert f"prefect OK: answers at {api_url}" in health.stdout
        assert f"workers OK: 1 seen in the last 75 s ({WORKER})" in health.stdout
        log = home / "logs" / "grants.log"

        def said(text: str) -> int:
            return log.read_text().count(text) if log.exists() else 0

        stop(server)
        until(lambda: said("does not answer;") >= 2, 30, "no word of the server lost")
        lines = [x for x in log.read_text().splitlines() if "Prefect server at" in x]
        assert any("the office: the Prefect server at" in x for x in lines), lines
        assert any(f"worker {WORKER}: the Prefect server at" in x for x in lines), lines

        health = grants_health(env)
        assert health.returncode == 2, health.stdout
        assert f"prefect FAILING: no answer at {api_url}" in health.stdout
        # The office's report is made anew at most every 10 s; then it is 503.
        until(lambda: httpx.get(healthz, timeout=10).status_code == 503, 20, "/healthz not 503")

        server = start_prefect(prefect_home, port)
        until(lambda: said("answers again") >= 2, 120, "no word of the server regained")
        time.sleep(5.5)  # one more look each (every 5 s): nothing more is said
        assert said("does not answer;") == 2 and said("answers again") == 2
        assert all(process.poll() is None for process in processes)
    finally:
        for process in processes:
            stop(process)
        stop(server)
