"""The Community Talk invitation a project can act on: the day, the start and the end, the
venue with its street address, what this project is asked to present (its own project, not
only the talk's one theme), the e-mail's lines each on its own, and a calendar file
organised by the address the letter comes from."""

from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from flows.assessment import sweep
from flows.letters import send_letters
from grants.embedded import run_flow
from grants.settings import load
from models.tables import Recommendation
from tests.helpers import DECISION_MAKER, OFFICER, grants, pdf_pages
from tests.test_decisions import (  # noqa: F401 (small_budget is a fixture)
    letter_pdf,
    small_budget,
    to_awaiting_decision,
)
from tests.test_meetings_and_delays import calendar

pytestmark = pytest.mark.usefixtures("small_budget")
TALK = [
    "talk", "add", "--date", "2028-03-16", "--time", "14:00",
    "--theme", "Skateboard och odling – kan det vara sociala innovationer?",
    "--theme-en", "Skateboarding and growing vegetables – social innovations?",
    "--venue", "Kulturhuset", "--as", OFFICER,
]  # fmt: skip
ADDRESS = "Fredsgatan 18, 702 10 Örebro"


def test_the_talk_has_an_end_an_address_a_presentation_per_project_and_a_calendar_file() -> None:
    ref = to_awaiting_decision("SI-2026-0101", Recommendation.granted)  # ends 2027-12-31
    grants("sign", ref, "--as", DECISION_MAKER)
    refused = grants(*TALK, "--ends", "13:00", "--address", ADDRESS, ok=False)
    assert refused.exit_code != 0 and "ends_at = 13:00: a talk ends after it starts" in refused.text
    refused = grants(*TALK, "--ends", "16:00", "--address", " ", ok=False)
    assert refused.exit_code != 0 and "address = ''" in refused.text
    said = grants(*TALK, "--ends", "16:00", "--address", ADDRESS)
    assert "2028-03-16 14:00–16:00" in said.text
    run_flow(sweep, today=date(2027, 12, 3))  # four weeks before the project ends: invited
    run_flow(send_letters)

    text = " ".join(pdf_pages(letter_pdf("community_talk_invitation", ref)))
    assert "kl. 14.00–16.00" in text and ADDRESS in text
    assert "Er presentation Ungas röster i bygden" in text  # this project's own, beside the theme

    [eml] = Path(load().outbox_dir).glob(f"{ref}-inbjudan-samhallssamtal.eml")
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    body = message.get_body(("plain",)).get_content()
    lines = body.splitlines()
    assert "Datum: 16 mars 2028 kl. 14.00–16.00" in lines  # a line of its own, ended
    assert any(line.startswith("Tema: Skateboard och odling") for line in lines)
    assert any(line.startswith("Er presentation: Ungas röster i bygden") for line in lines)
    assert f"Plats: Kulturhuset, {ADDRESS}" in lines
    invite = calendar(message)
    sender = message["From"].addresses[0].addr_spec
    assert invite["ORGANIZER;CN=Region Örebro län"] == f"mailto:{sender}"  # the letter's From
    assert invite["DTSTART"] == "20280316T130000Z" and invite["DTEND"] == "20280316T150000Z"
    assert invite["LOCATION"] == f"Kulturhuset\\, {ADDRESS.replace(',', chr(92) + ',')}"
    assert invite["content-method"] == "REQUEST"
