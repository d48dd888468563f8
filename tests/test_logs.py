"""Where Prefect's run logs go: a file under GRANTS_HOME, and the console only with --verbose.

Run as a person runs `grants`: a new process, where Prefect configures its logging at import.
"""

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import SAMPLES

RUN_LOG = ("Beginning flow run", "Finished in state Completed()")


def grants(home: Path, api_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m grants ARGS` against the tests' Prefect server, at Prefect's default level."""
    env = os.environ | {
        "GRANTS_HOME": str(home),
        "PREFECT_API_URL": api_url,
        "PREFECT_LOGGING_LEVEL": "INFO",
    }
    return subprocess.run(
        [sys.executable, "-m", "grants", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_run_logs_go_to_a_file_and_to_the_console_only_with_verbose(
    grants_home: Path, prefect_server: str
) -> None:
    applications = str(SAMPLES / "applications.json")
    quiet = grants(grants_home, prefect_server, "intake", "--no-letters", applications)
    assert quiet.returncode == 0, quiet.stderr
    assert "8 application(s) read: 8 registered" in quiet.stdout
    assert quiet.stderr == ""
    assert not any(line in quiet.stdout for line in RUN_LOG), quiet.stdout
    log = (grants_home / "logs" / "grants.log").read_text(encoding="utf-8")
    assert all(line in log for line in RUN_LOG), log
    assert "8 of 8 applications checked" in log
    # In server mode the run's logs reach Prefect's API (its UI) as well.
    [run_name] = re.findall(r"Flow run '([\w-]+)' - Beginning flow run", log)
    assert "8 of 8 applications checked" in _logs_of_run(run_name)

    verbose = grants(grants_home, prefect_server, "--verbose", "intake", applications)
    assert verbose.returncode == 0, verbose.stderr
    assert "0 registered, 8 already registered" in verbose.stdout
    assert all(line in verbose.stderr for line in RUN_LOG), verbose.stderr
    log = (grants_home / "logs" / "grants.log").read_text(encoding="utf-8")
    assert log.count("Beginning flow run") == 2  # appended to, run after run


def _logs_of_run(name: str) -> list[str]:
    """The messages Prefect's server holds for the flow run called `name`."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterName,
        LogFilter,
        LogFilterFlowRunId,
    )

    with get_client(sync_client=True) as client:
        [run] = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name]))
        )
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
    return [entry.message for entry in logs]


def test_a_log_file_rotated_by_one_process_is_reopened_by_the_others(tmp_path: Path) -> None:
    """The office runs for weeks while commands come and go, all appending to one file:
    after one of them rotates it, the others write to the new file, not the old one."""
    from grants.logs import SharedLogFile

    path = tmp_path / "grants.log"
    office, command = (
        SharedLogFile(str(path), maxBytes=200, backupCount=2, encoding="utf-8") for _ in (1, 2)
    )
    record = logging.LogRecord("prefect", logging.INFO, __file__, 1, "x" * 150, None, None)
    try:
        office.emit(record)
        command.emit(record)  # over 200 bytes: the command rotates the file
        office.emit(logging.LogRecord("prefect", logging.INFO, __file__, 1, "after", None, None))
    finally:
        office.close()
        command.close()
    assert path.read_text(encoding="utf-8").splitlines() == ["x" * 150, "after"]
    assert Path(f"{path}.1").read_text(encoding="utf-8").splitlines() == ["x" * 150]
