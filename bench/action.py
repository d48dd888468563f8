"""Action benchmark: from a person's step in the office to the letter it ordered, handed to SMTP.

    .venv/bin/python bench/action.py             # embedded: one `grants serve`, SQLite
    .venv/bin/python bench/action.py --server    # server mode (below)
    .venv/bin/python bench/action.py --steps 20  # fewer steps
    .venv/bin/python bench/action.py --cli-steps 0  # none on the command line

A call of applications is registered and acknowledged; then the case officer, signed in to
a real `grants serve`, completes one case's checklist after another with a requirement
unclear: a step that orders a request for supplement; then takes the same step on more
cases with `grants checklist` on the command line (`--cli-steps`). Steps come one at a time
at a person's pace (0.5–1.5 s apart). For each: from the step's audit event, written in its
transaction, to the moment an SMTP server started here received the letter.

Embedded: the office keeps Prefect's temporary server and the flows warm; it is measured
once warm. Server mode: a throwaway PostgreSQL holds the case database and a Prefect
server's database; `prefect server start`, the pool and deployments of prefect.yaml, two
`grants worker`s, and the office pointed at the server (PREFECT_API_URL): each step's
follow-up goes to the workers' task queue. The workers are started again after the intake
(which warmed them), so the office's first step is the first after a worker started, and
its figure is given on its own.

The last line: `action to letter handed to SMTP: p50 X s, p95 Y s`.
"""

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from intake import generate  # noqa: E402  (bench/intake.py: the applications' generator)

from tests.conftest import free_port  # noqa: E402
from tests.server_mode import BIN, QUIET, prefect_server, stop  # noqa: E402

OFFICER = "maria.lindqvist@regionorebrolan.example.se"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
CRITERIA = ("benefit_to_society", "innovative", "new_locally", "anchored_with_partners")
NOTE = "Beskriv hur projektet skiljer sig från det som redan finns."


class Arrivals:
    """An SMTP server's handler that notes when each message arrived, by Message-ID."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        arrived = time.time()
        message_id = BytesHeaderParser().parsebytes(envelope.content)["Message-ID"]
        if message_id:
            self.at[message_id.strip().strip("<>")] = arrived
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", action="store_true", help="server mode (see above)")
    parser.add_argument("--steps", type=int, default=100, help="steps in the office")
    parser.add_argument("--cli-steps", type=int, default=20, help="steps on the command line")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    from aiosmtpd.controller import Controller

    arrivals = Arrivals()
    work = Path(tempfile.mkdtemp(prefix="grants-action-"))
    with ExitStack() as stack:
        smtp_port = free_port()
        smtp = Controller(arrivals, hostname="127.0.0.1", port=smtp_port, enable_SMTPUTF8=True)
        smtp.start()
        stack.callback(smtp.stop)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GRANTS_", "PREFECT_"))}
        env |= QUIET | {
            "GRANTS_HOME": str(work / "home"),
            "GRANTS_SMTP_HOST": "127.0.0.1",
            "GRANTS_SMTP_PORT": str(smtp_port),
        }
        restart = None
        if args.server:
            env, restart = stack.enter_context(_server_mode(work, env))
        count = args.steps + args.cli_steps
        print(f"Registering {count} applications ({'server' if args.server else 'embedded'})")
        applications = work / "applications.json"
        records = generate(count, args.seed, date.today())
        applications.write_text(json.dumps(records, ensure_ascii=False))
        _grants(env, "intake", str(applications), "--as", OFFICER)
        references = _received(env)[:count]
        in_office, on_the_line = references[: args.steps], references[args.steps :]
        if restart is not None:
            restart()
        base = stack.enter_context(_office(env, work))
        rng = random.Random(args.seed)
        _office_steps(env, base, in_office, rng)
        started = _command_line_steps(env, on_the_line, rng)
        office = _latencies(env, in_office, arrivals)
        command_line = _latencies(env, on_the_line, arrivals)
        typed = _latencies(env, on_the_line, arrivals, since=started)
    if office:
        print(f"the first step in the office: {office[0]:.2f} s")
    for edge, latencies in (("in the office", office), ("on the command line", command_line)):
        if len(latencies) > 1:
            p50, p95 = statistics.median(latencies), statistics.quantiles(latencies, n=20)[-1]
            print(f"{len(latencies)} steps {edge}: p50 {p50:.2f} s, p95 {p95:.2f} s")
    if len(typed) > 1:
        p50, p95 = statistics.median(typed), statistics.quantiles(typed, n=20)[-1]
        print(f"on the command line, from the command's start: p50 {p50:.2f} s, p95 {p95:.2f} s")
    latencies = office + command_line
    print(f"{len(latencies)} steps; from {min(latencies):.2f} s to {max(latencies):.2f} s")
    p50, p95 = statistics.median(latencies), statistics.quantiles(latencies, n=20)[-1]
    print(f"action to letter handed to SMTP: p50 {p50:.2f} s, p95 {p95:.2f} s")


@contextmanager
def _server_mode(
    work: Path, env: dict[str, str]
) -> Iterator[tuple[dict[str, str], Callable[[], None]]]:
    """PostgreSQL, a Prefect server with the pool and deployments, and two workers; the
    environment of a process in server mode, and what starts the workers again."""
    from tests.postgres import create_database, postgres_server

    with postgres_server(free_port()) as postgres:
        cases = {"GRANTS_DATABASE_URL": create_database(postgres, "grants_action")}
        with prefect_server(postgres, work / "prefect-server", free_port()) as server:
            grants_env = {k: v for k, v in env.items() if k.startswith("GRANTS_")} | cases

            def start() -> None:
                server.stop_workers()
                for name in ("w1", "w2"):
                    server.start_worker(name, grants_env)
                server.wait_for_workers("w1", "w2")

            start()
            yield server.env(**grants_env), start


def _grants(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "grants"), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"grants {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _received(env: dict[str, str]) -> list[str]:
    """The registered cases' references, once their acknowledgements have all gone."""
    code = (
        "from sqlmodel import select\n"
        "from grants.settings import load\nfrom models.db import transaction\n"
        "from models.tables import Case, Letter\n"
        "with transaction(load().db_url) as s:\n"
        "    print(sum(1 for x in s.exec(select(Letter)) if x.delivery_state != 'sent'))\n"
        "    print(' '.join(s.exec(select(Case.case_reference).where("
        "Case.state == 'received').order_by(Case.id))))\n"
    )
    for _ in range(600):
        waiting, references = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout.splitlines()
        if waiting == "0":
            return references.split()
        time.sleep(0.5)
    raise SystemExit("the acknowledgements were not all sent")


