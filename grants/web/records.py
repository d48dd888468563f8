"""Pages not tied to one case: intake of a form export, Community Talks, the delegation
report to the committee, and the letters that have not gone out.

Like the case steps, each reads who is signed in, checks the role through the step layer
and calls the domain (or the intake flow) exactly as the command line does. A case in
which the reader declared a conflict of interest is left out of every list here.
"""

import uuid
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from grants.embedded import PrefectUnreachable, run_flow
from grants.intake_files import EmptyExport, UnreadableFile, open_export
from grants.reports import delegation_report_csv, delegation_report_name, delegation_report_pdf
from grants.settings import Settings
from grants.steps import DECISION_MAKERS, OFFICERS, reading, take
from grants.steps.talks import TALK_READERS
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.form_values import UnreadableForm, day
from grants.web.i18n import _
from grants.web.office import Office
from grants.web.office_steps import PostedDep
from grants.web.pages import notice, render
from grants.web.refusals import fault_worded, refused_context
from models import clock
from models.access import conflicted_case_ids
from models.decisions import delegation_rows
from models.delivery import notices_undelivered, undelivered
from models.errors import Refused
from models.reference_data import NotAllowed
from models.tables import Case, Outcome, Person
from models.talk_answers import talks_held_and_coming

router = APIRouter()
REPORT_READERS = OFFICERS + DECISION_MAKERS
FORM_EXPORTS = (".json", ".csv", ".txt")  # what grants.intake_files reads
REPORT_TYPES = {".pdf": "application/pdf", ".csv": "text/csv; charset=utf-8"}


def _today() -> date:
    return clock.today()


@router.get("/intake")
def intake_page(request: Request, office: OfficeDep, person: CurrentPerson):
    with reading(office.settings, person.email, OFFICERS) as (_session, reader):
        return render(request, "intake.html", {"person": reader, "report": None})


@router.post("/intake")
def intake_upload(request: Request, office: OfficeDep, person: CurrentPerson, form: PostedDep):
    """A form export in: saved under a name of our own, read, and taken in by the intake
    flow; the acknowledgements go out in the background. The page shows what was refused."""
    with reading(office.settings, person.email, OFFICERS) as (_session, reader):
        pass
    given, content = form.file("export")
    try:
        path = _saved_export(office.settings, given, content)
    except EmptyExport:
        error = _("%(file)s: no applications in it; an empty export is not taken in.")
        context = {"person": reader, "report": None, "error": error % {"file": given}}
        return render(request, "intake.html", context, 409)
    except UnreadableFile as error:
        context = {"person": reader, "report": None, "error": str(error)}
        return render(request, "intake.html", context, 409)
    from flows.intake import intake

    try:
        report = run_flow(intake, path=str(path), actor_email=reader.email, send_letters=False)
    except PrefectUnreachable:
        path.unlink()  # nothing of it was taken in, so nothing of it is kept
        raise
    office.follow_up.poke()
    return render(request, "intake.html", {"person": reader, "report": _summary(report, given)})


def _saved_export(settings: Settings, given: str, content: bytes) -> Path:
    """The upload under GRANTS_HOME/uploads with a generated name, once it reads as a form
    export: the name it came under says only which reader to use, never where it is kept."""
    given = given or "(no file)"
    suffix = Path(given).suffix.lower()
    if suffix not in FORM_EXPORTS:
        raise UnreadableFile(f"{given}: expected a .json or .csv file")
    if not content.strip():
        raise EmptyExport(f"{given}: the file is empty")
    folder = settings.home / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    path.write_bytes(content)
    try:
        open_export(path)
    except UnreadableFile as error:
        path.unlink()  # nothing in it is taken in, so nothing of it is kept
        raise type(error)(str(error).replace(str(path), given)) from None
    return path


def _summary(report: dict[str, Any], given: str) -> dict[str, Any]:
    """The flow's report as the page shows it: counts, refusals, and new cases' warnings
    (of a large file, the cases listed are those the report lists; the counts are all)."""
    by_status: dict[str, list[dict[str, Any]]] = {}
    for result in report["results"]:
        by_status.setdefault(result["status"], []).append(result)
    return {
        "file": given,
        "notes": report["notes"],
        "read": report["read"],
        "counts": report["counts"],
        "registered": by_status.get("registered", []),
        "already": by_status.get("already registered", []),
        "refused": [
            r | {"faults": [fault_worded(f) for f in r["faults"]]}
            for r in by_status.get("refused", [])
        ],
    }


@router.get("/talks")
def talks_page(request: Request, office: OfficeDep, person: CurrentPerson):
    return _talks(request, office, person)


def _talks(
    request: Request, office: Office, person: Person, status: int = 200, **extra: Any
) -> Response:
    with reading(office.settings, person.email, TALK_READERS) as (session, reader):
        talks = talks_held_and_coming(session)
        context = {"person": reader, "talks": talks, "today": _today()}
        return render(request, "talks.html", context | extra, status)


