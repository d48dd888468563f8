"""What every grant decision carries read back from its PDF:
the Region's competence and the guidelines' adoption, payment, reporting and repayment
terms, the case officer's direct number; and, for an applicant that carries on economic
activity, the grant as de minimis aid under Regulation (EU) 2023/2831, which the decision
maker cannot sign without the applicant's declaration of other such aid, or over the
ceiling."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from flows.letters import send_letters
from grants.embedded import run_flow
from grants.settings import load
from models.access import case_for
from models.db import transaction
from models.decisions import sign
from models.rules import Rules
from models.tables import Case, Recommendation
from tests.helpers import DECISION_MAKER, OFFICER, grants, pdf_pages
from tests.test_decisions import (  # noqa: F401 (small_budget is a fixture)
    letter_pdf,
    person,
    small_budget,
    to_awaiting_decision,
)

pytestmark = pytest.mark.usefixtures("small_budget")

# In every grant decision, in the Swedish the applicant reads.
TERMS = (
    # The Region's competence and the guidelines it applied, with their adoption.
    "Region Örebro län lämnar bidraget med stöd av 2 kap. 1 och 2 §§ kommunallagen (2017:725).",
    "Kulturnämnden antog riktlinjerna den 12 februari 2026.",
    # Payment: the conditions accepted first; when, how; no organisation number, no money.
    "Innan bidraget betalas ut ska organisationen godta villkoren i beslutet.",
    "inom 30 dagar från att vi har tagit emot organisationens godkännande",
    "Bidrag betalas inte ut till en organisation som saknar organisationsnummer från Skatteverket.",
    # Reporting: its form, what lateness leads to, the vouchers, the Region's audit.
    "Slutrapporten ska undertecknas av den eller de som har rätt att teckna organisationens firma.",
    "Har den inte kommit in inom 30 dagar från påminnelsen kan Region Örebro län kräva tillbaka "
    "hela bidraget.",
    "Spara kvitton, fakturor och andra verifikationer",
    "Region Örebro län har rätt att granska hur bidraget har använts",
    # Repayment: what, how and by when, and that a claim is a decision of its own.
    "Pengar från bidraget som inte har använts när projektet är slut ska betalas tillbaka",
    "som ska betalas inom 30 dagar från fakturadatum",
    "Om Region Örebro län kräver tillbaka bidraget, helt eller delvis, är det ett eget beslut",
    # The case officer's direct number, not the switchboard's.
    "Kontakta handläggaren Maria Lindqvist, maria.lindqvist@regionorebrolan.example.se, "
    "telefon 019-602 63 18.",
)
DE_MINIMIS = (
    "stöd av mindre betydelse (försumbart stöd) enligt kommissionens förordning (EU) 2023/2831"
)


def _signed_decision(ref: str) -> str:
    settings = load()
    with transaction(settings.db_url) as session:
        maker = person(session, DECISION_MAKER)
        sign(
            session,
            case_for(session, ref, maker, lock=True),
            maker,
            Rules.from_config(settings.file),
        )
    run_flow(send_letters)
    return " ".join(pdf_pages(letter_pdf("decision", ref)))


def test_a_grant_to_an_economic_association_is_de_minimis_aid_with_every_term() -> None:
    """Kryddgården Lindesberg ekonomisk förening declared an aid in its application: the
    decision states the grant as de minimis aid, in kronor and in euro at the configured
    rate, with the declared aid against the ceiling, and that it is to be kept ten years."""
    ref = to_awaiting_decision("SI-2026-0105", Recommendation.partly_granted, 30_000)
    text = _signed_decision(ref)

    for said in TERMS:
        assert said in text, said
    assert "Stöd av mindre betydelse" in text and DE_MINIMIS in text
    assert (
        "om tillämpningen av artiklarna 107 och 108 i fördraget om Europeiska unionens "
        "funktionssätt på stöd av mindre betydelse (EUT L, 2023/2831, 15.12.2023)"
    ) in text
    # 30 000 / 10.93 = 2 744.75; declared: 30 000 kr from Lindesbergs kommun in February 2026.
    assert (
        "Stödet uppgår till 30 000 kronor, vilket motsvarar 2 745 euro omräknat med 10,93 " in text
    )
    assert "(Europeiska kommissionens omräkningskurs (InforEuro) för januari 2027)" in text
    ceiling = "ta emot högst 300 000 euro i stöd av mindre betydelse under en period av tre år."
    assert f"{ceiling} Enligt" in text
    assert "Enligt organisationens försäkran har den fått 2 745 euro" in text
    assert "med detta bidrag blir det sammanlagt 5 490 euro" in text
    assert "Organisationen ska spara beslutet i tio år från beslutsdagen." in text


def test_a_grant_to_a_non_profit_association_carries_the_terms_and_no_state_aid() -> None:
    ref = to_awaiting_decision("SI-2026-0101", Recommendation.granted)
    text = _signed_decision(ref)

    for said in TERMS:
        assert said in text, said
    assert "mindre betydelse" not in text and "2023/2831" not in text and "euro" not in text


def test_no_signature_for_economic_activity_without_the_declaration_or_over_the_ceiling() -> None:
    """The case officer finds that Föreningen Unga röster sells its services: its grant is de
    minimis aid. The decision maker cannot sign it until the association's declaration is
    recorded, nor while the declared aid and the grant together pass EUR 300 000; aid
    granted more than three years before the decision does not count."""
    ref = to_awaiting_decision("SI-2026-0101", Recommendation.granted)  # 35 000 kr
    grants("state-aid", ref, "--economic-activity", "--as", OFFICER)

    refused = grants("sign", ref, "--as", DECISION_MAKER, ok=False)
    assert refused.exit_code == 2
    assert "carries on economic activity" in refused.text
    assert "declaration of other de minimis aid" in refused.text and "is missing" in refused.text

    recent = (date.today() - timedelta(days=400)).isoformat()
    grants("state-aid", ref, "--other-aid", f"Örebro kommun: 3 270 000: {recent}", "--as", OFFICER)
    refused = grants("sign", ref, "--as", DECISION_MAKER, ok=False)
    # 3 270 000 / 10.93 = 299 177 euro; with 35 000 kr = 3 202 euro: 302 379 > 300 000.
    assert refused.exit_code == 2
    assert "(299177 euro)" in refused.text and "(3202 euro)" in refused.text
    assert "302379 euro, over the ceiling of 300000 euro" in refused.text
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        assert case.state == "awaiting_decision"  # nothing changed

    long_ago = (date.today() - timedelta(days=3 * 365 + 2)).isoformat()
    grants("state-aid", ref, "--other-aid", f"Örebro kommun: 3270000: {long_ago}", "--as", OFFICER)
    grants("people", "change", OFFICER, "--phone", "", "--as", OFFICER)  # no direct number
    grants("sign", ref, "--as", DECISION_MAKER)
    run_flow(send_letters)
    text = " ".join(pdf_pages(letter_pdf("decision", ref)))
    assert DE_MINIMIS in text and "motsvarar 3 202 euro" in text
    assert "inte fått något annat stöd av mindre betydelse under de senaste tre åren" in text
    switchboard = "maria.lindqvist@regionorebrolan.example.se, telefon 019-602 10 00 (växel)."
    assert f"Kontakta handläggaren Maria Lindqvist, {switchboard}" in text
