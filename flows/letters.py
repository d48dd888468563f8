"""Letters: render what is due, register it on the case, deliver what is queued.

Both steps work from the database, not from what the calling flow remembers, so a
rerun after a crash picks up exactly what is left: cases still without the letter,
letters still queued.

Rendering goes in chunks that any run claims (models.letters.claim_to_render). In server
mode a batch larger than one chunk is handed to the work pool: one `send-letters` run per
worker online, so every machine renders its share; a chunk whose run died is taken over
by the others once its lease is out, and each letter is still sent once (models.delivery).
"""

import os
import socket
import time
from collections.abc import Callable
from datetime import date
from email.message import EmailMessage
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from grants import mail, render
from grants.applicant_links import letter_link
from grants.calendar_invite import CONTENT_TYPE, calendar_invite
from grants.embedded import server_mode
from grants.settings import Settings, load
from grants.web.office import base_url
from models import clock
from models.db import transaction
from models.delivery import Deliverable, claim, due_ids, give_up, mark_failed, mark_sent
from models.letters import (
    MEETING_INVITATION,
    attach_pdf,
    claim_to_render,
    letter_context,
    rendering_elsewhere,
    waiting_to_render,
)
from models.tables import Letter, Notice

CHUNK_PER_CORE = 32  # letters a run claims per rendering core: seconds of work, well in the lease
POOL = "grants"
SEND_LETTERS = "send-letters/send-letters"


def renderer() -> str:
    """Who renders here: the `grants worker`'s name, else this machine's."""
    return os.environ.get("GRANTS_WORKER_NAME") or socket.gethostname()


def chunk_size(settings: Settings) -> int:
    return CHUNK_PER_CORE * (settings.render_workers or os.cpu_count() or 1)


@task(cache_policy=NO_CACHE)
def render_letters(settings: Settings, today: date) -> int:
    """Render ordered letters chunk by chunk until none is left, also none that another run
    was rendering and left (it died); return how many this run made."""
    logger = get_run_logger()
    authority = settings.file["authority"]
    created = 0
    while True:
        # Claim, render, store: rendering takes seconds, so it holds no transaction open.
        with transaction(settings.db_url) as session:
            letters = claim_to_render(session, chunk_size(settings))
            jobs = [
                (
                    f"letters/{letter.kind}.{letter.language}.html",
                    letter_context(letter, authority, today, letter_link(settings, letter)),
                )
                for letter in letters
            ]
            ids = [letter.id for letter in letters]
            others = 0 if ids else rendering_elsewhere(session)
        if not ids:
            if not others:
                return created
            time.sleep(0.5)  # the rest is in other runs' hands: wait for them, or their lease
            continue
        pdfs = render.render_many(jobs, settings.render_workers)
        with transaction(settings.db_url) as session:
            for letter_id, pdf in zip(ids, pdfs, strict=True):
                if isinstance(pdf, render.RenderFailed):
                    give_up(session, session.get(Letter, letter_id), f"cannot be rendered: {pdf}")
                    logger.warning("letter %s set aside: %s", letter_id, pdf)
                else:
                    attach_pdf(session, letter_id, pdf, renderer())
                    created += 1
        logger.info("%d letter(s) rendered and registered", created)


@task(cache_policy=NO_CACHE)
def deliver_letters(settings: Settings, today: date, server_silent: bool = False) -> dict[str, int]:
    """Send every letter that is due (models.delivery says when); return what became of them.

    `server_silent`: the server already timed out in this run; the letters wait for the next.
    """
    return _deliver(
        settings, Letter, lambda letter: _letter_message(letter, settings, today), server_silent
    )[0]


