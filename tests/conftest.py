"""Shared fixtures: one real Prefect server per session, a fresh case database per test
(or its own copy of a state made once per session), and a real SMTP server on 127.0.0.1
when a test asks for one."""

import os
import shutil
import socket
import sqlite3
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import closing
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from grants.seal import GENERATED
from grants.seal import generated_seal as make_generated_seal
from tests.helpers import OFFICER, copy_home, grants

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# The tests' "today" is Sweden's, as the domain's (models.clock) is: on a machine kept in
# UTC the two dates differ for an hour or two after midnight in Stockholm.
os.environ["TZ"] = "Europe/Stockholm"
time.tzset()
# pytest-xdist starts its workers with COLUMNS=80 and LINES=24, which a run without workers
# does not have: the command line's output would wrap at 80 columns there only.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
MadeOnce = Callable[..., Any]  # made_once(name, make, config=None); see the fixture


@pytest.fixture(scope="session", autouse=True)
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A temporary Prefect server on a database of its own, started once (~15 s), as
    Prefect's test harness starts it, with the services a command's own leaves off
    (grants.embedded.unread_services), and stopped as a command's is: when the process exits,
    after Prefect's clients have sent their last events and logs. The harness stops it when
    the session ends, and events still queued then (a demo's 1,200) were sent to a server
    that had gone, ten reconnections each: the session hung on exit."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    from prefect.context import _temporary_global_settings_context, get_settings_context
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_DATABASE_CONNECTION_URL,
        temporary_settings,
    )

    database = f"sqlite+aiosqlite:///{home / 'prefect.db'}"
    from grants.embedded import unread_services

    server_settings = {PREFECT_SERVER_DATABASE_CONNECTION_URL: database, **unread_services()}
    with temporary_settings(server_settings):
        server = SubprocessASGIServer(port=free_port())
        # The server that flows run in this process find (grants.embedded), as the harness's.
        SubprocessASGIServer._instances[None] = server
        server.start(timeout=120)  # registers its stop with atexit
        with (
            closing(sqlite3.connect(home / "prefect.db")) as started,
            closing(sqlite3.connect(_migrated_prefect_database(tmp_path_factory))) as copy,
        ):
            started.backup(copy)  # before any test: no runs in it
        # Threads whose context was copied before see the server too (the second context is
        # made inside the first).
        with (
            temporary_settings({PREFECT_API_URL: server.api_url}),
            _temporary_global_settings_context(get_settings_context()),
        ):
            yield server.api_url


def _migrated_prefect_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "prefect-migrated.db"


