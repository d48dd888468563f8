"""FL 25 § after the first communication: material from others that reaches the file later
(a municipality's statement on the applicant's objection) is registered with its source and
communicated again, in a second letter with its own deadline, or the case officer records
that nothing new from others is added; no decision is signed on material the applicant has
not seen, and the decision answers the applicant's objection. And the communicated draft is
the version the file holds: the letter, the draft and the decision cite its number and date."""

from datetime import date, datetime, time, timedelta

import pytest
from sqlmodel import select

from flows.assessment import sweep
from flows.letters import send_letters
from grants.embedded import run_flow
from grants.settings import load
from models import clock
from models.communication import communicate, register_reply
from models.db import transaction
from models.decisions import prepare_draft
from models.rules import Rules
from models.tables import STOCKHOLM, Case, Communication, Letter, Material, Recommendation
from models.working_days import add_working_days
from tests.helpers import DECISION_MAKER, OFFICER, database_dump, grants, pdf_pages
from tests.office import post, sign_in
from tests.test_decisions import (  # noqa: F401 (small_budget is a fixture)
    WORDING,
    small_budget,
    to_awaiting_decision,
)
from tests.test_lawful_decisions import AGAINST, _step

pytestmark = pytest.mark.usefixtures("small_budget")
OBJECTION = "Fritidsgarden har oppet tva kvallar i veckan for alla aldrar."
SOURCE = "Örebro kommun, fritidsförvaltningen"
STATEMENT = "Fritidsgården har också en eftermiddagsgrupp för killar 10–13 år varje onsdag."
ANSWER = "Enligt kommunen finns redan en eftermiddagsgrupp för samma åldrar; bedömningen står fast."


def _letters(ref: str, kind: str) -> list[Letter]:
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        query = select(Letter).where(Letter.case_id == case.id, Letter.kind == kind)
        return list(session.exec(query.order_by(Letter.id)))


def _text(letter: Letter) -> str:
    return " ".join(pdf_pages(letter.pdf))


def _refused_draft_communicated_and_answered(rules: Rules) -> str:
    """26RS4's path: a refusal communicated, the applicant objects, the draft's new version
    says what was made of the objection."""
    ref = to_awaiting_decision("SI-2026-0104", Recommendation.refused, submit=False)
    worded = {"reasons": WORDING, "decisive": AGAINST, "not_met": ["new_locally"]}
    _step(ref, OFFICER, lambda s, c, p: prepare_draft(s, c, p, rules, **worded))
    _step(ref, OFFICER, lambda s, c, p: communicate(s, c, p, rules, date.today()))
    _step(ref, OFFICER, lambda s, c, p: register_reply(s, c, p, "svar.txt", OBJECTION.encode()))
    _step(
        ref,
        OFFICER,
        lambda s, c, p: prepare_draft(s, c, p, rules, **worded, reply_assessment=ANSWER),
    )
    return ref


def test_new_material_from_others_is_communicated_again_before_the_decision(tmp_path) -> None:
    rules = Rules.from_config(load().file)
    ref = _refused_draft_communicated_and_answered(rules)

    # The draft changed after the communication: the officer must say what it rests on.
    refused = grants("submit-draft", ref, "--as", OFFICER, ok=False)
    assert (
        refused.exit_code != 0
        and "(version 3) changed after the communication of version 2" in refused.text
    )
    statement = tmp_path / "kommunen.txt"
    statement.write_text(STATEMENT, encoding="utf-8")
    grants(
        "material", ref, "--source", SOURCE, "--text", STATEMENT, "--file", str(statement),
        "--as", OFFICER,
    )  # fmt: skip
    for flags in ([], ["--nothing-new-from-others"]):  # material from others: never on it unseen
        refused = grants("submit-draft", ref, *flags, "--as", OFFICER, ok=False)
        assert f"has not been given: {SOURCE}; communicate it first (grants" in refused.text

    # The second communication: its own number and deadline, the new material with its source.
    grants("communicate", ref, "--as", OFFICER)
    run_flow(send_letters)
    first, second = _letters(ref, "communication")
    assert second.letter_key != first.letter_key
    text = _text(second)
    assert "andra gången" in text and f"Nytt underlag från {SOURCE}" in text
    assert STATEMENT in text and ANSWER in text  # and how the objection was answered
    assert "version 3 av förslaget till beslut" in text
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        numbers = session.exec(
            select(Communication.number, Communication.draft_version).where(
                Communication.case_id == case.id
            )
        ).all()
        assert sorted(numbers) == [(1, 2), (2, 3)]  # version 1: the helper's first draft

    reply = tmp_path / "svar2.txt"
    reply.write_text("Inga fler synpunkter.", encoding="utf-8")
    grants("reply", ref, str(reply), "--no-comments", "--as", OFFICER)
    grants("submit-draft", ref, "--as", OFFICER)  # the version communicated: nothing to add
    grants("sign", ref, "--as", DECISION_MAKER)
    run_flow(send_letters)
    [decision] = _letters(ref, "decision")
    text = _text(decision)
    assert OBJECTION in text  # the applicant's own words, then the Region's answer to them
    assert "Region Örebro läns bedömning av era synpunkter: " + ANSWER in text
    assert f"till er på nytt, med nytt underlag från {SOURCE}" in text
    assert "meddelat att ni inte har några synpunkter" in text


