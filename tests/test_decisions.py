"""The draft and the delegated decision: only the decision maker signs, a signed decision
is final, and the call's budget holds, also against two signatures at once."""

import threading
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from flows.assessment import sweep
from flows.intake import intake
from flows.letters import send_letters
from grants.embedded import run_flow
from grants.settings import PROJECT_ROOT, load
from models.access import case_for
from models.checklist import Finding, complete_checklist
from models.communication import communicate, register_reply
from models.community_talks import record_presentation, register_final_report, register_talk
from models.db import transaction
from models.decisions import (
    amend,
    prepare_draft,
    remaining_budget,
    send_back,
    sign,
    submit_for_decision,
)
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
    Letter,
    Outcome,
    Person,
    Recommendation,
)
from models.working_days import add_working_days
from tests.conftest import SAMPLES, MadeOnce
from tests.helpers import ACTIVA, DECISION_MAKER, OFFICER, pdf_pages


def person(session, email: str) -> Person:
    return session.exec(select(Person).where(Person.email == email)).one()


def to_awaiting_decision(
    submission_id: str,
    recommendation: Recommendation,
    amount: int | None = None,
    submit: bool = True,
) -> str:
    """Take a sample case through checklist, two reviews, a skipped meeting, a draft
    (and, unless told otherwise, on to the decision maker)."""
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
        adverse = recommendation is not Recommendation.granted
        prepare_draft(
            session,
            case,
            officer,
            rules,
            reasons=WORDING,
            decisive="Budgeten för resor är för hög." if adverse else "",
            not_met=["innovative"] if recommendation is Recommendation.refused else None,
        )
        if submit:
            unnecessary = "Sökanden har själv föreslagit beslutet vid mötet." if adverse else ""
            submit_for_decision(session, case, officer, rules, unnecessary)
        return case.case_reference


WORDING = {c.value: f"Beslutets bedömning av {c.value}." for c in Criterion}


