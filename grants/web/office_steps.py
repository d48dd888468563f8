"""The case officer's steps on the case page: each a form, each a route, each one step.

A route reads its form and takes its declared step by name through the step layer (who →
role → case locked and conflict checked → the step's state → domain step → commit), the
same step the command line takes (`grants.steps`); then it goes back to the case page with
a notice and starts the letters the step ordered. A refusal shows the case page again with
why and with what was typed; the step layer has changed nothing. What is read here is only
the shape of what was typed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from grants.steps import OFFICERS, Taken, reading, rehearse
from grants.web import previews
from grants.web.cases import case_page_context, file_response
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.form_values import (
    UnreadableForm,
    amount,
    choice,
    day,
    lines,
    refusal_status,
    take_or_show_again,
)
from grants.web.i18n import _, ngettext
from grants.web.labels import label
from grants.web.office import Office
from grants.web.pages import render
from grants.web.refusals import refused_context
from models.access import ConflictOfInterest, case_to_read
from models.cases import CaseNotFound
from models.checklist import Finding
from models.errors import Refused
from models.reference_data import NotAllowed
from models.supplements import MAX_DOCUMENT_BYTES
from models.tables import (
    STOCKHOLM,
    Answer,
    Criterion,
    FormalRequirement,
    OnExpiry,
    Outcome,
    Person,
    local_time,
)

router = APIRouter(prefix="/cases/{case_reference}")
PREVIEW, BACK, TOKEN = "preview", "back", "preview_token"  # a previewed step's buttons


class Posted:
    """What a form posted: its texts (stripped) and its files, read once by the app; and
    the files its preview kept (`kept`), for the confirmation, which carries none."""

    def __init__(self, form: FormData, kept: dict[str, tuple[str, bytes]] | None = None) -> None:
        self.form = form
        self.kept = kept or {}

    def text(self, name: str) -> str:
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else ""

    def file(self, name: str) -> tuple[str, bytes]:
        """The file's given name (a label, never a path) and its bytes; one byte more than
        any case file may hold is enough for the domain to refuse it by size."""
        value = self.form.get(name)
        if not isinstance(value, UploadFile) or not (value.filename or value.size):
            return self.kept.get(name, ("", b""))
        value.file.seek(0)
        return value.filename or "", value.file.read(MAX_DOCUMENT_BYTES + 1)

    def files(self) -> dict[str, tuple[str, bytes]]:
        """Every file posted, by field, to keep with a preview."""
        names = {k for k, v in self.form.multi_items() if isinstance(v, UploadFile)}
        return {name: self.file(name) for name in names | set(self.kept)}

    def sent(self) -> dict[str, Any]:
        """What each field sent (texts stripped, files as they came): where a refusal is
        said depends on which fields the form has and which were left empty."""
        return {k: v.strip() if isinstance(v, str) else v for k, v in self.form.items()}

    def values(self) -> dict[str, str]:
        """The texts typed, to fill the form in again after a refusal."""
        return {
            k: v for k, v in self.form.multi_items() if isinstance(v, str) and k not in CONTROLS
        }


CONTROLS = {"csrf_token", PREVIEW, BACK, TOKEN}  # what a form carries beside what was typed


async def posted(request: Request) -> Posted:
    return Posted(await request.form())


PostedDep = Annotated[Posted, Depends(posted)]


@dataclass
class StepOnCase:
    """A case officer's form posted on a case page: who, which case, what was typed."""

    request: Request
    office: Office
    person: Person
    case_reference: str
    form: Posted

    def take(
        self,
        name: str,
        done: Callable[[Taken], str],
        parameters: Callable[[], dict[str, Any]] = dict,
        confirm: str | None = None,
    ) -> Response:
        """Take the declared step `name` with the `parameters` read from the form; on
        success a notice and back to the case page (303).

        `confirm`: the form's button asks for a preview first (`PREVIEW`), and the step is
        taken only from the confirmation page: when it sends letters (LETTERS), or in any
        case (ALWAYS: it cannot be taken back). `BACK` from there shows the form again as
        it was filled in."""
        if confirm and self.form.text(BACK):
            return self.shown_again(None)
        if confirm and self.form.text(PREVIEW):
            return self.preview(name, done, parameters, confirm)
        response = take_or_show_again(
            self.request,
            self.office,
            self.person,
            name,
            self.case_reference,
            parameters,
            self.shown_again,
            lambda taken: (done(taken), f"/cases/{self.case_reference}#steps"),
        )
        if response.status_code == 303:
            previews.forget(self.form.text(TOKEN))
        return response

    def preview(
        self,
        name: str,
        done: Callable[[Taken], str],
        parameters: Callable[[], dict[str, Any]],
        confirm: str,
    ) -> Response:
        """The confirmation page: the step rehearsed (nothing kept), its letters as they
        will be sent, and the buttons to take it or go back. A refusal is shown as the
        step's own would be; a step that sends nothing and can be taken back is taken."""
        settings = self.office.settings
        try:
            rehearsal = rehearse(
                settings, name, self.person.email, self.case_reference, **parameters()
            )
        except (CaseNotFound, ConflictOfInterest):
            raise
        except (Refused, UnreadableForm) as refusal:
            return self.shown_again(refusal)
        if not rehearsal.letters and confirm != ALWAYS:
            return self.take(name, done, parameters)
        letters = previews.shown_letters(rehearsal, settings.render_workers)
        files = self.form.files()
        preview = previews.Preview(self.person.email, self.case_reference, letters, files)
        token = previews.keep(preview)
        with reading(settings, self.person.email, OFFICERS) as (session, reader):
            case = case_to_read(session, self.case_reference, reader)
            page = {
                "person": reader,
                "case": case,
                "letters": letters,
                "state_after": rehearsal.state,
                "token": token,
                "values": self.form.values(),
                "files": [filename for filename, _content in files.values() if filename],
                "action": self.request.url.path,
            }
            return render(self.request, "confirm_step.html", page)

    def shown_again(self, refusal: Exception | None) -> Response:
        """The case page again, with why (if refused) and with what was typed. Someone who
        may not act as a case officer gets the refusal alone (403) and sees nothing of the
        case."""
        status = refusal_status(refusal)
        again = {"shown_letter": None, "form": self.form.values()}
        if refusal is not None:
            again |= refused_context(refusal, self.form.sent())
        try:
            with reading(self.office.settings, self.person.email, OFFICERS) as (session, reader):
                case = case_to_read(session, self.case_reference, reader)
                rules = self.office.settings.rules
                page = case_page_context(session, case, reader, rules) | again
                return render(self.request, "case.html", page, status)
        except NotAllowed as not_allowed:  # the role's refusal, whatever else was wrong
            raise (refusal if isinstance(refusal, NotAllowed) else not_allowed) from None


