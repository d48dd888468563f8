"""The advisory group's review in the office: a reviewer's own tasks, and one task's page.

The conflict-of-interest declaration comes first (Förvaltningslagen 16–18 §§); the review
form only after "no conflict". A case where the reviewer declared a conflict does not
exist for them: not listed, not counted, and its address answers as for no case at all
(`models.access.case_for`, mapped to 404 by the app). Every step goes through the step
layer, exactly as `grants declare` and `grants review` do.
"""

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from grants.settings import Settings
from grants.steps import REVIEWERS, Taken, reading
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.form_values import amount, choice, lines, refusal_status, take_or_show_again
from grants.web.i18n import N_, _
from grants.web.labels import warning_label
from grants.web.looks import changes, note_look
from grants.web.pages import render
from grants.web.refusals import refused_context
from grants.web.tasks import with_links
from models import clock
from models.access import case_and_task
from models.cases import CaseNotFound, document_texts, documents_of
from models.checklist import latest_findings
from models.looks import newest_event
from models.tables import (
    Case,
    ConflictGround,
    Criterion,
    Person,
    Recommendation,
    ReviewTask,
)
from models.tasks import open_review_tasks

router = APIRouter()
T = TypeVar("T")
Text = Annotated[str, Form(max_length=20_000)]


@router.get("/reviews")
def my_reviews(request: Request, office: OfficeDep, person: CurrentPerson):
    today = clock.today()
    with reading(office.settings, person.email, REVIEWERS) as (session, reader):
        tasks = open_review_tasks(session, reader, today)
        changed = changes(session, reader, (t.case_reference for t in tasks))
    context = {"person": reader, "tasks": with_links(tasks), "today": today, "changes": changed}
    return render(request, "reviews.html", context)


@router.get("/reviews/{case_reference}")
def review_page(request: Request, case_reference: str, office: OfficeDep, person: CurrentPerson):
    return _page(request, office.settings, person, case_reference, looking=True)


@router.post("/reviews/{case_reference}/declaration")
def declare(
    request: Request,
    case_reference: str,
    office: OfficeDep,
    person: CurrentPerson,
    conflict: Annotated[str, Form(max_length=40)] = "",
    note: Text = "",
):
    """FL 16 §: no conflict, or a ground with what it consists of."""

    def parameters() -> dict[str, Any]:
        ground = choice(
            ConflictGround, conflict, _("Say whether you have a conflict of interest."), "conflict"
        )
        return {"ground": ground, "note": note}

    def done(taken: Taken) -> tuple[str, str]:
        if taken.result.conflict is ConflictGround.none:
            return _(
                "No conflict of interest declared. Your review is next."
            ), f"/reviews/{case_reference}"
        # The case is gone for them: nothing of it to go back to.
        message = _(
            "You declared a conflict of interest and are removed from the case: you no "
            "longer see it or take part in its handling."
        )
        return message, "/tasks"

    form = {"conflict": conflict, "note": note}
    return take_or_show_again(
        request,
        office,
        person,
        "declare_conflict",
        case_reference,
        parameters,
        lambda refusal: _page(request, office.settings, person, case_reference, refusal, form),
        done,
    )


@router.post("/reviews/{case_reference}/review")
def review(
    request: Request,
    case_reference: str,
    office: OfficeDep,
    person: CurrentPerson,
    recommendation: Annotated[str, Form(max_length=40)] = "",
    proposed_amount: Annotated[str, Form(max_length=40)] = "",
    reason_benefit_to_society: Text = "",
    reason_innovative: Text = "",
    reason_new_locally: Text = "",
    reason_anchored_with_partners: Text = "",
    other_funding: Text = "",
    comments: Text = "",
):
    """The review: recommendation, amount, a reason per basic requirement, other funding."""
    reasons = {
        Criterion.benefit_to_society: reason_benefit_to_society,
        Criterion.innovative: reason_innovative,
        Criterion.new_locally: reason_new_locally,
        Criterion.anchored_with_partners: reason_anchored_with_partners,
    }

    def parameters() -> dict[str, Any]:
        return {
            "recommendation": choice(
                Recommendation, recommendation, _("Choose a recommendation."), "recommendation"
            ),
            "amount": amount(proposed_amount, "proposed_amount"),
            "reasons": reasons,
            "other_funding": lines(other_funding),
            "comments": comments,
        }

    form = {
        "recommendation": recommendation,
        "proposed_amount": proposed_amount,
        "other_funding": other_funding,
        "comments": comments,
    } | {f"reason_{c.value}": text for c, text in reasons.items()}
    message = N_("Your review is submitted and is part of the case's record.")
    return take_or_show_again(
        request,
        office,
        person,
        "submit_review",
        case_reference,
        parameters,
        lambda refusal: _page(request, office.settings, person, case_reference, refusal, form),
        lambda _taken: (_(message), f"/reviews/{case_reference}"),
    )


def _page(
    request: Request,
    settings: Settings,
    person: Person,
    case_reference: str,
    refusal: Exception | None = None,
    form: dict[str, str] | None = None,
    looking: bool = False,
) -> Response:
    """The application beside the task; after a refusal, with why and what was typed.
    `looking`: the person opened the page (a look at the case, see grants.web.looks)."""
    with reading(settings, person.email, REVIEWERS) as (session, reader):
        case, task = case_and_task(session, case_reference, reader)
        if task is None:  # a case officer without a review task reads the case page instead
            raise CaseNotFound("case.no_review_task", case_reference=case_reference)
        seen = newest_event(session, case)  # first: what came after is shown, or new later
        context = review_context(session, case, reader, task)
    if looking:
        note_look(settings, reader, case.id, seen)
    refused = {} if refusal is None else refused_context(refusal, form or {})
    return render(
        request,
        "review.html",
        context | {"form": form or {}} | refused,
        refusal_status(refusal),
    )


def review_context(
    session: Session, case: Case, reader: Person, task: ReviewTask
) -> dict[str, Any]:
    """What a reviewer needs: the application, its documents (what the applicant wrote read
    in the page) and the checklist's findings, and their own task."""
    return {
        "person": reader,
        "case": case,
        "organisation": case.organisation,
        "call": case.call,
        "warnings": [warning_label(w) for w in case.warnings],
        "documents": documents_of(session, case),
        "texts": document_texts(session, case),
        "findings": latest_findings(session, case),
        "task": task,
        "grounds": [g for g in ConflictGround if g is not ConflictGround.none],
        "recommendations": list(Recommendation),
        "criteria": list(Criterion),
    }
