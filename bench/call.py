"""Call benchmark: a whole call of generated applications through the whole path.

    .venv/bin/python bench/call.py                   # 1 000 applications
    .venv/bin/python bench/call.py --count 300 --repeat 3   # the median of three calls
    .venv/bin/python bench/call.py --count 50 --keep
    .venv/bin/python bench/call.py --server          # the letters through two workers

Goal (from the issue): the letters through the flows at 95% or more of the letters per
second WeasyPrint alone makes on the same cores. The last line says it:
`letters through the flows (stages 1 and 3): N in S s = R letters/s = P% of WeasyPrint alone's …`

Stages, each in a process of its own as in bench/intake.py (so that each peak memory is its
own), sharing one case database; Prefect's temporary server start-up is timed apart, and the
render workers start during it, as `grants intake` and `grants deliver` start them:
  1. intake of the applications through the `intake` flow, with acknowledgement letters;
     then WeasyPrint alone (4) on the letters stage 1 made;
  2. assessment in the domain by scripted people, one transaction per case (the letters it
     orders are made in 3): checklist (a tenth first get a request for supplement, and the
     supplement comes), conflict declarations, two reviews, the meeting (skipped, or booked
     and documented), the draft, its submission, the signature;
  3. the `send-letters` flow once: renders and delivers every letter stage 2 ordered; then
     WeasyPrint alone (4) on the letters stage 3 made;
  4. WeasyPrint alone: the letters a flow stage just made again, same templates and
     contexts, in one spawned process per core, warm; no database, no Prefect. It runs
     right after each flow stage, so that both see the machine in the same state.
Letters/s through the flows = letters of stages 1 and 3 / (stage 1 + stage 3), against those
of stage 4's two runs. A shared machine moves that figure from one call to the next:
`--repeat N` runs N calls, each on a fresh database, and gives the median of the N figures
and their spread, each figure from a call's own pair of flows and WeasyPrint alone. Beside
it: the CPU time per letter of each kind of process during the flows (render workers, the
flows' own process by part, Prefect's server), against WeasyPrint's.

--server: the same call in server mode, on a PostgreSQL started here (tests/postgres.py): a
Prefect server on its own database, the pool `grants` with the deployments of prefect.yaml,
and two `grants worker`s (tests/server_mode.py), all on this machine's cores. Stage 1 takes
the applications in without letters and stage 2 assesses them; then one `send-letters`
deployment run, as the schedule starts it, hands a share of the batch to a run on the other
worker and renders its own, and the figure is from its start until every letter is sent
(read from the case database), against stage 4. Both workers render on the same cores, so
expect no gain over one: the figure says what the hand-over costs. It runs once (no
--repeat). Linux only (/proc).
"""

import argparse
import importlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from grants import render
from grants.settings import load
from models.access import case_for
from models.checklist import Finding, complete_checklist
from models.communication import communicate
from models.db import transaction
from models.decisions import prepare_draft, sign, submit_for_decision
from models.letters import DECISION_TRANSLATION, letter_context, waiting_to_render
from models.meetings import book_meeting, document_meeting, skip_meeting
from models.reviews import declare_conflict, submit_review
from models.rules import Rules
from models.states import CaseState
from models.supplements import register_supplement
from models.tables import (
    STOCKHOLM,
    Answer,
    AuditEvent,
    Case,
    ConflictGround,
    Criterion,
    Decision,
    DeliveryState,
    Letter,
    Person,
    Recommendation,
)
from models.validation import ECONOMIC_FORMS
from models.working_days import add_working_days

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench/intake.py: the generator, the stage helpers and the memory watcher (not a package).
intake_bench = importlib.import_module("intake")
RESULT = intake_bench.RESULT  # what a stage process reports, written at its exit

GOAL = 0.95  # letters/s through the flows, as a share of WeasyPrint alone's on the same cores
# (stage, name of its result): WeasyPrint alone right after each flow stage, on its letters.
STAGES = (
    ("intake", "intake"),
    ("raw", "raw after intake"),
    ("assess", "assess"),
    ("letters", "letters"),
    ("raw", "raw after letters"),
)
SERVER_STAGES = ("intake-only", "assess", "send", "raw")  # --server
WORKERS = ("w1", "w2")
# What the flows' own process does per letter, apart: claiming a chunk and making its
# letters' contexts, storing rendered PDFs, delivering (building, serialising, sending,
# recording); timed by the CPU time of the thread that runs them, so waiting is left out.
PARTS = ("_claim_chunk", "_store", "_deliver")
# The scripted people of config/grants.toml: case officer, two advisors, decision maker.
PEOPLE = (
    "maria.lindqvist@regionorebrolan.example.se",
    "lena.holm@activa.example.se",
    "johan.ek@coompanion.example.se",
    "karin.sjoberg@regionorebrolan.example.se",
)
COOMPANION_ORG = "Coompanion Mälardalen"
EARLIER_AID = [
    {"grantor": "Tillväxtverket", "amount": 150_000, "granted_on": f"{date.today().year - 1}-05-12"}
]
BIG_BUDGET = 10**9  # every grant must fit: the budget check is measured, not the refusal


