"""`grants serve` as a new user starts it: one process, the sign-in links it prints work,
and what people see first is their own list of tasks, overdue first."""

import os
import re
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from grants.settings import load
from models.db import transaction
from models.tables import Person, ReviewTask
from tests.conftest import SAMPLES, free_port
from tests.helpers import ACTIVA, CLI_ALL_MET, OFFICER, grants
from tests.office import post, sign_in


def test_grants_serve_prints_links_that_sign_each_person_in(grants_home, prefect_server) -> None:
    port = free_port()
    env = os.environ | {"PREFECT_API_URL": prefect_server, "COLUMNS": "300"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "grants"), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        lines = []
        while not any("The office:" in line for line in lines):
            line = server.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        links = dict(re.findall(r"^\s+(\S+@\S+): (\S+)$", "".join(lines), re.M))
        assert set(links) >= {OFFICER, ACTIVA}
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base) as client:
            for _ in range(100):
                try:
                    page = client.get("/login/link", params={"token": _token(links[ACTIVA])})
                    break
                except httpx.ConnectError:
                    time.sleep(0.1)
            form_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            client.post(
                "/login/link",
                data={"csrf_token": form_token, "token": _token(links[ACTIVA])},
                follow_redirects=True,
            )
            tasks = client.get("/tasks")
            assert "Mina uppgifter" in tasks.text and "Lena Holm" in tasks.text
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)


def _token(link: str) -> str:
    return link.split("token=", 1)[1].split("&", 1)[0]


def test_my_tasks_come_overdue_first_with_their_due_dates(sample_call, office) -> None:
    for ref in ("26RS2", "26RS3"):
        grants("checklist", ref, "--as", OFFICER, *CLI_ALL_MET)
    late = date.today() - timedelta(days=3)
    with transaction(load().db_url) as session:
        lena = session.exec(select(Person).where(Person.email == ACTIVA)).one()
        tasks = session.exec(select(ReviewTask).where(ReviewTask.reviewer_id == lena.id)).all()
        task = next(t for t in tasks if t.case.case_reference == "26RS3")
        task.due = late
        session.add(task)
    sign_in(office, ACTIVA)
    page = office.get("/tasks").text
    rows = re.findall(r"<tr(?: class=\"overdue\")?>\s*<td><a href=\"[^\"]+\">(26RS\d+)", page)
    assert rows == ["26RS3", "26RS2"]
    assert "Försenad" in page and page.count("Försenad") == 1
    assert "2 uppgifter väntar på dig" in page
    english = post(office, "/language", {"language": "en", "next": "/tasks"}).text
    assert "Overdue" in english and f"{late.day} " in english


@pytest.mark.slow
def test_commands_while_the_office_is_up_use_its_warm_flows(grants_home: Path) -> None:
    """A step taken on the command line is handed to the running office, which sends its
    letter; a command that runs a flow uses the office's Prefect server, starting none."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env |= {"PREFECT_HOME": str(grants_home / "prefect"), "COLUMNS": "300"}
    env["PREFECT_LOGGING_LEVEL"] = "INFO"  # the log file says when a server is started

    def command(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "grants", *args], env=env, capture_output=True, text=True
        )

    assert command("intake", str(SAMPLES / "applications.json"), "--no-letters").returncode == 0
    office = subprocess.Popen(
        [str(Path(sys.executable).parent / "grants"), "serve", "--port", str(free_port())],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        warm = grants_home / "prefect" / "office-api.json"
        deadline = time.monotonic() + 120
        while not warm.exists() and time.monotonic() < deadline:
            time.sleep(0.2)

        ref = f"{date.today().year % 100:02d}RS1"
        step = command(
            "checklist",
            ref,
            "--as",
            OFFICER,
            *CLI_ALL_MET[:4],
            "--new-locally",
            "unclear",
            "--anchored-with-partners",
            "met",
            "--note",
            "new_locally=Beskriv vad som är nytt.",
        )
        assert step.returncode == 0, step.stdout + step.stderr
        assert "handed to the office" in step.stdout and "still on their way" not in step.stdout
        assert list(load().outbox_dir.glob(f"{ref}-begaran-om-komplettering*.eml"))

        assert command("deliver").returncode == 0
        log = (grants_home / "logs" / "grants.log").read_text()
        assert log.count("Starting temporary server") == 1, "only the office started one"
    finally:
        office.send_signal(signal.SIGTERM)
        office.wait(30)
