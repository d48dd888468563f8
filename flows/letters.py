"""Letters: render what is due, register it on the case, deliver what is queued.

Both steps work from the database, not from what the calling flow remembers, so a
rerun after a crash picks up exactly what is left: cases still without the letter,
letters still queued.

Rendering goes in chunks that any run claims (models.letters.claim_to_render), and letters
are delivered as soon as they are stored, while the render workers go on. In
server mode a batch larger than one chunk is handed to the work pool: one `send-letters`
run per worker online (but the worker of a run that hands it out: that run takes its own
share), so every machine renders its share; a chunk whose run died is taken over by the
others once its lease is out, and each letter is still sent once (models.delivery).
"""

import os
import socket
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from itertools import islice
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from grants import mail, render
from grants.applicant_links import letter_link
from grants.calendar_invite import CONTENT_TYPE, calendar_invite
from grants.embedded import server_mode
from grants.settings import Settings, load
from models import clock
from models.db import transaction
from models.delivery import Deliverable, claim, due_ids, give_up, mark_failed, mark_sent
from models.letters import (
    MEETING_INVITATION,
    attach_pdfs,
    claim_to_render,
    letter_context,
    rendering_elsewhere,
    renew_claim,
    waiting_to_render,
)
from models.tables import DeliveryState, Letter, Notice

CHUNK_PER_CORE = 32  # letters a run claims per rendering core: seconds of work, well in the lease
STORE_EVERY = 8  # letters stored (one transaction) and delivered as soon as they are rendered
POOL = "grants"
SEND_LETTERS = "send-letters/send-letters"


def renderer() -> str:
    """Who renders here: the `grants worker`'s name, else this machine's."""
    return os.environ.get("GRANTS_WORKER_NAME") or socket.gethostname()


def chunk_size(settings: Settings) -> int:
    return CHUNK_PER_CORE * (settings.render_workers or os.cpu_count() or 1)


@dataclass
class Chunk:
    """Letters this run claimed, their PDFs on their way (an iterator, in order)."""

    ids: list[int]
    pdfs: Iterator[bytes | render.RenderFailed]

    def in_groups(
        self, size: int
    ) -> Iterator[tuple[list[int], dict[int, bytes | render.RenderFailed]]]:
        """(ids, PDFs by id) of `size` letters at a time, each group once it is rendered."""
        for start in range(0, len(self.ids), size):
            ids = self.ids[start : start + size]
            yield ids, dict(zip(ids, islice(self.pdfs, len(ids)), strict=True))


@dataclass
class Made:
    """What a run of render_letters made and sent so far; the letters it tried to send (it
    tries each once); whether the server timed out (the letters made afterwards then wait
    for the run's last delivery to count them)."""

    created: int = 0
    sent: int = 0
    failed: int = 0
    tried: list[int] = field(default_factory=list)
    server_silent: bool = False


@task(cache_policy=NO_CACHE)
def render_letters(settings: Settings, today: date) -> Made:
    """Render ordered letters chunk by chunk until none is left, also none that another run
    was rendering and left (it died), and deliver them as soon as they are stored.

    The next chunk is claimed and handed to the renderers before the one they are on is
    stored and delivered, so they never wait for this process; its letters are stored and
    delivered a few at a time as they come, so little is left to do once the last is
    rendered. Rendering takes seconds, so it holds no transaction open.
    """
    made = Made()
    rendering: Chunk | None = None
    while True:
        following = _claim_chunk(settings, today)
        if rendering is not None:
            for ids, pdfs in rendering.in_groups(STORE_EVERY):
                last = ids[-1] == rendering.ids[-1]
                renew = following.ids if following and last else []
                _store_and_deliver(settings, today, pdfs, renew, made)
            get_run_logger().info(
                "so far %d letter(s) rendered and registered, %d delivered, %d not delivered",
                made.created,
                made.sent,
                made.failed,
            )
        elif following is None:
            with transaction(settings.db_url) as session:
                if not rendering_elsewhere(session):
                    return made
            time.sleep(0.5)  # the rest is in other runs' hands: wait for them, or their lease
        rendering = following


def _store_and_deliver(
    settings: Settings,
    today: date,
    pdfs: dict[int, bytes | render.RenderFailed],
    renew: list[int],
    made: Made,
) -> None:
    """Store rendered letters, deliver them unless the server went silent, count them."""
    stored = _store(settings, pdfs, renew)
    made.created += len(stored)
    if not made.server_silent:
        compose = _letters(settings, today)
        sent, made.server_silent = _deliver(settings, Letter, compose, ids=stored)
        made.sent += sent["sent"]
        made.failed += sent["failed"]
        made.tried += sent["tried"]


def _claim_chunk(settings: Settings, today: date) -> Chunk | None:
    """Claim the next chunk and hand it to the renderers; None if none is free."""
    authority = settings.file["authority"]
    with transaction(settings.db_url) as session:
        letters = claim_to_render(session, chunk_size(settings))
        jobs = [
            (
                f"letters/{letter.kind}.{letter.language}.html",
                letter_context(letter, authority, today, letter_link(settings, letter)),
            )
            for letter in letters
        ]
    if not jobs:
        return None
    ids = [letter.id for letter in letters]
    return Chunk(ids, iter(render.render_many(jobs, settings.render_workers)))


