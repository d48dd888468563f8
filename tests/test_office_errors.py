"""What the office answers when a request cannot be answered as asked: no such page, a
form's address opened as a page, a body far too large, a HEAD; always the office's own page
in the visitor's language, with a way back, never a bare JSON or text answer."""

import pytest

from tests.conftest import SAMPLES
from tests.office import post, sign_in
from tests.test_office_officer import OFFICER, grants, the_case

MB = 1024 * 1024


@pytest.fixture
def received(office) -> str:
    """The sample applications registered, the case officer signed in; a case just received."""
    grants("intake", str(SAMPLES / "applications.json"), "--as", OFFICER, "--no-letters")
    sign_in(office, OFFICER)
    return the_case().case_reference


def test_no_such_page_and_a_forms_address_answer_the_offices_own_page(office) -> None:
    missing = office.get("/no-such-page")
    assert missing.status_code == 404
    assert "text/html" in missing.headers["content-type"]
    assert "Det finns ingen sådan sida." in missing.text
    assert 'href="/tasks"' in missing.text

    form_address = office.get("/reviews/26RS1/declaration")
    assert form_address.status_code == 405 and form_address.headers["allow"] == "POST"
    assert "Method Not Allowed" not in form_address.text
    assert "tar emot ett formulär" in form_address.text
    assert 'href="/reviews/26RS1"' in form_address.text  # the page the form is on

    post(office, "/language", {"language": "en", "next": "/login"})
    assert "There is no such page." in office.get("/no-such-page").text
    assert "This address takes a form" in office.get("/logout").text


def test_head_is_answered_wherever_get_is(office) -> None:
    for path in ("/login", "/login/link?token=x", "/static/office.css"):
        answer = office.head(path)
        assert answer.status_code == 200, path
        assert answer.content == b"", path
    assert office.head("/tasks", follow_redirects=False).status_code == 303  # as GET


def test_a_body_far_over_the_limit_answers_a_page_that_states_the_limit(
    office, received: str
) -> None:
    ref = received
    huge = ("stor.pdf", b"%PDF-1.7\n" + b"0" * (45 * MB), "application/pdf")
    answer = post(office, f"/cases/{ref}/supplement", files={"supplement_file": huge})
    assert answer.status_code == 413
    assert "text/html" in answer.headers["content-type"]
    assert "högst 20 MB" in answer.text
    assert f'href="/cases/{ref}"' in answer.text or f'href="/cases/{ref}/supplement"' in answer.text

    post(office, "/language", {"language": "en", "next": "/tasks"})
    answer = post(office, f"/cases/{ref}/supplement", files={"supplement_file": huge})
    assert answer.status_code == 413 and "at most 20 MB" in answer.text