# --- the files the stages share -----------------------------------------------------------


def write_applications(workdir: Path, count: int, seed: int, today: date) -> Path:
    """bench/intake.py's valid applications, a tenth with Coompanion Mälardalen as a partner,
    so that its advisor has a conflict of interest to declare there; an economic
    association's with its declaration of other de minimis aid, which a grant to it needs
    (models.state_aid), a third of them with aid received a year ago."""
    rng = random.Random(seed)
    records = intake_bench.generate(count, seed, today)
    for record in records:
        if rng.random() < 0.1:
            record["partners"] += [{"name": COOMPANION_ORG, "support": "Affärsrådgivning"}]
        if record["legal_form"] in ECONOMIC_FORMS:
            record["other_de_minimis_aid"] = "inga" if rng.random() < 2 / 3 else EARLIER_AID
    intake_bench.check_generated(records, today)
    path = workdir / "applications.json"
    path.write_text(json.dumps(records, ensure_ascii=False), "utf-8")
    return path


def write_config(workdir: Path) -> Path:
    """config/grants.toml with a budget that holds every grant of the call."""
    text = (intake_bench.PROJECT_ROOT / "config" / "grants.toml").read_text("utf-8")
    if "budget = 600000" not in text:
        sys.exit("config/grants.toml no longer says 'budget = 600000'; update bench/call.py")
    path = workdir / "grants.toml"
    path.write_text(text.replace("budget = 600000", f"budget = {BIG_BUDGET}"), "utf-8")
    return path


# --- stage 1 and 3: the flows -------------------------------------------------------------


def stage_intake(path: Path, count: int) -> None:
    """1. The intake flow with acknowledgement letters, after Prefect's start-up; the render
    workers start during it, as `grants intake` starts them."""
    render.start_workers(count)
    run_flow, intake = intake_bench.start_prefect()  # imports Prefect: must come first
    import flows.intake
    import flows.letters  # the intake flow sends its letters through flows.letters.send_due

    spent = intake_bench.time_tasks(("register_batch",), flows.intake)
    sending = intake_bench.time_tasks(("render_letters", "deliver_letters"), flows.letters)
    parts = intake_bench.time_cpu(PARTS, flows.letters)
    before = intake_bench.tree_cpu()
    seconds, statuses, letters = intake_bench.run_intake(run_flow, intake, path, letters=True)
    RESULT.update(cpu=intake_bench.tree_cpu() - before, parts=parts)
    expect = intake_bench.expect
    expect(statuses == {"registered": count}, f"intake: {dict(statuses)}")
    expect(letters == {"created": count, "sent": count, "failed": 0}, f"letters: {letters}")
    RESULT.update(seconds=seconds, letters=count, tasks=dict(spent) | dict(sending))


def stage_letters() -> None:
    """3. The send-letters flow once, for everything the assessment ordered; the render
    workers start during Prefect's start-up, as `grants deliver` starts them."""
    with transaction(load().db_url) as session:
        render.start_workers(len(waiting_to_render(session, 100)))
    run_flow, _ = intake_bench.start_prefect()  # imports Prefect: must come first
    import flows.letters

    spent = intake_bench.time_tasks(
        ("render_letters", "deliver_notices", "deliver_letters"), flows.letters
    )
    parts = intake_bench.time_cpu(PARTS, flows.letters)
    before, start = intake_bench.tree_cpu(), time.perf_counter()
    sent = run_flow(flows.letters.send_letters)
    RESULT.update(seconds=time.perf_counter() - start, letters=sent["created"], tasks=spent)
    RESULT.update(cpu=intake_bench.tree_cpu() - before, parts=parts)
    failed = sent["failed"] + sent["notices_failed"]
    with transaction(load().db_url) as session:  # each sent in its decision's e-mail
        query = select(Letter.id).where(Letter.kind == DECISION_TRANSLATION)
        carried = len(session.exec(query.where(Letter.delivery_state == DeliveryState.sent)).all())
    intake_bench.expect(
        sent["sent"] + carried == sent["created"] and not failed,
        f"send-letters: {sent}, {carried} translations sent with their decisions",
    )


# --- stages 1 and 3 in server mode ---------------------------------------------------------


