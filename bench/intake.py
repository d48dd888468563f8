"""Intake benchmark: generated applications through the intake flow, with and without letters.

    .venv/bin/python bench/intake.py                  # 10 000 applications; letters for 1 000
    .venv/bin/python bench/intake.py --count 500 --letters-count 100 --keep

Goals: 10 000 applications registered in under 30 s; at a national call's size (100 000,
`--count 100000 --skip-letters`) under 100 s and 300 MB (the main process), and the same
file taken in again in under half that time; and acknowledgement
letters rendered at the speed of WeasyPrint itself on every core.

Measured: (a) Prefect's temporary server start-up, apart; (b) intake without letters;
(c) the same file again, which must register nothing; (d) intake of fresh applications with
acknowledgement letters; (e) the same letters rendered by WeasyPrint alone, one process per
core, with no database and no Prefect.

Each stage runs in its own process of this script (`--stage`, internal), so that its
peak memory is its own: Prefect is imported and its temporary server started in the stage,
the case database is fresh, and nothing from the previous stage stays in memory. This
process only generates the files, watches the stages' process trees and reports.
Linux only: memory and machine load are read from /proc.
"""

import argparse
import atexit
import functools
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # run as a script: bench/ is on the path, not the project
    sys.path.insert(0, str(PROJECT_ROOT))

GOAL_SECONDS = 30.0
LARGE_CALL, LARGE_SECONDS, LARGE_MB = 100_000, 100.0, 300.0  # goals at a national call's size
LETTER_KIND = "acknowledgement"

# --- generating applications --------------------------------------------------------------

# Municipality -> (city, first three digits of its postcodes).
PLACES = {
    "Askersund": ("Askersund", "696"),
    "Degerfors": ("Degerfors", "693"),
    "Hallsberg": ("Hallsberg", "694"),
    "Hällefors": ("Hällefors", "712"),
    "Karlskoga": ("Karlskoga", "691"),
    "Kumla": ("Kumla", "692"),
    "Laxå": ("Laxå", "695"),
    "Lekeberg": ("Fjugesta", "716"),
    "Lindesberg": ("Lindesberg", "711"),
    "Ljusnarsberg": ("Kopparberg", "714"),
    "Nora": ("Nora", "713"),
    "Örebro": ("Örebro", "702"),
}
# Legal form -> (share of applicants, first digit of its organisation numbers).
LEGAL_FORMS = {
    "ideell förening": (0.60, "8"),
    "stiftelse": (0.15, "8"),
    "ekonomisk förening": (0.20, "7"),
    "registrerat trossamfund": (0.05, "8"),
}
THEMES = ("Unga röster", "Mötesplatsen", "Kulturbron", "Gröna händer", "Läslust", "Språkcaféet",
          "Rörelseglädje", "Seniorkraft", "Hantverkshuset", "Cykelköket", "Grannkraft",
          "Bygdelyftet")  # fmt: skip
ACTIVITIES = {
    "sv": ("Läxhjälp och läsglädje", "Språkcafé och samtal", "En mötesplats",
           "Odling och matlagning", "Digital vardag", "Rörelse och hälsa",
           "Hantverk och återbruk", "Musik och gemenskap"),
    "en": ("Homework help and reading", "A language café", "A meeting place",
           "Growing and cooking", "Everyday digital skills", "Exercise and health",
           "Crafts and reuse", "Music together"),
}  # fmt: skip
GROUPS = {
    "sv": ("unga", "nyanlända", "seniorer", "familjer", "ensamstående föräldrar",
           "personer med funktionsnedsättning"),
    "en": ("young people", "newcomers", "older people", "families", "single parents",
           "people with disabilities"),
}  # fmt: skip
FIRST_NAMES = ("Linnéa", "Åsa", "Björn", "Märta", "Jörgen", "Amina", "Olle", "Sofia", "Hüseyin",
               "Karin", "Nils", "Ebba", "Mohammed", "Ingrid", "Pär", "Zeynep")  # fmt: skip
SURNAMES = ("Åström", "Lindqvist", "Öberg", "Ek", "Holm", "Sjöberg", "Nyström", "Karlsson",
            "Jönsson", "Ali", "Bergström", "Hägglund", "Yilmaz", "Lundgren")  # fmt: skip
STREETS = ("Storgatan", "Kvarnvägen", "Skolgatan", "Järnvägsgatan", "Kyrkvägen", "Ängsvägen",
           "Bruksgatan", "Sjövägen")  # fmt: skip
PARTNERS = ("{municipality} kommun", "Studieförbundet Vuxenskolan", "ABF Örebro län",
            "Röda Korset {city}", "Svenska kyrkan {city}", "{city} bygdegårdsförening",
            "Region Örebro län, folkhälsoenheten", "IFK {city}")  # fmt: skip
