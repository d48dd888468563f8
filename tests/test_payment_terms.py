"""The decision letter says how the grant is paid as it now is: to the account the grantee
gives when accepting the conditions (through the e-mail's link or on paper), after the
acceptance, in the instalments of the call's payment plan, each with its amount in kronor."""

import re
from pathlib import Path

import pytest

from flows.intake import intake
from flows.letters import send_letters
from grants.embedded import run_flow
from grants.settings import PROJECT_ROOT
from models.tables import Recommendation
from tests.conftest import SAMPLES, MadeOnce
from tests.helpers import DECISION_MAKER, grants, pdf_pages
from tests.test_decisions import letter_pdf, to_awaiting_decision
from tests.test_payments import SHIPPED_PLAN

PLAN = (
    'payment_plan = [{ percent = 75, after = "acceptance" }, '
    '{ percent = 25, after = "final_report" }]'
)


@pytest.fixture
def signed_in_instalments(
    made_once: MadeOnce, grants_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """A call paid 75 % after acceptance and 25 % after the approved final report; 35 000 kr
    granted to a Swedish case and 25 000 kr to an English one, both signed and their letters
    rendered. Returns the case references by language."""
    text = (PROJECT_ROOT / "config" / "grants.toml").read_text(encoding="utf-8")
    config = tmp_path / "grants.toml"
    config.write_text(text.replace(SHIPPED_PLAN, PLAN), encoding="utf-8")
    monkeypatch.setenv("GRANTS_CONFIG", str(config))

    def make() -> dict[str, str]:
        run_flow(intake, path=str(SAMPLES / "applications.json"), send_letters=False)
        made = {}
        for language, submission in (("sv", "SI-2026-0101"), ("en", "SI-2026-0108")):
            made[language] = to_awaiting_decision(submission, Recommendation.granted)
            grants("sign", made[language], "--as", DECISION_MAKER)
        run_flow(send_letters)
        return made

    return made_once("decisions-75-25", make, config)


def said(pdf: bytes) -> str:
    """The letter's text, its lines joined and no-break spaces as spaces."""
    return re.sub(r"\s+", " ", " ".join(pdf_pages(pdf)).replace("\u00a0", " "))


def test_the_decision_states_the_plan_the_account_given_with_the_acceptance_and_amounts(
    signed_in_instalments: dict[str, str],
) -> None:
    swedish = said(letter_pdf("decision", signed_in_instalments["sv"]))
    assert (
        "Bidraget på 35 000 kr betalas ut i två delbetalningar till det konto som organisationen "
        "anger när den godtar villkoren, genom länken i e-postmeddelandet eller på papper: "
        "26 250 kr (75 %) inom 30 dagar från att vi har tagit emot organisationens godkännande "
        "och 8 750 kr (25 %) när slutrapporten har godkänts. Varje utbetalning märks med "
        f"diarienummer {signed_in_instalments['sv']}."
    ) in swedish, swedish
    assert "angetts i ansökan" not in swedish

    english = said(letter_pdf("decision_translation", signed_in_instalments["en"]))
    assert (
        "The grant of SEK 25,000 is paid in two instalments, to the account the organisation "
        "gives when it accepts the conditions, through the link in the e-mail or on paper: "
        "SEK 18,750 (75%) within 30 days of our receiving the acceptance and SEK 6,250 (25%) "
        "once the final report has been approved."
    ) in english, english
    assert "given in the application" not in english


def test_a_grant_paid_whole_says_one_payment_to_the_account_given_with_the_acceptance(
    sample_call: Path,
) -> None:
    ref = to_awaiting_decision("SI-2026-0101", Recommendation.granted)
    grants("sign", ref, "--as", DECISION_MAKER)
    run_flow(send_letters)
    swedish = said(letter_pdf("decision", ref))
    assert (
        "Bidraget på 35 000 kr betalas ut i en enda utbetalning, inom 30 dagar från att vi har "
        "tagit emot organisationens godkännande, till det konto som organisationen anger när "
        "den godtar villkoren, genom länken i e-postmeddelandet eller på papper."
    ) in swedish, swedish
