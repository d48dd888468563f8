"""Intake: a form export in, cases registered, acknowledgements out.

Thin on purpose: the file is read by grants.intake_files, each record validated and
registered by the domain (models), letters made and delivered by flows.letters.
Batches are coarse tasks, since a task run costs milliseconds and a case microseconds.
"""

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote
from sqlalchemy.exc import IntegrityError

from flows.letters import send_due
from grants.intake_files import Record, open_export
from grants.settings import Settings, load
from models import clock
from models.db import transaction
from models.intake import register_applications, registered_submissions
from models.reference_data import open_office
from models.tables import Call, Person, Role
from models.text import clipped
from models.validation import (
    InvalidApplication,
    ValidApplication,
    submission_id_of,
    validate_application,
)


@dataclass(frozen=True)
class BatchResults:
    """One result per record of a batch, in order. Wrapped, because Prefect notes every
    item of a task's returned list for as long as the flow runs: 100,000 notes at a
    national call's size, where this is one."""

    results: list[dict[str, Any]]


@task(cache_policy=NO_CACHE)
def register_batch(
    settings: Settings, call_id: int, officer_id: int, records: list[Record], today: date
) -> BatchResults:
    """Validate and register one batch in one transaction.

    A concurrent intake may register the same organisation or application first (PostgreSQL
    then refuses ours on a unique key): the batch is taken again, and sees theirs.
    """
    for _ in range(2):
        with suppress(IntegrityError):
            return BatchResults(_register_batch(settings, call_id, officer_id, records, today))
    return BatchResults(_register_batch(settings, call_id, officer_id, records, today))


def _register_batch(
    settings: Settings, call_id: int, officer_id: int, records: list[Record], today: date
) -> list[dict[str, Any]]:
    registry = settings.config_file.registry
    with transaction(settings.db_url) as session:
        call = session.get(Call, call_id)
        officer = session.get(Person, officer_id)
        known = registered_submissions(
            session, call, {i for r in records if (i := submission_id_of(r.fields))}
        )
        valid: list[tuple[int, ValidApplication]] = []
        results: list[dict[str, Any]] = []
        for record in records:
            result = {
                "record": record.label,
                "submission_id": clipped(record.fields.get("submission_id")),
                "organisation": clipped(record.fields.get("organisation_name")),
            }
            submission_id = submission_id_of(record.fields)
            if submission_id in known:
                result |= {
                    "status": "already registered",
                    "case_reference": known[submission_id],
                    "warnings": [],
                }
            else:
                try:
                    valid.append((len(results), validate_application(record.fields, call, today)))
                except InvalidApplication as refused:
                    result |= {"status": "refused", "faults": [asdict(f) for f in refused.faults]}
            results.append(result)
        registrations = register_applications(
            session,
            call,
            [a for _, a in valid],
            officer,
            registry.prefix,
            today,
            registry.first_serial,
        )
        for (index, application), registration in zip(valid, registrations, strict=True):
            results[index] |= {
                "status": "registered" if registration.new else "already registered",
                "case_reference": registration.case_reference,
                "warnings": application.warnings if registration.new else [],
            }
    return results


PROGRESS_EVERY = 2.0  # seconds between progress reports: each is a call to Prefect's API
SHOWN = 200  # records reported whatever became of them; beyond, those a person must read


class _Tally:
    """The intake's report as it grows: every outcome counted; listed, only what a person
    must read (each refused record, each new case with a warning) and the first SHOWN
    records. A list of 100,000 results would be larger than the rest of the intake."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.results: list[dict[str, Any]] = []
        self.new_cases: list[str] = []

    def add(self, results: list[dict[str, Any]]) -> None:
        for result in results:
            self.counts[result["status"]] += 1
            if result["status"] == "registered":
                self.new_cases.append(result["case_reference"])
            must_read = result["status"] == "refused" or result.get("warnings")
            if must_read or self.counts.total() <= SHOWN:
                self.results.append(result)


@flow(name="intake")
def intake(path: str, actor_email: str | None = None, send_letters: bool = True) -> dict[str, Any]:
    """Register every valid application in the file, and acknowledge each new case.

    The file is read through once to check it whole (nothing of an unreadable file is taken
    in), then again a batch at a time: memory stays that of one batch, however large the
    call. A crash leaves whole batches registered; the same file taken in again registers
    the rest. The report: `read` records, `counts` by status, `results` (see _Tally),
    `new_cases` (every new case's reference), `notes` about the file, and `letters`.
    """
    logger = get_run_logger()
    settings = load()
    today = clock.today()
    export = open_export(Path(path))
    for note in export.notes:
        logger.warning("%s: %s", path, note)
    with transaction(settings.db_url) as session:
        call, officer = open_office(
            session, settings.file, actor_email, Role.case_officer, sole_holder_may_omit=True
        )

    total = export.count
    progress = create_progress_artifact(0.0, description=f"Intake of {Path(path).name}")
    tally, progress_at = _Tally(), time.monotonic()
    for batch in _batches(export.records(), settings.batch_size):
        # quote(): the batch is data for our code; Prefect need not search it for futures.
        tally.add(register_batch(settings, call.id, officer.id, quote(batch), today).results)
        if time.monotonic() - progress_at >= PROGRESS_EVERY or tally.counts.total() == total:
            update_progress_artifact(progress, 100.0 * tally.counts.total() / total)
            logger.info("%d of %d applications checked", tally.counts.total(), total)
            progress_at = time.monotonic()

    letters = {"created": 0, "sent": 0, "failed": 0}
    if send_letters:  # and any notice that was waiting; the report is of the letters
        sent = send_due(settings, today)
        letters = {key: count for key, count in sent.items() if not key.startswith("notices")}
    return {
        "file": path,
        "notes": export.notes,
        "read": total,
        "counts": dict(tally.counts),
        "results": tally.results,
        "new_cases": tally.new_cases,
        "letters": letters,
    }


def _batches(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    while batch := list(islice(records, size)):
        yield batch
