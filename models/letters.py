"""Letters as records of the case: ordered, rendered, delivered.

A letter is ordered once — its key is unique — in the transaction of the step that calls
for it. Rendering fills in its PDF and SHA-256 once. Delivery is at least once, with a
stable Message-ID (models.delivery): a delivery run claims it (queued → sending) in its own
transaction before sending, so two runs never both send it, a temporary failure returns it
to the queue, and a run that died mid-send leaves it to be sent again.

Rendering is shared the same way: a run claims a chunk of ordered letters (`claimed_at`)
before rendering them, so any number of runs, on any number of machines, render a large
batch together; a chunk whose run died is free again after `RENDER_LEASE`. A run that
claims its next chunk before the current one is done renews that claim (`renew_claim`)
when it stores the current one, so the lease covers one chunk's rendering, not two.
"""

import hashlib
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import joinedload, selectinload
from sqlmodel import Session, col, func, or_, select

from models.audit import SYSTEM, Actor, record
from models.decision_letter import decision_facts, decision_letter
from models.meeting_letter import meeting_letter
from models.tables import Case, DeliveryState, Language, Letter, utcnow
from models.vocabulary import criterion_names, finding_words, formal_names

ACKNOWLEDGEMENT = "acknowledgement"
SUPPLEMENT_REQUEST = "supplement_request"
SUPPLEMENT_REMINDER = "supplement_reminder"
MEETING_INVITATION = "meeting_invitation"
MEETING_CANCELLATION = "meeting_cancellation"
MEETINGS = (MEETING_INVITATION, MEETING_CANCELLATION)  # letters with a calendar file
DRAFT_DECISION = "draft_decision"
DECISION = "decision"
COMMUNICATION = "communication"
COMMUNITY_TALK_INVITATION = "community_talk_invitation"
DELAY_NOTICE = "delay_notice"
# Repayment (models.repayment): the claim communicated, decided (sealed as a decision is), and
# the one reminder when it is overdue; a claim's letters are numbered by the claim.
REPAYMENT_COMMUNICATION = "repayment_communication"
REPAYMENT_DECISION = "repayment_decision"
REPAYMENT_REMINDER = "repayment_reminder"
REPAYMENT_WITHDRAWAL = "repayment_withdrawal"  # a claim the grantee has seen, not pursued
# The final report (models.final_reports): a reminder before, on and after its due date
# (numbered by the stage), and a request for more (numbered by the request).
FINAL_REPORT_REMINDER = "final_report_reminder"
FINAL_REPORT_MORE = "final_report_more"
# The follow-up a year after a funded project ended (models.follow_ups): the question, then
# one reminder (numbered 1 and 2).
FOLLOW_UP = "follow_up"
SEALED = (DECISION, REPAYMENT_DECISION)  # the decisions sealed as they are rendered
DECISIONS = (DECISION, DRAFT_DECISION)  # one letter: the draft is the decision marked so
# A decision in English: the act is the Swedish decision (språklagen), the English one its
# translation, sent with it in the decision's e-mail (never on its own) and not sealed.
DECISION_TRANSLATION = "decision_translation"
TO_STAFF = (DRAFT_DECISION,)  # to a person in the office (the decision maker), not the applicant

# File names applicants see, per kind and language: ASCII, so every mail client copes.
FILENAMES = {
    (ACKNOWLEDGEMENT, "sv"): "mottagningsbekraftelse",
    (ACKNOWLEDGEMENT, "en"): "acknowledgement",
    (SUPPLEMENT_REQUEST, "sv"): "begaran-om-komplettering",
    (SUPPLEMENT_REQUEST, "en"): "request-for-supplement",
    (SUPPLEMENT_REMINDER, "sv"): "paminnelse-komplettering",
    (SUPPLEMENT_REMINDER, "en"): "supplement-reminder",
    (MEETING_INVITATION, "sv"): "inbjudan-till-mote",
    (MEETING_INVITATION, "en"): "meeting-invitation",
    (MEETING_CANCELLATION, "sv"): "installt-mote",
    (MEETING_CANCELLATION, "en"): "meeting-cancelled",
    (DRAFT_DECISION, "sv"): "forslag-till-beslut",
    (DRAFT_DECISION, "en"): "draft-decision",
    (DECISION, "sv"): "beslut",
    (DECISION, "en"): "decision",
    (DECISION_TRANSLATION, "en"): "decision-translation",
    (COMMUNICATION, "sv"): "kommunicering",
    (COMMUNICATION, "en"): "communication",
    (COMMUNITY_TALK_INVITATION, "sv"): "inbjudan-samhallssamtal",
    (COMMUNITY_TALK_INVITATION, "en"): "community-talk-invitation",
    (DELAY_NOTICE, "sv"): "besked-om-forsening",
    (DELAY_NOTICE, "en"): "notice-of-delay",
    (REPAYMENT_COMMUNICATION, "sv"): "kommunicering-aterkrav",
    (REPAYMENT_COMMUNICATION, "en"): "repayment-claim-communication",
    (REPAYMENT_DECISION, "sv"): "beslut-aterkrav",
    (REPAYMENT_DECISION, "en"): "repayment-decision",
    (REPAYMENT_REMINDER, "sv"): "paminnelse-aterbetalning",
    (REPAYMENT_REMINDER, "en"): "repayment-reminder",
    (REPAYMENT_WITHDRAWAL, "sv"): "aterkrav-aterkallat",
    (REPAYMENT_WITHDRAWAL, "en"): "repayment-claim-withdrawn",
    (FINAL_REPORT_REMINDER, "sv"): "paminnelse-slutrapport",
    (FINAL_REPORT_REMINDER, "en"): "final-report-reminder",
    (FINAL_REPORT_MORE, "sv"): "komplettering-slutrapport",
    (FINAL_REPORT_MORE, "en"): "final-report-more-needed",
    (FOLLOW_UP, "sv"): "uppfoljning",
    (FOLLOW_UP, "en"): "follow-up",
}


