"""The draft and the delegated decision: only the decision maker signs, a signed decision
is final, and the call's budget holds, also against two signatures at once."""

import threading
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from flows.intake import intake
from grants.embedded import run_flow
from grants.settings import PROJECT_ROOT, load
from models.access import case_for
from models.checklist import Finding, complete_checklist
from models.db import transaction
from models.decisions import prepare_draft, remaining_budget, send_back, sign, submit_for_decision
from models.errors import Refused
from models.meetings import skip_meeting
from models.reviews import declare_conflict, submit_review
from models.rules import Rules
from models.tables import (
    Answer,
    Case,
    ConflictGround,
    Criterion,
    Decision,
    Person,
    Recommendation,
)
from tests.conftest import SAMPLES

OFFICER = "maria.lindqvist@regionorebrolan.example.se"
ACTIVA = "lena.holm@activa.example.se"
DECISION_MAKER = "karin.sjoberg@regionorebrolan.example.se"


def person(session, email: str) -> Person:
    return session.exec(select(Person).where(Person.email == email)).one()


def to_awaiting_decision(
    submission_id: str, recommendation: Recommendation, amount: int | None = None
) -> str:
    """Take a sample case through checklist, two reviews, a skipped meeting, a draft."""
    settings = load()
    rules = Rules.from_config(settings.file)
    with transaction(settings.db_url) as session:
        officer = person(session, OFFICER)
        case = session.exec(select(Case).where(Case.submission_id == submission_id)).one()
        complete_checklist(
            session, case, officer, {c: Finding(Answer.met) for c in Criterion}, rules, date.today()
        )
        for email in (ACTIVA, OFFICER):
            reviewer = person(session, email)
            declare_conflict(session, case, reviewer, ConflictGround.none, "", rules)
            submit_review(
                session,
                case,
                reviewer,
                recommendation,
                amount,
                {c: f"{c.value}: uppfyllt." for c in Criterion},
                [],
                "",
                rules,
            )
        skip_meeting(session, case, officer, "Ansökan är tydlig; inget möte behövs.")
        prepare_draft(session, case, officer, rules)
        submit_for_decision(session, case, officer, "Sökanden har sett allt underlag.", rules)
        return case.case_reference


@pytest.fixture
def small_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grants_home: Path) -> None:
    """A call with 80 000 kr: room for one of two grants of 50 000 and 40 000 kr."""
    text = (PROJECT_ROOT / "config" / "grants.toml").read_text(encoding="utf-8")
    config = tmp_path / "grants.toml"
    config.write_text(text.replace("budget = 600000", "budget = 80000"), encoding="utf-8")
    monkeypatch.setenv("GRANTS_CONFIG", str(config))
    run_flow(intake, path=str(SAMPLES / "applications.json"), send_letters=False)


def test_only_the_decision_maker_signs_and_the_signature_is_final(small_budget: None) -> None:
    ref = to_awaiting_decision("SI-2026-0101", Recommendation.granted)
    settings = load()
    for email in (OFFICER, ACTIVA):
        with (
            pytest.raises(Refused, match="only a decision_maker may sign a decision"),
            transaction(settings.db_url) as session,
        ):
            who = person(session, email)
            sign(session, case_for(session, ref, who, lock=True), who, Rules())
    with transaction(settings.db_url) as session:
        maker = person(session, DECISION_MAKER)
        decision = sign(session, case_for(session, ref, maker, lock=True), maker, Rules())
        assert (decision.outcome, decision.amount, decision.version) == ("granted", 35_000, 1)
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        assert case.state == "decided"
        assert remaining_budget(session, case.call) == 80_000 - 35_000
        with pytest.raises(Refused, match="'decided'"):
            sign(session, case, person(session, DECISION_MAKER), Rules())

    for change in ({"amount": 50_000}, {"decisive": "Något annat"}, {"status": "draft"}):
        with (
            pytest.raises(PermissionError, match="is signed and cannot be changed"),
            transaction(settings.db_url) as session,
        ):
            decision = session.exec(select(Decision)).one()
            for name, value in change.items():
                setattr(decision, name, value)
    with (
        pytest.raises(PermissionError, match="is signed and cannot be changed"),
        transaction(settings.db_url) as session,
    ):
        session.delete(session.exec(select(Decision)).one())
    with transaction(settings.db_url) as session:
        decision = session.exec(select(Decision)).one()
        assert (decision.amount, decision.status) == (35_000, "signed")


def test_sent_back_drafts_come_back_as_a_new_version(small_budget: None) -> None:
    ref = to_awaiting_decision("SI-2026-0106", Recommendation.partly_granted, 40_000)
    settings = load()
    with transaction(settings.db_url) as session:
        maker, officer = person(session, DECISION_MAKER), person(session, OFFICER)
        case = case_for(session, ref, maker, lock=True)
        with pytest.raises(Refused, match="while it is 'drafting_decision'"):
            prepare_draft(session, case, officer, Rules())
        with pytest.raises(Refused, match="say what the case officer"):
            send_back(session, case, maker, " ")
        send_back(session, case, maker, "Motivera varför beloppet sänks.")
    with transaction(settings.db_url) as session:
        officer = person(session, OFFICER)
        case = case_for(session, ref, officer, lock=True)
        assert case.state == "drafting_decision"
        with pytest.raises(Refused, match="amount = 50000: must be between 20000 and 49999"):
            prepare_draft(session, case, officer, Rules(), amount=50_000)
        second = prepare_draft(
            session,
            case,
            officer,
            Rules(),
            amount=45_000,
            decisive="Budgeten för lokalhyra är för hög.",
        )
        assert (second.version, second.outcome, second.amount) == (2, "partly_granted", 45_000)
    with transaction(settings.db_url) as session:
        versions = session.exec(select(Decision).order_by(Decision.version)).all()
        assert [(d.version, d.status, d.amount) for d in versions] == [
            (1, "sent_back", 40_000),
            (2, "draft", 45_000),
        ]
        assert versions[0].comment == "Motivera varför beloppet sänks."


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_signatures_at_once_cannot_overspend_the_budget(
    database: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    grants_home: Path,
) -> None:
    if database == "postgresql":
        request.getfixturevalue("on_postgres")
    request.getfixturevalue("small_budget")
    refs = [
        to_awaiting_decision(s, Recommendation.granted) for s in ("SI-2026-0106", "SI-2026-0104")
    ]
    settings = load()
    barrier = threading.Barrier(2, timeout=60)
    outcomes: list[str] = []

    def sign_one(ref: str) -> None:
        if database == "sqlite":
            barrier.wait()
        try:
            with transaction(settings.db_url) as session:
                maker = person(session, DECISION_MAKER)
                if database == "postgresql":
                    barrier.wait()
                sign(session, case_for(session, ref, maker, lock=True), maker, Rules())
            outcomes.append("signed")
        except Refused as refusal:
            outcomes.append(str(refusal))

    threads = [threading.Thread(target=sign_one, args=(ref,)) for ref in refs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[1] == "signed"
    assert "left of its budget of 80000 kr" in sorted(outcomes)[0]
    with transaction(settings.db_url) as session:
        call = session.exec(select(Case)).first().call
        assert remaining_budget(session, call) in (80_000 - 50_000, 80_000 - 40_000)
