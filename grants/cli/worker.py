"""`grants worker`: what each machine runs in server mode, one process per machine.

Two Prefect workers in one process, so a region runs one service per machine:
- a process worker on the work pool `grants`, for the deployments of prefect.yaml (the
  scheduled send-letters and sweep, intake, and a share of every large batch of letters);
- a task worker for the follow-up of people's steps (`flows.letters.follow_up`), picked up
  in a fraction of a second where a deployment run takes seconds to start. Its queue lives
  in the Prefect server's memory: what a restart loses, the scheduled send-letters finds in
  the case database.
"""

import asyncio
import os
import socket
from typing import Annotated

import typer

from grants.cli.common import (
    fail,
    out,
    settings_checked,
)
from grants.embedded import answers, server_mode

app = typer.Typer()


@app.command("worker")
def worker_command(
    name: Annotated[
        str, typer.Option(help="The worker's name in Prefect (default: this machine's name).")
    ] = "",
    limit: Annotated[
        int, typer.Option(min=1, help="Deployment runs at once (each renders on every core).")
    ] = 1,
) -> None:
    """Work for a Prefect server (server mode): PREFECT_API_URL must name it."""
    settings_checked()
    if not server_mode():
        raise fail("PREFECT_API_URL is not set: a worker serves a Prefect server (server mode)")
    api_url = os.environ["PREFECT_API_URL"]
    if not answers(api_url, timeout=5):  # else it would say it started, and wait in silence
        raise fail(f"no Prefect server answers at PREFECT_API_URL={api_url}: start it first")
    name = name or f"grants-{socket.gethostname()}-{os.getpid()}"
    os.environ["GRANTS_WORKER_NAME"] = name  # its deployment runs inherit it (flows.letters)
    out.print(f"Worker {name} on the pool 'grants' and for follow-ups", highlight=False)
    asyncio.run(_work(name, limit))


async def _work(name: str, limit: int) -> None:
    from prefect.task_worker import TaskWorker
    from prefect.workers.process import ProcessWorker

    from flows.letters import POOL, follow_up

    loop, work = asyncio.get_running_loop(), asyncio.current_task()

    class FollowUps(TaskWorker):
        def handle_sigterm(self, signum: int, frame: object) -> None:
            """Stop (systemd's stop): both workers are cancelled and leave cleanly. Prefect's
            own handler waits on the event loop it interrupts, and hangs; a follow-up cut
            short is found by the scheduled send-letters."""
            loop.call_soon_threadsafe(work.cancel)

    worker = ProcessWorker(work_pool_name=POOL, name=name, limit=limit)
    try:
        await asyncio.gather(worker.start(), FollowUps(follow_up, limit=2).astart())
    except asyncio.CancelledError:
        out.print(f"Worker {name} stopped", highlight=False)