def order_letter(
    session: Session,
    case: Case,
    kind: str,
    data: dict[str, Any] | None = None,
    number: int = 0,
    recipient: str | None = None,
    language: Language | None = None,
) -> Letter:
    """Order the letter of `kind` (the `number`th of its kind for this case) unless it was.

    `data` holds what the letter says beyond the case itself (a deadline, a meeting
    time), as JSON-ready values, so the letter can be rendered, and re-rendered, later.
    It goes to the applicant unless `recipient` says otherwise (a draft decision goes to
    the decision maker), in the case's language unless `language` says otherwise (the
    decision, which is Swedish whatever the case's language).
    """
    key = letter_key(case, kind, number)
    existing = session.exec(select(Letter).where(Letter.letter_key == key)).first()
    if existing:
        return existing
    letter = new_letter(case, kind, data, number, recipient, language)
    session.add(letter)
    return letter


def new_letter(
    case: Case,
    kind: str,
    data: dict[str, Any] | None = None,
    number: int = 0,
    recipient: str | None = None,
    language: Language | None = None,
) -> Letter:
    """The letter for a case just created, which cannot have one yet (no look-up needed)."""
    suffix = f"-{number}" if number else ""
    language = language or case.language
    return Letter(
        letter_key=letter_key(case, kind, number),
        case=case,
        kind=kind,
        language=language,
        recipient=recipient or case.organisation.email,
        filename=f"{case.case_reference}-{FILENAMES[(kind, language.value)]}{suffix}.pdf",
        data=data or {},
    )


def to_the_applicant(letter: Letter) -> bool:
    """Whether the letter goes to the applicant: a draft goes to the decision maker."""
    return letter.kind not in TO_STAFF


def letter_key(case: Case, kind: str, number: int = 0) -> str:
    """The letter's unique key: one letter of a kind (and number) per case."""
    return f"{case.case_reference}/{kind}" + (f"/{number}" if number else "")


RENDER_LEASE = timedelta(seconds=30)  # a chunk renders in seconds; a dead run's is freed


def waiting_to_render(session: Session, limit: int) -> list[int]:
    """The first `limit` ordered letters without a PDF, oldest first (claimed or not)."""
    return list(
        session.exec(
            select(Letter.id)
            .where(Letter.delivery_state == DeliveryState.to_render)
            .order_by(col(Letter.id))
            .limit(limit)
        )
    )