SUPPORTS = ("Lokaler utan kostnad", "Volontärer vid träffarna", "Marknadsföring i sina kanaler",
            "En kontaktperson och handledning", "Material och utrustning")  # fmt: skip
TEXT_FIELDS = ("societal_challenge", "description", "innovation", "long_term_effects",
               "target_group")  # fmt: skip


def luhn_check_digit(body: str) -> str:
    """The digit that, appended to `body`, makes the whole pass the Luhn (mod 10) check."""
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char)
        if position % 2 == 0:  # doubled: the check digit will stand to its right
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str(-total % 10)


def organisation_number(rng: random.Random, first_digit: str) -> str:
    """NNNNNN-NNNN: first digit by legal form, digits 3–4 at least 20, Luhn check digit."""
    body = f"{first_digit}{rng.randint(0, 9)}{rng.randint(20, 99)}{rng.randint(0, 99999):05d}"
    digits = body + luhn_check_digit(body)
    return f"{digits[:6]}-{digits[6:]}"


def payment_accounts(rng: random.Random) -> tuple[str, str]:
    """(bankgiro, plusgiro): mostly a bankgiro, some a plusgiro, a few neither (a warning)."""
    draw = rng.random()
    if draw < 0.75:
        body = str(rng.randint(10**5, 10**7 - 1))  # 6 or 7 digits before the check digit
        digits = body + luhn_check_digit(body)
        return f"{digits[:-4]}-{digits[-4:]}", ""
    if draw < 0.92:
        body = str(rng.randint(10**5, 10**7 - 1))
        return "", f"{body}-{luhn_check_digit(body)}"
    return "", ""


def ascii_slug(text: str, limit: int = 40) -> str:
    """A DNS-safe label from a Swedish name: Föreningen Läslust -> foreningen-laslust."""
    folded = text.lower().translate(str.maketrans("åäöéü", "aaoeu"))
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in folded)
    return "-".join(part for part in slug.split("-") if part)[:limit].strip("-")


def organisation(rng: random.Random, index: int, taken: set[str]) -> dict[str, Any]:
    """One applicant organisation's fields, as a form export spells them."""
    forms = list(LEGAL_FORMS)
    legal_form = rng.choices(forms, weights=[LEGAL_FORMS[f][0] for f in forms])[0]
    municipality = rng.choice(list(PLACES))
    city, postcode = PLACES[municipality]
    theme = rng.choice(THEMES)
    name = {
        "ideell förening": f"Föreningen {theme} i {city}",
        "stiftelse": f"Stiftelsen {theme} {city}",
        "ekonomisk förening": f"{theme} {city} ekonomisk förening",
        "registrerat trossamfund": f"{rng.choice(('Missionskyrkan', 'Equmeniakyrkan'))} i {city}",
    }[legal_form]
    number = ""
    if legal_form != "ideell förening" or rng.random() > 0.02:  # a new förening may have none
        while not number or number in taken:
            number = organisation_number(rng, LEGAL_FORMS[legal_form][1])
        taken.add(number)
    bankgiro, plusgiro = payment_accounts(rng)
    local = rng.choice(("info", "kontakt", "styrelsen", "ordforande"))
    return {
        "organisation_name": name,
        "organisation_number": number,
        "legal_form": legal_form,
        "municipality": municipality,
        "postal_address": f"{rng.choice(STREETS)} {rng.randint(1, 60)}",
        "postcode": f"{postcode} {rng.randint(10, 99)}",
        "city": city,
        "email": f"{local}@{ascii_slug(name)}-{index}.example.se",
        "contact_person": f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
        "phone": f"0{rng.choice(('19', '585', '586', '591'))}-{rng.randint(100000, 999999)}",
        "bankgiro": bankgiro,
        "plusgiro": plusgiro,
    }


def receipt_window(today: date) -> tuple[date, date]:
    """August to November of the latest autumn that has begun, never after today.

    The call is closed in July and December, and a receipt date may not lie in the future.
    """
    year = today.year if today >= date(today.year, 8, 1) else today.year - 1
    return date(year, 8, 1), min(date(year, 11, 30), today)