LETTERS, ALWAYS = "letters", "always"  # when a step is confirmed first (StepOnCase.take)


async def step_on_case(
    request: Request, case_reference: str, office: OfficeDep, person: CurrentPerson
) -> StepOnCase:
    """The posted step, with the files its preview kept if it confirms one."""
    form = await request.form()
    token = form.get(TOKEN)
    preview = previews.kept(token, person.email, case_reference) if isinstance(token, str) else None
    kept = preview.files if preview is not None else None
    return StepOnCase(request, office, person, case_reference, Posted(form, kept))


OnCase = Annotated[StepOnCase, Depends(step_on_case)]


def _on_expiry(code: str) -> OnExpiry | None:
    """What if no supplement comes: the officer's choice; else (None) the domain's default,
    to examine the application as it stands."""
    return OnExpiry(code) if code in OnExpiry.__members__ else None


@router.post("/send-again")
def letters_again(at: OnCase) -> Response:
    """The case's letters that could not be delivered go again: the officer's choice, once
    the address is put right or the applicant asked for it."""
    return at.take(
        "send_again",
        lambda taken: (
            ngettext(
                "%(num)d letter goes again: %(names)s.",
                "%(num)d letters go again: %(names)s.",
                len(taken.result),
            )
            % {"num": len(taken.result), "names": ", ".join(x.filename for x in taken.result)}
        ),
    )


