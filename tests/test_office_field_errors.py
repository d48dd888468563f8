"""A refused form says why at the field as well as at the top: the field is marked
`aria-invalid`, described by the message beside it (`aria-describedby`), the summary links
there, and what was typed is kept; in the page's language. One mechanism for every form:
a refusal that concerns a field (by its code, or a value the office could not read) is
said at that field."""

import html
import re

import pytest

from tests.conftest import SAMPLES
from tests.helpers import ACTIVA, CLI_ALL_MET
from tests.office import post, sign_in
from tests.test_office_browser import applicant_link
from tests.test_office_officer import ALL_MET, OFFICER, grants, the_case

MB = 1024 * 1024
TAG = re.compile(r"<(?:input|textarea|select)\b[^>]*>")


def tag(page: str, name: str) -> str:
    """The (first) form control named `name` on the page."""
    found = [t for t in TAG.findall(page) if f'name="{name}"' in t]
    assert found, name
    return found[0]


def said_at(page: str, name: str) -> str:
    """The message beside the field `name`, as text."""
    found = re.search(rf'<p class="field-error" id="{re.escape(name)}-error">(.*?)</p>', page)
    assert found, f"no message at {name}"
    return html.unescape(found.group(1))


def marked(page: str) -> set[str]:
    """The names of the fields marked invalid."""
    return {
        re.search(r'name="([^"]+)"', t).group(1) for t in TAG.findall(page) if "aria-invalid" in t
    }


def assert_refused_at(page: str, name: str, wording: str) -> None:
    control = tag(page, name)
    assert 'aria-invalid="true"' in control
    described = re.search(r'aria-describedby="([^"]+)"', control).group(1).split()
    assert f"{name}-error" in described
    assert wording in said_at(page, name)
    summary = re.search(r'role="alert"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert 'href="#' in summary and f"{wording}" in html.unescape(summary)


@pytest.fixture
def received(office) -> str:
    """The sample applications registered, the case officer signed in; a case just received."""
    grants("intake", str(SAMPLES / "applications.json"), "--as", OFFICER, "--no-letters")
    sign_in(office, OFFICER)
    return the_case().case_reference


def test_a_case_officers_form_is_refused_at_its_field_with_what_was_typed_kept(
    office, received: str
) -> None:
    ref = received
    unanswered = ALL_MET | {"benefit_to_society": "", "new_locally": "", "note_innovative": "Ny"}
    page = post(office, f"/cases/{ref}/checklist", unanswered).text
    assert marked(page) == {"benefit_to_society", "new_locally"}  # the questions unanswered
    assert_refused_at(page, "benefit_to_society", "Besvara varje grundkrav.")
    assert ">Ny</textarea>" in page

    # A file somewhat over 20 MB reaches the form: refused at the file, the reason kept.
    big = ("stor.pdf", b"%PDF-1.7\n" + b"0" * (21 * MB), "application/pdf")
    reason = {"withdrawal_reason": "Föreningen drar tillbaka ansökan."}
    answer = post(office, f"/cases/{ref}/withdrawal", reason, files={"withdrawal_file": big})
    assert answer.status_code == 409
    assert marked(answer.text) == {"withdrawal_file"}
    assert_refused_at(answer.text, "withdrawal_file", "Filen stor.pdf är för stor")
    assert "Föreningen drar tillbaka ansökan.</textarea>" in answer.text

    post(office, "/language", {"language": "en", "next": "/tasks"})
    small = ("återkallelse.txt", b"Vi drar tillbaka ansokan.", "text/plain")
    answer = post(office, f"/cases/{ref}/withdrawal", {"withdrawal_reason": " "},
                  files={"withdrawal_file": small})  # fmt: skip
    assert marked(answer.text) == {"withdrawal_reason"}
    assert_refused_at(answer.text, "withdrawal_reason", "Say what the decision to close")


def test_an_advisors_amount_the_office_cannot_read_is_refused_at_its_field(office) -> None:
    grants("intake", str(SAMPLES / "applications.json"), "--as", OFFICER, "--no-letters")
    grants("checklist", "26RS1", "--as", OFFICER, *CLI_ALL_MET)
    grants("declare", "26RS1", "--as", ACTIVA, "--no-conflict")
    sign_in(office, ACTIVA)
    review = {"recommendation": "partly_granted", "proposed_amount": "35000²"} | {
        f"reason_{c}": "Uppfyllt." for c in ALL_MET
    }
    page = post(office, "/reviews/26RS1/review", review).text
    assert marked(page) == {"proposed_amount"}
    assert_refused_at(page, "proposed_amount", "Skriv beloppet i hela kronor")
    assert 'value="35000²"' in page and ">Uppfyllt.</textarea>" in page


def test_the_applicants_form_is_refused_at_its_fields(office, sample_call) -> None:
    unclear = ["--anchored-with-partners", "unclear", "--note", "anchored_with_partners=Intyg?"]
    grants("checklist", "26RS3", "--as", OFFICER, *CLI_ALL_MET[:-2], *unclear)
    link = applicant_link("26RS3")
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = post(office, f"/{path}", {"message": "  "}).text
    assert marked(page) == {"file", "message"}
    assert_refused_at(page, "message", "Ladda upp en fil eller skriv ett meddelande")