def application(
    rng: random.Random,
    seed: int,
    index: int,
    org: dict[str, Any],
    texts: dict[str, list[dict[str, Any]]],
    window: tuple[date, date],
) -> dict[str, Any]:
    """One valid application in the flat format of samples/applications.json."""
    language = "en" if rng.random() < 0.15 else "sv"
    received = window[0] + timedelta(days=rng.randint(0, (window[1] - window[0]).days))
    start = received + timedelta(days=rng.randint(14, 200))
    end = start + timedelta(days=rng.randint(90, 700))  # at most 23 months: within 24
    amount = rng.randrange(20_000, 50_001, 500)
    hours = rng.choice((0, rng.randint(10, 160)))
    cash = max(0, amount - 330 * hours) + rng.choice((0, 0, 500, 1000, 5000))
    source = rng.choice(texts[language])
    city = org["city"]
    partners = [
        {
            "name": rng.choice(PARTNERS).format(municipality=org["municipality"], city=city),
            "support": rng.choice(SUPPORTS),
        }
        for _ in range(rng.choice((0, 1, 2, 2, 3, 3)))
    ]
    title = {
        "sv": f"{rng.choice(ACTIVITIES['sv'])} för {rng.choice(GROUPS['sv'])} i {city}",
        "en": f"{rng.choice(ACTIVITIES['en'])} for {rng.choice(GROUPS['en'])} in {city}",
    }[language]
    return {
        "submission_id": f"BENCH-{seed}-{index:06d}",
        "submitted_at": received.isoformat()
        + (f"T{rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}:00" if rng.random() < 0.2 else ""),
        "language": language,
        **org,
        "project_title": title,
        "requested_amount": amount if rng.random() < 0.9 else f"{amount:,} kr".replace(",", " "),
        "co_financing_cash": cash,
        "co_financing_hours": hours,
        "project_start": start.isoformat(),
        "project_end": end.isoformat(),
        **{name: source.get(name, "") for name in TEXT_FIELDS},
        "partners": partners,
    }


def sample_texts() -> dict[str, list[dict[str, Any]]]:
    """The sample applications' long texts, by language: realistic lengths, å/ä/ö and all."""
    samples = json.loads((PROJECT_ROOT / "samples" / "applications.json").read_text("utf-8"))
    by_language: dict[str, list[dict[str, Any]]] = {"sv": [], "en": []}
    for sample in samples:
        by_language[sample.get("language") or "sv"].append(sample)
    return by_language


def generate(count: int, seed: int, today: date) -> list[dict[str, Any]]:
    """`count` valid applications, the same for the same seed and day.

    About one in ten comes from an organisation that applied before in the file, as real
    calls have, so that intake also updates known organisations.
    """
    rng = random.Random(seed)
    texts, window = sample_texts(), receipt_window(today)
    taken: set[str] = set()
    organisations: list[dict[str, Any]] = []
    records = []
    for index in range(1, count + 1):
        if organisations and rng.random() < 0.1:
            org = rng.choice(organisations)
        else:
            org = organisation(rng, index, taken)
            organisations.append(org)
        records.append(application(rng, seed, index, org, texts, window))
    return records


