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
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from itertools import islice
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote
from sqlmodel import Session

from grants import mail, render
from grants.applicant_links import asks_for_answer, final_report_link, letter_link
from grants.calendar_invite import (
    TALK_FILE_NAMES,
    calendar_invite,
    content_type,
    file_name,
    talk_invite,
)
from grants.embedded import server_mode
from grants.seal import NO_SEAL
from grants.settings import Settings, load
from models import clock
from models.db import transaction
from models.delivery import (
    Deliverable,
    claim,
    due_ids,
    make_due,
    mark_failed,
    mark_sent,
    set_aside,
    take,
    waiting_count,
)
from models.letters import (
    COMMUNITY_TALK_INVITATION,
    MEETINGS,
    SEALED,
    NotMadeYet,
    attach_pdfs,
    claim_to_render,
    letter_context,
    rendering_elsewhere,
    renew_claim,
    translation_of,
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
    """Letters this run claimed, as claimed (with their cases) and their templates' contexts,
    by id; their PDFs on their way (an iterator, in order)."""

    ids: list[int]
    pdfs: Iterator[bytes | render.RenderFailed]
    letters: dict[int, Letter]
    contexts: dict[int, dict[str, Any]]

    def in_groups(
        self, size: int
    ) -> Iterator[tuple[list[int], dict[int, bytes | render.RenderFailed]]]:
        """(ids, PDFs by id) of `size` letters at a time, each group once it is rendered."""
        for start in range(0, len(self.ids), size):
            ids = self.ids[start : start + size]
            yield ids, dict(zip(ids, islice(self.pdfs, len(ids)), strict=True))


@dataclass(frozen=True)
class Rendered:
    """A letter with what its message is made of: its template's context, its PDF and the
    PDF's SHA-256 (in the Message-ID)."""

    letter: Letter
    context: dict[str, Any]
    pdf: bytes
    sha256: str


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
def due_if_the_server_answers(settings: Settings) -> bool:
    """Letters and notices waiting for the mail server go as soon as it answers, not at the
    end of their back-off: when some wait, ask the server (nothing is sent); if it answers,
    they are due now. Returns whether it timed out (the run's letters then wait too)."""
    with transaction(settings.db_url) as session:
        if not waiting_count(session):
            return False
    try:
        mail.answers(settings)
    except mail.DeliveryFailed as failure:
        get_run_logger().warning("the mail server does not answer: %s", failure)
        return failure.timed_out
    with transaction(settings.db_url) as session:
        due = make_due(session)
    get_run_logger().info("the mail server answers: %d item(s) waiting for it go now", due)
    return False


@task(cache_policy=NO_CACHE)
def render_letters(settings: Settings, today: date, server_silent: bool = False) -> Made:
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
                _store_and_deliver(settings, rendering, pdfs, renew, made)
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
    chunk: Chunk,
    pdfs: dict[int, bytes | render.RenderFailed],
    renew: list[int],
    made: Made,
) -> None:
    """Store rendered letters, deliver them unless the server went silent, count them.

    Their messages are made of what this run has in hand (the letters as claimed for
    rendering, their contexts, their PDFs): nothing is read back but whether each is still
    to be sent."""
    stored = _store(settings, pdfs, renew)
    made.created += len(stored)
    if made.server_silent:
        return
    rendered = {
        i: Rendered(chunk.letters[i], chunk.contexts[i], pdf, stored[i])
        for i, pdf in pdfs.items()
        if i in stored and isinstance(pdf, bytes)
    }
    policy = settings.retry_policy

    def taken(session: Session, letter_id: int) -> Letter | None:
        return chunk.letters[letter_id] if take(session, Letter, letter_id, policy) else None

    def compose(letter: Letter, session: Session) -> EmailMessage:
        return _letter_message(rendered[letter.id], settings, session)

    courier = Courier(settings, Letter, compose, taken)
    sent, made.server_silent = _deliver(courier, ids=list(stored))
    made.sent += sent["sent"]
    made.failed += sent["failed"]
    made.tried += sent["tried"]


def _claim_chunk(settings: Settings, today: date) -> Chunk | None:
    """Claim the next chunk and hand it to the renderers; None if none is free."""
    with transaction(settings.db_url) as session:
        letters = claim_to_render(session, chunk_size(settings))
        jobs = [letter_job(settings, letter, today) for letter in letters]
    if not jobs:
        return None
    # Signed decisions are sealed as they are rendered; without a seal they are not made.
    seal = (settings.seal or NO_SEAL) if any(x.kind in SEALED for x in letters) else None
    jobs = [(template, context, seal) for template, context in jobs]
    ids = [letter.id for letter in letters]
    pdfs = iter(render.render_many(jobs, settings.render_workers))
    contexts = {  # the e-mails': each with the personal link its PDF leaves out
        i: {
            **context,
            "applicant_link": letter_link(settings, letter),
            "report_link": final_report_link(settings, letter),
        }
        for i, letter, (_, context, _) in zip(ids, letters, jobs, strict=True)
    }
    return Chunk(ids, pdfs, dict(zip(ids, letters, strict=True)), contexts)


