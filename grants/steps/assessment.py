"""The steps of assessing a case, each declared once: the checklist, supplements, reviews
and the applicant meeting. Edges take them by name through `grants.steps.take`."""

from datetime import datetime

from grants.steps.layer import OFFICERS, REVIEWERS, At, declare
from models import clock
from models.checklist import Finding, complete_checklist
from models.meetings import book_meeting, cancel_meeting, document_meeting, skip_meeting
from models.reference_data import acting_person
from models.reviews import (
    Substitute,
    add_substitute_reviewer,
    assign_reviewer,
    declare_conflict,
    go_on_with_fewer,
    submit_review,
)
from models.states import CaseState
from models.supplements import register_supplement, request_supplement
from models.tables import (
    ConflictGround,
    Criterion,
    Document,
    FileNote,
    FormalRequirement,
    Meeting,
    OnExpiry,
    Recommendation,
    ReviewTask,
    SupplementRequest,
)

S = CaseState


@declare("checklist", OFFICERS, [S.received])
def checklist(
    at: At,
    *,
    findings: dict[Criterion, Finding],
    missing: list[str],
    if_no_reply: OnExpiry | None = None,
    dismiss_because: str = "",
    formal: dict[FormalRequirement, Finding] | None = None,
) -> CaseState:
    return complete_checklist(
        at.session,
        at.case,
        at.person,
        findings,
        at.rules,
        clock.today(),
        missing,
        if_no_reply,
        dismiss_because,
        formal,
    )


@declare("request_supplement", OFFICERS, [S.received, S.in_review, S.applicant_meeting])
def supplement_request(
    at: At, *, missing: list[str], if_no_reply: OnExpiry | None = None, dismiss_because: str = ""
) -> SupplementRequest:
    return request_supplement(
        at.session,
        at.case,
        at.person,
        [{"criterion": None, "text": text} for text in missing],
        at.rules,
        clock.today(),
        if_no_reply,
        dismiss_because,
    )


@declare("register_supplement", OFFICERS, [S.awaiting_supplement])
def supplement(at: At, *, filename: str, content: bytes) -> Document:
    return register_supplement(at.session, at.case, at.person, filename, content)


@declare("declare_conflict", REVIEWERS, [S.in_review])
def conflict(at: At, *, ground: ConflictGround, note: str) -> ReviewTask:
    return declare_conflict(at.session, at.case, at.person, ground, note, at.rules)


@declare("submit_review", REVIEWERS, [S.in_review])
def review(
    at: At,
    *,
    recommendation: Recommendation,
    amount: int | None,
    reasons: dict[Criterion, str],
    other_funding: list[str],
    comments: str,
) -> ReviewTask:
    return submit_review(
        at.session,
        at.case,
        at.person,
        recommendation,
        amount,
        reasons,
        other_funding,
        comments,
        at.rules,
    )


@declare("assign_reviewer", OFFICERS, [S.in_review])
def reviewer(at: At, *, reviewer: str) -> ReviewTask:
    """A person from the advisory group, or a case officer; never one who declared a
    conflict in the case (the domain refuses to bring them back)."""
    person = acting_person(at.session, reviewer, *REVIEWERS)
    task = assign_reviewer(at.session, at.case, at.person, person, at.rules, clock.today())
    task.reviewer = person  # loaded while the session is open: the edges name them
    return task


@declare("substitute_reviewer", OFFICERS, [S.in_review])
def substitute(at: At, *, values: dict[str, str | None]) -> Substitute:
    """A reviewer from outside the advisory group, for this case alone, when conflicts of
    interest left too few: a new advisor outside the group, or the registered person with
    that e-mail. They declare any conflict and review like any advisor. `values`: their
    name, email, organisation and (or None) title."""
    return add_substitute_reviewer(at.session, at.case, at.person, values, at.rules, clock.today())


@declare("go_on_with_fewer_reviews", OFFICERS, [S.in_review])
def fewer_reviews(at: At, *, reason: str) -> FileNote:
    """Conflicts left fewer reviewers than the quorum: the case goes on with the reviews
    there are, for the reason on file, and its decision says so."""
    return go_on_with_fewer(at.session, at.case, at.person, reason)


@declare("book_meeting", OFFICERS, [S.applicant_meeting])
def meeting(at: At, *, starts_at: datetime, minutes: int | None, place: str) -> Meeting:
    """`minutes` None: the call's usual length."""
    rules = at.rules
    return book_meeting(
        at.session,
        at.case,
        at.person,
        starts_at,
        minutes or rules.meeting_minutes,
        place,
        clock.now(),
        rules.meeting_hours,
    )


@declare("document_meeting", OFFICERS, [S.applicant_meeting])
def meeting_note(at: At, *, text: str) -> FileNote:
    return document_meeting(at.session, at.case, at.person, text, clock.now())


@declare("cancel_meeting", OFFICERS, [S.applicant_meeting])
def call_off_meeting(at: At, *, reason: str) -> Meeting:
    """The booked meeting is off, with the reason in the applicant's letter; the case
    stays at the meeting step for a new booking."""
    return cancel_meeting(at.session, at.case, at.person, reason, clock.now())


@declare("skip_meeting", OFFICERS, [S.applicant_meeting])
def no_meeting(at: At, *, reason: str) -> FileNote:
    return skip_meeting(at.session, at.case, at.person, reason)