def _store(
    settings: Settings, pdfs: dict[int, bytes | render.RenderFailed], renew: list[int]
) -> list[int]:
    """Register rendered PDFs (by letter id) on their cases, in one transaction that also
    renews the claim on the letters `renew` (claimed, not rendered yet); return the ids of
    the letters stored. A letter that could not be rendered is set aside with its reason."""
    failed = {i: pdf for i, pdf in pdfs.items() if isinstance(pdf, render.RenderFailed)}
    with transaction(settings.db_url) as session:
        made = {i: pdf for i, pdf in pdfs.items() if i not in failed}
        stored = attach_pdfs(session, made, renderer())
        for letter_id, reason in failed.items():
            letter = session.get(Letter, letter_id)
            if letter is not None and letter.delivery_state == DeliveryState.to_render:
                give_up(session, letter, f"cannot be rendered: {reason}")
                get_run_logger().warning("letter %s set aside: %s", letter_id, reason)
        renew_claim(session, renew)
    return stored


@task(cache_policy=NO_CACHE)
def deliver_letters(
    settings: Settings, today: date, server_silent: bool = False, tried: list[int] | None = None
) -> dict[str, int]:
    """Send every letter that is due (models.delivery says when) but those this run `tried`
    already; return what became of them.

    `server_silent`: the server already timed out in this run; the letters wait for the next.
    """
    compose = _letters(settings, today)
    counts = _deliver(settings, Letter, compose, server_silent, skip=set(tried or ()))[0]
    return {"sent": counts["sent"], "failed": counts["failed"]}


@task(cache_policy=NO_CACHE)
def deliver_notices(settings: Settings, server_silent: bool = False) -> tuple[dict[str, int], bool]:
    """Send every queued notice to staff, like letters; and whether the server timed out."""
    counts, server_silent = _deliver(
        settings, Notice, lambda notice: _notice_message(notice, settings), server_silent
    )
    return {"sent": counts["sent"], "failed": counts["failed"]}, server_silent


def _letters(settings: Settings, today: date) -> Callable[[Letter], EmailMessage]:
    return lambda letter: _letter_message(letter, settings, today)


def _letter_message(letter: Letter, settings: Settings, today: date) -> EmailMessage:
    authority = settings.file["authority"]
    context = letter_context(letter, authority, today, letter_link(settings, letter))
    template = f"email/{letter.kind}.{letter.language}.txt"
    subject, body = render.render_text(template, context).split("\n\n", 1)
    attachments = [(letter.filename, letter.pdf, "application/pdf")]
    if letter.kind == MEETING_INVITATION:
        name = "inbjudan.ics" if letter.language == "sv" else "invitation.ics"
        attachments.append((name, calendar_invite(letter, authority), CONTENT_TYPE))
    return mail.build_message(
        authority["mail_from"],
        letter.recipient,
        subject.strip(),
        body,
        f"{letter.letter_key}-{letter.sha256[:16]}",
        tuple(attachments),
    )


def _notice_message(notice: Notice, settings: Settings) -> EmailMessage:
    authority = settings.file["authority"]
    context = {"authority": authority, "notice": notice.data, "office_url": settings.base_url}
    text = render.render_text(f"email/notice_{notice.kind}.txt", context)
    subject, body = text.split("\n\n", 1)
    return mail.build_message(
        authority["mail_from"], notice.recipient, subject.strip(), body, notice.notice_key
    )


def _deliver(
    settings: Settings,
    model: type[Deliverable],
    compose: Callable[[Any], EmailMessage],
    server_silent: bool = False,
    ids: list[int] | None = None,
    skip: Collection[int] = (),
) -> tuple[dict[str, Any], bool]:
    """Send what is due but the items in `skip`, or the items `ids` (just made), one item at
    a time: each outcome is committed before the next.

    An item that cannot be built or is refused for good is set aside; a temporary failure
    waits for a retry; once the server has not answered in time, the rest wait for the
    next run rather than each costing the full timeout, and count as not delivered (the
    rest of `ids` are counted by the run's last delivery, which finds them due). Returns
    the counts with the ids tried ("tried"), and whether the server timed out.
    """
    logger = get_run_logger()
    just_made = ids is not None  # render_letters says what became of them, chunk by chunk
    if ids is None:
        with transaction(settings.db_url) as session:
            ids = [i for i in due_ids(session, model, settings.retry_policy) if i not in skip]
    counts: dict[str, Any] = {"sent": 0, "failed": 0, "tried": []}
    if server_silent:
        counts["failed"] = len(ids)
        return counts, True
    for position, item_id in enumerate(ids):
        outcome = _deliver_one(settings, model, compose, item_id)
        if outcome is None:
            continue  # another delivery run has it
        counts["tried"].append(item_id)
        counts["sent" if outcome == SENT else "failed"] += 1
        if outcome == TIMED_OUT:
            waiting = len(ids) - position - 1
            logger.warning("%d more wait for the next run: the server does not answer", waiting)
            counts["failed"] += 0 if just_made else waiting
            server_silent = True
            break
    if ids and not just_made:
        logger.info(
            "%s: %d delivered, %d not delivered",
            model.__tablename__,
            counts["sent"],
            counts["failed"],
        )
    return counts, server_silent


