"""`grants serve` as a new user starts it: one process, the sign-in links it prints work,
and what people see first is their own list of tasks, overdue first."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from flows.intake import intake
from grants.applicant_links import link_for
from grants.embedded import run_flow
from grants.settings import PROJECT_ROOT, listening_url, load
from models.db import transaction
from models.tables import Person, ReviewTask
from tests.conftest import SAMPLES, Mailbox, free_port, migrated_prefect_home
from tests.helpers import ACTIVA, CLI_ALL_MET, OFFICER, grants
from tests.office import post, sign_in
from tests.test_delivery_faults import HangsInData, letters, smtp


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
def test_commands_while_the_office_is_up_use_its_warm_flows(
    grants_home: Path, migrated_prefect_database: Path
) -> None:
    """A step taken on the command line is handed to the running office, which sends its
    letter; a command that runs a flow uses the office's Prefect server, starting none."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    prefect_home = migrated_prefect_home(grants_home / "prefect", migrated_prefect_database)
    env |= {"PREFECT_HOME": str(prefect_home), "COLUMNS": "300"}
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


def serve(env: dict[str, str], output: Path) -> subprocess.Popen:
    """`grants serve` in a process group of its own, with the Prefect server it starts:
    killed together, as a crash of the machine or of its service would. What it prints
    goes to `output`."""
    with output.open("a") as printed:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "grants"), "serve", "--port", str(free_port())],
            env=env,
            stdout=printed,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait for `condition`, polling; fail saying `what` did not happen in `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


@pytest.mark.slow
def test_a_letter_the_office_was_killed_sending_goes_once_while_it_is_up(
    grants_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    migrated_prefect_database: Path,
) -> None:
    """Killed (kill -9) while its SMTP server held the reply to DATA, the office left the
    letter `sending`. Restarted, it sends the others at once, and the interrupted one once
    its claim is stale (twice GRANTS_SMTP_TIMEOUT), by its own timer: nobody acts, nobody
    restarts it. Same Message-ID, delivered once."""
    run_flow(intake, path=str(SAMPLES / "applications.csv"), send_letters=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    prefect_home = migrated_prefect_home(grants_home / "prefect", migrated_prefect_database)
    env |= {"PREFECT_HOME": str(prefect_home), "GRANTS_SMTP_HOST": "127.0.0.1"}
    env["GRANTS_FOLLOW_UP_SECONDS"] = "1"
    printed = tmp_path / "serve.txt"
    hanging = HangsInData()
    with smtp(hanging, monkeypatch) as port:
        office = serve(env | {"GRANTS_SMTP_PORT": str(port), "GRANTS_SMTP_TIMEOUT": "60"}, printed)
        try:
            reached = hanging.wait_for(1, timeout=120)
            assert reached, f"the first letter never reached DATA: {printed.read_text()}"
        finally:
            os.killpg(office.pid, signal.SIGKILL)
            office.wait()
    interrupted = letters()[0]
    assert interrupted.delivery_state == "sending" and interrupted.attempts == 1

    mailbox = Mailbox()
    with smtp(mailbox, monkeypatch) as port:
        # The claim is stale 24 s after it was made: after the restarted office's start-up
        # run (some 10 s), so only its timer can send the letter.
        office = serve(env | {"GRANTS_SMTP_PORT": str(port), "GRANTS_SMTP_TIMEOUT": "12"}, printed)
        try:
            wait_until(
                lambda: all(x.delivery_state == "sent" for x in letters()[1:]),
                120,
                "the restarted office did not send the letters waiting",
            )
            first = letters()[0]
            assert first.delivery_state == "sending" and first.attempts == 1, (
                "the claim was stale before the office's start-up run: raise the timeout"
            )
            wait_until(
                lambda: letters()[0].delivery_state == "sent",
                40,
                "the interrupted letter is still not sent while the office is up",
            )
        finally:
            os.killpg(office.pid, signal.SIGTERM)
            office.wait(30)
    assert [x.delivery_state for x in letters()] == ["sent"] * 3
    resent = [m for m in mailbox.messages if m["To"] == interrupted.recipient]
    assert len(resent) == 1, "sent once"
    assert resent[0]["Message-ID"].strip() == hanging.messages[0]["Message-ID"].strip()
    assert letters()[0].attempts == 2


def test_grants_serve_makes_the_links_point_where_it_listens(
    grants_home: Path, prefect_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`grants serve --host --port`: the links it prints, the links the office e-mails and
    those other commands on the same home make all lead there; a configured base_url (the
    address behind a proxy) wins over both."""
    port = free_port()
    office = f"http://localhost:{port}"
    env = os.environ | {"PREFECT_API_URL": prefect_server, "COLUMNS": "300"}
    server = subprocess.Popen(
        [
            *(str(Path(sys.executable).parent / "grants"), "serve"),
            *("--host", "localhost", "--port", str(port)),
        ],
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
        assert f"The office: {office}/ (listening on localhost:{port})" in "".join(lines)
        printed = dict(re.findall(r"^\s+(\S+@\S+): (\S+)$", "".join(lines), re.M))
        assert printed and all(
            link.startswith(f"{office}/login/link?") for link in printed.values()
        )
        shell = grants("sign-in-link", ACTIVA).text.strip()
        assert shell.startswith(f"{office}/login/link?token=")
        applicant = link_for(load(), "26RS1", "supplement", 1, date.today())
        assert applicant.startswith(f"{office}/a/")

        with httpx.Client(base_url=office) as client:
            page = _when_up(lambda: client.get("/login"))
            form_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            client.post("/login", data={"csrf_token": form_token, "email": OFFICER})
        mailed = _sign_in_mail(load().outbox_dir, OFFICER)
        assert f"{office}/login/link?token=" in mailed
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)

    config = grants_home / "grants.toml"
    config.write_text(
        (PROJECT_ROOT / "config" / "grants.toml")
        .read_text(encoding="utf-8")
        .replace(
            '# base_url = "https://bidrag.regionorebrolan.example.se"',
            'base_url = "https://bidrag.example.se"',
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("GRANTS_CONFIG", str(config))
    assert grants("sign-in-link", ACTIVA).text.startswith("https://bidrag.example.se/login/link?")


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "http://127.0.0.1:8123"),
        ("bidrag.local", "http://bidrag.local:8123"),
        ("::1", "http://[::1]:8123"),
        ("0.0.0.0", f"http://{socket.getfqdn()}:8123"),  # every interface: this machine
    ],
)
def test_where_the_office_listens_is_an_address_a_browser_can_open(host: str, address: str) -> None:
    assert listening_url(host, 8123) == address


def _when_up(ask: Callable[[], httpx.Response]) -> httpx.Response:
    """The office's answer, once it listens (it prints its links before it does)."""
    for _ in range(300):
        try:
            return ask()
        except httpx.ConnectError:
            time.sleep(0.1)
    return ask()


def _sign_in_mail(outbox: Path, email: str) -> str:
    """The body of the sign-in e-mail the office wrote to the outbox for `email`."""
    name = email.replace("@", "_")
    for _ in range(300):
        found = list(outbox.glob(f"sign-in-{name}-*.eml"))
        if found:
            message = message_from_bytes(found[0].read_bytes(), policy=policy.default)
            return message.get_body(("plain",)).get_content()
        time.sleep(0.1)
    raise AssertionError(f"no sign-in e-mail to {email} in {outbox}")