def check_generated(records: list[dict[str, Any]], today: date, how_many: int = 50) -> int:
    """Validate a spread of records with the domain's own rules; stop the run if one fails."""
    from grants.settings import Settings
    from models.tables import Call
    from models.validation import InvalidApplication, validate_application

    call = Call(**Settings().file["call"])
    step = max(1, len(records) // how_many)
    picks = sorted({*range(0, len(records), step), len(records) - 1})
    for index in picks:
        try:
            validate_application(records[index], call, today)
        except InvalidApplication as error:
            sys.exit(f"generated record {index + 1} is invalid, the generator is wrong: {error}")
    if len({r["submission_id"] for r in records}) != len(records):
        sys.exit("generated submission ids are not unique")
    return len(picks)


# --- memory and processes -------------------------------------------------------------------


def status_kib(pid: int | str = "self") -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of one process, in KiB, from /proc/<pid>/status."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


def reset_peak() -> None:
    """Start this process's peak (VmHWM) again from its present size, so that the next
    figure is the peak of what follows alone (Linux: writing 5 to /proc/self/clear_refs)."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_mb() -> float:
    """This process's own peak resident set size in MB.

    VmHWM, not ru_maxrss: Linux carries a parent's peak into a child across fork+exec
    (a 10 MB child of a 500 MB parent reports ru_maxrss = 500 MB), so ru_maxrss of a stage
    would be at least the size of the process that started it.
    """
    try:
        return status_kib()["VmHWM"] / 1024
    except (OSError, KeyError):  # no /proc: ru_maxrss, with that caveat
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def children() -> dict[int, list[int]]:
    """Every process's children, from the parent ids in /proc/<pid>/stat."""
    found: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        found.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    return found


def descendants(root: int) -> list[int]:
    """`root` and every process below it."""
    below = children()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += below.get(pid, [])
    return found


def process_label(pid: int) -> str:
    """What a stage's child process is, from its command line."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""
    if "uvicorn" in command:
        return "Prefect server"
    if "resource_tracker" in command:
        return "resource tracker"
    if "spawn_main" in command:
        return "render worker"
    program = Path(command.split("\0")[0]).name
    if program in ("sh", "gcc", "cc", "collect2", "ld", "ldconfig", "objdump"):
        return "find_library helper"  # ctypes.util.find_library, as WeasyPrint loads Pango
    return program


def machine_cpu() -> tuple[float, float]:
    """(busy, stolen) CPU seconds of the whole machine since boot, from /proc/stat."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks
    hertz = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / hertz, steal / hertz


def tree_cpu() -> Counter[str]:
    """CPU seconds so far of this process ("main process") and of each kind of process
    below it (render workers, Prefect's server), from /proc; alive ones only."""
    spent: Counter[str] = Counter()
    hertz = os.sysconf("SC_CLK_TCK")
    for pid in descendants(os.getpid()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        label = "main process" if pid == os.getpid() else process_label(pid)
        spent[label] += (int(fields[11]) + int(fields[12])) / hertz  # utime + stime
    return spent


def process_tree_cpu(root: int) -> float:
    """CPU seconds so far of a process and every process below it, with those of their
    children that have ended (once waited for), from /proc."""
    total = 0.0
    for pid in descendants(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        total += sum(int(ticks) for ticks in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


class TreePeak(threading.Thread):
    """Watches a stage's process tree every 0.1 s.

    Gives what ru_maxrss cannot: the peak of the RSS summed over processes alive at the
    same time (the stage, Prefect's server, render workers), and each child's own peak
    (VmHWM, read until it exits, so growth in its last 0.1 s may be missed).
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.done = pid, threading.Event()
        self.total_kib = 0
        self.children: dict[int, tuple[str, int]] = {}  # pid -> (label, peak KiB)

    def run(self) -> None:
        while not self.done.wait(0.1):
            try:
                self.sample()
            except OSError:  # no /proc: not Linux
                return

    def sample(self) -> None:
        total = 0
        for pid in descendants(self.pid):
            try:
                status = status_kib(pid)
            except OSError:
                continue  # exited meanwhile
            total += status.get("VmRSS", 0)
            if pid != self.pid:
                label, peak = self.children.get(pid) or (process_label(pid), 0)
                if label:  # empty while the process is being created or reaped
                    self.children[pid] = (label, max(peak, status.get("VmHWM", 0)))
        self.total_kib = max(self.total_kib, total)

    def children_mb(self) -> dict[str, list[float]]:
        """Each kind of child with the peaks of its processes, largest first."""
        kinds: dict[str, list[float]] = {}
        for label, peak in self.children.values():
            kinds.setdefault(label, []).append(peak / 1024)
        return {label: sorted(peaks, reverse=True) for label, peaks in kinds.items()}


# --- the stages, each in its own process ----------------------------------------------------

RESULT: dict[str, Any] = {}


def report_at_exit(path: Path) -> None:
    """Write the stage's result as the very last thing the process does.

    Registered before Prefect and the renderer register theirs (atexit runs last-in,
    first-out), so by then Prefect's server and the render workers have been stopped and
    waited for, and the children's CPU time and ru_maxrss include them.
    """

    def write() -> None:
        RESULT["peak_self_mb"] = peak_mb()
        RESULT["maxrss_self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        RESULT["maxrss_children_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        RESULT["cpu_self_s"] = cpu_seconds(resource.RUSAGE_SELF)
        RESULT["cpu_children_s"] = cpu_seconds(resource.RUSAGE_CHILDREN)
        path.write_text(json.dumps(RESULT, default=str))

    atexit.register(write)


def stage_environment(workdir: Path, home: str) -> None:
    """A fresh case database, Prefect's files in the workdir, offline and quiet.

    Must run before prefect is imported: Prefect reads its settings at import. Other
    GRANTS_* variables (a production database, an SMTP server) must not leak in, and the
    temporary local API is what is measured, not a server named by PREFECT_API_URL.
    """
    for name in list(os.environ):
        if name.startswith("GRANTS_") or name in ("PREFECT_API_URL", "PREFECT_API_KEY"):
            del os.environ[name]
    os.environ |= {
        "GRANTS_HOME": str(workdir / home),
        "PREFECT_HOME": str(workdir / "prefect"),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }


@contextmanager
def stopwatch(into: dict[str, Any], key: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        into[key] = time.perf_counter() - start


def start_prefect() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Import the flows and start Prefect's temporary server with an empty flow, timed apart
    so that the intake figures are intake only. Returns (run_flow, intake)."""
    from grants.embedded import configure_prefect, run_flow
    from grants.settings import load

    configure_prefect(load())
    with stopwatch(RESULT, "import_s"):
        from prefect import flow

        from flows.intake import intake

    @flow(name="bench-empty")
    def empty() -> None:
        """Nothing: what remains is the cost of a flow run (the first: of the server too)."""

    with stopwatch(RESULT, "startup_s"):
        run_flow(empty)
    with stopwatch(RESULT, "empty_flow_s"):
        run_flow(empty)
    RESULT["peak_after_startup_mb"] = peak_mb()
    return run_flow, intake


def time_tasks(names: tuple[str, ...], module: ModuleType | None = None) -> dict[str, float]:
    """Time a flow module's tasks (default: flows.intake's) from outside, each call and its
    body apart.

    A call (the name the flow module calls the task by) includes Prefect's work on the task
    run: creating it, inspecting and resolving its parameters, reporting its states. The
    body (`task.fn`, which Prefect calls in the end) is the project's own code. The
    wrappers cost a function call each; the flow's code is unchanged.
    """
    if module is None:
        import flows.intake as module

    spent: dict[str, float] = {}

    def timed(key: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)  # Prefect reads the body's signature through __wrapped__
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - start
                spent[f"{key} calls"] += 1

        spent[key] = spent[f"{key} calls"] = 0
        return call

    for name in names:
        task = getattr(module, name)
        task.fn = timed(f"{name}.fn", task.fn)
        setattr(module, name, timed(name, task))
    return spent


def time_cpu(names: tuple[str, ...], module: ModuleType) -> Counter[str]:
    """The CPU time of the calling thread spent in some of a module's functions, by name: each
    function the module calls by name is replaced by a wrapper that adds it up (a thread's
    CPU time leaves out waiting, for PDFs from the render workers for instance)."""
    spent: Counter[str] = Counter()

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.thread_time() - start

        return call

    for name in names:
        setattr(module, name, timed(name, getattr(module, name)))
    return spent


def run_intake(
    run_flow: Callable[..., Any], intake: Callable[..., Any], path: Path, letters: bool
) -> tuple[float, Counter[str], dict[str, int]]:
    """One intake flow run: (seconds, records by status, letters counts)."""
    start = time.perf_counter()
    report = run_flow(intake, path=str(path), actor_email=None, send_letters=letters)
    seconds = time.perf_counter() - start
    return seconds, Counter(report["counts"]), report["letters"]


def expect(condition: bool, message: str) -> None:
    if not condition:
        sys.exit(f"benchmark check failed: {message}")


def stage_intake(path: Path, count: int) -> None:
    """(a) start-up, (b) intake without letters, (c) the same file again: nothing to do."""
    run_flow, intake = start_prefect()
    import flows.intake

    spent = time_tasks(("register_batch",))
    checking = time_cpu(("open_export",), flows.intake)
    reset_peak()
    seconds, statuses, _ = run_intake(run_flow, intake, path, letters=False)
    expect(statuses == {"registered": count}, f"first intake: {dict(statuses)}")
    RESULT.update({"intake_s": seconds, "intake_tasks": dict(spent)})
    RESULT.update({"peak_intake_mb": peak_mb(), "check_cpu_s": checking["open_export"]})

    spent.update(dict.fromkeys(spent, 0))
    checking.clear()
    reset_peak()
    seconds, statuses, _ = run_intake(run_flow, intake, path, letters=False)
    expect(statuses == {"already registered": count}, f"second intake: {dict(statuses)}")
    RESULT.update({"rerun_s": seconds, "rerun_tasks": dict(spent)})
    RESULT.update({"peak_rerun_mb": peak_mb(), "recheck_cpu_s": checking["open_export"]})


def stage_letters(path: Path, count: int) -> None:
    """(d) intake with acknowledgement letters, into a database of its own."""
    run_flow, intake = start_prefect()
    import flows.letters  # the intake flow sends its letters through flows.letters.send_due

    spent = time_tasks(("register_batch",))
    sending = time_tasks(("render_letters", "deliver_letters"), flows.letters)
    reset_peak()
    seconds, statuses, letters = run_intake(run_flow, intake, path, letters=True)
    expect(statuses == {"registered": count}, f"intake with letters: {dict(statuses)}")
    expect(letters == {"created": count, "sent": count, "failed": 0}, f"letters: {letters}")
    tasks = dict(spent) | dict(sending)
    RESULT.update({"intake_s": seconds, "letters": letters, "intake_tasks": tasks})
    RESULT["peak_intake_mb"] = peak_mb()


def letter_jobs() -> list[tuple[str, dict[str, Any]]]:
    """The letters stage (d) made for its cases: same templates, same contexts."""
    from sqlmodel import col, select

    from grants.settings import load
    from models.db import transaction
    from models.letters import letter_context
    from models.tables import Letter

    settings = load()
    authority, today = settings.file["authority"], date.today()
    with transaction(settings.db_url) as session:
        letters = session.exec(
            select(Letter).where(Letter.kind == LETTER_KIND).order_by(col(Letter.id))
        )
        return [
            (
                f"letters/{letter.kind}.{letter.language.value}.html",
                letter_context(letter, authority, today),
            )
            for letter in letters
        ]


def _warm_worker(job: tuple[str, dict[str, Any]], ready: Any) -> None:
    """Import WeasyPrint and render one letter, then wait for every worker to be as far."""
    from grants.render import render_pdf

    render_pdf(*job)
    ready.wait()


def _render_one(job: tuple[str, dict[str, Any]]) -> tuple[float, float, int, float]:
    """Render one letter; (start, end, bytes, CPU seconds), the times on the machine-wide
    monotonic clock. The workers take letters one at a time as they free up, as the flows'
    render pool does, so neither side gains from how the letters were shared out."""
    from grants.render import render_pdf

    start, cpu = time.perf_counter(), time.process_time()
    pdf = render_pdf(*job)
    if not pdf.startswith(b"%PDF"):
        raise ValueError("WeasyPrint returned something that is not a PDF")
    return start, time.perf_counter(), len(pdf), time.process_time() - cpu


def render_alone(pool: Any, jobs: list[tuple[str, dict[str, Any]]]) -> dict[str, float]:
    """WeasyPrint alone on `jobs` in a warm pool: the seconds from the first letter's start
    to the last one's end, the CPU seconds, and the PDFs' size."""
    spans = list(pool.imap_unordered(_render_one, jobs, chunksize=1))
    return {
        "seconds": max(span[1] for span in spans) - min(span[0] for span in spans),
        "cpu_s": sum(span[3] for span in spans),
        "bytes": sum(span[2] for span in spans),
    }


def stage_raw() -> None:
    """(e) WeasyPrint alone: one spawned process per core, each taking the next letter as
    it frees up; no database, no Prefect. Timed inside the workers once all are warm, as
    WeasyPrint's own speed."""
    import multiprocessing

    jobs = letter_jobs()
    workers = os.cpu_count() or 1
    context = multiprocessing.get_context("spawn")  # like grants.render's pool
    ready = context.Barrier(workers)
    cold = time.perf_counter()
    with context.Pool(workers, _warm_worker, (jobs[0], ready)) as pool:
        rendered = render_alone(pool, jobs)
    RESULT.update(
        {
            "letters": len(jobs),
            "workers": workers,
            "render_s": rendered["seconds"],
            "cold_s": time.perf_counter() - cold,
            "pdf_mb": rendered["bytes"] / 2**20,
        }
    )


def run_stage(args: argparse.Namespace) -> None:
    """The internal entry point of a stage process."""
    report_at_exit(args.result)
    home = "home-intake" if args.stage == "intake" else "home-letters"
    stage_environment(args.workdir, home)
    if args.stage == "intake":
        stage_intake(args.file, args.count)
    elif args.stage == "letters":
        stage_letters(args.file, args.count)
    else:
        stage_raw()


# --- the orchestrating process ------------------------------------------------------------


def spawn_stage(name: str, workdir: Path, file: Path | None = None, count: int = 0) -> dict:
    """Run one stage in a new process of this script; its result, with its tree's peak."""
    result = workdir / f"result-{name}.json"
    command = [sys.executable, __file__, "--stage", name, "--workdir", str(workdir)]
    command += ["--result", str(result), "--count", str(count)]
    if file:
        command += ["--file", str(file)]
    print(f"  stage {name} …", flush=True)
    started, machine, own = time.perf_counter(), machine_cpu(), cpu_seconds(resource.RUSAGE_SELF)
    process = subprocess.Popen(command)
    sampler = TreePeak(process.pid)
    sampler.start()
    code = process.wait()
    sampler.done.set()
    sampler.join()
    if code != 0:
        sys.exit(f"stage {name} failed (exit status {code}); see the messages above")
    data = json.loads(result.read_text())
    data["tree_peak_mb"] = sampler.total_kib / 1024
    data["children_mb"] = sampler.children_mb()
    data["stage_wall_s"] = time.perf_counter() - started
    busy, stolen = (now - before for now, before in zip(machine_cpu(), machine, strict=True))
    ours = data["cpu_self_s"] + data["cpu_children_s"] + cpu_seconds(resource.RUSAGE_SELF) - own
    data["other_cpu_s"], data["steal_s"] = max(0.0, busy - ours), stolen
    return data


def write_applications(workdir: Path, name: str, count: int, seed: int, today: date) -> Path:
    """Generate, check and save one file of applications; say how long it took."""
    start = time.perf_counter()
    records = generate(count, seed, today)
    checked = check_generated(records, today)
    path = workdir / name
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1), "utf-8")
    print(
        f"  {path.name}: {count} applications generated in {time.perf_counter() - start:.1f} s "
        f"({path.stat().st_size / 2**20:.1f} MB); {checked} checked with validate_application",
        flush=True,
    )
    return path


def memory_line(label: str, data: dict[str, Any]) -> str:
    """Peaks of the stage's own process, of each child, of all together; and CPU time."""
    children = ", ".join(
        f"{label} {peaks[0]:.0f} MB"
        if len(peaks) == 1
        else f"{len(peaks)} {label}s up to {peaks[0]:.0f} MB each"
        for label, peaks in data["children_mb"].items()
    )
    return (
        f"peak memory, {label}: main process {data['peak_self_mb']:.0f} MB; "
        f"{children or 'no child processes'}; all together {data['tree_peak_mb']:.0f} MB "
        f"(RSS summed, sampled every 0.1 s); CPU: main process {data['cpu_self_s']:.1f} s, "
        f"children {data['cpu_children_s']:.1f} s"
    )


def maxrss_note(runs: dict[str, Any]) -> str:
    """Why the memory figures are VmHWM, with what ru_maxrss would have said."""
    stages = [name for name in ("intake", "letters", "raw") if name in runs]
    own = "/".join(f"{runs[name]['maxrss_self_mb']:.0f}" for name in stages)
    children = "/".join(f"{runs[name]['maxrss_children_mb']:.0f}" for name in stages)
    return (
        f"memory above is each process's own peak (VmHWM, /proc); getrusage says {own} MB "
        f"(RUSAGE_SELF) and {children} MB (RUSAGE_CHILDREN, the largest child) for the "
        f"{'/'.join(stages)} stage(s), but on Linux ru_maxrss carries a parent's peak into a "
        "child across fork+exec, so those are at least the parent's size"
    )


def where(seconds: float, tasks: dict[str, float]) -> str:
    """Where a flow run's time went: each task's body, Prefect's handling of its calls, and
    the rest (reading the file, the flow run itself)."""
    parts, accounted = [], 0.0
    for name in (key for key in tasks if "." not in key and " " not in key):
        call, body, calls = tasks[name], tasks[f"{name}.fn"], tasks[f"{name} calls"]
        parts.append(f"{name} ×{calls:.0f}: body {body:.1f} s + Prefect {call - body:.1f} s")
        accounted += call
    return "  where: " + "; ".join([*parts, f"rest of the flow {seconds - accounted:.1f} s"])


def report(args: argparse.Namespace, runs: dict[str, dict[str, Any]]) -> list[str]:
    """One line per figure."""
    n, first = args.count, runs["intake"]
    met = "met" if first["intake_s"] < GOAL_SECONDS else "NOT met"
    lines = [
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
        f"started {runs['started']}; workdir {args.workdir}",
        f"importing prefect and the flows: {first['import_s']:.1f} s (not counted below)",
        f"Prefect's temporary server start-up + first empty flow: {first['startup_s']:.1f} s "
        f"(fresh PREFECT_HOME; not counted below); an empty flow afterwards: "
        f"{first['empty_flow_s']:.2f} s",
        f"intake without letters: {n} applications in {first['intake_s']:.1f} s = "
        f"{n / first['intake_s']:.0f} applications/s (goal: < {GOAL_SECONDS:.0f} s: {met}); "
        f"peak memory {first['peak_intake_mb']:.0f} MB (main process, during this intake)",
        where(first["intake_s"], first["intake_tasks"])
        + f" (of it checking the file whole: {first['check_cpu_s']:.1f} s CPU)",
        f"intake again, same file: 0 new of {n} in {first['rerun_s']:.1f} s "
        f"({100 * first['rerun_s'] / first['intake_s']:.0f}% of the first); peak memory "
        f"{first['peak_rerun_mb']:.0f} MB (main process, during it)",
        where(first["rerun_s"], first["rerun_tasks"])
        + f" (of it checking the file whole: {first['recheck_cpu_s']:.1f} s CPU)",
        large_call_line(n, first),
        memory_line("intake stage (start-up, intake, again)", first),
        f"  (main process peak by the end of start-up {first['peak_after_startup_mb']:.0f} MB)",
    ]
    if "letters" in runs:
        lines += letters_report(args, runs["letters"], runs["raw"])
    return lines


def large_call_line(n: int, first: dict[str, Any]) -> str:
    """The goals at a national call's size, met or not (judged at that size only)."""
    goals = (
        f"goal at {LARGE_CALL} applications: intake < {LARGE_SECONDS:.0f} s and < "
        f"{LARGE_MB:.0f} MB (main process), again < half its time"
    )
    if n != LARGE_CALL:
        return f"{goals}: not judged (--count {n})"
    met = (
        first["intake_s"] < LARGE_SECONDS
        and max(first["peak_intake_mb"], first["peak_rerun_mb"]) < LARGE_MB
        and first["rerun_s"] < first["intake_s"] / 2
    )
    return f"{goals}: {'met' if met else 'NOT met'}"


def letters_report(
    args: argparse.Namespace, ours: dict[str, Any], raw: dict[str, Any]
) -> list[str]:
    """(d) and (e): our letters beside WeasyPrint's own speed."""
    m, seconds = args.letters_count, ours["intake_s"]
    rendering = m / ours["intake_tasks"]["render_letters"]
    alone = raw["letters"] / raw["render_s"]
    return [
        f"intake with letters (uses --letters-count {m}, not {args.count}; fresh database): "
        f"{m} applications in {seconds:.1f} s = {m / seconds:.1f} applications/s, "
        f"{ours['letters']['created']} letters made and sent = {m / seconds:.1f} letters/s end "
        f"to end (start-up before it {ours['startup_s']:.1f} s, not counted); peak memory "
        f"{ours['peak_intake_mb']:.0f} MB (main process, during this intake)",
        where(seconds, ours["intake_tasks"]),
        memory_line("letters stage (start-up, intake with letters)", ours),
        f"WeasyPrint alone: {raw['letters']} letters in {raw['render_s']:.1f} s = {alone:.1f} "
        f"letters/s in {raw['workers']} spawned processes, warm (with their start-up: "
        f"{raw['cold_s']:.1f} s = {raw['letters'] / raw['cold_s']:.1f} letters/s)",
        memory_line("WeasyPrint alone", raw),
        f"ours {rendering:.1f} letters/s vs WeasyPrint alone {alone:.1f} letters/s on "
        f"{raw['workers']} cores (ratio {100 * rendering / alone:.0f}%; ours = the render_letters "
        "task: starting the render workers, reading cases, rendering, storing)",
    ]


def load_line(runs: dict[str, Any]) -> str:
    """How much else the machine did meanwhile: a busy machine makes every figure worse."""
    stages = [name for name in ("intake", "letters", "raw") if name in runs]
    other = ", ".join(
        f"{name} {runs[name]['other_cpu_s']:.1f} CPU-s in {runs[name]['stage_wall_s']:.0f} s"
        for name in stages
    )
    stolen = sum(runs[name]["steal_s"] for name in stages)
    disturbed = any(runs[n]["other_cpu_s"] > 0.1 * runs[n]["stage_wall_s"] for n in stages)
    return (
        f"other work on this machine during the stages: {other}; stolen by the host "
        f"{stolen:.1f} CPU-s"
        + (
            " — DISTURBED: more than 10% of a core; run again on a quiet machine"
            if disturbed
            else ""
        )
    )


def prepare_workdir(given: Path | None) -> tuple[Path, bool]:
    """(workdir, created by us). A given directory must be empty: the runs must be fresh."""
    if given is None:
        return Path(tempfile.mkdtemp(prefix="grants-bench-")), True
    if given.exists() and any(given.iterdir()):
        sys.exit(f"--workdir {given} is not empty; the benchmark needs a fresh directory")
    created = not given.exists()
    given.mkdir(parents=True, exist_ok=True)
    return given.resolve(), created


def clean_up(workdir: Path, created: bool) -> None:
    if created:
        shutil.rmtree(workdir, ignore_errors=True)
        return
    for entry in workdir.iterdir():  # it was empty before the run: all of this is ours
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def main(args: argparse.Namespace) -> None:
    args.workdir, created = prepare_workdir(args.workdir)
    today = date.today()
    runs: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M")}
    try:
        print(f"Intake benchmark in {args.workdir}", flush=True)
        path = write_applications(args.workdir, "applications.json", args.count, args.seed, today)
        runs["intake"] = spawn_stage("intake", args.workdir, path, args.count)
        if not args.skip_letters:
            m = args.letters_count
            fresh = write_applications(args.workdir, "letters.json", m, args.seed + 1, today)
            runs["letters"] = spawn_stage("letters", args.workdir, fresh, m)
            runs["raw"] = spawn_stage("raw", args.workdir)
        print(f"\n{'—' * 30} report {'—' * 30}")
        print("\n".join(report(args, runs)))
        print(f"benchmark process itself (generating, reporting): peak {peak_mb():.0f} MB")
        print(maxrss_note(runs))
        print(load_line(runs))
    finally:
        if args.keep:
            print(f"kept {args.workdir}")
        else:
            clean_up(args.workdir, created)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="applications (default 10000)")
    parser.add_argument(
        "--letters-count",
        type=int,
        default=1_000,
        help="applications for the run with letters (default 1000: a letter costs ~0.1 s a core)",
    )
    parser.add_argument("--skip-letters", action="store_true", help="no run with letters")
    parser.add_argument("--workdir", type=Path, help="an empty directory (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the workdir")
    parser.add_argument("--seed", type=int, default=2026, help="for the generated applications")
    # Internal: one stage in a process of its own.
    for name, kind in (("--stage", str), ("--result", Path), ("--file", Path)):
        parser.add_argument(name, type=kind, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.stage and (args.count < 1 or args.letters_count < 1):
        parser.error("--count and --letters-count must be at least 1")
    return args


if __name__ == "__main__":
    arguments_ = arguments()
    if arguments_.stage:
        run_stage(arguments_)
    else:
        main(arguments_)
