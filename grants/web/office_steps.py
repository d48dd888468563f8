"""The case officer's steps on the case page: each a form, each a route, each one step.

A route reads its form, takes the step through the step layer (who → role → case locked
and conflict checked → domain step → commit), then goes back to the case page with a
notice and starts the letters the step ordered. A refusal shows the case page again with
why and with what was typed; the step layer has changed nothing. The rules are the
domain's (`models`), exactly as the command line calls them (`grants.cli.assessment`,
`grants.cli.decisions`); what is read here is only the shape of what was typed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from grants.settings import Settings
from grants.steps import OFFICERS, REVIEWERS, reading
from grants.web.cases import case_page_context
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.form_values import (
    UnreadableForm,
    amount,
    choice,
    lines,
    refusal_status,
    take_or_show_again,
)
from grants.web.i18n import _
from grants.web.labels import label
from grants.web.office import Office
from grants.web.pages import render
from grants.web.refusals import worded
from models import clock
from models.access import case_to_read
from models.checklist import Finding, complete_checklist
from models.communication import communicate, register_reply
from models.community_talks import record_presentation, register_final_report
from models.decisions import prepare_draft, submit_for_decision
from models.meetings import book_meeting, document_meeting, skip_meeting
from models.reference_data import NotAllowed, acting_person
from models.reviews import assign_reviewer
from models.rules import Rules
from models.supplements import MAX_DOCUMENT_BYTES, register_supplement, request_supplement
from models.tables import (
    STOCKHOLM,
    Answer,
    Case,
    Criterion,
    OnExpiry,
    Outcome,
    Person,
    local_time,
)
from models.withdrawal import register_withdrawal

router = APIRouter(prefix="/cases/{case_reference}")


class Posted:
    """What a form posted: its texts (stripped) and its files, read once by the app."""

    def __init__(self, form: FormData) -> None:
        self.form = form

    def text(self, name: str) -> str:
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else ""

    def file(self, name: str) -> tuple[str, bytes]:
        """The file's given name (a label, never a path) and its bytes; one byte more than
        any case file may hold is enough for the domain to refuse it by size."""
        value = self.form.get(name)
        if not isinstance(value, UploadFile):
            return "", b""
        value.file.seek(0)
        return value.filename or "", value.file.read(MAX_DOCUMENT_BYTES + 1)

    def values(self) -> dict[str, str]:
        """The texts typed, to fill the form in again after a refusal."""
        return {
            k: v for k, v in self.form.multi_items() if isinstance(v, str) and k != "csrf_token"
        }


async def posted(request: Request) -> Posted:
    return Posted(await request.form())


PostedDep = Annotated[Posted, Depends(posted)]
Step = Callable[[Session, Settings, Person, Case], Any]


@dataclass
class StepOnCase:
    """A case officer's form posted on a case page: who, which case, what was typed."""

    request: Request
    office: Office
    person: Person
    case_reference: str
    form: Posted

    def take(self, step: Step, done: Callable[[Any], str]) -> Response:
        """Take the step; on success a notice and back to the case page (303)."""
        return take_or_show_again(
            self.request,
            self.office,
            self.person,
            self.case_reference,
            OFFICERS,
            step,
            self.refused,
            lambda result: (done(result), f"/cases/{self.case_reference}#steps"),
        )

    def refused(self, refusal: Exception) -> Response:
        """The case page again, with why and with what was typed. Someone who may not act
        as a case officer gets the refusal alone (403) and sees nothing of the case."""
        status = refusal_status(refusal)
        again = {"shown_letter": None, "error": worded(refusal), "form": self.form.values()}
        try:
            with reading(self.office.settings, self.person.email, OFFICERS) as (session, reader):
                case = case_to_read(session, self.case_reference, reader)
                rules_now = rules(self.office.settings)
                page = case_page_context(session, case, reader, rules_now) | again
                return render(self.request, "case.html", page, status)
        except NotAllowed:
            raise refusal from None


async def step_on_case(
    request: Request, case_reference: str, office: OfficeDep, person: CurrentPerson
) -> StepOnCase:
    return StepOnCase(request, office, person, case_reference, Posted(await request.form()))


OnCase = Annotated[StepOnCase, Depends(step_on_case)]


def rules(settings: Settings) -> Rules:
    return Rules.from_config(settings.file)


