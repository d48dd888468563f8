"""Office benchmark: signed-in people reading their task lists and case pages at once.

    .venv/bin/python bench/web.py                         # 1 000 cases, 50 users, SQLite
    .venv/bin/python bench/web.py --workdir /tmp/webcall  # keep the call; run again: reused
    .venv/bin/python bench/web.py --postgres              # on a throwaway PostgreSQL server
    .venv/bin/python bench/web.py --postgres postgresql+psycopg://me@host/empty_database
    .venv/bin/python bench/web.py --cases 200 --users 20 --duration 30 --pause 0.5 1.5

Goal: p95 < 100 ms at 50 users on 2 cores, embedded SQLite.

Set-up, not timed: a call of `--cases` generated applications (bench/intake.py) taken in by
the intake flow into a fresh GRANTS_HOME, then moved by bench/call.py's scripted people to
every stage of the path (received, awaiting a supplement, in review with none, one or two
reviews in, at the applicant meeting, drafting, in communication, with the decision maker,
decided; the advisor of Coompanion Mälardalen declares a conflict of interest in the
tenth where it is a partner), and every letter this ordered rendered and delivered (to the
outbox) by the send-letters flow. The letters take minutes: with `--workdir` the call is
kept, and a later run with the same `--workdir` reuses it. `--postgres` with no URL starts
a throwaway PostgreSQL server as the tests do (Debian's postgresql, which `./run test`
installs); with a URL, that database must be empty.

Measured: a real `grants serve` (uvicorn, one process, as `./run serve` starts it) on a free
port of 127.0.0.1, once it is quiet after start-up (its first send-letters run); `--users`
sessions spread round-robin over the configuration's people (case officer, two advisors,
decision maker), each signed in as a person does it: the sign-in page, the e-mailed link
from the outbox, its confirmation. Each user is an httpx client with its own cookies that,
for `--duration` seconds (or `--requests` pages), reads the pages its role has, each for
1 to 5 s (`--pause`; as Locust's own example waits): Mina uppgifter (/tasks, where / leads),
the case list (all cases, or one state), My reviews, the drafts to decide, and the case
pages linked from those lists (/cases/REF, /reviews/REF, /decisions/REF). A request's time
runs from sending it to the last byte of the page. Anything but a 200 is a failure, and so
is a page that shows a person a case in which they declared a conflict of interest (those
cases' pages must answer them 404: checked for each before the run).

The client runs on the same cores as the office; the report says how much CPU the office,
the client and everything else on the machine used meanwhile: rerun on a quiet machine.
Last line: `web: p95 X ms at N users`.
"""

