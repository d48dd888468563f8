"""Prefect for one machine: the office's warm flows, else a temporary server; or, in server
mode, the Prefect server that PREFECT_API_URL names and its workers.

`configure_prefect` must run before `prefect` is imported, since Prefect reads its settings
at import.

A `grants serve` keeps the flows warm for its whole life and says so in the home it serves:
its temporary server's address (`office-api.json` in PREFECT_HOME, with its process id), and
a local socket named after the home on which a poke makes it send what steps ordered. A
command run meanwhile pokes it or borrows its server instead of starting one (5–15 s).
"""

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grants.logs import configure_logging
from grants.settings import Settings

OFFICE_API = "office-api.json"


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


def server_mode() -> bool:
    """Whether the operator named a Prefect server (PREFECT_API_URL): then flows are
    deployments on its work pool, and people's steps are followed up by task workers."""
    return bool(os.environ.get("PREFECT_API_URL"))


class PrefectUnreachable(RuntimeError):
    """Server mode, and the Prefect server does not answer: the flow was not started."""


def run_flow(flow: Callable[..., Any], **parameters: Any) -> Any:
    """Run a flow in this process: against the named server, else the office's warm one,
    else a temporary server started now. Raise PrefectUnreachable, having done nothing,
    when the named server does not answer (Prefect's own error comes as a traceback).

    Off a real server, the flow heartbeat only costs a second per run (its thread is joined
    at the end) and nobody watches for crashed runs; against a real server it stays on.
    """
    if server_mode():
        api_url = os.environ["PREFECT_API_URL"]
        if not answers(api_url):
            raise PrefectUnreachable(
                f"no Prefect server answers at PREFECT_API_URL={api_url}: nothing was done; "
                "try again once it is back"
            )
        return flow(**parameters)
    from prefect.context import SettingsContext, get_settings_context
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value() or _office_api() or _start_temporary_server()
    current = get_settings_context()
    with SettingsContext(profile=current.profile, settings=_settings_for(current.settings, url)):
        return flow(**parameters)