def _on_expiry(code: str) -> OnExpiry | None:
    """What if no supplement comes: the officer's choice; else (None) the domain's default,
    to examine the application as it stands."""
    return OnExpiry(code) if code in OnExpiry.__members__ else None


@router.post("/checklist")
def checklist(at: OnCase) -> Response:
    """The four basic requirements, anything else missing, and what if no reply comes."""

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> Any:
        findings = {
            c: Finding(Answer(at.form.text(c.value)), at.form.text(f"note_{c.value}"))
            for c in Criterion
            if at.form.text(c.value) in Answer.__members__
        }
        return complete_checklist(
            session,
            case,
            officer,
            findings,
            rules(settings),
            clock.today(),
            lines(at.form.text("checklist_missing")),
            _on_expiry(at.form.text("checklist_if_no_reply")),
            at.form.text("checklist_dismiss_because"),
        )

    return at.take(
        step,
        lambda state: (
            _("Checklist recorded; the case is now: %(state)s.") % {"state": label(state)}
        ),
    )


@router.post("/supplement-request")
def supplement_request(at: OnCase) -> Response:
    """Ask for a supplement during review or before the meeting."""

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> Any:
        return request_supplement(
            session,
            case,
            officer,
            [{"criterion": None, "text": m} for m in lines(at.form.text("request_missing"))],
            rules(settings),
            clock.today(),
            _on_expiry(at.form.text("request_if_no_reply")),
            at.form.text("request_dismiss_because"),
        )

    return at.take(
        step,
        lambda r: (
            _("Supplement requested, by %(deadline)s. The letter is on its way.")
            % {"deadline": r.deadline.isoformat()}
        ),
    )


@router.post("/supplement")
def supplement(at: OnCase) -> Response:
    """What the applicant sent: filed with its SHA-256; the checklist is next."""
    filename, content = at.form.file("supplement_file")

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> Any:
        return register_supplement(session, case, officer, filename, content)

    return at.take(
        step,
        lambda d: (
            _("Supplement %(file)s registered; the checklist is next.") % {"file": d.filename}
        ),
    )


@router.post("/reviewer")
def reviewer(at: OnCase) -> Response:
    """Add a reviewer from the advisory group (a conflicted person cannot be brought back)."""

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> Any:
        chosen = acting_person(session, at.form.text("reviewer") or "-", *REVIEWERS)
        return assign_reviewer(session, case, officer, chosen, rules(settings), clock.today())

    return at.take(
        step,
        lambda t: (
            _("%(name)s reviews, due %(due)s.")
            % {"name": t.reviewer.name, "due": t.due.isoformat()}
        ),
    )


def _meeting_start(day: str, time: str) -> datetime:
    try:
        return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=STOCKHOLM)
    except ValueError:
        raise UnreadableForm(
            _("Give the meeting's date and time, for example 2026-12-03 and 10:00.")
        ) from None


def _minutes(text: str, default: int) -> int:
    if not text:
        return default
    if not text.isdigit():
        raise UnreadableForm(_("Give the meeting's length in minutes, for example 90."))
    return int(text)


@router.post("/meeting/book")
def meeting_book(at: OnCase) -> Response:
    """Book (or rebook) the applicant meeting: the invitation goes out with a calendar file."""

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> Any:
        starts_at = _meeting_start(at.form.text("meeting_date"), at.form.text("meeting_time"))
        office_rules = rules(settings)
        return book_meeting(
            session,
            case,
            officer,
            starts_at,
            _minutes(at.form.text("meeting_minutes"), office_rules.meeting_minutes),
            at.form.text("meeting_place"),
            clock.now(),
            office_rules.meeting_hours,
        )

    return at.take(
        step,
        lambda m: (
            _("Meeting booked for %(at)s, %(place)s. The invitation is on its way.")
            % {"at": local_time(m.starts_at).strftime("%Y-%m-%d %H:%M"), "place": m.place}
        ),
    )


@router.post("/meeting/note")
def meeting_note(at: OnCase) -> Response:
    """The file note of what was said at the meeting (FL 27 §); the draft is next."""

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> Any:
        text = at.form.text("meeting_note")
        return document_meeting(session, case, officer, text, clock.now())

    return at.take(
        step,
        lambda _note: _("File note recorded; the draft decision is next."),
    )