def letter_job(settings: Settings, letter: Letter, today: date) -> tuple[str, dict[str, Any]]:
    """What a letter is rendered from, dated `today`: its template and the template's
    context, as plain data. The office's preview of a step's letters renders the same.

    The PDF is an official document anyone may ask for: it never carries the applicant's
    personal link, only says that the e-mail does (`_stored` gives the e-mail its link)."""
    authority = settings.file["authority"]
    context = letter_context(
        letter,
        authority,
        today,
        link_in_email=asks_for_answer(letter),
        advisory_organisations=settings.advisory_organisations,
    )
    return f"letters/{letter.kind}.{letter.language}.html", context


def _store(
    settings: Settings, pdfs: dict[int, bytes | render.RenderFailed], renew: list[int]
) -> dict[int, str]:
    """Register rendered PDFs (by letter id) on their cases, in one transaction that also
    renews the claim on the letters `renew` (claimed, not rendered yet); return the SHA-256
    of the letters stored, by id. A letter that could not be rendered is set aside with its
    reason."""
    failed = {i: pdf for i, pdf in pdfs.items() if isinstance(pdf, render.RenderFailed)}
    with transaction(settings.db_url) as session:
        made = {i: pdf for i, pdf in pdfs.items() if i not in failed}
        stored = attach_pdfs(session, made, renderer())
        for letter_id, reason in failed.items():
            letter = session.get(Letter, letter_id)
            if letter is not None and letter.delivery_state == DeliveryState.to_render:
                set_aside(session, letter, f"cannot be rendered: {reason}")
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

    def compose(letter: Letter, session: Session) -> EmailMessage:
        return _letter_message(_stored(letter, settings, today), settings, session)

    courier = Courier(settings, Letter, compose)
    counts = _deliver(courier, server_silent, skip=set(tried or ()))[0]
    return {"sent": counts["sent"], "failed": counts["failed"]}


@task(cache_policy=NO_CACHE)
def deliver_notices(settings: Settings, server_silent: bool = False) -> tuple[dict[str, int], bool]:
    """Send every queued notice to staff, like letters; and whether the server timed out."""
    courier = Courier(settings, Notice, lambda notice, _: _notice_message(notice, settings))
    counts, server_silent = _deliver(courier, server_silent)
    return {"sent": counts["sent"], "failed": counts["failed"]}, server_silent


def _stored(letter: Letter, settings: Settings, today: date) -> Rendered:
    """A letter rendered earlier, with what its message is made of."""
    authority = settings.file["authority"]
    context = letter_context(
        letter,
        authority,
        today,
        letter_link(settings, letter),
        advisory_organisations=settings.advisory_organisations,
    ) | {"report_link": final_report_link(settings, letter)}
    return Rendered(letter, context, letter.pdf or b"", letter.sha256 or "")


