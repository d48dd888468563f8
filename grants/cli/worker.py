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
import contextlib
import os
import socket
import time
from typing import Annotated

import typer

from grants import render
from grants.cli.common import (
    fail,
    out,
    settings_checked,
)
from grants.embedded import answers, api_headers, server_mode, watch_server
from grants.health import POOL
from grants.settings import Settings
from models.db import transaction
from models.letters import waiting_to_render

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
    settings = settings_checked()
    if not server_mode():
        raise fail("PREFECT_API_URL is not set: a worker serves a Prefect server (server mode)")
    api_url = os.environ["PREFECT_API_URL"]
    if not answers(api_url, timeout=5):  # else it would say it started, and wait in silence
        raise fail(f"no Prefect server answers at PREFECT_API_URL={api_url}: start it first")
    name = name or f"grants-{socket.gethostname()}-{os.getpid()}"
    os.environ["GRANTS_WORKER_NAME"] = name  # its deployment runs inherit it (flows.letters)
    asyncio.run(_work(settings, api_url, name, limit))


def _warm(settings: Settings) -> None:
    """What the first follow-up would pay on top of the others, paid before the worker says
    it started (the first step after a start took 1.57 s to reach its letter): the flows and
    Prefect's client imported, the case database connected (its schema checked), the
    letters' templates compiled and WeasyPrint loaded with the letters' stylesheet and
    fonts in this process, where a step's letter or two are rendered."""
    import flows.letters  # noqa: F401  (Prefect, the flows, mail)

    with transaction(settings.db_url) as session:
        waiting_to_render(session, 1)
    render.warm_up()


async def _ready(api_url: str, name: str, client_id: str, timeout: float = 30) -> bool:
    """Until the Prefect server lists this process's task worker, and its pool worker by a
    heartbeat: from then on a step's follow-up reaches it (one queued before would wait for
    the next subscriber) and a monitor sees it (grants health)."""
    import httpx

    api_url = api_url.rstrip("/")
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(headers=api_headers(), timeout=5) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                tasks = await client.post(f"{api_url}/task_workers/filter", json={})
                pool = await client.post(f"{api_url}/work_pools/{POOL}/workers/filter", json={})
                # Until its worker has made the pool, the server answers 404 for it.
                listed = tasks.is_success and pool.is_success
                if (
                    listed
                    and any(w.get("identifier") == client_id for w in tasks.json())
                    and any(
                        w.get("name") == name and w.get("last_heartbeat_time") for w in pool.json()
                    )
                ):
                    return True
            await asyncio.sleep(0.1)
    return False


async def _work(settings: Settings, api_url: str, name: str, limit: int) -> None:
    from prefect.task_worker import TaskWorker
    from prefect.workers.process import ProcessWorker

    from flows.letters import follow_up

    loop, work = asyncio.get_running_loop(), asyncio.current_task()

    class FollowUps(TaskWorker):
        def handle_sigterm(self, signum: int, frame: object) -> None:
            """Stop (systemd's stop): both workers are cancelled and leave cleanly. Prefect's
            own handler waits on the event loop it interrupts, and hangs; a follow-up cut
            short is found by the scheduled send-letters."""
            loop.call_soon_threadsafe(work.cancel)

    await asyncio.to_thread(_warm, settings)
    follow_ups = FollowUps(follow_up, limit=2)
    worker = ProcessWorker(work_pool_name=POOL, name=name, limit=limit)
    working = asyncio.gather(worker.start(), follow_ups.astart())
    ready = asyncio.ensure_future(_ready(api_url, name, follow_ups.client_id))
    try:
        await asyncio.wait({working, ready}, return_when=asyncio.FIRST_COMPLETED)
        if ready.done():  # else the workers ended (failed) first: `working` says why
            watch_server(f"worker {name}")
            listed = "" if ready.result() else " (the Prefect server did not list it in 30 s)"
            out.print(
                f"Worker {name} ready for follow-ups, on the pool 'grants'{listed}",
                highlight=False,
            )
        await working
    except asyncio.CancelledError:
        working.cancel()
        ready.cancel()
        out.print(f"Worker {name} stopped", highlight=False)
