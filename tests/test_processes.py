"""Processes: what a command starts dies with it (kill -9 included), and two first commands
at once on a fresh database and a fresh Prefect home both succeed."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grants.processes import MARK, _alive
from tests.conftest import SAMPLES, migrated_prefect_home


def started_under(pid: int) -> dict[int, str]:
    """Processes carrying the mark of command `pid`, with their command lines."""
    prefix = f"{MARK}={pid}-".encode()
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if any(entry.startswith(prefix) for entry in environ) and _alive(int(proc.name)):
            found[int(proc.name)] = command
    return found


def many_applications(tmp_path: Path, count: int) -> Path:
    """`count` distinct valid applications made from the samples."""
    samples = json.loads((SAMPLES / "applications.json").read_text())
    records = [
        samples[i % len(samples)]
        | {"submission_id": f"SI-P-{i}", "project_title": f"Projekt {i} för Örebro län"}
        for i in range(count)
    ]
    path = tmp_path / "many.json"
    path.write_text(json.dumps(records, ensure_ascii=False))
    return path


def command_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A first command: its own home, its own fresh Prefect home, no Prefect server named."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRANTS_", "PREFECT_API"))}
    return (
        env
        | {
            "GRANTS_HOME": str(tmp_path / "home"),
            "PREFECT_HOME": str(tmp_path / "prefect-home"),
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
        | extra
    )


def test_kill_9_of_a_command_ends_everything_it_started(
    tmp_path: Path, migrated_prefect_database: Path
) -> None:
    env = command_env(tmp_path, GRANTS_RENDER_WORKERS="2")
    migrated_prefect_home(Path(env["PREFECT_HOME"]), migrated_prefect_database)
    command = subprocess.Popen(
        [sys.executable, "-m", "grants", "intake", str(many_applications(tmp_path, 40))],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        children: dict[int, str] = {}
        while time.monotonic() < deadline and command.poll() is None:
            children = started_under(command.pid)
            lines = " ".join(children.values())
            if "uvicorn" in lines and "multiprocessing" in lines:
                break
            time.sleep(0.2)
        assert "uvicorn" in " ".join(children.values()), children  # Prefect's server
        assert "multiprocessing" in " ".join(children.values()), children  # render workers
        os.kill(command.pid, signal.SIGKILL)
        command.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and started_under(command.pid):
            time.sleep(0.2)
        assert started_under(command.pid) == {}
    finally:
        if command.poll() is None:
            command.kill()
        for pid in started_under(command.pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_two_first_commands_at_once(tmp_path: Path, on_postgres: str) -> None:
    """A fresh PostgreSQL database (no tables, no types) and a fresh Prefect home."""
    records = json.loads((SAMPLES / "applications.json").read_text())
    env = command_env(tmp_path, GRANTS_DATABASE_URL=on_postgres)
    commands = []
    for half in (0, 1):
        path = tmp_path / f"half{half}.json"
        path.write_text(json.dumps(records[half::2]))
        commands.append(
            subprocess.Popen(
                [sys.executable, "-m", "grants", "intake", "--no-letters", str(path)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = [c.communicate(timeout=300)[0] for c in commands]
    assert [c.returncode for c in commands] == [0, 0], outputs
    assert not any("Traceback" in output for output in outputs), outputs