SENT, FAILED, TIMED_OUT = "sent", "failed", "timed out"


def _deliver_one(
    settings: Settings,
    model: type[Deliverable],
    compose: Callable[[Any], EmailMessage],
    item_id: int,
) -> str | None:
    """Claim the item, build its message, hand it over, record the outcome; return it (SENT,
    FAILED, TIMED_OUT), or None if another run has the item.

    The message is serialised once, in the claim's transaction: what cannot be serialised
    cannot be sent, and is set aside at once."""
    logger = get_run_logger()
    policy = settings.retry_policy
    with transaction(settings.db_url) as session:
        item = claim(session, model, item_id, policy)
        if item is None:
            return None
        try:
            outgoing = mail.serialise(compose(item), settings)
        except Exception as error:  # any fault of this one item sets it aside
            give_up(session, item, f"cannot be built: {type(error).__name__}: {error}")
            logger.warning("%s %s set aside: %s", model.__name__, item_id, error)
            return FAILED
    name = getattr(item, "filename", f"{model.__tablename__}-{item_id}").removesuffix(".pdf")
    try:
        via = mail.send(outgoing, settings, name)
    except mail.DeliveryFailed as failure:
        with transaction(settings.db_url) as session:
            item = session.get(model, item_id)
            if failure.permanent:
                give_up(session, item, str(failure))
            else:
                mark_failed(session, item, str(failure), policy)
        logger.warning("%s %s not delivered: %s", model.__name__, item_id, failure)
        return TIMED_OUT if failure.timed_out else FAILED
    with transaction(settings.db_url) as session:
        mark_sent(session, item, via)  # as claimed: the run's own until its claim is stale
    return SENT


def send_due(
    settings: Settings, today: date, helping: bool = False, worker: str | None = None
) -> dict[str, int]:
    """Render what the domain ordered and deliver what is queued, retries included; or, for
    a batch larger than one chunk in server mode, hand it to every worker of the pool. A
    run on one of the pool's workers (`worker`) hands it to the others and takes its own
    share: it is running already, where a run handed to its worker would start anew."""
    helpers = 0 if helping else ask_the_pool(settings, worker)
    if helpers and worker is None:
        get_run_logger().info("%d worker(s) of the pool render and send the batch", helpers)
        none = {"created": 0, "sent": 0, "failed": 0, "notices_sent": 0, "notices_failed": 0}
        return none | {"workers": helpers}
    if helpers:
        get_run_logger().info("%d other worker(s) of the pool take a share", helpers)
    made = render_letters(settings, today)
    notices, server_silent = deliver_notices(settings, made.server_silent)
    rest = deliver_letters(settings, today, server_silent, quote(made.tried))
    return {
        "created": made.created,
        "sent": made.sent + rest["sent"],
        "failed": made.failed + rest["failed"],
        "notices_sent": notices["sent"],
        "notices_failed": notices["failed"],
    }


def ask_the_pool(settings: Settings, worker: str | None = None) -> int:
    """Start one `send-letters` run per worker online on the pool, but `worker` (this run's
    own), when more than one chunk waits; return how many are on it (none in embedded
    mode, where there is no pool).

    The idempotency keys name the first letter waiting, so two runs that see the same batch
    start its helpers once; a key's run that has already ended (it died, say, and left
    letters) helps no more, and this run renders what is left itself."""
    if not server_mode():
        return 0
    with transaction(settings.db_url) as session:
        waiting = waiting_to_render(session, chunk_size(settings) + 1)
    if len(waiting) <= chunk_size(settings):
        return 0
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import WorkerStatus
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            workers = client.read_workers_for_work_pool(POOL)
        online = [w for w in workers if w.status == WorkerStatus.ONLINE and w.name != worker]
        helpers = [
            run_deployment(
                SEND_LETTERS,
                parameters={"helping": True},
                timeout=0,
                _sync=True,  # a flow may be run from async code: still start them here
                idempotency_key=f"render-from-letter-{waiting[0]}-{number}",
            )
            for number in range(len(online))
        ]
    except ObjectNotFound:  # no pool or no deployment: this run renders it all
        return 0
    return sum(1 for run in helpers if run.state is None or not run.state.is_final())


@flow(name="send-letters")
def send_letters(helping: bool = False) -> dict[str, int]:
    """Render what the domain ordered and deliver what is queued, retries included.

    Started after every step a person takes, on a schedule, and by the sweep; `helping`:
    started by another run to take a share of a large batch.
    """
    worker = os.environ.get("GRANTS_WORKER_NAME")  # set by `grants worker` for its runs
    return send_due(load(), clock.today(), helping, worker)


@task(name="follow-up", cache_policy=NO_CACHE)
def follow_up() -> dict[str, int]:
    """What a person's step ordered, sent by a task worker (`grants worker`) in server mode:
    picked up in a fraction of a second, where a deployment run takes seconds to start."""
    return send_due(load(), clock.today())
