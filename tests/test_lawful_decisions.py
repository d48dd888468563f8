"""Decisions built to the law: a draft against the applicant is communicated first (FL 25 §),
the decision says what the applicant answered and what was made of it, and its reasons hold
together (FL 32 §), cut and co-financing included; dismissal only as the officer's choice."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from flows.assessment import sweep
from flows.letters import send_letters
from grants.embedded import run_flow
from grants.settings import load
from models.access import case_for
from models.checklist import Finding, complete_checklist
from models.communication import communicate, register_reply
from models.db import transaction
from models.decisions import prepare_draft, sign, submit_for_decision
from models.errors import Refused
from models.rules import Rules
from models.tables import Answer, Case, Criterion, FileNote, OnExpiry, Recommendation
from models.working_days import add_working_days
from tests.helpers import DECISION_MAKER, OFFICER, pdf_pages
from tests.test_decisions import (  # noqa: F401 (small_budget is a fixture)
    WORDING,
    letter_pdf,
    person,
    small_budget,
    to_awaiting_decision,
)

pytestmark = pytest.mark.usefixtures("small_budget")
AGAINST = "Liknande verksamhet finns redan i Vivalla genom fritidsgården."


def _step(ref: str, email: str, action) -> object:
    settings = load()
    with transaction(settings.db_url) as session:
        who = person(session, email)
        return action(session, case_for(session, ref, who, lock=True), who)


def test_a_refusal_is_communicated_with_what_speaks_against_then_answered() -> None:
    rules = Rules.from_config(load().file)
    ref = to_awaiting_decision("SI-2026-0104", Recommendation.refused, submit=False)
    with pytest.raises(Refused, match="communicate it first"):
        _step(ref, OFFICER, lambda s, c, p: submit_for_decision(s, c, p, rules))
    with pytest.raises(Refused, match="decisive = ''"):
        _step(
            ref,
            OFFICER,
            lambda s, c, p: prepare_draft(s, c, p, rules, reasons=WORDING, decisive=" "),
        )
    _step(
        ref,
        OFFICER,
        lambda s, c, p: prepare_draft(
            s, c, p, rules, reasons=WORDING, decisive=AGAINST, not_met=["new_locally"]
        ),
    )
    _step(ref, OFFICER, lambda s, c, p: communicate(s, c, p, rules, date.today()))
    run_flow(send_letters)
    letter = " ".join(pdf_pages(letter_pdf("communication", ref)))
    assert "Det som talar emot er ansökan" in letter and AGAINST in letter
    assert "Nytt lokalt – inte uppfyllt" in letter and "Samhällsnytta – uppfyllt" in letter

    _step(
        ref,
        OFFICER,
        lambda s, c, p: register_reply(s, c, p, "svar.txt", b"Fritidsgarden har stangt."),
    )
    with pytest.raises(Refused, match="say what was made of the comments"):
        _step(
            ref,
            OFFICER,
            lambda s, c, p: prepare_draft(
                s, c, p, rules, reasons=WORDING, decisive=AGAINST, not_met=["new_locally"]
            ),
        )
    _step(
        ref,
        OFFICER,
        lambda s, c, p: prepare_draft(
            s,
            c,
            p,
            rules,
            reasons=WORDING,
            decisive=AGAINST,
            not_met=["new_locally"],
            reply_assessment="Att fritidsgården har stängt ibland gör inte verksamheten "
            "ny; bedömningen står fast.",
        ),
    )
    # Communicated; the new version adds nothing from others (models.material).
    _step(ref, OFFICER, lambda s, c, p: submit_for_decision(s, c, p, rules, "", True))
    _step(ref, DECISION_MAKER, lambda s, c, p: sign(s, c, p, rules))
    run_flow(send_letters)
    decision = " ".join(pdf_pages(letter_pdf("decision", ref)))
    today = f"{date.today().day} "
    assert "Ni har den " + today in decision and "kommit in med synpunkter" in decision
    assert "bedömningen står fast" in decision
    assert "Nytt lokalt: inte uppfyllt" in decision and "Samhällsnytta: uppfyllt" in decision
    # Co-financing gets its own finding: 0 kr + 125 h × 330 kr = 41 250 kr against 40 000 kr.
    assert "Medfinansiering: uppfyllt" in decision and "41 250 kr ≥ 40 000 kr" in decision


def test_a_cut_says_what_was_cut_and_why_and_no_reply_is_stated() -> None:
    """Hallsberg: 25 000 of 30 000 kr, communicated, no reply by the deadline."""
    rules = Rules.from_config(load().file)
    ref = to_awaiting_decision("SI-2026-0107", Recommendation.partly_granted, 25_000, submit=False)
    _step(ref, OFFICER, lambda s, c, p: communicate(s, c, p, rules, date.today()))
    run_flow(send_letters)  # the reply time runs from the letter's delivery
    deadline = add_working_days(date.today(), rules.communication_working_days)
    run_flow(sweep, today=deadline + timedelta(days=1))  # the draft goes on by itself
    _step(ref, DECISION_MAKER, lambda s, c, p: sign(s, c, p, rules))
    run_flow(send_letters)
    text = " ".join(pdf_pages(letter_pdf("decision", ref)))
    assert "Varför beloppet är lägre än det sökta" in text
    assert "Ni sökte 30 000 kr" in text and "5 000 kr mindre" in text
    assert "Budgeten för resor är för hög." in text
    assert "Vi har inte fått några synpunkter från er inom den tiden" in text
    # 25 000 kr + 20 h × 330 kr = 31 600 kr, against the 25 000 kr granted.
    assert "31 600 kr ≥ 25 000 kr" in text


def test_obviously_unnecessary_communication_is_recorded_in_the_file() -> None:
    ref = to_awaiting_decision("SI-2026-0106", Recommendation.partly_granted, 40_000)
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        notes = session.exec(select(FileNote).where(FileNote.case_id == case.id)).all()
        assert [n.text for n in notes if n.kind == "no_communication"] == [
            "Sökanden har själv föreslagit beslutet vid mötet."
        ]
        assert case.state == "awaiting_decision"


def test_reasons_must_hold_together() -> None:
    rules = Rules.from_config(load().file)
    ref = to_awaiting_decision("SI-2026-0101", Recommendation.granted, submit=False)
    with pytest.raises(Refused, match="a grant needs every basic requirement met"):
        _step(
            ref,
            OFFICER,
            lambda s, c, p: prepare_draft(s, c, p, rules, reasons=WORDING, not_met=["innovative"]),
        )
    with pytest.raises(Refused, match="missing: new_locally"):
        reasons = {k: v for k, v in WORDING.items() if k != "new_locally"}
        _step(ref, OFFICER, lambda s, c, p: prepare_draft(s, c, p, rules, reasons=reasons))
    # A grant in full goes to the decision maker without communication: nothing against.
    _step(ref, OFFICER, lambda s, c, p: submit_for_decision(s, c, p, rules))


def _checklist_unclear(submission_id: str, **dismissal: object) -> str:
    settings = load()
    with transaction(settings.db_url) as session:
        officer = person(session, OFFICER)
        case = session.exec(select(Case).where(Case.submission_id == submission_id)).one()
        findings = {c: Finding(Answer.met) for c in Criterion}
        findings[Criterion.anchored_with_partners] = Finding(Answer.unclear, "Skicka budgeten.")
        rules = Rules.from_config(settings.file)
        complete_checklist(session, case, officer, findings, rules, date.today(), **dismissal)
        return case.case_reference


def test_a_dismissal_rests_on_the_officers_stated_reason() -> None:
    rules = Rules.from_config(load().file)
    examined = _checklist_unclear("SI-2026-0101")
    because = "Utan budget kan ansökan inte prövas alls: beloppet går inte att bedöma."
    ref = _checklist_unclear("SI-2026-0103", on_expiry=OnExpiry.dismiss, dismiss_because=because)
    run_flow(send_letters)
    request = " ".join(pdf_pages(letter_pdf("supplement_request", examined)))
    assert "prövar vi ansökan med de uppgifter som finns" in request and "avvisas" not in request
    request = " ".join(pdf_pages(letter_pdf("supplement_request", ref)))
    assert "avvisas" in request and because in request

    deadline = add_working_days(date.today(), rules.supplement_working_days)
    run_flow(sweep, today=deadline + timedelta(days=1))
    _step(ref, OFFICER, lambda s, c, p: prepare_draft(s, c, p, rules))
    with pytest.raises(Refused, match="communicate it first"):
        _step(ref, OFFICER, lambda s, c, p: submit_for_decision(s, c, p, rules))
    _step(
        ref,
        OFFICER,
        lambda s, c, p: submit_for_decision(
            s,
            c,
            p,
            rules,
            "Föreningen har skriftligen meddelat att den inte kan ta fram någon budget.",
        ),
    )
    _step(ref, DECISION_MAKER, lambda s, c, p: sign(s, c, p, rules))
    run_flow(send_letters)
    text = " ".join(pdf_pages(letter_pdf("decision", ref)))
    assert "Region Örebro län avvisar ansökan" in text and because in text
    assert "Skicka budgeten." in text and "Kompletteringen har inte kommit in" in text


def test_a_withdrawn_application_is_closed_by_a_decision_without_communication() -> None:
    from models.withdrawal import register_withdrawal

    rules = Rules.from_config(load().file)
    ref = _checklist_unclear("SI-2026-0105")  # waiting for a supplement
    because = "Föreningen har återkallat ansökan. Ärendet avskrivs därför utan prövning."
    with pytest.raises(Refused, match="reason = ''"):
        _step(ref, OFFICER, lambda s, c, p: register_withdrawal(s, c, p, "a.txt", b"Nej", " "))
    _step(ref, OFFICER, lambda s, c, p: register_withdrawal(s, c, p, "a.txt", b"Nej", because))
    _step(ref, OFFICER, lambda s, c, p: prepare_draft(s, c, p, rules))
    _step(ref, OFFICER, lambda s, c, p: submit_for_decision(s, c, p, rules))  # against no one
    _step(ref, DECISION_MAKER, lambda s, c, p: sign(s, c, p, rules))
    run_flow(send_letters)
    text = " ".join(pdf_pages(letter_pdf("decision", ref)))
    assert "Region Örebro län avskriver ärendet" in text and because in text
    assert "Bedömning av grundkraven" not in text
    with pytest.raises(Refused, match="only an undecided application"):
        _step(ref, OFFICER, lambda s, c, p: register_withdrawal(s, c, p, "a.txt", b"x", "Igen"))
