"""The office's own administration: the people who act in it and the advisory group.

The case officer administers the office (README, "People and the advisory group"). Each
form takes its declared step by name through the step layer (`add_person`,
`change_person`, `change_advisory_group`), as the command line does, so every change is
checked the same way and lands in the audit trail; a refusal shows the page again with
why and with what was typed.
"""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from grants.steps import ADMINISTRATORS, reading
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.form_values import UnreadableForm, refusal_status, take_or_show_again
from grants.web.i18n import _
from grants.web.office import Office
from grants.web.office_steps import Posted, PostedDep
from grants.web.pages import render
from grants.web.refusals import worded
from models.people import PERSON_FIELDS, STAFF_ROLES, advisory_group, people
from models.tables import Person

router = APIRouter(prefix="/people")


def _list_page(
    request: Request, office: Office, person: Person, refused: Exception | None, form: Posted | None
) -> Response:
    with reading(office.settings, person.email, ADMINISTRATORS) as (session, reader):
        context = {
            "person": reader,
            "people": people(session),
            "group": advisory_group(session),
            "roles": STAFF_ROLES,
            "error": worded(refused) if refused else None,
            "form": form.values() if form else {},
        }
        return render(request, "people.html", context, refusal_status(refused))


def _person_page(
    request: Request,
    office: Office,
    person: Person,
    person_id: int,
    refused: Exception | None,
    form: Posted | None,
) -> Response:
    with reading(office.settings, person.email, ADMINISTRATORS) as (session, reader):
        shown = session.get(Person, person_id)
        if shown is None:
            raise HTTPException(404)
        values = {name: getattr(shown, name) or "" for name in PERSON_FIELDS}
        values |= {"in_advisory_group": "on" if shown.in_advisory_group else ""}
        values |= {"attestant": "on" if shown.attestant else ""}
        values |= {"active": "on" if shown.active else ""}
        context = {
            "person": reader,
            "shown": shown,
            "roles": STAFF_ROLES,
            "error": worded(refused) if refused else None,
            "form": form.values() if form else values,
        }
        return render(request, "person.html", context, refusal_status(refused))


@router.get("")
def people_page(request: Request, office: OfficeDep, person: CurrentPerson) -> Response:
    """Everyone registered, the advisory group's rules, and a form to add a person."""
    return _list_page(request, office, person, None, None)


def _values(form: Posted) -> dict[str, Any]:
    return {name: form.text(name) for name in PERSON_FIELDS}


@router.post("")
def person_added(
    request: Request, office: OfficeDep, person: CurrentPerson, form: PostedDep
) -> Response:
    return take_or_show_again(
        request,
        office,
        person,
        "add_person",
        None,
        lambda: {
            "values": _values(form),
            "in_advisory_group": bool(form.text("in_advisory_group")),
            "attestant": bool(form.text("attestant")),
        },
        lambda refusal: _list_page(request, office, person, refusal, form),
        lambda taken: (_("%(name)s is added.") % {"name": taken.result.name}, "/people"),
    )


@router.post("/group")
def group_changed(
    request: Request, office: OfficeDep, person: CurrentPerson, form: PostedDep
) -> Response:
    def parameters() -> dict[str, Any]:
        text = form.text("review_quorum")
        if not text.isdigit():
            raise UnreadableForm(_("Quorum: “%(value)s” is not a whole number.") % {"value": text})
        return {
            "review_quorum": int(text),
            "include_case_officer": bool(form.text("include_case_officer")),
        }

    return take_or_show_again(
        request,
        office,
        person,
        "change_advisory_group",
        None,
        parameters,
        lambda refusal: _list_page(request, office, person, refusal, form),
        lambda taken: (_("The advisory group is changed."), "/people"),
    )


@router.get("/{person_id}")
def person_page(
    request: Request, person_id: int, office: OfficeDep, person: CurrentPerson
) -> Response:
    """One person's details, to change; deactivating is unticking “Active”."""
    return _person_page(request, office, person, person_id, None, None)


@router.post("/{person_id}")
def person_changed(
    request: Request, person_id: int, office: OfficeDep, person: CurrentPerson, form: PostedDep
) -> Response:
    with reading(office.settings, person.email, ADMINISTRATORS) as (session, _reader):
        changed = session.get(Person, person_id)
        email = changed.email if changed else ""
    return take_or_show_again(
        request,
        office,
        person,
        "change_person",
        None,
        lambda: {
            "email": email,
            "values": _values(form),
            "in_advisory_group": bool(form.text("in_advisory_group")),
            "attestant": bool(form.text("attestant")),
            "active": bool(form.text("active")),
        },
        lambda refusal: _person_page(request, office, person, person_id, refusal, form),
        lambda taken: (_("%(name)s is changed.") % {"name": taken.result.name}, "/people"),
    )