@router.post("/checklist")
def checklist(at: OnCase) -> Response:
    """The four basic requirements, anything else missing, and what if no reply comes."""
    return at.take(
        "checklist",
        lambda taken: (
            _("Checklist recorded; the case is now: %(state)s.") % {"state": label(taken.state)}
        ),
        lambda: {
            "findings": {
                c: Finding(Answer(at.form.text(c.value)), at.form.text(f"note_{c.value}"))
                for c in Criterion
                if at.form.text(c.value) in Answer.__members__
            },
            "formal": {
                r: Finding(Answer(at.form.text(r.value)), at.form.text(f"note_{r.value}"))
                for r in FormalRequirement
                if at.form.text(r.value) in Answer.__members__
            },
            "missing": lines(at.form.text("checklist_missing")),
            "if_no_reply": _on_expiry(at.form.text("checklist_if_no_reply")),
            "dismiss_because": at.form.text("checklist_dismiss_because"),
        },
        confirm=LETTERS,
    )


@router.post("/supplement-request")
def supplement_request(at: OnCase) -> Response:
    """Ask for a supplement during review or before the meeting."""
    return at.take(
        "request_supplement",
        lambda taken: (
            _("Supplement requested, by %(deadline)s. The letter is on its way.")
            % {"deadline": taken.result.deadline.isoformat()}
        ),
        lambda: {
            "missing": lines(at.form.text("request_missing")),
            "if_no_reply": _on_expiry(at.form.text("request_if_no_reply")),
            "dismiss_because": at.form.text("request_dismiss_because"),
        },
        confirm=LETTERS,
    )


@router.post("/supplement")
def supplement(at: OnCase) -> Response:
    """What the applicant sent: filed with its SHA-256; the checklist is next."""
    filename, content = at.form.file("supplement_file")
    return at.take(
        "register_supplement",
        lambda taken: (
            _("Supplement %(file)s registered; the checklist is next.")
            % {"file": taken.result.filename}
        ),
        lambda: {"filename": filename, "content": content},
    )


@router.post("/reviewer")
def reviewer(at: OnCase) -> Response:
    """Add a reviewer from the advisory group (a conflicted person cannot be brought back)."""
    return at.take(
        "assign_reviewer",
        lambda taken: (
            _("%(name)s reviews, due %(due)s.")
            % {"name": taken.result.reviewer.name, "due": taken.result.due.isoformat()}
        ),
        lambda: {"reviewer": at.form.text("reviewer") or "-"},
    )


@router.post("/substitute-reviewer")
def substitute_reviewer(at: OnCase) -> Response:
    """A reviewer from outside the advisory group, for this case alone (no letter goes)."""

    def done(taken: Taken) -> str:
        reviewer, due = taken.result.task.reviewer, taken.result.task.due.isoformat()
        said = (
            _("%(name)s (%(email)s) was registered already and reviews this case, due %(due)s.")
            if taken.result.reused
            else _(
                "%(name)s (%(email)s) is added as an advisor outside the advisory group and "
                "reviews this case, due %(due)s. They sign in with their e-mail on the "
                "sign-in page."
            )
        )
        return said % {"name": reviewer.name, "email": reviewer.email, "due": due}

    return at.take(
        "substitute_reviewer",
        done,
        lambda: {
            "values": {
                "name": at.form.text("name"),
                "email": at.form.text("email"),
                "organisation": at.form.text("organisation"),
                "title": at.form.text("title") or None,
            }
        },
    )


@router.post("/fewer-reviews")
def fewer_reviews(at: OnCase) -> Response:
    """Conflicts left fewer reviewers than the quorum: go on with the reviews there are."""
    return at.take(
        "go_on_with_fewer_reviews",
        lambda taken: (
            _("The case goes on with fewer reviews; it is now: %(state)s.")
            % {"state": label(taken.state)}
        ),
        lambda: {"reason": at.form.text("reason")},
    )