@pytest.fixture
def small_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grants_home: Path, made_once: MadeOnce
) -> None:
    """A call with 80 000 kr: room for one of two grants of 50 000 and 40 000 kr; the
    samples registered in it (this test's copy of the call made once)."""
    text = (PROJECT_ROOT / "config" / "grants.toml").read_text(encoding="utf-8")
    config = tmp_path / "grants.toml"
    config.write_text(text.replace("budget = 600000", "budget = 80000"), encoding="utf-8")
    monkeypatch.setenv("GRANTS_CONFIG", str(config))

    def register() -> None:
        run_flow(intake, path=str(SAMPLES / "applications.json"), send_letters=False)

    made_once("small-budget", register, config)


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
            prepare_draft(session, case, officer, Rules(), amount=50_000, reasons=WORDING)
        second = prepare_draft(
            session,
            case,
            officer,
            Rules(),
            amount=45_000,
            reasons=WORDING,
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


def letters_of_kind(kind: str) -> list[Letter]:
    with transaction(load().db_url) as session:
        return list(session.exec(select(Letter).where(Letter.kind == kind)))


def state_of(ref: str) -> str:
    with transaction(load().db_url) as session:
        return session.exec(select(Case.state).where(Case.case_reference == ref)).one()


def test_communication_waits_for_the_reply_or_the_deadline(small_budget: None) -> None:
    settings = load()
    rules = Rules.from_config(settings.file)
    waiting = to_awaiting_decision("SI-2026-0101", Recommendation.granted, submit=False)
    replying = to_awaiting_decision("SI-2026-0107", Recommendation.refused, submit=False)
    with transaction(settings.db_url) as session:
        officer = person(session, OFFICER)
        for ref in (waiting, replying):
            communicate(
                session, case_for(session, ref, officer, lock=True), officer, rules, date.today()
            )
        with pytest.raises(Refused, match="waits for no reply"):
            register_reply(
                session,
                session.exec(select(Case).where(Case.submission_id == "SI-2026-0103")).one(),
                officer,
                "svar.txt",
                b"Hej",
            )
    [letter, _] = letters_of_kind("communication")
    assert letter.data["proposal"] == {
        "outcome": "granted",
        "amount": 35_000,
        "requested_amount": 35_000,
    }
    titles = [m["title"] for m in letter.data["material"]]
    assert "Förslagets bedömning: Samhällsnytta – uppfyllt" in titles
    assert any(t.startswith("Tjänsteanteckning") for t in titles)  # the skipped meeting's note

    with transaction(settings.db_url) as session:
        officer = person(session, OFFICER)
        register_reply(
            session,
            case_for(session, replying, officer, lock=True),
            officer,
            "yttrande.txt",
            "Vi har fler partner än ni skriver.".encode(),
        )
    assert state_of(replying) == "drafting_decision"

    deadline = add_working_days(date.today(), rules.communication_working_days)
    assert run_flow(sweep, today=deadline)["communications_expired"] == 0
    later = deadline + timedelta(days=1)
    assert [run_flow(sweep, today=later)["communications_expired"] for _ in range(2)] == [1, 0]
    assert state_of(waiting) == "awaiting_decision"
    [draft_letter] = letters_of_kind("draft_decision")
    assert draft_letter.recipient == DECISION_MAKER and draft_letter.pdf is not None
    assert " ".join(pdf_pages(letter_pdf("communication", waiting))).count("35 000") >= 1


def letter_pdf(kind: str, ref: str) -> bytes:
    return next(x.pdf for x in letters_of_kind(kind) if x.letter_key.startswith(ref))


def test_funded_projects_are_invited_once_and_report(small_budget: None) -> None:
    settings = load()
    rules = Rules.from_config(settings.file)
    ref = to_awaiting_decision("SI-2026-0101", Recommendation.granted)  # project ends 2027-12-31
    with transaction(settings.db_url) as session:
        maker, officer = person(session, DECISION_MAKER), person(session, OFFICER)
        sign(session, case_for(session, ref, maker, lock=True), maker, rules)
        with pytest.raises(Refused, match="registered before it is held"):
            register_talk(
                session,
                officer,
                date.today(),
                "För sent",
                "Örebro",
                date.today(),
                address="Fredsgatan 18, Örebro",
            )
        with pytest.raises(Refused, match="only a case_officer may register"):
            register_talk(
                session,
                maker,
                date(2028, 3, 1),
                "Tema",
                "Örebro",
                date.today(),
                address="Fredsgatan 18, Örebro",
            )
        with pytest.raises(Refused, match="in Swedish and in English"):
            register_talk(
                session,
                officer,
                date(2028, 3, 1),
                "Tema",
                "Örebro",
                date.today(),
                address="Fredsgatan 18, Örebro",
            )
        register_talk(
            session,
            officer,
            date(2027, 10, 7),
            "Ungas hälsa",
            "Örebro slott",
            date.today(),
            theme_en="Young people's health",
            address="Fredsgatan 18, Örebro",
        )
        register_talk(
            session,
            officer,
            date(2028, 3, 16),
            "Skateboard och odling – kan det vara sociala innovationer?",
            "Kulturhuset i Örebro",
            date.today(),
            time(14),
            "Skateboarding and growing vegetables – social innovations?",
            address="Fredsgatan 18, Örebro",
        )
        register_talk(
            session, officer, date(2028, 9, 21), "Tema", "Örebro", date.today(), time(13), "Theme",
            address="Fredsgatan 18, Örebro",
        )  # fmt: skip
        with pytest.raises(Refused, match="2028 already has 2 talks"):
            register_talk(
                session, officer, date(2028, 11, 2), "Tema", "Örebro", date.today(), time(13), "T",
                address="Fredsgatan 18, Örebro",
            )  # fmt: skip
    # Invited as the project nears its end (31 December 2027), not before, and only once.
    assert run_flow(sweep, today=date(2027, 12, 2))["talk_invitations"] == 0
    assert [run_flow(sweep, today=date(2027, 12, 3))["talk_invitations"] for _ in range(2)] == [
        1,
        0,
    ]
    assert state_of(ref) == "reporting"
    text = " ".join(pdf_pages(letter_pdf("community_talk_invitation", ref)))
    assert "16 mars 2028" in text and "Kulturhuset i Örebro" in text and "kl. 14.00" in text
    assert "Svara senast 24 februari 2028" in text  # three weeks before, a working day
    assert "7 oktober 2027" not in text  # before the project ends: not that one

    with transaction(settings.db_url) as session:
        officer = person(session, OFFICER)
        case = case_for(session, ref, officer, lock=True)
        with pytest.raises(Refused, match="recorded once held"):
            record_presentation(session, case, officer, date.today() + timedelta(days=1))
        record_presentation(session, case, officer, date.today())
        assert case.state == "reporting"  # the final report is still to come
        register_final_report(session, case, officer, "slutrapport.pdf", b"%PDF-1.7 rapport")
        # Open until the money lets it close (models.closing): the grant is not paid yet.
        assert case.state == "reporting"
        with pytest.raises(Refused, match="already registered"):
            register_final_report(session, case, officer, "igen.pdf", b"igen")
    assert run_flow(sweep, today=date.today())["cases_closed"] == 0
    assert state_of(ref) == "reporting"


def test_the_decision_maker_amends_then_signs(small_budget: None) -> None:
    ref = to_awaiting_decision("SI-2026-0106", Recommendation.partly_granted, 40_000)
    settings = load()
    rules = Rules.from_config(settings.file)
    with transaction(settings.db_url) as session:
        maker, officer = person(session, DECISION_MAKER), person(session, OFFICER)
        case = case_for(session, ref, maker, lock=True)
        with pytest.raises(Refused, match="only a decision_maker may amend"):
            amend(session, case, officer, rules, amount=30_000)
        with pytest.raises(Refused, match="further against the applicant than what they have seen"):
            amend(session, case, maker, rules, amount=30_000)
        amended = amend(
            session,
            case,
            maker,
            rules,
            Outcome.partly_granted,
            45_000,
            "Kostnaderna för resor är något för höga.",
            ["Redovisa resorna särskilt."],
        )
        assert (amended.version, amended.amount, amended.prepared_by) == (2, 45_000, DECISION_MAKER)
        assert "Redovisa resorna särskilt." in amended.conditions
        signed = sign(session, case, maker, rules)
        assert signed.version == 2 and signed.amount == 45_000
    with transaction(settings.db_url) as session:
        statuses = [d.status for d in session.exec(select(Decision).order_by(Decision.version))]
        assert statuses == ["superseded", "signed"]
        [letter] = session.exec(select(Letter).where(Letter.kind == "decision")).all()
        assert letter.data["amount"] == 45_000 and letter.data["outcome"] == "partly_granted"


def test_a_sent_decision_letter_cannot_be_replaced(small_budget: None) -> None:
    ref = to_awaiting_decision("SI-2026-0108", Recommendation.granted)
    settings = load()
    with transaction(settings.db_url) as session:
        maker = person(session, DECISION_MAKER)
        sign(session, case_for(session, ref, maker, lock=True), maker, Rules())
    run_flow(send_letters)
    [letter] = letters_of_kind("decision")
    assert letter.delivery_state == "sent" and letter.sha256
    for change in ({"pdf": b"%PDF-1.7 forged"}, {"sha256": "0" * 64}):
        with (
            pytest.raises(PermissionError, match="is a record of the case"),
            transaction(settings.db_url) as session,
        ):
            stored = session.get(Letter, letter.id)
            for name, value in change.items():
                setattr(stored, name, value)
    with (
        pytest.raises(PermissionError, match="is a record of the case"),
        transaction(settings.db_url) as session,
    ):
        session.delete(session.get(Letter, letter.id))
    assert letters_of_kind("decision")[0].pdf == letter.pdf


def test_a_draft_cannot_promise_more_than_the_budget_left(small_budget: None) -> None:
    first = to_awaiting_decision("SI-2026-0106", Recommendation.granted)  # 50 000 of 80 000
    settings = load()
    with transaction(settings.db_url) as session:
        maker = person(session, DECISION_MAKER)
        sign(session, case_for(session, first, maker, lock=True), maker, Rules())
    with pytest.raises(Refused, match="has 30000 kr left of its budget of 80000 kr"):
        to_awaiting_decision("SI-2026-0105", Recommendation.granted)  # 48 000