@pytest.fixture(scope="session")
def migrated_prefect_database(
    prefect_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Prefect's database as a new server leaves it once it has migrated it, with no runs:
    the session's server's, copied as it started. A test whose command starts a Prefect
    server on a Prefect home of its own, where a first start is not the point, puts it in
    that home (PREFECT_HOME/prefect.db) first: migrating a new database is Prefect's
    hundred-odd revisions, seconds of CPU each time."""
    return _migrated_prefect_database(tmp_path_factory)


def migrated_prefect_home(folder: Path, database: Path) -> Path:
    """`folder` made a Prefect home whose database is migrated already (`database`, the
    fixture `migrated_prefect_database`); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(database, folder / "prefect.db")
    return folder


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers from what a test uses (`postgres`, `browser`), and pytest-xdist's groups
    (`-n 2 --dist loadgroup` distributes by them): the tests that share a module-scoped
    fixture (a Prefect server with its workers, a checkout of old grants, a signed call)
    run on one worker, so that it is made once. The slow tests come first, each group whole:
    started last, the longest (the demo killed and run again, two minutes) would keep one
    worker busy long after the other has finished."""
    for item in items:
        parameters = item.callspec.params.values() if hasattr(item, "callspec") else ()
        if "postgres_base_url" in item.fixturenames or "postgresql" in parameters:
            item.add_marker(pytest.mark.postgres)
        if "chromium" in item.fixturenames:
            item.add_marker(pytest.mark.browser)
        fixtures = item._fixtureinfo.name2fixturedefs.values()  # pytest has no public way
        if any(definitions[-1].scope == "module" for definitions in fixtures):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    slow_groups = {_group(item) for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: _group(item) not in slow_groups)  # stable: files' order kept


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """With `--dist loadgroup`, pytest-xdist has put each test's group in its node id by
    now (`...::test@group`), which is how the groups reach the scheduler. A pytest whose
    node ids it cannot change (pytest-xdist#1386) would have the groups' tests run
    anywhere, each worker making what they share anew: said, rather than only slower."""
    if not getattr(session.config.option, "loadgroup", False):  # set in the workers
        return
    lost = [
        i.nodeid
        for i in session.items
        if i.get_closest_marker("xdist_group") and "@" not in i.nodeid
    ]
    if lost:  # a worker's error would only end it, unsaid: a warning is in the summary
        message = f"--dist loadgroup ignores the group of {lost[0]}"
        warnings.warn(pytest.PytestWarning(message), stacklevel=1)


def _group(item: pytest.Item) -> str:
    """The item's xdist group, or the item itself when it has none."""
    marker = item.get_closest_marker("xdist_group")
    return marker.args[0] if marker else item.nodeid


@pytest.fixture(scope="session")
def generated_seal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated e-seal of the configuration as shipped (grants.seal), made once for the
    session and put in each test's home, where a home would make its own (RSA keys: a third
    of a second each)."""
    folder = tmp_path_factory.mktemp("seal") / GENERATED
    return make_generated_seal(folder, "Region Örebro län").pkcs12.parent


@pytest.fixture(autouse=True)
def grants_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_seal: Path) -> Path:
    """Every test gets its own case database and outbox, the session's generated e-seal, and
    no SMTP unless it starts one."""
    home = tmp_path / "grants-home"
    shutil.copytree(generated_seal, home / GENERATED)
    monkeypatch.setenv("GRANTS_HOME", str(home))
    for name in list(os.environ):
        if name.startswith("GRANTS_") and name != "GRANTS_HOME":
            monkeypatch.delenv(name)
    return home


@pytest.fixture(scope="session")
def made_once(tmp_path_factory: pytest.TempPathFactory) -> MadeOnce:
    """`made_once(name, make, config=None)` brings this test's case database to the state
    `make` brings a new one to, without taking make's steps again in every test: `make`
    runs once per session in a home of its own (with the configuration as shipped, or the
    file `config`), and each test gets its own copy (tests.helpers.copy_home) and what
    `make` returned (a command's output, say). On PostgreSQL (GRANTS_DATABASE_URL) there is
    no file to copy: `make` runs for the test."""
    made: dict[str, Path] = {}
    returned: dict[str, Any] = {}

    def start(name: str, make: Callable[[], Any], config: Path | None = None) -> Any:
        if os.environ.get("GRANTS_DATABASE_URL"):
            return make()
        if name not in made:
            folder = tmp_path_factory.mktemp(name)
            seal = Path(os.environ["GRANTS_HOME"]) / GENERATED  # the test's: the session's
            with pytest.MonkeyPatch.context() as env:
                for key in [k for k in os.environ if k.startswith("GRANTS_")]:
                    env.delenv(key)
                env.setenv("GRANTS_HOME", str(folder))
                shutil.copytree(seal, folder / GENERATED)
                if config is not None:
                    env.setenv("GRANTS_CONFIG", str(config))
                returned[name] = make()
            made[name] = folder
        copy_home(made[name], Path(os.environ["GRANTS_HOME"]))
        return returned[name]

    return start


@pytest.fixture
def sample_call(made_once: MadeOnce, grants_home: Path) -> Path:
    """The eight sample applications registered by the case officer, no letters made yet.
    Returns this test's home."""

    def register() -> None:
        grants("intake", str(SAMPLES / "applications.json"), "--as", OFFICER, "--no-letters")

    made_once("sample-call", register)
    return grants_home


@pytest.fixture
def sample_call_acknowledged(made_once: MadeOnce, grants_home: Path) -> Path:
    """The eight sample applications registered and each acknowledged by a letter in the
    outbox (no SMTP server). Returns this test's home."""
    from flows.intake import intake
    from grants.embedded import run_flow

    def register() -> None:
        run_flow(intake, path=str(SAMPLES / "applications.json"))

    made_once("sample-call-acknowledged", register)
    return grants_home


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """Messages received by the test's SMTP server, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls it by this name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1; GRANTS_SMTP_* point at it."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    monkeypatch.setenv("GRANTS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GRANTS_SMTP_PORT", str(port))
    yield mailbox
    controller.stop()


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    """One PostgreSQL server for the session, on a free port of 127.0.0.1."""
    from tests.postgres import postgres_server

    with postgres_server(free_port()) as url:
        yield url


@pytest.fixture
def on_postgres(
    postgres_base_url: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> str:
    """Point GRANTS_DATABASE_URL at a fresh PostgreSQL database for this test."""
    from tests.postgres import create_database

    name = "grants_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:50].lower()
    url = create_database(postgres_base_url, name)
    monkeypatch.setenv("GRANTS_DATABASE_URL", url)
    return url


@pytest.fixture
def office(grants_home: Path) -> Iterator:
    """The office (the web application) on this test's case database, as a test client.

    Letters ordered by people's steps are sent by the office's background worker; wait for
    it with `office.app.state.office.follow_up.wait_idle(timeout)`.
    """
    from fastapi.testclient import TestClient

    from grants.web.app import create_app

    with TestClient(create_app(), base_url="http://127.0.0.1:8000") as client:
        yield client
    client.app.state.office.follow_up.wait_idle(60)


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_office(grants_home: Path) -> Iterator:
    """The office served over real HTTP by uvicorn on a free port, for a real browser.

    Its base URL (in the e-mailed links) is that port. Yields the running application.
    """
    import threading

    import uvicorn

    from grants.settings import load
    from grants.web.app import create_app

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    load().announce_office("127.0.0.1", port)  # as `grants serve --port` does
    application = create_app()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the office did not start"
    application.state.base_url = base_url
    yield application
    application.state.office.follow_up.wait_idle(60)
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    """Debian's Chromium through Playwright, launched by path: nothing is downloaded."""
    import shutil

    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail("Chromium is missing: ./run test installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium) -> Iterator:
    """A fresh browser window (its own cookies) in Swedish, at a laptop's size."""
    context = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()
