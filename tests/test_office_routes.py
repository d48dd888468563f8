"""Every route of the office, whoever adds it: signed out, without the form token, and for a
person with a conflict of interest in the case. The routes are read from the application
itself, so a new page is covered the day it is added."""

import re

import pytest
from fastapi.routing import APIRoute

from grants.settings import load
from tests.helpers import CLI_ALL_MET, COOMPANION, OFFICER, database_dump, grants
from tests.office import form_token, sign_in

PUBLIC = ("/login", "/language", "/a/", "/static")  # what a signed-out visitor may reach


def routes(office) -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for route in office.app.routes
        if isinstance(route, APIRoute)
        for method in route.methods
        if method in ("GET", "POST")
    )


def concrete(path: str, case_reference: str = "26RS1") -> str:
    """A route's path with its parameters filled in: a case, and the first of anything."""
    path = path.replace("{case_reference}", case_reference)
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture
def conflicts(sample_call, grants_home) -> dict[str, str]:
    """Two cases in review: Coompanion's advisor declared a conflict in one (its project has
    Coompanion as a partner), the case officer in another. Returns person → case."""
    refs = {"coompanion": "26RS5", "officer": "26RS1"}
    from sqlmodel import select

    from models.db import transaction
    from models.tables import Case

    with transaction(load().db_url) as session:
        coompanion = session.exec(select(Case).where(Case.submission_id == "SI-2026-0105")).one()
        refs["coompanion"] = coompanion.case_reference
        other = session.exec(select(Case).where(Case.id != coompanion.id)).first()
        refs["officer"] = other.case_reference
    for ref in refs.values():
        grants("checklist", ref, "--as", OFFICER, *CLI_ALL_MET)
    grants("declare", refs["coompanion"], "--as", COOMPANION, "--conflict", "own_organisation",
           "--note", "Coompanion är partner i projektet.")  # fmt: skip
    grants("declare", refs["officer"], "--as", OFFICER, "--conflict", "close_relative",
           "--note", "Min syster leder föreningen.")  # fmt: skip
    return {COOMPANION: refs["coompanion"], OFFICER: refs["officer"]}


def test_a_signed_out_visitor_is_sent_to_sign_in_and_changes_nothing(office) -> None:
    token = form_token(office)
    before = database_dump(load().home)
    for method, path in routes(office):
        if path.startswith(PUBLIC):
            continue
        url = concrete(path)
        if method == "GET":
            response = office.get(url, follow_redirects=False)
        else:
            response = office.post(url, data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].startswith("/login"), (method, path)
    assert database_dump(load().home) == before


def test_no_form_is_taken_without_this_sessions_token(office) -> None:
    sign_in(office, OFFICER)
    before = database_dump(load().home)
    for method, path in routes(office):
        if method != "POST":
            continue
        for data in ({}, {"csrf_token": "not-the-token"}):
            response = office.post(concrete(path), data=data, follow_redirects=False)
            assert response.status_code == 403, (path, data, response.status_code)
    assert database_dump(load().home) == before


@pytest.mark.parametrize("person", [COOMPANION, OFFICER])
def test_a_case_with_a_declared_conflict_does_not_exist_for_that_person(
    office, conflicts: dict[str, str], person: str
) -> None:
    ref = conflicts[person]
    sign_in(office, person)
    token = form_token(office)
    before = database_dump(load().home)
    project = _project_title(ref)
    for method, path in routes(office):
        if path.startswith(PUBLIC) or "{case_reference}" not in path:
            if method == "GET" and "{" not in path and not path.startswith(PUBLIC):
                page = office.get(path)  # lists, counts, reports: the case is not in them
                assert ref not in page.text and project not in page.text, path
            continue
        if method == "GET":
            hidden = office.get(concrete(path, ref))
            absent = office.get(concrete(path, "26RS999"))
            assert hidden.status_code in (403, 404), (path, hidden.status_code)
            assert hidden.status_code == absent.status_code, path
            assert project not in hidden.text
        else:
            response = office.post(concrete(path, ref), data={"csrf_token": token})
            assert response.status_code in (403, 404, 409, 422), (path, response.status_code)
            assert project not in response.text
    assert database_dump(load().home) == before


def _project_title(ref: str) -> str:
    from sqlmodel import select

    from models.db import transaction
    from models.tables import Case

    with transaction(load().db_url) as session:
        return session.exec(select(Case).where(Case.case_reference == ref)).one().project_title
