"""Server mode for real, as a region runs it: `prefect server start` on its own PostgreSQL
database, the work pool `grants`, the deployments of prefect.yaml, and `grants worker`s
started with Popen and stopped by process id. Used by the server-mode tests and by
`bench/action.py --server`.
"""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prefect.events.worker import EventsWorker

from tests.postgres import create_database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
QUIET = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


@dataclass
class PrefectServer:
    """A running Prefect server and the workers started on it."""

    api_url: str
    home: Path
    environment: dict[str, str]
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a process in server mode: this server, plus `extra`."""
        return self.environment | {"PREFECT_API_URL": self.api_url} | extra

    def prefect(self, *arguments: str) -> None:
        subprocess.run(
            [str(BIN / "prefect"), *arguments],
            env=self.env(GRANTS_CHECKOUT=str(ROOT)),
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=300,
        )

    def start_worker(self, name: str, grants_env: dict[str, str]) -> subprocess.Popen:
        """A `grants worker`, its output in the server's folder."""
        log = (self.home / f"worker-{name}.log").open("ab")
        worker = subprocess.Popen(
            [str(BIN / "grants"), "worker", "--name", name],
            env=self.env(**grants_env, PREFECT_WORKER_QUERY_SECONDS="1"),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers[name] = worker
        return worker

    def wait_for_workers(self, *names: str, timeout: float = 90) -> None:
        """Until each named worker polls the pool and serves follow-ups."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            online = {
                worker["name"]
                for worker in httpx.post(
                    f"{self.api_url}/work_pools/grants/workers/filter", json={}, timeout=10
                ).json()
                if worker["status"] == "ONLINE"
            }
            if set(names) <= online and self._task_workers() >= len(names):
                return
            time.sleep(0.5)
        raise TimeoutError(f"workers {names} not online; logs in {self.home}")

    def _task_workers(self) -> int:
        response = httpx.post(f"{self.api_url}/task_workers/filter", json={}, timeout=10)
        return len(response.json()) if response.status_code == 200 else 0

    def kill_worker(self, name: str, at: Callable[[], bool] = lambda: True) -> None:
        """As a machine that dies: the worker and every process it started, at once, at a
        moment `at()` approves. It is asked while they all stand still (SIGSTOP), so the
        moment cannot pass before the kill; if it disapproves, they go on for a moment."""
        worker = self.workers.pop(name)
        deadline = time.monotonic() + 30
        while True:
            os.kill(worker.pid, signal.SIGSTOP)
            _signal_marked(name, signal.SIGSTOP)
            _signal_marked(name, signal.SIGSTOP)  # and what they started meanwhile
            approved = at()
            if approved or time.monotonic() > deadline:
                break
            _signal_marked(name, signal.SIGCONT)
            os.kill(worker.pid, signal.SIGCONT)
            time.sleep(0.05)
        worker.kill()
        _signal_marked(name, signal.SIGKILL)
        worker.wait()
        assert approved, f"{name}: killed anyway, no moment to kill it came in 30 s"

    def stop_worker(self, name: str) -> int:
        """By process id, as systemd stops it; then whatever runs it left behind. Its exit
        status: 0 when it stopped by itself within 10 s."""
        worker = self.workers.pop(name)
        stop(worker)
        _signal_marked(name, signal.SIGKILL)
        return worker.returncode

    def stop_workers(self) -> None:
        for name in list(self.workers):
            self.stop_worker(name)


def _signal_marked(worker: str, sig: signal.Signals) -> None:
    """Signal every process the worker started: its runs and their renderers inherit the
    GRANTS_WORKER_NAME it set (its own /proc environ is the one it started with)."""
    mark = f"GRANTS_WORKER_NAME={worker}".encode()
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and mark in (proc / "environ").read_bytes().split(b"\0"):
                os.kill(int(proc.name), sig)
        except OSError:
            continue  # gone meanwhile, or not ours to read


def stop(process: subprocess.Popen) -> None:
    """SIGTERM by process id, then SIGKILL if it has not gone within 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def prefect_server(postgres_base_url: str, home: Path, port: int) -> Iterator[PrefectServer]:
    """`prefect server start` on a new PostgreSQL database, the pool and the deployments."""
    name = f"prefect_{uuid.uuid4().hex[:8]}"
    database = create_database(postgres_base_url, name).replace("+psycopg", "+asyncpg")
    home.mkdir(parents=True, exist_ok=True)
    environment = (
        {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PREFECT_", "GRANTS_"))
        }
        | QUIET
        | {"PREFECT_HOME": str(home / "prefect")}
    )
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=environment | {"PREFECT_API_DATABASE_CONNECTION_URL": database},
        cwd=home,
        stdout=(home / "server.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    running = PrefectServer(f"http://127.0.0.1:{port}/api", home, environment)
    try:
        _wait_for_health(running.api_url, server, timeout=120)
        running.prefect("work-pool", "create", "grants", "--type", "process", "--overwrite")
        running.prefect("--no-prompt", "deploy", "--all")
        yield running
    finally:
        running.stop_workers()
        # This process's events for the server go before it does: queued past its end,
        # each would be tried ten times, a second apart, when the session exits. (In a
        # thread of its own: on a thread with an event loop, drain_all only returns a
        # coroutine.)
        drain = threading.Thread(target=EventsWorker.drain_all, kwargs={"timeout": 30})
        drain.start()
        drain.join()
        stop(server)


def _wait_for_health(api_url: str, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"prefect server start exited with {server.returncode}")
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the Prefect server at {api_url} did not answer in {timeout} s")