@router.post("/talks")
def talk_add(request: Request, office: OfficeDep, person: CurrentPerson, form: PostedDep):
    """Register a Community Talk (two a year): its day and time, its theme in Swedish and
    English (letters go out in both), its venue; the sweep invites funded projects to it."""

    try:
        taken = take(
            office.settings,
            "register_talk",
            person.email,
            held_on=day(form.text("talk_date"), "talk_date"),
            theme=form.text("talk_theme"),
            venue=form.text("talk_venue"),
            starts_at=_time_of_day(form.text("talk_time") or "14:00"),
            theme_en=form.text("talk_theme_en"),
            address=form.text("talk_address"),
            ends_at=_time_of_day(form.text("talk_ends"), "talk_ends")
            if form.text("talk_ends")
            else None,
        )
    except NotAllowed:
        raise
    except (Refused, UnreadableForm) as refusal:
        refused = refused_context(refusal, form.sent())
        return _talks(request, office, person, 409, form=form.values(), **refused)
    notice(
        request,
        _("Community Talk on %(date)s registered.") % {"date": taken.result.held_on.isoformat()},
    )
    return RedirectResponse("/talks", 303)


def _time_of_day(text: str, field: str = "talk_time") -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise UnreadableForm(
            _("Give the time of day as HH:MM, for example 14:00."), field
        ) from None


def _period(first: str, last: str) -> tuple[date, date]:
    today = _today()
    try:
        period = (
            date.fromisoformat(first) if first else today.replace(day=1),
            date.fromisoformat(last) if last else today,
        )
    except ValueError:
        raise UnreadableForm(_("Give the dates as YYYY-MM-DD.")) from None
    if period[1] < period[0]:
        raise UnreadableForm(_("The last day is before the first."))
    return period


DateQuery = Annotated[str, Query(max_length=10)]


def _report_rows(office: Office, person: Person, period: tuple[date, date]) -> list[dict]:
    """The decisions of the period, without any case where the reader declared a conflict."""
    with reading(office.settings, person.email, REPORT_READERS) as (session, reader):
        hidden = {
            case.case_reference
            for case in (session.get(Case, i) for i in conflicted_case_ids(session, reader))
        }
        return [r for r in delegation_rows(session, *period) if r["case_reference"] not in hidden]


@router.get("/delegation-report")
def delegation_report_page(
    request: Request,
    office: OfficeDep,
    person: CurrentPerson,
    first: DateQuery = "",
    last: DateQuery = "",
):
    """The delegated decisions of a period, for the committee, with the files to download."""
    with reading(office.settings, person.email, REPORT_READERS) as (_session, reader):
        pass
    try:
        period = _period(first, last)
    except UnreadableForm as error:
        context = {"person": reader, "first": first, "last": last, "rows": None}
        return render(request, "delegation_report.html", context | {"error": str(error)}, 422)
    rows = _report_rows(office, reader, period)
    context = {
        "person": reader,
        "first": period[0].isoformat(),
        "last": period[1].isoformat(),
        "rows": [r | {"outcome": Outcome(r["outcome"])} for r in rows],
        "total": sum(r["amount"] or 0 for r in rows),
        "paid": sum(r["paid"] or 0 for r in rows),
    }
    return render(request, "delegation_report.html", context)


@router.get("/delegation-report.pdf")
def delegation_report_pdf_file(
    office: OfficeDep, person: CurrentPerson, first: DateQuery = "", last: DateQuery = ""
) -> Response:
    return _report_file(office, person, first, last, ".pdf")


@router.get("/delegation-report.csv")
def delegation_report_csv_file(
    office: OfficeDep, person: CurrentPerson, first: DateQuery = "", last: DateQuery = ""
) -> Response:
    return _report_file(office, person, first, last, ".csv")


def _report_file(office: Office, person: Person, first: str, last: str, suffix: str) -> Response:
    """The report as the committee gets it, built as the command line builds it."""
    try:
        period = _period(first, last)
    except UnreadableForm as error:
        return Response(str(error), 422, media_type="text/plain")
    rows = _report_rows(office, person, period)
    if suffix == ".pdf":
        content = delegation_report_pdf(office.settings, *period, rows)
    else:
        content = delegation_report_csv(rows)
    name = delegation_report_name(*period, suffix)
    return Response(
        content,
        media_type=REPORT_TYPES[suffix],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/undelivered")
def undelivered_page(request: Request, office: OfficeDep, person: CurrentPerson):
    """Letters that have not gone out, with why, for the case officer to follow up."""
    with reading(office.settings, person.email, OFFICERS) as (session, reader):
        hidden = conflicted_case_ids(session, reader)
        rows = [(x, x.case) for x in undelivered(session) if x.case_id not in hidden]
        notices = [x for x in notices_undelivered(session) if x.case_id not in hidden]
        cases = {x.case_id for x in notices if x.case_id is not None}
        references = {i: session.get(Case, i).case_reference for i in cases}
        context = {"person": reader, "rows": rows, "notices": notices, "references": references}
        return render(request, "undelivered.html", context)