def stage_intake_only(path: Path, count: int) -> None:
    """1. (server mode) The intake flow without letters: they wait for stage 3."""
    run_flow, intake = intake_bench.start_prefect()  # imports Prefect: must come first
    seconds, statuses, _ = intake_bench.run_intake(run_flow, intake, path, letters=False)
    intake_bench.expect(statuses == {"registered": count}, f"intake: {dict(statuses)}")
    RESULT.update(seconds=seconds, cases=count)


def stage_send() -> None:
    """3. (server mode) One send-letters deployment run, as the schedule starts it; timed
    until every letter is sent, read from the case database twice a second."""
    from grants.embedded import configure_prefect

    settings = load()
    configure_prefect(settings)  # before Prefect is imported
    from prefect.deployments import run_deployment

    from flows.letters import SEND_LETTERS

    with transaction(settings.db_url) as session:
        total = len(session.exec(select(Letter.id)).all())
    started, start = datetime.now(UTC), time.perf_counter()
    deadline = time.monotonic() + 30 * 60
    run_deployment(SEND_LETTERS, timeout=0, _sync=True)
    while True:
        with transaction(settings.db_url) as session:
            states = Counter(session.exec(select(Letter.delivery_state)))
        if states[DeliveryState.sent] == total or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    RESULT.update(seconds=time.perf_counter() - start, letters=total)
    intake_bench.expect(states == {DeliveryState.sent: total}, f"letters: {dict(states)}")
    with transaction(settings.db_url) as session:
        events = list(
            session.exec(select(AuditEvent).where(col(AuditEvent.action).like("letter_%")))
        )
    created = [event for event in events if event.action == "letter_created"]
    RESULT["rendered_by"] = Counter(event.detail["rendered_by"] for event in created)
    RESULT["sent_events"] = sum(1 for event in events if event.action == "letter_sent")
    first = min(event.at for event in created)
    first = first if first.tzinfo else first.replace(tzinfo=UTC)  # stored without its zone
    RESULT["first_stored_s"] = (first - started).total_seconds()


# --- stage 2: the assessment, by scripted people ------------------------------------------


def review_choice(
    rng: random.Random, requested: int
) -> tuple[Recommendation, int | None, list[str]]:
    """(recommendation, amount, other funding): mostly granted, a fifth partly, a tenth
    refused with advice where else to apply."""
    draw = rng.random()
    if draw < 0.1:
        return Recommendation.refused, None, ["Allmänna arvsfonden"]
    if draw < 0.3 and requested > 20_000:
        return Recommendation.partly_granted, max(20_000, requested - 5_000), []
    return Recommendation.granted, None, []


