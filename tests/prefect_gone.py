"""`grants ARGS` as a program, with Prefect's temporary server killed as soon as the
command's flow has run: the command then ends with Prefect's services holding work for a
server that is gone, as on a busy machine when the server stops first
(tests/test_shutdown_noise.py).

    python -m tests.prefect_gone intake FILE
"""

import os
import signal
import sys
from typing import Any

import grants.cli.common as common
from grants.embedded import run_flow


def run_then_lose_the_server(flow: Any, **parameters: Any) -> Any:
    """The flow as the command runs it; then, once the flow's own events are sent, the
    server killed, and one event more for it (so that only that one finds it gone, at exit,
    however busy the machine is)."""
    from prefect.events import emit_event
    from prefect.events.worker import EventsWorker
    from prefect.server.api.server import SubprocessASGIServer

    result = run_flow(flow, **parameters)
    EventsWorker.drain_all(timeout=60, at_exit=False)
    server = SubprocessASGIServer().server_process
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    emit_event("grants.test.server-gone", resource={"prefect.resource.id": "grants.test"})
    return result


if __name__ == "__main__":
    common.run_embedded = run_then_lose_the_server
    from grants.cli import app

    sys.argv = ["grants", *sys.argv[1:]]
    app()