def _letter_message(rendered: Rendered, settings: Settings, session: Session) -> EmailMessage:
    """The letter's e-mail, its PDF attached; a decision's translation attached with it, the
    e-mail then in the translation's language (the applicant's), saying which is the act."""
    letter, authority = rendered.letter, settings.file["authority"]
    attachments = [(letter.filename, rendered.pdf, "application/pdf")]
    translation = translation_of(session, letter)
    context, language = rendered.context, letter.language
    if translation is not None:
        attachments.append((translation.filename, translation.pdf, "application/pdf"))
        context = context | {"translation": translation.filename, "act": letter.filename}
        language = translation.language
    template = f"email/{letter.kind}.{language}.txt"
    subject, body = render.render_text(template, context).split("\n\n", 1)
    if letter.kind in MEETINGS:
        ics = calendar_invite(letter, authority)
        attachments.append((file_name(letter), ics, content_type(letter)))
    if letter.kind == COMMUNITY_TALK_INVITATION:
        ics = talk_invite(letter, authority)
        attachments.append((TALK_FILE_NAMES[letter.language], ics, content_type(letter)))
    return mail.build_message(
        authority["mail_from"],
        letter.recipient,
        subject.strip(),
        body,
        f"{letter.letter_key}-{rendered.sha256[:16]}",
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


@dataclass
class Courier:
    """Hands items of one kind (`model`) to the mail server one at a time, each claimed just
    before it goes (models.delivery): by `taken` if given, else by `claim`, which reads it
    with what its message says; `compose` makes its message.

    What became of an item that went is recorded in the transaction that claims the next,
    so each costs one transaction: a crash before that commit leaves it `sending`, as a
    crash before a transaction of its own would, and it is sent again once its claim is
    stale, with the same Message-ID (at least once, never lost)."""

    settings: Settings
    model: type[Deliverable]
    compose: Callable[[Any, Session], EmailMessage]  # the item, in the claim's transaction
    taken: Callable[[Session, int], Deliverable | None] | None = None
    went: tuple[Deliverable, str] | None = None  # sent, not recorded yet: (item, how)

    def take(self, session: Session, item_id: int) -> Deliverable | None:
        """Claim the item for this run: it, or None if another run has it."""
        if self.taken is not None:
            return self.taken(session, item_id)
        return claim(session, self.model, item_id, self.settings.retry_policy)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A transaction that first records the item that went before, if one did."""
        with transaction(self.settings.db_url) as session:
            if self.went is not None:
                mark_sent(session, *self.went)
            yield session
        self.went = None

    def close(self) -> None:
        """Record the last item that went."""
        if self.went is not None:
            with self.transaction():
                pass


SENT, FAILED, TIMED_OUT = "sent", "failed", "timed out"


def _deliver(
    courier: Courier,
    server_silent: bool = False,
    ids: list[int] | None = None,
    skip: Collection[int] = (),
) -> tuple[dict[str, Any], bool]:
    """Send what is due but the items in `skip`, or the items `ids` (just made), one item at
    a time: each outcome is committed before the next item goes (Courier).

    An item that cannot be built or is refused for good is set aside; a temporary failure
    waits for a retry; once the server has not answered in time, the rest wait for the
    next run rather than each costing the full timeout, and count as not delivered (the
    rest of `ids` are counted by the run's last delivery, which finds them due). Returns
    the counts with the ids tried ("tried"), and whether the server timed out.
    """
    logger, model, settings = get_run_logger(), courier.model, courier.settings
    just_made = ids is not None  # render_letters says what became of them, chunk by chunk
    if ids is None:
        with transaction(settings.db_url) as session:
            ids = [i for i in due_ids(session, model, settings.retry_policy) if i not in skip]
    counts: dict[str, Any] = {"sent": 0, "failed": 0, "tried": []}
    if server_silent:
        counts["failed"] = len(ids)
        return counts, True
    try:
        for position, item_id in enumerate(ids):
            outcome = _deliver_one(courier, item_id)
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
    finally:
        courier.close()
    if ids and not just_made:
        logger.info(
            "%s: %d delivered, %d not delivered",
            model.__tablename__,
            counts["sent"],
            counts["failed"],
        )
    return counts, server_silent


def _deliver_one(courier: Courier, item_id: int) -> str | None:
    """Claim the item, build its message, hand it over, record the outcome (Courier); return
    it (SENT, FAILED, TIMED_OUT), or None if another run has the item.

    The message is serialised once, in the claim's transaction: what cannot be serialised
    cannot be sent, and is set aside at once."""
    logger, model, settings = get_run_logger(), courier.model, courier.settings
    with courier.transaction() as session:
        item = courier.take(session, item_id)
        if item is None:
            return None
        try:
            outgoing = mail.serialise(courier.compose(item, session), settings)
        except NotMadeYet as waiting:  # another run is making what goes with it: a retry
            mark_failed(session, session.get(model, item_id), str(waiting), settings.retry_policy)
            return FAILED
        except Exception as error:  # any fault of this one item sets it aside
            reason = f"cannot be built: {type(error).__name__}: {error}"
            set_aside(session, session.get(model, item_id), reason)
            logger.warning("%s %s set aside: %s", model.__name__, item_id, error)
            return FAILED
    name = getattr(item, "filename", f"{model.__tablename__}-{item_id}").removesuffix(".pdf")
    try:
        via = mail.send(outgoing, settings, name)
    except mail.DeliveryFailed as failure:
        with courier.transaction() as session:
            item = session.get(model, item_id)
            if failure.permanent:
                set_aside(session, item, str(failure))
            else:
                mark_failed(session, item, str(failure), settings.retry_policy, failure.away)
        logger.warning("%s %s not delivered: %s", model.__name__, item_id, failure)
        return TIMED_OUT if failure.timed_out else FAILED
    courier.went = (item, via)  # as claimed: the run's own until its claim is stale
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
    made = render_letters(settings, today, due_if_the_server_answers(settings))
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