import argparse
import asyncio
import json
import math
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from contextlib import AsyncExitStack, ExitStack, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import col, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench/intake.py (generator, stage helpers, /proc readers) and bench/call.py (scripted
# people): scripts beside this one, not a package.
intake_bench = __import__("intake")
call_bench = __import__("call")

from grants.settings import PROJECT_ROOT, load  # noqa: E402
from models.access import conflicted_case_ids  # noqa: E402
from models.db import transaction  # noqa: E402
from models.states import CaseState  # noqa: E402
from models.tables import Case, Person, Role  # noqa: E402

with warnings.catch_warnings():  # Starlette's test client, imported beside the helpers,
    warnings.simplefilter("ignore")  # would like httpx2; nothing here uses it
    from tests.office import TOKEN, sign_in_links, sign_in_mails

GOAL_MS = 100.0
MARKER = "web-call.json"  # in the workdir: what was generated there, for reuse
# Where the generated cases stand: a call in full swing (shares of --cases).
STAGES = {
    CaseState.received: 0.10,
    CaseState.awaiting_supplement: 0.05,
    CaseState.in_review: 0.20,
    CaseState.applicant_meeting: 0.10,
    CaseState.drafting_decision: 0.08,
    CaseState.communication: 0.05,
    CaseState.awaiting_decision: 0.10,
    CaseState.decided: 0.32,
}
# The sign-in link lives this long in the bench's configuration (the default is 15): the
# office gives an address at most 5 links per lifetime, and 50 sessions over 4 people
# need 13 each. Every link is redeemed at once, as soon as its e-mail is in the outbox.
LINK_MINUTES = 0.2
LINKS_PER_WINDOW = 5
# What each role reads, with weights: list pages, and case pages linked from them.
MIX = {
    Role.case_officer: {
        "tasks": 3,
        "cases": 1,
        "cases by state": 2,
        "case page": 6,
        "reviews": 1,
        "review page": 1,
    },
    Role.advisor: {"tasks": 2, "reviews": 2, "review page": 6},
    Role.decision_maker: {
        "tasks": 2,
        "decisions": 2,
        "decision page": 5,
        "cases": 1,
        "case page": 2,
    },
}
# A kept-alive connection is let go after 4 s unused, before uvicorn closes it at 5 s: a
# request never meets a connection closing under it (one that does anyway is sent again).
LIMITS = httpx.Limits(keepalive_expiry=4.0)
LISTS = {"tasks": "/tasks", "cases": "/cases", "reviews": "/reviews", "decisions": "/decisions"}
LINKED = {"case page": "/cases", "review page": "/reviews", "decision page": "/decisions"}
CASE_LINK = re.compile(r'href="(/(?:cases|reviews|decisions)/[0-9]{2}[A-Z]+[0-9]+)"')


# --- set-up: the call ---------------------------------------------------------------------


def planned_stages(references: list[str], seed: int) -> dict[str, CaseState]:
    """Where each case is to stand: STAGES' shares of the cases, drawn at random."""
    rng = random.Random(f"{seed}/stages")
    shuffled = rng.sample(references, len(references))
    plan, start = {}, 0
    for stage, share in STAGES.items():
        end = len(shuffled) if stage is CaseState.decided else start + round(share * len(shuffled))
        plan |= dict.fromkeys(shuffled[start:end], stage)
        start = end
    return plan


def stage_generate(args: argparse.Namespace) -> None:
    """In a process of its own (Prefect's temporary server ends with it): intake, the
    scripted people, the letters."""
    intake_bench.report_at_exit(args.result)  # the environment came from main()
    run_flow, intake = intake_bench.start_prefect()  # imports Prefect: must come first
    import flows.letters

    started = time.perf_counter()
    _, statuses, _ = intake_bench.run_intake(run_flow, intake, args.file, letters=False)
    intake_bench.expect(statuses == {"registered": args.cases}, f"intake: {dict(statuses)}")
    settings, today = load(), date.today()
    rules = settings.rules
    with transaction(settings.db_url) as session:
        references = list(session.exec(select(Case.case_reference).order_by(col(Case.id))))
    plan = planned_stages(references, args.seed)
    for reference, stage in plan.items():
        if stage is not CaseState.received:
            with transaction(settings.db_url) as session:
                rng = random.Random(f"{args.seed}/{reference}")
                call_bench.assess_case(session, reference, rules, today, rng, stage)
    sent = run_flow(flows.letters.send_letters)
    failed = sent["failed"] + sent["notices_failed"]
    intake_bench.expect(sent["sent"] == sent["created"] and not failed, f"letters: {sent}")
    with transaction(settings.db_url) as session:
        states = Counter(str(s) for s in session.exec(select(Case.state)))
    intake_bench.expect(states == Counter(str(s) for s in plan.values()), f"states: {states}")
    intake_bench.RESULT.update(
        seconds=time.perf_counter() - started, states=states, letters=sent["created"]
    )


def set_environment(workdir: Path, database_url: str) -> None:
    """GRANTS_* and Prefect's settings for this process and those it starts (generation,
    office): the workdir's home and configuration, the database, offline and quiet. Other
    GRANTS_* variables (a production database, an SMTP server) must not leak in, and the
    temporary local API is what runs, not a server named by PREFECT_API_URL."""
    for name in list(os.environ):
        if name.startswith("GRANTS_") or name in ("PREFECT_API_URL", "PREFECT_API_KEY"):
            del os.environ[name]
    os.environ |= {
        "GRANTS_HOME": str(workdir / "home"),
        "GRANTS_CONFIG": str(workdir / "grants.toml"),
        "PREFECT_HOME": str(workdir / "prefect"),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PYTHONPATH": str(PROJECT_ROOT),  # this checkout's code, in every process
    }
    if database_url:
        os.environ["GRANTS_DATABASE_URL"] = database_url


def write_config(workdir: Path) -> Path:
    """bench/call.py's configuration (a budget for every grant), with short sign-in links."""
    path = call_bench.write_config(workdir)
    text = path.read_text("utf-8")
    if "sign_in_link_minutes = 15" not in text:
        sys.exit(
            "config/grants.toml no longer says 'sign_in_link_minutes = 15'; update bench/web.py"
        )
    path.write_text(
        text.replace("sign_in_link_minutes = 15", f"sign_in_link_minutes = {LINK_MINUTES}")
    )
    return path


def prepare_call(args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    """The call in the workdir: reused if this bench made it there before, else generated."""
    marker = args.workdir / MARKER
    wanted = {"cases": args.cases, "seed": args.seed, "database": database_url or "sqlite"}
    if marker.exists():
        made = json.loads(marker.read_text())
        if {k: made[k] for k in wanted} != wanted:
            sys.exit(f"{args.workdir} holds another call ({made}); give an empty --workdir")
        print(f"  reusing the call in {args.workdir}", flush=True)
        return made | {"reused": True}
    if any(args.workdir.iterdir()):
        sys.exit(f"--workdir {args.workdir} is neither empty nor a call of this bench")
    today = date.today()
    write_config(args.workdir)  # first: the generator checks records against its call
    path = call_bench.write_applications(args.workdir, args.cases, args.seed, today)
    result = args.workdir / "result-generate.json"
    print(f"  generating {args.cases} cases and their letters (minutes) …", flush=True)
    command = [sys.executable, __file__, "--stage", "generate", "--workdir", str(args.workdir)]
    command += ["--result", str(result), "--file", str(path), "--cases", str(args.cases)]
    command += ["--seed", str(args.seed)]
    if subprocess.run(command).returncode != 0:
        sys.exit("generating the call failed; see the messages above")
    generated = json.loads(result.read_text())
    made = wanted | {k: generated[k] for k in ("seconds", "states", "letters")}
    marker.write_text(json.dumps(made))
    return made | {"reused": False}


# --- the office ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name: [0] is the state, [11] utime, [12] stime,
    [19] the start time (with the pid, what names a process)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by a process and those below it (utime + stime)."""
    total = 0
    for pid in intake_bench.descendants(root):
        try:
            fields = stat_fields(pid)
        except OSError:
            continue  # gone meanwhile
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Office:
    """`grants serve` in a subprocess, as a person starts it; stopped by its process id.
    With `workers` > 1, uvicorn's own worker processes on the office's application instead
    (grants serve runs one process: this says what more would give)."""

    def __init__(self, workdir: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"serve-{self.port}.log"
        command = [sys.executable, "-m", "grants", "serve", "--port", str(self.port)]
        if workers > 1:
            command = [sys.executable, "-m", "uvicorn", "--factory", "grants.web.app:create_app"]
            command += ["--port", str(self.port), "--workers", str(workers)]
            command += ["--log-level", "warning", "--proxy-headers"]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir
            )

    def wait_ready(self, timeout: float = 180.0) -> float:
        """Seconds until it answers, then until its start-up work is done (its process tree
        used under a tenth of a core for 3 s): what is measured is reading, not starting."""
        started = time.perf_counter()
        while True:
            self._check_alive()
            try:
                if httpx.get(f"{self.url}/login", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            self._check_time(started, timeout, "answer")
            time.sleep(0.2)
        quiet_since, before = time.perf_counter(), tree_cpu(self.process.pid)
        while time.perf_counter() - quiet_since < 3.0:
            time.sleep(1.0)
            self._check_alive()
            now = tree_cpu(self.process.pid)
            if now - before > 0.1:
                quiet_since = time.perf_counter()
            before = now
            self._check_time(started, timeout, "become quiet")
        return time.perf_counter() - started

    def _check_alive(self) -> None:
        if self.process.poll() is not None:
            sys.exit(f"grants serve exited ({self.process.returncode}):\n{self.log.read_text()}")

    def _check_time(self, started: float, timeout: float, what: str) -> None:
        if time.perf_counter() - started > timeout:
            sys.exit(f"grants serve did not {what} in {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down, Prefect's temporary server with it), then SIGKILL
        for any process of its tree still there: the same process, not a new one that got
        its id meanwhile."""
        tree = {}
        for pid in intake_bench.descendants(self.process.pid):
            with suppress(OSError):  # gone meanwhile
                tree[pid] = stat_fields(pid)[19]
        self.process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(30)
        for pid, started in tree.items():
            with suppress(OSError):
                if stat_fields(pid)[19] == started:
                    os.kill(pid, signal.SIGKILL)
        self.process.wait()


# --- the users ----------------------------------------------------------------------------


@dataclass
class Who:
    """A configured person: their sessions share what their lists link to."""

    email: str
    name: str
    role: Role
    conflicts: list[str]  # references of the cases where they declared a conflict
    hidden: re.Pattern[str] | None = None  # finds any of those in a page
    links: dict[str, list[str]] = field(default_factory=dict)  # page kind -> addresses
    asked: list[float] = field(default_factory=list)  # when a link was asked for


@dataclass
class User:
    number: int
    who: Who
    client: httpx.AsyncClient
    rng: random.Random


@dataclass
class Sample:
    kind: str
    seconds: float
    status: int
    size: int
    retried: bool  # sent again: the server had closed the idle kept-alive connection


def people(settings_file: dict[str, Any], db_url: str) -> list[Who]:
    """The configuration's people, each with the cases they declared a conflict in."""
    found = []
    with transaction(db_url) as session:
        for configured in settings_file["people"]:
            person = session.exec(select(Person).where(Person.email == configured["email"])).one()
            ids = conflicted_case_ids(session, person)
            query = select(Case.case_reference).where(col(Case.id).in_(ids))
            references = sorted(session.exec(query)) if ids else []
            hidden = None
            if references:
                alternatives = "|".join(map(re.escape, references))
                hidden = re.compile(rf"(?<![0-9A-Za-z])(?:{alternatives})(?![0-9])")
            found.append(Who(person.email, person.name, person.role, references, hidden))
    return found


async def sign_in(user: User, outbox: Path, lifetime: float) -> None:
    """As a person signs in: ask on the sign-in page, open the e-mailed link, confirm."""
    client, who = user.client, user.who
    await _within_rate_limit(who, lifetime)
    page = await client.get("/login")
    known = sign_in_mails(outbox)
    answer = await client.post(
        "/login", data={"csrf_token": TOKEN.search(page.text).group(1), "email": who.email}
    )
    who.asked.append(time.monotonic())  # after the office logged it: on the safe side
    intake_bench.expect(answer.status_code == 200, f"asking for a link: {answer.status_code}")
    token = await _new_link(outbox, who.email, known)
    page = await client.get(f"/login/link?token={token}")
    answer = await client.post(
        "/login/link", data={"csrf_token": TOKEN.search(page.text).group(1), "token": token}
    )
    intake_bench.expect(
        answer.status_code == 303 and answer.headers["location"] == "/tasks",
        f"signing in {who.email} with the link: {answer.status_code} {answer.text[:200]}",
    )


async def _within_rate_limit(who: Who, lifetime: float) -> None:
    """Wait until the office would give this address another link: 5 per link lifetime,
    one of which `grants serve` took at its start to print."""
    window = [t for t in who.asked if t > time.monotonic() - lifetime]
    if len(window) >= LINKS_PER_WINDOW - 1:
        await asyncio.sleep(window[0] + lifetime + 0.5 - time.monotonic())


async def _new_link(outbox: Path, email: str, known: set[str]) -> str:
    """The token of the link e-mailed since the outbox held the e-mails `known`."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        new = sign_in_links(outbox, email, skip=known)
        if new:
            return new[-1].split("token=", 1)[1].split("&", 1)[0]
        await asyncio.sleep(0.05)
    sys.exit(f"no sign-in link for {email} reached {outbox} in 10 s")


async def learn_links(user: User) -> None:
    """What the person's lists link to: the case pages their users will open."""
    who = user.who
    for kind, listing in LINKED.items():
        if kind in MIX[who.role]:
            page = await user.client.get(listing)
            intake_bench.expect(page.status_code == 200, f"{who.email} {listing}: {page}")
            found = {a for a in CASE_LINK.findall(page.text) if a.startswith(listing + "/")}
            who.links[kind] = sorted(found)


async def check_conflicts(user: User) -> int:
    """Each case the person declared a conflict in answers 404 to them, as for no case."""
    for reference in user.who.conflicts:
        page = await user.client.get(f"/reviews/{reference}")
        intake_bench.expect(
            page.status_code == 404, f"{user.who.email} /reviews/{reference}: {page.status_code}"
        )
    return len(user.who.conflicts)


async def fetch(client: httpx.AsyncClient, address: str) -> tuple[int, str, bool]:
    """(status, page, whether sent twice): a GET as a browser sends it, once more on a new
    connection when the server had just closed the kept-alive one (uvicorn closes one after
    5 s unused; a user reads a page up to 5 s). The time counts both tries."""
    try:
        return await _get(client, address) + (False,)
    except (httpx.RemoteProtocolError, httpx.ReadError):
        pass  # the connection was gone before the page came: as a browser, once more
    except httpx.HTTPError as error:
        return 0, f"{type(error).__name__}: {error}", False
    try:
        return await _get(client, address) + (True,)
    except httpx.HTTPError as error:
        return 0, f"{type(error).__name__}: {error}", True


async def _get(client: httpx.AsyncClient, address: str) -> tuple[int, str]:
    page = await client.get(address)
    return page.status_code, page.text


def choices(who: Who) -> list[tuple[str, list[str], int]]:
    """(kind, addresses, weight) of what this person reads."""
    found = []
    for kind, weight in MIX[who.role].items():
        if kind in LISTS:
            addresses = [LISTS[kind]]
        elif kind == "cases by state":
            addresses = [f"/cases?state={state}" for state in CaseState]
        else:
            addresses = who.links.get(kind, [])
        if addresses:
            found.append((kind, addresses, weight))
    return found


async def read_pages(
    user: User,
    until: float,
    count: int,
    pause: tuple[float, float],
    samples: list[Sample],
    failures: list[str],
) -> None:
    """One user's reading: a page, a pause, the next page; until the time or count is up."""
    menu = choices(user.who)
    weights = [weight for _, _, weight in menu]
    wait, done = user.rng.uniform(0, pause[1]), 0  # the first: not all at the same instant
    while (done < count) if count else (time.monotonic() + wait < until):
        await asyncio.sleep(wait)
        wait = user.rng.uniform(*pause)
        kind, addresses, _ = user.rng.choices(menu, weights)[0]
        address = user.rng.choice(addresses)
        start = time.perf_counter()
        status, text, retried = await fetch(user.client, address)
        samples.append(Sample(kind, time.perf_counter() - start, status, len(text), retried))
        if status != 200:
            failures.append(
                f"user {user.number} ({user.who.email}) {address}: {status} {text[:200]}"
            )
        elif user.who.hidden is not None and (shown := user.who.hidden.search(text)):
            failures.append(
                f"user {user.number} ({user.who.email}) {address}: shows {shown.group(0)}, "
                "a case with their declared conflict of interest"
            )
        done += 1


# --- the run ------------------------------------------------------------------------------


@dataclass
class Run:
    """What a run gave: every request's time, the failures, and the machine meanwhile."""

    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    sign_in_s: float = 0.0
    conflicts_checked: int = 0
    wall_s: float = 0.0
    office_cpu_s: float = 0.0
    own_cpu_s: float = 0.0
    machine_cpu_s: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after


async def run(args: argparse.Namespace, office: Office) -> Run:
    """Sign the users in, learn their lists' links, check conflicts, then read."""
    settings = load()
    everyone = people(settings.file, settings.db_url)
    result = Run()
    async with AsyncExitStack() as stack:
        users = [
            User(
                number,
                everyone[number % len(everyone)],
                await stack.enter_async_context(
                    httpx.AsyncClient(base_url=office.url, timeout=60, limits=LIMITS)
                ),
                random.Random(f"{args.seed}/user/{number}"),
            )
            for number in range(args.users)
        ]
        started = time.perf_counter()
        lifetime = LINK_MINUTES * 60
        await asyncio.gather(
            *(
                sign_in_each([u for u in users if u.who is who], settings.outbox_dir, lifetime)
                for who in everyone
            )
        )
        result.sign_in_s = time.perf_counter() - started
        first = list({user.who.email: user for user in reversed(users)}.values())
        await asyncio.gather(*(learn_links(user) for user in first))
        result.conflicts_checked = sum(await asyncio.gather(*(check_conflicts(u) for u in first)))
        await read_all(args, office, users, result)
    return result


async def sign_in_each(users: list[User], outbox: Path, lifetime: float) -> None:
    """One person's sessions, one after the other (the rate limit is per address)."""
    for user in users:
        await sign_in(user, outbox, lifetime)


async def read_all(args: argparse.Namespace, office: Office, users: list[User], into: Run) -> None:
    """Every user reading at once, with the CPU the office, this process and the whole
    machine used meanwhile."""
    before = (
        tree_cpu(office.process.pid),
        intake_bench.cpu_seconds(resource.RUSAGE_SELF),
        intake_bench.machine_cpu()[0],
        os.getloadavg()[0],
    )
    started = time.perf_counter()
    until = time.monotonic() + args.duration
    await asyncio.gather(
        *(
            read_pages(u, until, args.requests, args.pause, into.samples, into.failures)
            for u in users
        )
    )
    into.wall_s = time.perf_counter() - started
    into.office_cpu_s = tree_cpu(office.process.pid) - before[0]
    into.own_cpu_s = intake_bench.cpu_seconds(resource.RUSAGE_SELF) - before[1]
    into.machine_cpu_s = intake_bench.machine_cpu()[0] - before[2]
    into.load = (before[3], os.getloadavg()[0])


# --- the report ---------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted `values`."""
    return values[max(0, math.ceil(q / 100 * len(values)) - 1)]


def ms(seconds: float) -> str:
    """Milliseconds: one decimal below 10 ms, whole above."""
    return f"{1000 * seconds:.1f}" if seconds < 0.01 else f"{1000 * seconds:.0f}"


def report(
    args: argparse.Namespace, call: dict[str, Any], database: str, ready_s: float, result: Run
) -> list[str]:
    times = sorted(s.seconds for s in result.samples)
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in result.samples:
        by_kind[sample.kind].append(sample)
    made = "reused from the workdir" if call["reused"] else f"made in {call['seconds']:.0f} s"
    states = ", ".join(f"{state} {n}" for state, n in Counter(call["states"]).most_common())
    others = max(0.0, result.machine_cpu_s - result.office_cpu_s - result.own_cpu_s)
    served = "grants serve, one process"
    if args.workers > 1:
        served = f"uvicorn with {args.workers} worker processes (not grants serve)"
    lines = [
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; workdir {args.workdir}",
        f"call: {args.cases} cases ({states}), {call['letters']} letters; {made}",
        f"office: {served}, on {database}; answering and quiet after {ready_s:.1f} s",
        f"sessions: {args.users}, signed in through e-mailed links in {result.sign_in_s:.1f} s; "
        f"{result.conflicts_checked} cases with a declared conflict of interest answer 404 "
        "to the person who declared it",
        f"reading: {len(times)} requests in {result.wall_s:.1f} s = "
        f"{len(times) / result.wall_s:.1f} requests/s, a user reading each page "
        f"{args.pause[0]:g}–{args.pause[1]:g} s; failures: {len(result.failures)}; sent twice "
        f"(the server had closed the idle connection, a browser resends): "
        f"{sum(s.retried for s in result.samples)}",
    ]
    for kind, samples in sorted(by_kind.items(), key=lambda item: -len(item[1])):
        kind_times = sorted(s.seconds for s in samples)
        size = sum(s.size for s in samples) / len(samples) / 1024
        lines.append(
            f"  {kind:<15} {len(samples):>6}  p50 {ms(percentile(kind_times, 50)):>5} ms  "
            f"p95 {ms(percentile(kind_times, 95)):>5} ms  max {ms(kind_times[-1]):>5} ms  "
            f"{size:.0f} KiB"
        )
    lines += [
        f"all requests: p50 {ms(percentile(times, 50))} ms, p90 {ms(percentile(times, 90))} ms, "
        f"p95 {ms(percentile(times, 95))} ms, p99 {ms(percentile(times, 99))} ms, "
        f"max {ms(times[-1])} ms (goal p95 < {GOAL_MS:.0f} ms: "
        f"{'met' if percentile(times, 95) * 1000 < GOAL_MS else 'NOT met'})",
        f"CPU during the reading: office {result.office_cpu_s:.1f} s "
        f"({1000 * result.office_cpu_s / len(times):.1f} ms a request), this client "
        f"{result.own_cpu_s:.1f} s, everything else on the machine {others:.1f} s; load "
        f"average {result.load[0]:.2f} before, {result.load[1]:.2f} after",
    ]
    lines += [f"FAILED: {failure}" for failure in result.failures[:20]]
    if len(result.failures) > 20:
        lines.append(f"… and {len(result.failures) - 20} more failures")
    lines.append(f"web: p95 {ms(percentile(times, 95))} ms at {args.users} users")
    return lines


# --- main ---------------------------------------------------------------------------------


def database_for(args: argparse.Namespace, stack: ExitStack) -> str:
    """'' for the workdir's SQLite file; else a PostgreSQL database URL (a throwaway
    server's, started here, when --postgres names none)."""
    if args.postgres is None:
        return ""
    if args.postgres != "start":
        return args.postgres
    from tests.postgres import create_database, postgres_server

    base = stack.enter_context(postgres_server(free_port()))
    return create_database(base, "grants_web_bench")


def main(args: argparse.Namespace) -> None:
    args.workdir, created = workdir(args.workdir)
    with ExitStack() as stack:
        if created and not args.keep:
            stack.callback(intake_bench.clean_up, args.workdir, True)
        else:
            stack.callback(print, f"kept {args.workdir}")
        print(f"Office benchmark in {args.workdir}", flush=True)
        database_url = database_for(args, stack)
        set_environment(args.workdir, database_url)
        call = prepare_call(args, database_url)
        database = "PostgreSQL" if database_url else "SQLite (embedded)"
        print(f"  starting grants serve on {database} …", flush=True)
        office = Office(args.workdir, args.workers)
        stack.callback(office.stop)
        ready_s = office.wait_ready()
        print(
            f"  {args.users} users reading for {args.duration} s …"
            if not args.requests
            else f"  {args.users} users reading {args.requests} pages each …",
            flush=True,
        )
        result = asyncio.run(run(args, office))
        print(f"\n{'—' * 30} report {'—' * 30}")
        print("\n".join(report(args, call, database, ready_s, result)))


def workdir(given: Path | None) -> tuple[Path, bool]:
    """(workdir, made by us): a given one is kept (and may hold a call to reuse)."""
    if given is None:
        return Path(tempfile.mkdtemp(prefix="grants-web-bench-")), True
    given.mkdir(parents=True, exist_ok=True)
    return given.resolve(), False


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--cases", type=int, default=1_000, help="cases in the call (default 1000)")
    add("--users", type=int, default=50, help="signed-in users (default 50)")
    add("--duration", type=float, default=60.0, help="seconds of reading (default 60)")
    add("--requests", type=int, default=0, help="pages per user instead of a duration")
    add(
        "--pause",
        type=float,
        nargs=2,
        default=(1.0, 5.0),
        metavar=("MIN", "MAX"),
        help="seconds a user reads a page before the next, at random between (default 1 5)",
    )
    add(
        "--postgres",
        nargs="?",
        const="start",
        metavar="URL",
        help="PostgreSQL: an empty database's URL, or none to start a throwaway server",
    )
    add("--workers", type=int, default=1, help="uvicorn processes, not grants serve's one")
    add("--workdir", type=Path, help="kept; a call made there before is reused")
    add("--keep", action="store_true", help="keep the temporary workdir")
    add("--seed", type=int, default=2026, help="for the call and the users")
    for name, kind in (("--stage", str), ("--result", Path), ("--file", Path)):
        add(name, type=kind, help=argparse.SUPPRESS)  # internal: the generation stage
    args = parser.parse_args()
    if min(args.cases, args.users, args.workers) < 1 or args.duration <= 0 or args.requests < 0:
        parser.error("--cases, --users and --workers: at least 1; --duration: above 0")
    if not 0 <= args.pause[0] <= args.pause[1]:
        parser.error(f"--pause {args.pause[0]:g} {args.pause[1]:g}: need 0 <= MIN <= MAX")
    return args


if __name__ == "__main__":
    arguments_ = arguments()
    if arguments_.stage == "generate":
        stage_generate(arguments_)
    else:
        main(arguments_)