def test_nothing_new_from_others_is_recorded_and_material_stops_the_signature(tmp_path) -> None:
    rules = Rules.from_config(load().file)
    ref = _refused_draft_communicated_and_answered(rules)
    grants("submit-draft", ref, "--nothing-new-from-others", "--as", OFFICER)
    history = grants("status", ref, "--as", OFFICER).text
    assert "nothing_new_from_others" in history

    # What reaches the file while the draft is with the decision maker stops the signature.
    grants("material", ref, "--source", SOURCE, "--text", STATEMENT, "--as", OFFICER)
    refused = grants("sign", ref, "--as", DECISION_MAKER, ok=False)
    assert refused.exit_code != 0 and "has not been given" in refused.text
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        assert case.state == "awaiting_decision"
    refused = grants(
        "material", ref, "--source", " ", "--text", STATEMENT, "--as", OFFICER, ok=False
    )
    assert "source = ''" in refused.text


def test_the_communicated_version_and_its_date_are_cited_everywhere() -> None:
    """26RS2: version 1 was prepared on one day and communicated on a later one; the draft
    the decision maker got said it was dated the day it was sent to them, and the decision
    did not say which version the applicant had seen."""
    rules = Rules.from_config(load().file)
    with clock.simulated():
        ref = to_awaiting_decision(
            "SI-2026-0107", Recommendation.partly_granted, 25_000, submit=False
        )
        prepared_on = clock.today()
        later = add_working_days(prepared_on, 3)
        clock.move_to(datetime.combine(later, time(9), tzinfo=STOCKHOLM))
        _step(ref, OFFICER, lambda s, c, p: communicate(s, c, p, rules, clock.today()))
        run_flow(send_letters)
        deadline = add_working_days(later, rules.communication_working_days)
        after = deadline + timedelta(days=1)
        clock.move_to(datetime.combine(after, time(9), tzinfo=STOCKHOLM))
        run_flow(sweep, today=after)  # no reply: the draft goes to the decision maker
        grants("sign", ref, "--as", DECISION_MAKER)
        run_flow(send_letters)
    dated = f"{prepared_on.day} "  # "11 december 2026"
    [communication] = _letters(ref, "communication")
    text = _text(communication)
    assert "version 1 av förslaget till beslut, daterat " + dated in text
    [draft] = _letters(ref, "draft_decision")
    assert "Förslag daterat " + dated in _text(draft) and "(version 1)" in _text(draft)
    [decision] = _letters(ref, "decision")
    assert f"skickade vi förslaget till beslut (version 1, daterat {dated}" in _text(decision)


def test_the_office_registers_material_and_refuses_to_submit_on_it_unseen(office) -> None:
    rules = Rules.from_config(load().file)
    ref = _refused_draft_communicated_and_answered(rules)
    sign_in(office, OFFICER)
    page = office.get(f"/cases/{ref}").text
    assert "Underlag från andra (25 § FL)" in page and 'id="nothing-new"' in page
    before = database_dump(load().home)
    unsourced = post(office, f"/cases/{ref}/material", {"material_text": STATEMENT})
    assert unsourced.status_code == 409 and "Ange vem underlaget kommer från." in unsourced.text
    assert STATEMENT in unsourced.text  # what was typed is kept
    assert database_dump(load().home) == before
    files = {"material_file": ("kommunen.txt", STATEMENT.encode(), "text/plain")}
    given = {"material_source": SOURCE, "material_text": STATEMENT}
    assert post(office, f"/cases/{ref}/material", given, files=files).status_code == 200
    assert f"Ännu inte kommunicerat: {SOURCE}." in office.get(f"/cases/{ref}").text
    with transaction(load().db_url) as session:  # the document kept, and tied to its source
        [material] = session.exec(select(Material)).all()
        assert material.source == SOURCE and material.document.content == STATEMENT.encode()
    refused = post(
        office,
        f"/cases/{ref}/submit-draft",
        {"no_communication_because": "", "nothing_new_from_others": "yes"},
    )
    assert refused.status_code == 409
    assert "bygger på underlag från andra som sökanden inte har fått ta del av" in refused.text
