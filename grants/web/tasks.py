"""Mina uppgifter: what waits for the person signed in, overdue first."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from grants.steps import reading
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.looks import changes
from grants.web.pages import render
from models import clock
from models.access import conflicted_case_ids
from models.notices import notices_to
from models.payments import may_attest, to_attest
from models.tables import Role
from models.tasks import Task, TaskKind, open_tasks

router = APIRouter()
NOTICES_SHOWN = 10  # the latest; the rest are in the person's e-mail
TASK_PAGES = {
    TaskKind.declare: "/reviews",
    TaskKind.review: "/reviews",
    TaskKind.decide: "/decisions",
}
TASK_ANCHORS = {  # straight to the case's forms
    TaskKind.too_few_reviewers: "#steps",
    TaskKind.decide_repayment: "#repayment",
}


def with_links(tasks: list[Task]) -> list[tuple[Task, str]]:
    """Each task with the page where it is done."""
    return [
        (t, f"{TASK_PAGES.get(t.kind, '/cases')}/{t.case_reference}{TASK_ANCHORS.get(t.kind, '')}")
        for t in tasks
    ]


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/tasks", 303)


@router.get("/tasks")
def my_tasks(request: Request, office: OfficeDep, person: CurrentPerson):
    if person.role is Role.finance:  # the finance department's work is on its own page
        return RedirectResponse("/payments", 303)
    if person.role is Role.organiser:  # the organiser reads the Community Talks, no case
        return RedirectResponse("/talks", 303)
    if person.role is Role.committee:  # the committee reads its statistics, no case
        return RedirectResponse("/statistics", 303)
    today = clock.today()
    with reading(office.settings, person.email) as (session, reader):
        tasks = open_tasks(session, reader, today)
        changed = changes(session, reader, (t.case_reference for t in tasks))
        hidden = conflicted_case_ids(session, reader)
        notices = notices_to(session, reader, hidden, NOTICES_SHOWN)
        attesting = len(to_attest(session, reader)) if may_attest(reader) else None
    context = {
        "person": reader,
        "tasks": with_links(tasks),
        "today": today,
        "changes": changed,
        "notices": notices,
        "to_attest": attesting,
    }
    return render(request, "tasks.html", context)