@router.post("/meeting/skip")
def meeting_skip(at: OnCase) -> Response:
    """No meeting this time; why goes on record."""

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> Any:
        return skip_meeting(session, case, officer, at.form.text("skip_reason"))

    return at.take(
        step,
        lambda _note: _("Meeting skipped; the draft decision is next."),
    )


@router.post("/draft")
def draft(at: OnCase) -> Response:
    """The draft decision in its own words: a new version, worded by the officer from the
    checklist's and the reviewers' findings, which the form shows beside each requirement."""

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> Any:
        outcome = at.form.text("draft_outcome")
        return prepare_draft(
            session,
            case,
            officer,
            rules(settings),
            choice(Outcome, outcome, _("Choose an outcome.")) if outcome else None,
            amount(at.form.text("draft_amount")),
            {c.value: at.form.text(f"draft_reason_{c.value}") for c in Criterion},
            at.form.text("draft_decisive"),
            lines(at.form.text("draft_conditions")),
            [c.value for c in Criterion if at.form.text(f"draft_not_met_{c.value}")],
            at.form.text("draft_reply_assessment"),
        )

    return at.take(
        step,
        lambda d: (
            _("Draft decision version %(version)s prepared: %(outcome)s.")
            % {"version": d.version, "outcome": label(d.outcome)}
        ),
    )


@router.post("/communicate")
def communicate_draft(at: OnCase) -> Response:
    """FL 25 §: the applicant gets the material the draft rests on, with a reply deadline."""

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> Any:
        return communicate(session, case, officer, rules(settings), clock.today())

    return at.take(
        step,
        lambda c: (
            _("Material sent to the applicant; reply by %(deadline)s.")
            % {"deadline": c.deadline.isoformat()}
        ),
    )


@router.post("/reply")
def reply(at: OnCase) -> Response:
    """The applicant's reply to a communication; the draft is looked at again."""
    filename, content = at.form.file("reply_file")
    has_comments = not at.form.text("reply_no_comments")

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> Any:
        return register_reply(session, case, officer, filename, content, has_comments)

    return at.take(
        step,
        lambda d: (
            _("Reply %(file)s registered; revise the draft and submit it.") % {"file": d.filename}
        ),
    )


@router.post("/submit-draft")
def submit_draft(at: OnCase) -> Response:
    """The draft to the decision maker. A draft against the applicant that was not
    communicated needs why that is obviously unnecessary (FL 25 §); the domain says when."""

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> Any:
        why = at.form.text("no_communication_because")
        return submit_for_decision(session, case, officer, rules(settings), why)

    return at.take(
        step,
        lambda d: (
            _("Draft version %(version)s is with the decision maker.") % {"version": d.version}
        ),
    )


@router.post("/withdrawal")
def withdrawal(at: OnCase) -> Response:
    """The applicant withdraws the application: the withdrawal is filed and the case goes to
    a draft that closes it (avskrivs), as `grants withdraw` does."""
    filename, content = at.form.file("withdrawal_file")

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> Any:
        return register_withdrawal(
            session, case, officer, filename, content, at.form.text("withdrawal_reason")
        )

    return at.take(
        step,
        lambda d: (
            _("Withdrawal %(file)s registered; prepare the draft that closes the case.")
            % {"file": d.filename}
        ),
    )


@router.post("/presentation")
def presentation(at: OnCase) -> Response:
    """The funded project presented at its Community Talk."""

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> Any:
        try:
            on = date.fromisoformat(at.form.text("presented_on"))
        except ValueError:
            raise UnreadableForm(_("Give the date as YYYY-MM-DD.")) from None
        return record_presentation(session, case, officer, on)

    return at.take(
        step,
        lambda _r: _("Presentation recorded."),
    )


@router.post("/final-report")
def final_report(at: OnCase) -> Response:
    """The funded project's final report, filed as it came."""
    filename, content = at.form.file("final_report_file")

    def step(session: Session, settings: Settings, officer: Person, case: Case) -> Any:
        return register_final_report(session, case, officer, filename, content)

    return at.take(
        step,
        lambda d: _("Final report %(file)s registered.") % {"file": d.filename},
    )


def step_address(case_reference: str, person: CurrentPerson) -> RedirectResponse:
    """A step's address opened as a page (the language switch on a refused step's page
    returns there): the case page, where the step's form is."""
    return RedirectResponse(f"/cases/{case_reference}#steps", 303)


for _route in list(router.routes):
    router.add_api_route(_route.path.removeprefix(router.prefix), step_address, methods=["GET"])
