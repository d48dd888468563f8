"""A refused step in the office says why in the page's language: on a Swedish page in
Swedish, on an English one in English, with the human names of criteria and states, never
the domain's codes or the command line's options; and nothing changes."""

import html
import re

import pytest

from grants.web.i18n import translations
from grants.web.refusals import WORDING
from tests.conftest import SAMPLES
from tests.helpers import database_dump, settled_dump
from tests.office import post, sign_in
from tests.test_office_officer import ALL_MET, DECISION_MAKER, OFFICER, grants, the_case

ALERT = re.compile(r'role="alert">\s*(?:<strong>[^<]*</strong>)?(.*?)</(?:div|p)>', re.S)
CODE_OR_OPTION = re.compile(r"\b[a-z]+_[a-z_]+\b|--[a-z]|\bgrants [a-z]")
FILE = ("handling.txt", b"Det efterfragade underlaget.", "text/plain")

# Steps a case officer may try on a case just received, each refused (by the step layer when
# the case is not in a state the step is taken in, else by the domain): the
# form, what is typed and sent, and the refusal's code.
REFUSED_STEPS = [
    ("checklist", ALL_MET | {"benefit_to_society": ""}, {}, "checklist.unanswered"),
    ("checklist", ALL_MET | {"innovative": "unclear"}, {}, "checklist.note_needed"),
    ("supplement-request", {"request_missing": " "}, {}, "supplement.nothing_missing"),
    ("supplement", {}, {"supplement_file": FILE}, "state.step_not_now"),
    ("reviewer", {"reviewer": OFFICER}, {}, "state.step_not_now"),
    ("meeting/cancel", {"cancel_reason": "Sjuk."}, {}, "state.step_not_now"),
    ("meeting/skip", {"skip_reason": "Inget behov."}, {}, "state.step_not_now"),
    ("draft", {}, {}, "state.step_not_now"),
    ("communicate", {}, {}, "state.step_not_now"),
    ("submit-draft", {}, {}, "state.step_not_now"),
    (
        "material",
        {"material_source": "Kommunen", "material_text": "Uppgift."},
        {},
        "state.step_not_now",
    ),
    ("reply", {}, {"reply_file": FILE}, "state.step_not_now"),
    (
        "withdrawal",
        {"withdrawal_reason": " "},
        {"withdrawal_file": FILE},
        "decision.withdrawal_reason",
    ),
    ("final-report", {}, {"final_report_file": FILE}, "state.step_not_now"),
]


@pytest.fixture
def received(office) -> str:
    """The sample applications registered, the case officer signed in; a case just received."""
    grants("intake", str(SAMPLES / "applications.json"), "--as", OFFICER, "--no-letters")
    sign_in(office, OFFICER)
    return the_case().case_reference


def alert(response) -> str:
    """The text of the page's alert: what the person is told."""
    found = ALERT.search(response.text)
    assert found, response.text
    return " ".join(html.unescape(re.sub("<[^>]+>", "", found.group(1))).split())


def wording(code: str, language: str) -> re.Pattern:
    """The refusal's wording in `language`, its parameters whatever they are."""
    english = WORDING[code]
    text = english if language == "en" else translations(language).gettext(english)
    parts = re.split(r"%\(\w+\)s", text)
    return re.compile(".+?".join(re.escape(part) for part in parts))


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_refused_step_on_a_new_case_speaks_the_pages_language(
    office,
    received: str,
    language: str,
) -> None:
    ref = received
    post(office, "/language", {"language": language, "next": "/tasks"})
    before = settled_dump(office)
    for step, data, files, code in REFUSED_STEPS:
        response = post(office, f"/cases/{ref}/{step}", data, files=files or None)
        assert response.status_code == 409, (step, response.status_code)
        said = alert(response)
        assert wording(code, language).fullmatch(said), (step, said)
        assert not CODE_OR_OPTION.search(said), (step, said)
    assert database_dump(office.app.state.office.settings.home) == before


def test_a_checklist_refused_names_the_requirements_and_the_state_by_their_names(
    office,
    received: str,
) -> None:
    ref = received
    unanswered = ALL_MET | {"benefit_to_society": "", "new_locally": ""}
    swedish = alert(post(office, f"/cases/{ref}/checklist", unanswered))
    assert swedish == "Besvara varje grundkrav. Saknas: Samhällsnytta, Nytt lokalt."
    moved = post(office, f"/cases/{ref}/meeting/skip", {"skip_reason": "Inget behov."})
    assert alert(moved) == (
        f"Ärende {ref} har status ”Inkom”: det här steget tas bara när det har status ”Möte med "
        "sökande”."
    )

    post(office, "/language", {"language": "en", "next": "/tasks"})
    english = alert(post(office, f"/cases/{ref}/checklist", unanswered))
    assert english == "Answer every basic requirement. Missing: Benefit to society, New locally."
    moved = post(office, f"/cases/{ref}/meeting/skip", {"skip_reason": "No need."})
    assert alert(moved) == (
        f"Case {ref} is “Received”: this step is taken only while it is “Applicant meeting”."
    )


def test_a_step_the_person_may_not_take_is_refused_in_their_language(office) -> None:
    grants("intake", str(SAMPLES / "applications.json"), "--as", OFFICER, "--no-letters")
    ref = the_case().case_reference
    sign_in(office, DECISION_MAKER)
    refused = post(office, f"/cases/{ref}/checklist", ALL_MET)
    assert refused.status_code == 403
    assert alert(refused) == (
        "Bara den som har rollen Handläggare får göra detta; Karin Sjöberg har rollen "
        "Beslutsfattare."
    )


@pytest.mark.parametrize(
    ("language", "faults"),
    [
        (
            "sv",
            [
                "organisation_number = '802467-5213': kontrollsiffran (den sista siffran) "
                "stämmer inte",
                "submitted_at = '2026-07-08': utlysningen tar inte emot ansökningar i juli "
                "och december",
            ],
        ),
        (
            "en",
            [
                "organisation_number = '802467-5213': the check digit (the last digit) does "
                "not match",
                "submitted_at = '2026-07-08': the call takes no applications in July and December",
            ],
        ),
    ],
)
def test_the_records_refused_at_intake_are_told_in_the_pages_language(
    office, language: str, faults: list[str]
) -> None:
    sign_in(office, OFFICER)
    post(office, "/language", {"language": language, "next": "/intake"})
    mistakes = {"export": ("mistakes.json", (SAMPLES / "mistakes.json").read_bytes(), "text/json")}
    page = html.unescape(post(office, "/intake", files=mistakes).text)
    told = [" ".join(item.split()) for item in re.findall(r"<li>(.*?)</li>", page, re.S)]
    for fault in faults:
        assert fault in told, told


def test_what_intake_warns_of_is_said_in_swedish_on_a_swedish_page(office) -> None:
    sign_in(office, OFFICER)
    export = (SAMPLES / "applications.json").read_bytes()
    page = post(office, "/intake", files={"export": ("ansokningar.json", export, "text/json")})
    warning = "Organisationsnummer saknas ännu: behövs före utbetalning"
    assert warning in page.text and "needed before payment" not in page.text
    case = the_case("SI-2026-0104")
    assert warning in office.get(f"/cases/{case.case_reference}").text