def _meeting_start(day: str, time: str) -> datetime:
    """The meeting's start in Swedish time; refused at the date, or else at the time."""
    try:
        return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=STOCKHOLM)
    except ValueError:
        field = "meeting_time" if _is_date(day) else "meeting_date"
        raise UnreadableForm(
            _("Give the meeting's date and time, for example 2026-12-03 and 10:00."), field
        ) from None


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _minutes(text: str) -> int | None:
    """The meeting's length; none given, the call's usual length."""
    if not text:
        return None
    if not text.isdigit():
        raise UnreadableForm(
            _("Give the meeting's length in minutes, for example 90."), "meeting_minutes"
        )
    return int(text)


@router.post("/meeting/book")
def meeting_book(at: OnCase) -> Response:
    """Book (or rebook) the applicant meeting: the invitation goes out with a calendar file."""
    return at.take(
        "book_meeting",
        lambda taken: (
            _("Meeting booked for %(at)s, %(place)s. The invitation is on its way.")
            % {
                "at": local_time(taken.result.starts_at).strftime("%Y-%m-%d %H:%M"),
                "place": taken.result.place,
            }
        ),
        lambda: {
            "starts_at": _meeting_start(at.form.text("meeting_date"), at.form.text("meeting_time")),
            "minutes": _minutes(at.form.text("meeting_minutes")),
            "place": at.form.text("meeting_place"),
        },
        confirm=LETTERS,
    )


@router.post("/meeting/note")
def meeting_note(at: OnCase) -> Response:
    """The file note of what was said at the meeting (FL 27 §); the draft is next."""
    return at.take(
        "document_meeting",
        lambda _taken: _("File note recorded; the draft decision is next."),
        lambda: {"text": at.form.text("meeting_note")},
    )


@router.post("/meeting/cancel")
def meeting_cancel(at: OnCase) -> Response:
    """Call off the booked meeting with a reason; a new one can then be booked."""
    return at.take(
        "cancel_meeting",
        lambda _taken: _("Meeting cancelled; the cancellation is on its way. Book a new meeting."),
        lambda: {"reason": at.form.text("cancel_reason")},
        confirm=LETTERS,
    )


@router.post("/meeting/skip")
def meeting_skip(at: OnCase) -> Response:
    """No meeting this time; why goes on record."""
    return at.take(
        "skip_meeting",
        lambda _taken: _("Meeting skipped; the draft decision is next."),
        lambda: {"reason": at.form.text("skip_reason")},
        confirm=LETTERS,
    )


@router.post("/draft")
def draft(at: OnCase) -> Response:
    """The draft decision in its own words: a new version, worded by the officer from the
    checklist's and the reviewers' findings, which the form shows beside each requirement."""

    def parameters() -> dict[str, Any]:
        outcome = at.form.text("draft_outcome")
        return {
            "outcome": (
                choice(Outcome, outcome, _("Choose an outcome."), "draft_outcome")
                if outcome
                else None
            ),
            "amount": amount(at.form.text("draft_amount"), "draft_amount"),
            "reasons": {c.value: at.form.text(f"draft_reason_{c.value}") for c in Criterion},
            "decisive": at.form.text("draft_decisive"),
            "conditions": lines(at.form.text("draft_conditions")),
            "not_met": [c.value for c in Criterion if at.form.text(f"draft_not_met_{c.value}")],
            "reply_assessment": at.form.text("draft_reply_assessment"),
        }

    return at.take(
        "prepare_draft",
        lambda taken: (
            _("Draft decision version %(version)s prepared: %(outcome)s.")
            % {"version": taken.result.version, "outcome": label(taken.result.outcome)}
        ),
        parameters,
    )


@router.post("/communicate")
def communicate_draft(at: OnCase) -> Response:
    """FL 25 §: the applicant gets the material the draft rests on, with a reply deadline."""
    return at.take(
        "communicate",
        lambda taken: (
            _("Material sent to the applicant; reply by %(deadline)s.")
            % {"deadline": taken.result.deadline.isoformat()}
        ),
        confirm=LETTERS,
    )