def assess_case(
    session: Session,
    reference: str,
    rules: Rules,
    today: date,
    rng: random.Random,
    until: CaseState = CaseState.decided,
) -> None:
    """One case from the checklist towards the signature, each step by its person, through
    case_for with the row locked as the command line takes it. It stops where the case
    reaches `until` (bench/web.py leaves cases at every stage of the path): in review with
    none, one or both reviewers' declarations in, drafting with a draft, in communication
    with the draft sent to the applicant."""
    people = {p.email: p for p in session.exec(select(Person))}
    officer, activa, coompanion, maker = (people[email] for email in PEOPLE)
    case = case_for(session, reference, officer, lock=True)
    met = {c: Finding(Answer.met) for c in Criterion}
    if rng.random() < 0.1 or until is CaseState.awaiting_supplement:
        unclear = Finding(Answer.unclear, "Beskriv förebilderna.")
        complete_checklist(
            session, case, officer, met | {Criterion.new_locally: unclear}, rules, today
        )
        if until is CaseState.awaiting_supplement:
            return
        register_supplement(session, case, officer, "svar.txt", "Förebilder: …".encode())
    complete_checklist(session, case, officer, met, rules, today)
    declared = rng.randrange(3) if until is CaseState.in_review else 3  # steps taken in review
    if declared == 0:
        return
    partner = any(p["name"] == COOMPANION_ORG for p in case.partners)
    ground = ConflictGround.own_organisation if partner else ConflictGround.none
    note = f"{COOMPANION_ORG} är partner i projektet." if partner else ""
    declare_conflict(
        session, case_for(session, reference, coompanion), coompanion, ground, note, rules
    )
    recommendation, amount, other = review_choice(rng, case.requested_amount)
    reasons = {c: f"{c.value}: bedömt." for c in Criterion}
    for reviewer in (activa, officer)[: declared - 1]:
        case = case_for(session, reference, reviewer)
        declare_conflict(session, case, reviewer, ConflictGround.none, "", rules)
        submit_review(session, case, reviewer, recommendation, amount, reasons, other, "", rules)
    if until in (CaseState.in_review, CaseState.applicant_meeting):
        return
    if rng.random() < 0.1:
        # One meeting a slot: the officer is never in two at once (a slot is 2 hours).
        now = datetime.now(STOCKHOLM)
        slot = case.id
        day = add_working_days(now.date(), 5 + slot // 4)
        starts = datetime(day.year, day.month, day.day, 8 + 2 * (slot % 4), tzinfo=STOCKHOLM)
        place = f"Regionens hus, Örebro, rum {slot}"
        book_meeting(session, case, officer, starts, rules.meeting_minutes, place, now)
        text = "Sökanden berättade om projektets förebilder."
        document_meeting(session, case, officer, text, starts + timedelta(hours=2))
    else:
        skip_meeting(session, case, officer, "Ansökan är tydlig; inget möte behövs.")
    wording = {c.value: f"{c.value}: uppfyllt." for c in Criterion}
    adverse = recommendation is not Recommendation.granted
    decisive = "Budgeten är för hög." if adverse else ""
    prepare_draft(session, case, officer, rules, reasons=wording, decisive=decisive)
    if until is CaseState.drafting_decision:
        return
    if until is CaseState.communication:
        communicate(session, case, officer, rules, today)
        return
    unnecessary = "Sökanden har själv föreslagit beslutet vid mötet." if adverse else ""
    submit_for_decision(session, case, officer, rules, unnecessary)
    if until is CaseState.awaiting_decision:
        return
    sign(session, case_for(session, reference, maker, lock=True), maker, rules)


def stage_assess(seed: int) -> None:
    """2. Every received case through the assessment, one transaction per case."""
    settings, today = load(), date.today()
    rules = settings.rules
    with transaction(settings.db_url) as session:
        query = select(Case.case_reference).where(Case.state == CaseState.received)
        references = list(session.exec(query.order_by(col(Case.id))))
    start = time.perf_counter()
    for reference in references:
        with transaction(settings.db_url) as session:
            assess_case(session, reference, rules, today, random.Random(f"{seed}/{reference}"))
    RESULT.update(seconds=time.perf_counter() - start, cases=len(references))
    with transaction(settings.db_url) as session:
        states = Counter(session.exec(select(Case.state)))
        RESULT["outcomes"] = Counter(session.exec(select(Decision.outcome)))
        to_render = Letter.delivery_state == DeliveryState.to_render
        RESULT["ordered"] = Counter(session.exec(select(Letter.kind).where(to_render)))
    intake_bench.expect(states == {"decided": len(references)}, f"states: {dict(states)}")


# --- stage 4: WeasyPrint alone ------------------------------------------------------------


def letters_after(since: int) -> list[tuple[int, str, str, dict[str, Any]]]:
    """(id, kind, template, context) of the letters in the database after the letter `since`,
    as render_letters makes them."""
    settings = load()
    authority, today = settings.file["authority"], date.today()
    query = select(Letter).where(col(Letter.id) > since).order_by(col(Letter.id))
    for relation in (Case.organisation, Case.call, Case.case_officer):
        query = query.options(selectinload(Letter.case).selectinload(relation))
    with transaction(settings.db_url) as session:
        return [
            (
                letter.id,
                letter.kind,
                f"letters/{letter.kind}.{letter.language}.html",
                letter_context(letter, authority, today),
            )
            for letter in session.exec(query)
        ]


def stage_raw(since: int) -> None:
    """4. The letters after the letter `since` again (those the flow stage before made), one
    spawned process per core, each taking the next letter as it frees up, timed once all are
    warm (bench/intake.py's workers); no database, no Prefect."""
    import multiprocessing

    letters = letters_after(since)
    jobs = [(template, context) for _, _, template, context in letters]
    workers = os.cpu_count() or 1
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(workers)
    cold = time.perf_counter()
    with context.Pool(workers, intake_bench._warm_worker, (jobs[0], ready)) as pool:
        rendered = intake_bench.render_alone(pool, jobs)
    RESULT.update(
        seconds=rendered["seconds"],
        cpu_s=rendered["cpu_s"],
        cold_s=time.perf_counter() - cold,
        letters=len(jobs),
        workers=workers,
        kinds=Counter(kind for _, kind, _, _ in letters),
        last_id=letters[-1][0],
    )


def run_stage(args: argparse.Namespace) -> None:
    """The entry point of a stage process: the shared case database, the big-budget config."""
    intake_bench.report_at_exit(args.result)  # first: its atexit runs after Prefect's
    if not args.server:  # in server mode the orchestrating process gives the environment
        intake_bench.stage_environment(args.workdir, "home")  # the call's own directory
        os.environ["GRANTS_CONFIG"] = str(args.file.parent / "grants.toml")
    stages = {
        "intake": lambda: stage_intake(args.file, args.count),
        "assess": lambda: stage_assess(args.seed),
        "letters": stage_letters,
        "raw": lambda: stage_raw(args.since),
        "intake-only": lambda: stage_intake_only(args.file, args.count),
        "send": stage_send,
    }
    stages[args.stage]()


# --- the orchestrating process ------------------------------------------------------------


@dataclass
class Server:
    """Server mode as --server starts it: the environment of its stages, and the PostgreSQL
    server's first process (it runs as its own user, outside this process tree)."""

    env: dict[str, str]
    postmaster: int

    def cpu(self) -> float:
        """CPU seconds so far of the servers and workers started here, with the runs and
        render workers of theirs that have ended (call it while no stage runs)."""
        roots = [self.postmaster, *intake_bench.children().get(os.getpid(), [])]
        return sum(intake_bench.process_tree_cpu(pid) for pid in roots)


@contextmanager
def server_mode(args: argparse.Namespace) -> Iterator[Server]:
    """PostgreSQL with the case database, a Prefect server on its own database with the pool
    and the deployments, and two `grants worker`s; their output in the workdir."""
    from tests.conftest import free_port
    from tests.postgres import create_database, postgres_server
    from tests.server_mode import prefect_server

    port = free_port()
    with postgres_server(port) as postgres:
        grants_env = {
            "GRANTS_HOME": str(args.workdir / "home"),
            "GRANTS_CONFIG": str(args.workdir / "grants.toml"),
            "GRANTS_DATABASE_URL": create_database(postgres, "grants_call"),
        }
        with prefect_server(postgres, args.workdir / "prefect-server", free_port()) as server:
            for name in WORKERS:
                server.start_worker(name, grants_env)
            server.wait_for_workers(*WORKERS)
            yield Server(server.env(**grants_env), postmaster(port))


def postmaster(port: int) -> int:
    """The process id of the PostgreSQL server listening on `port` (tests/postgres.py)."""
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile, or not a process
        postgres = Path(argv[0].decode()).name == "postgres" and b"-p" in argv
        if postgres and argv[argv.index(b"-p") + 1] == str(port).encode():
            return int(entry.name)
    raise RuntimeError(f"no PostgreSQL server on port {port}")


def spawn_stage(
    name: str,
    args: argparse.Namespace,
    path: Path,
    server: Server | None = None,
    workdir: Path | None = None,
    since: int = 0,
) -> dict[str, Any]:
    """Run one stage in a new process of this script, in `workdir` (the call's; default the
    benchmark's) and for a raw stage on the letters after the letter `since`; its result,
    with its tree's peak memory and the CPU time others took on the machine meanwhile (in
    server mode, others than the servers and workers started here)."""
    workdir = workdir or args.workdir
    result = workdir / f"result-{name}-{since}.json"
    command = [sys.executable, __file__, "--stage", name, "--workdir", str(workdir)]
    command += ["--result", str(result), "--file", str(path), "--count", str(args.count)]
    command += ["--seed", str(args.seed), "--since", str(since)]
    command += ["--server"] if server else []
    print(f"  stage {name} …", flush=True)
    started, machine = time.perf_counter(), intake_bench.machine_cpu()
    own = intake_bench.cpu_seconds(resource.RUSAGE_SELF)
    servers = server.cpu() if server else 0.0
    process = subprocess.Popen(command, env=server.env if server else None)
    sampler = intake_bench.TreePeak(process.pid)
    sampler.start()
    code = process.wait()
    sampler.done.set()
    sampler.join()
    if code != 0:
        sys.exit(f"stage {name} failed (exit status {code}); see the messages above")
    data = json.loads(result.read_text())
    data |= {"tree_peak_mb": sampler.total_kib / 1024, "children_mb": sampler.children_mb()}
    data["stage_wall_s"] = time.perf_counter() - started
    busy = intake_bench.machine_cpu()[0] - machine[0]
    ours = data["cpu_self_s"] + data["cpu_children_s"]
    ours += intake_bench.cpu_seconds(resource.RUSAGE_SELF) - own
    if server:
        data["servers_cpu_s"] = server.cpu() - servers
        ours += data["servers_cpu_s"]
    data["other_cpu_s"] = max(0.0, busy - ours)
    return data


def run_call(args: argparse.Namespace, path: Path, workdir: Path) -> dict[str, dict[str, Any]]:
    """One call through STAGES in `workdir` (a database and a Prefect home of its own); the
    results by name, the two runs of WeasyPrint alone also together as "raw"."""
    workdir.mkdir(exist_ok=True)
    runs: dict[str, dict[str, Any]] = {}
    since = 0
    for stage, name in STAGES:
        runs[name] = spawn_stage(stage, args, path, workdir=workdir, since=since)
        since = runs[name].get("last_id", since)
    runs["raw"] = both_raw(runs["raw after intake"], runs["raw after letters"])
    return runs


def both_raw(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """WeasyPrint alone's two runs of a call as one: their letters, times and kinds summed,
    the memory of the larger."""
    larger = max(first, second, key=lambda run: run["tree_peak_mb"])
    summed = {key: first[key] + second[key] for key in ("letters", "seconds", "cpu_s", "cold_s")}
    kinds = Counter(first["kinds"]) + Counter(second["kinds"])
    return larger | summed | {"kinds": kinds}


def other_work(runs: dict[str, dict[str, Any]]) -> str:
    """The CPU other work took during each stage, and whether it disturbed the figures."""
    other = ", ".join(f"{name} {run['other_cpu_s']:.1f} CPU-s" for name, run in runs.items())
    return f"other work on this machine during the stages: {other}" + (
        " — DISTURBED: more than 10% of a core; run again" if disturbed(runs) else ""
    )


def disturbed(runs: dict[str, dict[str, Any]]) -> bool:
    """Whether other work took more than a tenth of a core during any of the stages."""
    return any(run["other_cpu_s"] > 0.1 * run["stage_wall_s"] for run in runs.values())


def stages_of(runs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A call's stage processes, without the two runs of WeasyPrint alone taken together."""
    return {name: runs[name] for _, name in STAGES}


def kinds(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items(), key=lambda i: -i[1]))


def report(args: argparse.Namespace, runs: dict[str, dict[str, Any]], wall: float) -> list[str]:
    """One line per figure, the headline last; the memory lines say what each figure covers."""
    intake, assess, letters, raw = (runs[name] for name in ("intake", "assess", "letters", "raw"))
    made, ordered = letters["letters"], sum(assess["ordered"].values())
    intake_bench.expect(made == ordered, f"assessment: {ordered} letters ordered, {made} made")
    made += intake["letters"]
    intake_bench.expect(made == raw["letters"], f"{made} letters made, {raw['letters']} alone")
    path_s = intake["seconds"] + assess["seconds"] + letters["seconds"]
    making_s = intake["seconds"] + letters["seconds"]
    memory = intake_bench.memory_line
    return [
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; workdir {args.workdir}",
        f"1 intake flow with acknowledgements: {args.count} applications, {intake['letters']} "
        f"letters in {intake['seconds']:.1f} s (Prefect start-up before it "
        f"{intake['startup_s']:.1f} s, not counted)",
        intake_bench.where(intake["seconds"], intake["tasks"]),
        "  " + memory("stage 1", intake),
        f"2 assessment (domain): {assess['cases']} cases to a signed decision in "
        f"{assess['seconds']:.1f} s = {assess['cases'] / assess['seconds']:.0f} cases/s, one "
        f"transaction each; outcomes: {kinds(assess['outcomes'])}; "
        f"letters ordered: {kinds(assess['ordered'])}",
        "  " + memory("stage 2", assess),
        f"3 letters after assessment (send-letters flow): {letters['letters']} letters rendered "
        f"and delivered in {letters['seconds']:.1f} s (Prefect start-up before it "
        f"{letters['startup_s']:.1f} s, not counted)",
        intake_bench.where(letters["seconds"], letters["tasks"]),
        "  " + memory("stage 3", letters),
        f"4 WeasyPrint alone: the same {raw['letters']} letters in {raw['seconds']:.1f} s = "
        f"{raw['letters'] / raw['seconds']:.1f} letters/s in {raw['workers']} spawned processes, "
        f"warm (with their start-up {raw['cold_s']:.1f} s), right after stages 1 and 3: "
        + "; ".join(
            f"stage {number} {rate(flow):.2f} letters/s = {100 * rate(flow) / rate(alone):.0f}% "
            f"of the {rate(alone):.2f} letters/s after it"
            for number, flow, alone in (
                (1, intake, runs["raw after intake"]),
                (3, letters, runs["raw after letters"]),
            )
        ),
        "  " + memory("stage 4 (the larger of its two runs)", raw),
        f"letters by kind: {kinds(raw['kinds'])}",
        f"wall time: {wall:.1f} s in all (five stage processes, two Prefect start-ups); the "
        f"path itself, stages 1–3: {path_s:.1f} s = "
        f"{made / path_s:.1f} letters/s end to end",
        *beyond(made, making_s, [intake, letters], raw),
        other_work(stages_of(runs)),
        headline(made, making_s, raw),
    ]


def rate(run: dict[str, Any]) -> float:
    """A stage's letters per second."""
    return run["letters"] / run["seconds"]


def share(runs: dict[str, dict[str, Any]]) -> tuple[float, float, float]:
    """A call's letters/s through the flows (stages 1 and 3), WeasyPrint alone's on the same
    letters, and the first as a share of the second."""
    flows = (runs["intake"]["letters"] + runs["letters"]["letters"]) / (
        runs["intake"]["seconds"] + runs["letters"]["seconds"]
    )
    alone = rate(runs["raw"])
    return flows, alone, flows / alone


def summary(calls: list[dict[str, dict[str, Any]]]) -> list[str]:
    """The median of the calls' figures and their spread, the headline last."""
    figures = [share(runs) for runs in calls]
    flows, alone, shares = ([figure[i] for figure in figures] for i in range(3))
    quiet = sum(not disturbed(stages_of(runs)) for runs in calls)

    def spread(values: list[float], show: Callable[[float], str]) -> str:
        low, middle, high = min(values), statistics.median(values), max(values)
        return f"median {show(middle)} (from {show(low)} to {show(high)})"

    def per_second(value: float) -> str:
        return f"{value:.2f}"

    def percent(value: float) -> str:
        return f"{100 * value:.0f}%"

    others = (
        f"all {len(calls)} calls undisturbed by other work"
        if quiet == len(calls)
        else f"{len(calls) - quiet} of {len(calls)} calls DISTURBED by other work"
    )
    met = "met" if statistics.median(shares) >= GOAL else "NOT met"
    return [
        f"letters/s through the flows: {spread(flows, per_second)}; WeasyPrint alone, each right "
        f"after a flow stage: {spread(alone, per_second)}",
        "the flows as a share of WeasyPrint alone, call by call: "
        + ", ".join(percent(value) for value in shares)
        + f"; {others}",
        f"letters through the flows over {len(calls)} calls: {spread(shares, percent)} of "
        f"WeasyPrint alone's on the same letters (goal ≥ {100 * GOAL:.0f}%: {met})",
    ]


def beyond(
    made: int, seconds: float, flows: list[dict[str, Any]], raw: dict[str, Any]
) -> list[str]:
    """Where the flows' time beyond WeasyPrint alone goes: CPU per letter of each kind of
    process, the flows' own process by part; and what that CPU costs on these cores."""
    cpu = sum((Counter(run["cpu"]) for run in flows), Counter())
    parts = sum((Counter(run["parts"]) for run in flows), Counter())
    main = cpu["main process"]

    def ms(seconds: float) -> str:
        return f"{1000 * seconds / made:.1f} ms"

    extra = sum(cpu.values()) - raw["cpu_s"]
    cores = raw["workers"]
    bound = raw["cpu_s"] / sum(cpu.values())
    return [
        f"CPU per letter in the flows: render workers {ms(cpu['render worker'])} with their "
        f"start-up (WeasyPrint alone {ms(raw['cpu_s'])}, warm); main process {ms(main)}: "
        f"claiming chunks and making contexts {ms(parts['_claim_chunk'])}, storing PDFs "
        f"{ms(parts['_store'])}, delivering {ms(parts['_deliver'])}, the rest (Prefect, "
        f"registering) {ms(main - sum(parts.values()))}; Prefect's server "
        f"{ms(cpu['Prefect server'])}",
        f"beyond WeasyPrint alone: {seconds - raw['seconds']:.1f} s, of which the CPU the flows "
        f"take beyond it, {extra:.1f} CPU-s, is {extra / cores:.1f} s on {cores} cores; the rest "
        "is cores left idle (the last letters) or taken by other work; where CPU is all that "
        f"counts (an otherwise idle machine), WeasyPrint's CPU over the flows' would make "
        f"{100 * bound:.0f}%",
    ]


def headline(made: int, seconds: float, raw: dict[str, Any]) -> str:
    """The figure the issue names: letters/s through the flows against WeasyPrint alone."""
    ours, alone = made / seconds, raw["letters"] / raw["seconds"]
    met = "met" if ours >= GOAL * alone else "NOT met"
    return (
        f"letters through the flows (stages 1 and 3): {made} in {seconds:.1f} s = "
        f"{ours:.2f} letters/s = {100 * ours / alone:.0f}% of WeasyPrint alone's {alone:.2f} "
        f"letters/s on the same {raw['workers']} cores (goal ≥ {100 * GOAL:.0f}%: {met})"
    )


def server_report(
    args: argparse.Namespace, runs: dict[str, dict[str, Any]], wall: float
) -> list[str]:
    """--server: one line per figure, the headline last."""
    intake, assess, send, raw = (runs[name] for name in SERVER_STAGES)
    made, seconds = send["letters"], send["seconds"]
    intake_bench.expect(made == raw["letters"], f"{made} letters sent, {raw['letters']} alone")
    intake_bench.expect(send["sent_events"] == made, f"{send['sent_events']} sent of {made}")
    cpu = send["servers_cpu_s"] + send["cpu_self_s"] + send["cpu_children_s"]
    ours, alone = made / seconds, raw["letters"] / raw["seconds"]
    cores = raw["workers"]
    return [
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; workdir {args.workdir}",
        f"server mode: PostgreSQL (the case database, Prefect's), `prefect server start`, the "
        f"pool 'grants' with the deployments of prefect.yaml, {len(WORKERS)} `grants worker`s "
        f"({', '.join(WORKERS)}: a run at a time each, rendering on every core), all on these "
        f"{cores} cores",
        f"1 intake flow without letters: {intake['cases']} applications registered in "
        f"{intake['seconds']:.1f} s",
        f"2 assessment (domain): {assess['cases']} cases to a signed decision in "
        f"{assess['seconds']:.1f} s; letters ordered: {kinds(assess['ordered'])}",
        f"3 one send-letters deployment run, as the schedule starts it: {made} letters rendered "
        f"and delivered in {seconds:.1f} s; the first stored after {send['first_stored_s']:.1f} s "
        "(a worker takes the run and starts its process and render workers; the run hands a "
        "share to a run on the other worker, which starts its own); rendered by "
        f"{kinds(send['rendered_by'])}; each letter sent once ({send['sent_events']} "
        "'letter_sent' events)",
        f"  CPU of everything started for it (servers, workers, runs, render workers) during "
        f"stage 3: {cpu:.1f} CPU-s = {1000 * cpu / made:.0f} ms per letter (WeasyPrint alone "
        f"{1000 * raw['cpu_s'] / raw['letters']:.0f} ms, warm)",
        f"4 WeasyPrint alone: the same {raw['letters']} letters in {raw['seconds']:.1f} s = "
        f"{alone:.1f} letters/s in {raw['workers']} spawned processes, warm (with their "
        f"start-up {raw['cold_s']:.1f} s)",
        f"letters by kind: {kinds(raw['kinds'])}",
        f"wall time: {wall:.1f} s in all (generating, starting PostgreSQL, Prefect's server and "
        "the workers, four stage processes)",
        other_work(runs),
        f"letters through {len(WORKERS)} workers in server mode: {made} in {seconds:.1f} s = "
        f"{ours:.2f} letters/s = {100 * ours / alone:.0f}% of WeasyPrint alone's {alone:.2f} "
        f"letters/s on the same {cores} cores (the workers share them: no gain over one is "
        "to be had here)",
    ]


def main(args: argparse.Namespace) -> None:
    args.workdir, created = intake_bench.prepare_workdir(args.workdir)
    started, today = time.perf_counter(), date.today()
    try:
        print(f"Call benchmark in {args.workdir}", flush=True)
        path = write_applications(args.workdir, args.count, args.seed, today)
        write_config(args.workdir)
        if args.server:
            with server_mode(args) as server:
                runs = {name: spawn_stage(name, args, path, server) for name in SERVER_STAGES}
            print(f"\n{'—' * 30} report {'—' * 30}")
            print("\n".join(server_report(args, runs, time.perf_counter() - started)))
            return
        calls = []
        for number in range(1, args.repeat + 1):
            print(f"call {number} of {args.repeat}", flush=True)
            began = time.perf_counter()
            calls.append(run_call(args, path, args.workdir / f"call-{number}"))
            wall = time.perf_counter() - began
            print(f"\n{'—' * 30} report, call {number} of {args.repeat} {'—' * 30}")
            print("\n".join(report(args, calls[-1], wall)), flush=True)
        if args.repeat > 1:
            print(f"\n{'—' * 30} {args.repeat} calls {'—' * 30}")
            print("\n".join(summary(calls)))
    finally:
        if args.keep:
            print(f"kept {args.workdir}")
        else:
            intake_bench.clean_up(args.workdir, created)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000, help="applications (default 1000)")
    parser.add_argument("--workdir", type=Path, help="an empty directory (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the workdir")
    parser.add_argument("--seed", type=int, default=2026, help="for applications and people")
    parser.add_argument("--server", action="store_true", help="server mode, two workers")
    parser.add_argument("--repeat", type=int, default=1, help="calls, for the median (default 1)")
    for name, kind in (("--stage", str), ("--result", Path), ("--file", Path), ("--since", int)):
        parser.add_argument(name, type=kind, help=argparse.SUPPRESS)  # internal: one stage
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be at least 1")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.server and args.repeat > 1:
        parser.error("--server runs once: --repeat is for the embedded flows")
    return args


if __name__ == "__main__":
    arguments_ = arguments()
    if arguments_.stage:
        run_stage(arguments_)
    else:
        main(arguments_)