@contextmanager
def _office(env: dict[str, str], work: Path) -> Iterator[str]:
    """A real `grants serve` on a free port, warm; its base URL."""
    port = free_port()
    office = subprocess.Popen(
        [str(BIN / "grants"), "serve", "--port", str(port)],
        env=env,
        stdout=(work / "office.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        warm = Path(env["GRANTS_HOME"]) / "prefect" / "office-api.json"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                up = httpx.get(f"{base}/login", timeout=2).status_code == 200
            except httpx.HTTPError:
                up = False
            if up and ("PREFECT_API_URL" in env or warm.exists()):
                break
            time.sleep(0.2)
        else:
            raise SystemExit(f"the office did not start; see {work / 'office.log'}")
        yield base
    finally:
        stop(office)


def _office_steps(
    env: dict[str, str], base: str, references: list[str], rng: random.Random
) -> None:
    link = _grants(env, "sign-in-link", OFFICER).strip()
    token = link.split("token=", 1)[1]
    with httpx.Client(base_url=base, timeout=30, follow_redirects=True) as client:
        page = client.get("/login/link", params={"token": token})
        client.post(
            "/login/link", data={"csrf_token": TOKEN.search(page.text).group(1), "token": token}
        )
        for number, reference in enumerate(references, 1):
            form = client.get(f"/cases/{reference}")
            answers = {c: "met" for c in CRITERIA} | {
                "new_locally": "unclear",
                "note_new_locally": NOTE,
                "csrf_token": TOKEN.search(form.text).group(1),
            }
            done = client.post(f"/cases/{reference}/checklist", data=answers)
            if done.status_code != 200 or done.url.path != f"/cases/{reference}":
                raise SystemExit(f"step on {reference} refused: {done.status_code}")
            if number % 10 == 0:
                print(f"  {number} steps taken in the office", flush=True)
            time.sleep(rng.uniform(0.5, 1.5))


def _command_line_steps(
    env: dict[str, str], references: list[str], rng: random.Random
) -> dict[str, float]:
    """The same step with `grants checklist`, each a process of its own, as a person types
    it: the command hands the letter to the workers (or pokes the office) and waits for it.
    Returns when each command was started, by case."""
    criteria = [f"--{c.replace('_', '-')}=met" for c in CRITERIA if c != "new_locally"]
    started = {}
    for number, reference in enumerate(references, 1):
        started[reference] = time.time()
        _grants(
            env,
            "checklist",
            reference,
            "--as",
            OFFICER,
            *criteria,
            "--new-locally=unclear",
            f"--note=new_locally={NOTE}",
        )
        if number % 10 == 0:
            print(f"  {number} steps taken on the command line", flush=True)
        time.sleep(rng.uniform(0.5, 1.5))
    return started


def _latencies(
    env: dict[str, str],
    references: list[str],
    arrivals: Arrivals,
    since: dict[str, float] | None = None,
) -> list[float]:
    """Per step: its audit event's time (or the time `since` gives for its case) to its
    letter's arrival (waiting for the last)."""
    code = (
        "import json\nfrom sqlmodel import select\n"
        "from grants.settings import load\nfrom models.db import transaction\n"
        "from models.tables import AuditEvent, Case, Letter\n"
        "with transaction(load().db_url) as s:\n"
        "    out = {}\n"
        "    for e, c in s.exec(select(AuditEvent, Case).join(Case).where("
        "AuditEvent.action == 'supplement_requested')):\n"
        "        out.setdefault(c.case_reference, {})['at'] = e.at.isoformat()\n"
        "    for x, c in s.exec(select(Letter, Case).join(Case).where("
        "Letter.kind == 'supplement_request')):\n"
        "        out.setdefault(c.case_reference, {})['key'] = x.letter_key\n"
        "print(json.dumps(out))\n"
    )
    deadline = time.monotonic() + 120
    while True:
        facts = json.loads(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        arrived = {
            reference: arrivals.at[key]
            for reference in references
            if (key := _message_id(arrivals, facts.get(reference, {}).get("key")))
        }
        if len(arrived) == len(references) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    missing = sorted(set(references) - set(arrived))
    if missing:
        print(f"  {len(missing)} letter(s) never arrived: {', '.join(missing[:5])}")
    return [
        arrived[ref] - (since[ref] if since else _utc(facts[ref]["at"]))
        for ref in references
        if ref in arrived
    ]


def _message_id(arrivals: Arrivals, letter_key: str | None) -> str | None:
    if letter_key is None:
        return None
    return next((m for m in arrivals.at if m.startswith(f"{letter_key}-")), None)


def _utc(moment: str) -> float:
    """The database's time (UTC; SQLite keeps no zone) as a Unix time."""
    parsed = datetime.fromisoformat(moment)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


if __name__ == "__main__":
    main()