@router.post("/reply")
def reply(at: OnCase) -> Response:
    """The applicant's reply to a communication; the draft is looked at again."""
    filename, content = at.form.file("reply_file")
    return at.take(
        "register_reply",
        lambda taken: (
            _("Reply %(file)s registered; revise the draft and submit it.")
            % {"file": taken.result.filename}
        ),
        lambda: {
            "filename": filename,
            "content": content,
            "has_comments": not at.form.text("reply_no_comments"),
        },
    )


@router.post("/submit-draft")
def submit_draft(at: OnCase) -> Response:
    """The draft to the decision maker. A draft against the applicant that was not
    communicated needs why that is obviously unnecessary (FL 25 §); the domain says when."""
    return at.take(
        "submit_draft",
        lambda taken: (
            _("Draft version %(version)s is with the decision maker.")
            % {"version": taken.result.version}
        ),
        lambda: {
            "no_communication_because": at.form.text("no_communication_because"),
            "nothing_new_from_others": bool(at.form.text("nothing_new_from_others")),
        },
        confirm=LETTERS,
    )


@router.post("/material")
def material(at: OnCase) -> Response:
    """Material from others than the applicant that the draft rests on (FL 25 §), with its
    source: the next communication sends it."""
    filename, content = at.form.file("material_file")
    return at.take(
        "add_material",
        lambda taken: (
            _("Material from %(source)s registered; communicate it before the draft goes on.")
            % {"source": taken.result.source}
        ),
        lambda: {
            "source": at.form.text("material_source"),
            "text": at.form.text("material_text"),
            "filename": filename,
            "content": content,
        },
    )


@router.post("/withdrawal")
def withdrawal(at: OnCase) -> Response:
    """The applicant withdraws the application: the withdrawal is filed and the case goes to
    a draft that closes it (avskrivs), as `grants withdraw` does."""
    filename, content = at.form.file("withdrawal_file")
    return at.take(
        "register_withdrawal",
        lambda taken: (
            _("Withdrawal %(file)s registered; prepare the draft that closes the case.")
            % {"file": taken.result.filename}
        ),
        lambda: {
            "filename": filename,
            "content": content,
            "reason": at.form.text("withdrawal_reason"),
        },
        confirm=ALWAYS,
    )


@router.post("/presentation")
def presentation(at: OnCase) -> Response:
    """The funded project presented at its Community Talk."""
    return at.take(
        "record_presentation",
        lambda _taken: _("Presentation recorded."),
        lambda: {"on": day(at.form.text("presented_on"), "presented_on")},
    )


@router.post("/final-report")
def final_report(at: OnCase) -> Response:
    """The funded project's final report, filed as it came."""
    filename, content = at.form.file("final_report_file")
    return at.take(
        "register_final_report",
        lambda taken: _("Final report %(file)s registered.") % {"file": taken.result.filename},
        lambda: {"filename": filename, "content": content},
    )


def step_address(case_reference: str, person: CurrentPerson) -> RedirectResponse:
    """A step's address opened as a page (the language switch on a refused step's page
    returns there): the case page, where the step's form is."""
    return RedirectResponse(f"/cases/{case_reference}#steps", 303)


for _route in list(router.routes):
    router.add_api_route(_route.path.removeprefix(router.prefix), step_address, methods=["GET"])


@router.get("/preview/{token}/{number}")
def preview_pdf(
    case_reference: str, token: str, number: int, office: OfficeDep, person: CurrentPerson
) -> Response:
    """A previewed letter's PDF, for the confirmation page: the person's own preview only."""
    with reading(office.settings, person.email, OFFICERS) as (session, reader):
        case_to_read(session, case_reference, reader)
    preview = previews.kept(token, person.email, case_reference)
    if preview is None or not 0 <= number < len(preview.letters):
        raise CaseNotFound("case.no_preview", number=number, case_reference=case_reference)
    shown = preview.letters[number]
    return file_response(shown.pdf, shown.filename, "application/pdf")