@task(cache_policy=NO_CACHE)
def deliver_notices(settings: Settings) -> tuple[dict[str, int], bool]:
    """Send every queued notice to staff, like letters; and whether the server timed out."""
    return _deliver(settings, Notice, lambda notice: _notice_message(notice, settings))


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
    context = {"authority": authority, "notice": notice.data, "office_url": base_url(settings)}
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
) -> tuple[dict[str, int], bool]:
    """Send what is due, one item at a time: each outcome is committed before the next.

    An item that cannot be built or is refused for good is set aside; a temporary failure
    waits for a retry; once the server has not answered in time, the rest wait for the
    next run rather than each costing the full timeout. Returns the counts, and whether the
    server timed out.
    """
    logger = get_run_logger()
    policy = settings.retry_policy
    with transaction(settings.db_url) as session:
        due = due_ids(session, model, policy)
    counts = {"sent": 0, "failed": 0}
    if server_silent:
        counts["failed"] = len(due)
        return counts, True
    for position, item_id in enumerate(due):
        with transaction(settings.db_url) as session:
            item = claim(session, model, item_id, policy)
            if item is None:
                continue  # another delivery run has it
            name = getattr(item, "filename", f"{model.__tablename__}-{item_id}")
            try:
                message = compose(item)
                message.as_bytes()  # what cannot be serialised cannot be sent
            except Exception as error:  # any fault of this one item sets it aside
                give_up(session, item, f"cannot be built: {type(error).__name__}: {error}")
                counts["failed"] += 1
                logger.warning("%s %s set aside: %s", model.__name__, item_id, error)
                continue
        try:
            via = mail.deliver(message, settings, name.removesuffix(".pdf"))
        except mail.DeliveryFailed as failure:
            with transaction(settings.db_url) as session:
                item = session.get(model, item_id)
                if failure.permanent:
                    give_up(session, item, str(failure))
                else:
                    mark_failed(session, item, str(failure), policy)
            counts["failed"] += 1
            logger.warning("%s %s not delivered: %s", model.__name__, item_id, failure)
            if failure.timed_out:
                waiting = len(due) - position - 1
                logger.warning("%d more wait for the next run: the server does not answer", waiting)
                counts["failed"] += waiting
                server_silent = True
                break
            continue
        with transaction(settings.db_url) as session:
            mark_sent(session, session.get(model, item_id), via)
        counts["sent"] += 1
    if due:
        logger.info(
            "%s: %d delivered, %d not delivered",
            model.__tablename__,
            counts["sent"],
            counts["failed"],
        )
    return counts, server_silent


def send_due(settings: Settings, today: date, helping: bool = False) -> dict[str, int]:
    """Render what the domain ordered and deliver what is queued, retries included; or, for
    a batch larger than one chunk in server mode, hand it to every worker of the pool."""
    helpers = 0 if helping else ask_the_pool(settings)
    if helpers:
        get_run_logger().info("%d worker(s) of the pool render and send the batch", helpers)
        none = {"created": 0, "sent": 0, "failed": 0, "notices_sent": 0, "notices_failed": 0}
        return none | {"workers": helpers}
    created = render_letters(settings, today)
    notices, server_silent = deliver_notices(settings)
    return (
        {"created": created}
        | deliver_letters(settings, today, server_silent)
        | {
            "notices_sent": notices["sent"],
            "notices_failed": notices["failed"],
        }
    )


def ask_the_pool(settings: Settings) -> int:
    """Start one `send-letters` run per worker online on the pool when more than one chunk
    waits; return how many are on it (none in embedded mode, where there is no pool).

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
        online = [worker for worker in workers if worker.status == WorkerStatus.ONLINE]
        helpers = [
            run_deployment(
                SEND_LETTERS,
                parameters={"helping": True},
                timeout=0,
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
    return send_due(load(), clock.today(), helping)


@task(name="follow-up", cache_policy=NO_CACHE)
def follow_up() -> dict[str, int]:
    """What a person's step ordered, sent by a task worker (`grants worker`) in server mode:
    picked up in a fraction of a second, where a deployment run takes seconds to start."""
    return send_due(load(), clock.today())
