"""Letters: render what is due, register it on the case, deliver what is queued.

Both steps work from the database, not from what the calling flow remembers, so a
rerun after a crash picks up exactly what is left: cases still without the letter,
letters still queued.
"""

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from grants import mail, render
from grants.settings import Settings, load
from models.db import transaction
from models.letters import (
    attach_pdf,
    claim_for_delivery,
    letter_context,
    letters_to_render,
    mark_failed,
    mark_sent,
    queued_letter_ids,
)
from models.tables import Letter

RENDER_BATCH = 200


@task(cache_policy=NO_CACHE)
def render_letters(settings: Settings, today: date) -> int:
    """Render every ordered letter that has no PDF yet; return how many were made."""
    logger = get_run_logger()
    authority = settings.file["authority"]
    created = 0
    while True:
        # Read, render, store: rendering takes seconds, so it holds no transaction open.
        with transaction(settings.db_url) as session:
            letters = letters_to_render(session, limit=RENDER_BATCH)
            jobs = [
                (
                    f"letters/{letter.kind}.{letter.language}.html",
                    letter_context(letter, authority, today),
                )
                for letter in letters
            ]
            ids = [letter.id for letter in letters]
        if not ids:
            return created
        pdfs = render.render_many(jobs, settings.render_workers)
        with transaction(settings.db_url) as session:
            for letter_id, pdf in zip(ids, pdfs, strict=True):
                attach_pdf(session, letter_id, pdf)
        created += len(ids)
        logger.info("%d letter(s) rendered and registered", created)


@task(cache_policy=NO_CACHE)
def deliver_letters(settings: Settings, today: date) -> dict[str, int]:
    """Send every queued letter once; a failure stays queued, with its reason, for the next run."""
    logger = get_run_logger()
    authority = settings.file["authority"]
    with transaction(settings.db_url) as session:
        queued = queued_letter_ids(session)
    counts = {"sent": 0, "failed": 0}
    for letter_id in queued:
        with transaction(settings.db_url) as session:
            letter = claim_for_delivery(session, letter_id)
            if letter is None:
                continue  # another delivery run has it
            context = letter_context(letter, authority, today)
            template = f"email/{letter.kind}.{letter.language}.txt"
            subject, body = render.render_text(template, context).split("\n\n", 1)
            message = mail.build_message(letter, authority["mail_from"], subject.strip(), body)
        try:
            via = mail.deliver(message, settings, letter.filename.removesuffix(".pdf"))
        except Exception as error:  # any failure: keep the letter, say why, retry later
            with transaction(settings.db_url) as session:
                mark_failed(
                    session, session.get(Letter, letter_id), f"{type(error).__name__}: {error}"
                )
            counts["failed"] += 1
            logger.warning("letter %s not delivered: %s", letter.filename, error)
            continue
        with transaction(settings.db_url) as session:
            mark_sent(session, session.get(Letter, letter_id), via)
        counts["sent"] += 1
    if queued:
        logger.info("%(sent)d letter(s) delivered, %(failed)d left queued for a retry", counts)
    return counts


@flow(name="send-letters")
def send_letters() -> dict[str, int]:
    """Render what the domain ordered and deliver what is queued, retries included.

    Started after every step a person takes, and by the sweep.
    """
    settings, today = load(), date.today()
    created = render_letters(settings, today)
    return {"created": created} | deliver_letters(settings, today)