def _settings_for(current: Any, url: str) -> Any:
    """Prefect's `current` settings with its API at `url` and no flow heartbeat.

    Prefect's own `temporary_settings` builds them anew from every source on each call, a
    tenth of a second each time a flow runs; from the same settings, address and PREFECT_*
    environment they come out the same, so they are built once. The settings they were
    made from are kept with them, so that no other settings object takes its id."""
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY

    environment = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("PREFECT_")))
    key = (id(current), url, environment)
    if key not in _FLOW_SETTINGS:
        if len(_FLOW_SETTINGS) >= 16:
            _FLOW_SETTINGS.clear()
        updates = {PREFECT_API_URL: url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
        _FLOW_SETTINGS[key] = (current, current.copy_with_update(updates=updates))
    return _FLOW_SETTINGS[key][1]


_FLOW_SETTINGS: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def _start_temporary_server() -> str:
    """Start Prefect's temporary server now, one command at a time per PREFECT_HOME; return
    its API address.

    Two first commands at once on a fresh home would both migrate its new database, and
    one would fail; under a file lock the second waits until the first server answers
    (its database migrated), then starts its own on a database that is ready.
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import temporary_settings

    server = SubprocessASGIServer()
    if not server.running:
        home = _prefect_home()
        home.mkdir(parents=True, exist_ok=True)
        with (
            (home / ".grants-server-start.lock").open("a") as lock,
            temporary_settings(unread_services()),
        ):
            fcntl.flock(lock, fcntl.LOCK_EX)
            server.start()
    return server.api_url


def unread_services() -> dict[Any, bool]:
    """Prefect's settings that turn off, in a temporary server, what nobody reads there.

    It records no task runs and keeps no events, and matches none against automations:
    those are read in Prefect's UI and acted on by its automations, and a server of a
    process's own has neither. Its task runs' recorder wrote them while the next flow run
    was being created, and SQLite refused the creation ("database is locked": Prefect's
    client waits about 2 s and tries again), 10 to 15 times a demo, half its time; the
    events were three quarters of the server's CPU per letter sent. Flow runs, their states
    and their logs are recorded as on any server.
    """
    from prefect.settings import (
        PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED,
        PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED,
        PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED,
    )

    return {
        PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED: False,
        PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED: False,
        PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED: False,
    }


def _prefect_home() -> Path:
    from prefect.settings import PREFECT_HOME

    return Path(PREFECT_HOME.value())


def keep_warm(settings: Settings, poke: Callable[[], None]) -> None:
    """For the office's whole life: start its temporary server (unless a server is named),
    tell other commands on this home where it is, and listen for their pokes."""
    _listen(settings, poke)
    if server_mode():
        return
    url = _start_temporary_server()
    path = _prefect_home() / OFFICE_API
    partial = path.with_name(f".{OFFICE_API}.{os.getpid()}")
    partial.write_text(json.dumps({"pid": os.getpid(), "url": url}))
    partial.replace(path)


def answers(api_url: str, timeout: float = 2) -> bool:
    """Whether a Prefect server answers at its API address."""
    import httpx

    try:
        httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).raise_for_status()
    except (httpx.HTTPError, httpx.InvalidURL):
        return False
    return True


def api_headers() -> dict[str, str]:
    """What the Prefect client sends to a server that asks for PREFECT_API_AUTH_STRING:
    basic authentication with it."""
    import base64

    secret = os.environ.get("PREFECT_API_AUTH_STRING")
    if not secret:
        return {}
    return {"Authorization": f"Basic {base64.b64encode(secret.encode()).decode()}"}


WATCH_SECONDS = 5.0  # how often the office and the workers ask whether the server answers


def watch_server(who: str, every: float = WATCH_SECONDS) -> threading.Thread:
    """For the process's whole life (server mode): say in its log, once, when the Prefect
    server stops answering and, once, when it answers again, rather than a failure on each
    request or poll. Prefect's logging (the journal and GRANTS_HOME/logs/grants.log)
    carries the lines."""
    import prefect.main  # noqa: F401  (sets up Prefect's logging, which carries these lines)

    api_url = os.environ["PREFECT_API_URL"]
    log = logging.getLogger("grants.prefect_server")
    log.setLevel(logging.INFO)

    def watch() -> None:
        answering, lost_at = True, 0.0
        while True:
            now = answers(api_url, timeout=min(every, 2))
            if answering and not now:
                lost_at = time.monotonic()
                log.warning(
                    "%s: the Prefect server at %s does not answer; steps still stand and "
                    "their letters wait in the case database until it is back",
                    who,
                    api_url,
                )
            elif now and not answering:
                down = time.monotonic() - lost_at
                log.info(
                    "%s: the Prefect server at %s answers again (away %.0f s)", who, api_url, down
                )
            answering = now
            time.sleep(every)

    thread = threading.Thread(target=watch, name="prefect-server-watch", daemon=True)
    thread.start()
    return thread


def _office_api() -> str | None:
    """The API address of a `grants serve` running on this home, if one answers."""
    try:
        office = json.loads((_prefect_home() / OFFICE_API).read_text())
        os.kill(office["pid"], 0)
    except (OSError, ValueError, KeyError):
        return None
    return office["url"] if answers(office["url"]) else None


def _socket_name(settings: Settings) -> bytes:
    """A Linux abstract socket, one per home: no file to leave behind or to outgrow a path's
    length. Any local user may poke; a poke only makes the office send what is due."""
    digest = hashlib.sha256(str(settings.home.resolve()).encode()).hexdigest()[:24]
    return b"\0grants-office-" + digest.encode()


def _listen(settings: Settings, poke: Callable[[], None]) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(_socket_name(settings))
    except OSError:  # another office serves this home and takes the pokes
        listener.close()
        return
    listener.listen(16)

    def accept() -> None:
        while True:
            connection = listener.accept()[0]
            with connection:
                poke()
                with contextlib.suppress(OSError):
                    connection.sendall(b"ok")

    threading.Thread(target=accept, name="office-pokes", daemon=True).start()


def poke_office(settings: Settings) -> bool:
    """Ask a `grants serve` on this home to send what the steps ordered; whether one took it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(5)
        try:
            connection.connect(_socket_name(settings))
            return connection.recv(2) == b"ok"
        except OSError:
            return False