def claim_to_render(session: Session, limit: int) -> list[Letter]:
    """Take the next chunk of ordered letters for this run to render: oldest first, none
    that another run took less than `RENDER_LEASE` ago. Rows taken by a concurrent claim
    are skipped on PostgreSQL; on SQLite claims take turns (models.db begins immediately)."""
    now = utcnow()
    ids = list(
        session.exec(
            select(Letter.id)
            .where(Letter.delivery_state == DeliveryState.to_render, _free_to_render(now))
            .order_by(col(Letter.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return []
    session.exec(update(Letter).where(col(Letter.id).in_(ids)).values(claimed_at=now))
    return _loaded(session, select(Letter).where(col(Letter.id).in_(ids)).order_by(col(Letter.id)))


def renew_claim(session: Session, ids: list[int]) -> None:
    """Start the lease of letters this run claimed and has not rendered yet anew."""
    if ids:
        still = col(Letter.id).in_(ids), Letter.delivery_state == DeliveryState.to_render
        session.exec(update(Letter).where(*still).values(claimed_at=utcnow()))


def rendering_elsewhere(session: Session) -> int:
    """Ordered letters in other runs' hands, asked by a run whose claim found none to take:
    then every letter still to render is claimed by another run within the lease, or is
    being claimed in that run's transaction, not yet committed (PostgreSQL skips such locked
    rows). Counting only the claims within the lease let a run end while another's claim was
    in flight; had that run died then, its letters waited for the next scheduled run."""
    return session.exec(
        select(func.count())
        .select_from(Letter)
        .where(Letter.delivery_state == DeliveryState.to_render)
    ).one()


def _free_to_render(now: Any) -> Any:
    return or_(col(Letter.claimed_at).is_(None), col(Letter.claimed_at) < now - RENDER_LEASE)


# One letter with the case, organisation, call and officer its templates use, in one query.
WITH_CONTEXT = tuple(
    joinedload(Letter.case).joinedload(relation)
    for relation in (Case.organisation, Case.call, Case.case_officer)
)


def _loaded(session: Session, query: Any) -> list[Letter]:
    """The query's letters with the case, organisation, call and officer their templates use."""
    return list(
        session.exec(
            query.options(
                selectinload(Letter.case).selectinload(Case.organisation),
                selectinload(Letter.case).selectinload(Case.call),
                selectinload(Letter.case).selectinload(Case.case_officer),
            )
        )
    )


def letter_context(
    letter: Letter,
    authority: dict[str, Any],
    today: date,
    applicant_link: str | None = None,
    *,
    link_in_email: bool = False,
    advisory_organisations: Sequence[str] = (),
) -> dict[str, Any]:
    """Everything the letter's template may use, as plain data (it crosses process boundaries).

    `applicant_link`: where the applicant answers a request without an account, signed by
    the office (the domain holds no secret), for the e-mail of a letter that asks for an
    answer; its PDF, an official document, gets none and says only that the e-mail carries
    one (`link_in_email`). `advisory_organisations`: whose people read the application."""
    case = letter.case
    officer = case.case_officer
    hours_value = case.co_financing_hours * case.call.co_financing_hourly_rate
    language = letter.language.value
    return {
        "language": language,
        "letter_date": today,
        "authority": authority,
        "case": case.model_dump(),
        "call": case.call.model_dump(),
        "organisation": case.organisation.model_dump(),
        "case_officer": {"name": officer.name, "email": officer.email, "phone": officer.phone}
        if officer
        else None,
        "hours_value": hours_value,
        "co_financing": case.co_financing_cash + hours_value,
        "warnings": list(case.warnings),
        "letter": letter.data,
        "applicant_link": applicant_link,
        "link_in_email": link_in_email or applicant_link is not None,
        "advisory_organisations": list(advisory_organisations),
        "criteria": criterion_names(language),
        "formal_requirements": formal_names(language),
        "finding_words": finding_words(language),
        "decision": decision_letter(letter.data, language)
        if letter.kind in (*DECISIONS, DECISION_TRANSLATION)
        else None,
        "meeting": meeting_letter(letter.data) if letter.kind in MEETINGS else None,
        "facts": decision_facts(case.case_reference, letter.data)
        if letter.kind in SEALED
        else None,
    }


class NotMadeYet(ValueError):
    """What goes with a letter is not made yet (another run renders it): the letter waits."""


def translation_of(session: Session, letter: Letter) -> Letter | None:
    """The English translation sent with a decision (the act, in Swedish), if it has one.
    Raises NotMadeYet while the translation is not made: the decision waits for it."""
    if letter.kind != DECISION:
        return None
    query = select(Letter).where(
        Letter.case_id == letter.case_id, Letter.kind == DECISION_TRANSLATION
    )
    translation = session.exec(query).first()
    if translation is not None and translation.pdf is None:
        raise NotMadeYet(f"its translation {translation.filename} is not made yet")
    return translation


def attach_pdfs(
    session: Session, pdfs: dict[int, bytes], rendered_by: str, actor: Actor = SYSTEM
) -> dict[int, str]:
    """Give ordered letters their PDFs (by letter id), each once; they are then queued for
    delivery. Return the SHA-256 of those given one here by id, in order (another run may
    have rendered some first). `rendered_by`: the machine or worker that made them, for
    whoever traces a batch over several."""
    query = select(Letter).where(col(Letter.id).in_(pdfs)).order_by(col(Letter.id))
    letters = list(session.exec(query.with_for_update()))  # the letters only, a run at a time
    # Their cases at once, held here: the session keeps no object nobody refers to, and
    # `letter.case` would read each again.
    ids = {letter.case_id for letter in letters}
    cases = {case.id: case for case in session.exec(select(Case).where(col(Case.id).in_(ids)))}
    attached = {}
    for letter in letters:
        if letter.delivery_state != DeliveryState.to_render:
            continue  # another run rendered it first
        letter.pdf = pdfs[letter.id]
        letter.sha256 = hashlib.sha256(letter.pdf).hexdigest()
        letter.delivery_state = DeliveryState.queued
        session.add(letter)
        record(
            session,
            cases[letter.case_id],
            actor,
            "letter_created",
            kind=letter.kind,
            sha256=letter.sha256,
            rendered_by=rendered_by,
        )
        attached[letter.id] = letter.sha256
    return attached
