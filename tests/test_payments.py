"""Payment orders and four eyes: the case officer prepares the grant's instalments, another
person attests each (the decision maker or an attestant, never the one who prepared it),
a changed account holds the attestation, and the call's budget knows what was paid."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from flows.intake import intake
from grants.config import ConfigError, read_config
from grants.embedded import run_flow
from grants.settings import PROJECT_ROOT, load
from models.acceptance import accept_conditions, account_given
from models.access import case_for
from models.db import transaction
from models.decisions import sign
from models.errors import Refused
from models.payments import attest_order, instalment_amounts, prepare_orders
from models.rules import Rules
from models.tables import (
    Acceptance,
    AccountKind,
    AuditEvent,
    Case,
    CommunityTalk,
    FinalReport,
    FinalReportStatus,
    PayeeAccount,
    PaymentOrder,
    PaymentStatus,
    Recommendation,
    RepaymentClaim,
    RepaymentStatus,
    Reporting,
    utcnow,
)
from tests.conftest import SAMPLES, MadeOnce
from tests.helpers import ACTIVA, DECISION_MAKER, OFFICER, database_dump, grants
from tests.test_decisions import person, to_awaiting_decision

ATTESTANT = "anders.berg@regionorebrolan.example.se"  # a case officer who attests
OTHER_OFFICER = "sara.nyberg@regionorebrolan.example.se"  # a case officer who does not
FINANCE = "frida.ekman@regionorebrolan.example.se"  # the finance department
GRANTED = 33_333  # partly granted to SI-2026-0101: 60 % is not whole kronor
OTHER_GRANTED = 25_000  # partly granted to SI-2026-0107, not accepted
SHIPPED_PLAN = 'payment_plan = [{ percent = 100, after = "acceptance" }]'
PLAN = (
    'payment_plan = [{ percent = 60, after = "acceptance" }, '
    '{ percent = 40, after = "final_report" }]'
)


def accept_for_test(
    session: Session, case: Case, account: str | None = "5382411", signatory: str = "Anna Ek"
) -> None:
    """The grantee's acceptance through its link, with its first account (a bankgiro);
    `account=None`: an acceptance row with no account, which the acceptance step never
    leaves but a database restored from elsewhere might, to see that nothing is paid."""
    if account is None:
        session.add(
            Acceptance(case_id=case.id, signatory_name=signatory, signatory_role="ordförande")
        )
        return
    accept_conditions(session, case, None, signatory, "ordförande", account_given(account))


def _signed(submission_id: str, amount: int) -> str:
    reference = to_awaiting_decision(submission_id, Recommendation.partly_granted, amount)
    with transaction(load().db_url) as session:
        maker = person(session, DECISION_MAKER)
        sign(session, case_for(session, reference, maker, lock=True), maker, Rules())
    return reference


def _people() -> None:
    for name, email, role, attestant in (
        ("Anders Berg", ATTESTANT, "case_officer", ["--attestant"]),
        ("Sara Nyberg", OTHER_OFFICER, "case_officer", []),
        ("Frida Ekman", FINANCE, "finance", []),
    ):
        grants(
            "people", "add", "--name", name, "--email", email, "--role", role,
            "--organisation", "Region Örebro län", *attestant, "--as", OFFICER,
        )  # fmt: skip


@pytest.fixture
def granted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made_once: MadeOnce, grants_home: Path
) -> tuple[str, str]:
    """A call paid 60 % after acceptance and 40 % after the final report; two partial grants
    signed, 33 333 kr accepted with an account and 25 000 kr not accepted; an attestant, a
    case officer who is none and a finance person added. Returns the two case references."""
    text = (PROJECT_ROOT / "config" / "grants.toml").read_text(encoding="utf-8")
    config = tmp_path / "grants.toml"
    config.write_text(text.replace(SHIPPED_PLAN, PLAN), encoding="utf-8")
    monkeypatch.setenv("GRANTS_CONFIG", str(config))

    def make() -> tuple[str, str]:
        run_flow(intake, path=str(SAMPLES / "applications.json"), send_letters=False)
        accepted, other = _signed("SI-2026-0101", GRANTED), _signed("SI-2026-0107", OTHER_GRANTED)
        with transaction(load().db_url) as session:
            accept_for_test(session, _case(session, accepted))
        _people()
        return accepted, other

    return made_once("payments-60-40", make, config)


def _case(session: Session, reference: str) -> Case:
    return session.exec(select(Case).where(Case.case_reference == reference)).one()


def orders_on(reference: str) -> list[PaymentOrder]:
    with transaction(load().db_url) as session:
        query = select(PaymentOrder).join(Case).where(Case.case_reference == reference)
        return list(session.exec(query.order_by(PaymentOrder.instalment)))


def changed_by_another_part(order_id: int, **values: object) -> None:
    """What another part does to an order (the payment file, the bank's report)."""
    with transaction(load().db_url) as session:
        order = session.get(PaymentOrder, order_id)
        for name, value in values.items():
            setattr(order, name, value)
        session.add(order)


def _final_report_in(reference: str) -> None:
    with transaction(load().db_url) as session:
        talk = CommunityTalk(
            held_on=date(2027, 5, 20), theme="Samhällssamtal", venue="Örebro slott",
            registered_by=OFFICER,
        )  # fmt: skip
        session.add(talk)
        session.flush()
        case = _case(session, reference)
        session.add(
            Reporting(case_id=case.id, community_talk_id=talk.id, final_report_received_at=utcnow())
        )
        # The report approved (tests/test_final_report.py takes the steps that approve it).
        session.add(FinalReport(case_id=case.id, status=FinalReportStatus.approved))


@pytest.mark.parametrize(
    ("plan", "said"),
    [
        (
            '[{ percent = 60, after = "acceptance" }, { percent = 30, after = "final_report" }]',
            "[call] payment_plan: 90 percent in all: the instalments' shares add up to 100",
        ),
        (
            '[{ percent = 60, after = "acceptance" }, { percent = 40, after = "final" }]',
            "[[call.payment_plan]] 2 after: 'final' is not an event a payment waits for: one "
            "of acceptance, final_report",
        ),
        ('[{ percent = 0, after = "acceptance" }]', "[[call.payment_plan]] 1 percent: 0 must be 1"),
        ("[]", "[call] payment_plan: [] is an empty list"),
    ],
)
def test_a_payment_plan_that_does_not_pay_the_grant_is_refused_naming_it(
    tmp_path: Path, plan: str, said: str
) -> None:
    text = (PROJECT_ROOT / "config" / "grants.toml").read_text(encoding="utf-8")
    config = tmp_path / "grants.toml"
    config.write_text(text.replace(SHIPPED_PLAN, f"payment_plan = {plan}"), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        read_config(config)
    assert str(refused.value).startswith(said), str(refused.value)


def test_the_plan_as_shipped_pays_the_whole_grant_after_acceptance() -> None:
    plan = read_config(PROJECT_ROOT / "config" / "grants.toml").plain()["call"]["payment_plan"]
    assert plan == [{"percent": 100, "after": "acceptance"}]


def test_instalments_are_whole_kronor_that_add_up_to_the_grant() -> None:
    plan = [{"percent": 60, "after": "acceptance"}, {"percent": 40, "after": "final_report"}]
    assert instalment_amounts(33_333, plan) == [19_999, 13_334]
    thirds = [{"percent": 33, "after": "acceptance"}] * 2 + [{"percent": 34, "after": "acceptance"}]
    assert instalment_amounts(20_001, thirds) == [6_600, 6_600, 6_801]


def test_a_60_40_plan_prepares_the_first_instalment_and_the_rest_after_the_final_report(
    granted: tuple[str, str],
) -> None:
    accepted, _other = granted
    said = grants("payments", "prepare", accepted, "--as", OFFICER).text
    assert f"{accepted} instalment 1: 19999 kr ({accepted}-1)" in said
    [first] = orders_on(accepted)
    assert (first.amount, first.status, first.prepared_by) == (19_999, "prepared", OFFICER)
    assert first.end_to_end_id == f"{accepted}-1" and len(first.end_to_end_id) <= 35

    before = database_dump(load().home)
    again = grants("payments", "prepare", accepted, "--as", OFFICER, ok=False)
    assert again.exit_code == 2
    assert "instalment 2 is paid once the final report is approved" in again.text
    assert database_dump(load().home) == before

    _final_report_in(accepted)
    grants("payments", "prepare", accepted, "--as", OFFICER)
    assert [(o.instalment, o.amount) for o in orders_on(accepted)] == [(1, 19_999), (2, 13_334)]
    assert sum(o.amount for o in orders_on(accepted)) == GRANTED
    twice = grants("payments", "prepare", accepted, "--as", OFFICER, ok=False)
    assert "every instalment due is prepared already (1, 2)" in twice.text


def test_nothing_is_prepared_before_acceptance_or_without_an_organisation_number_or_account(
    granted: tuple[str, str],
) -> None:
    _accepted, other = granted
    settings = load()
    with transaction(settings.db_url) as session:
        officer = person(session, OFFICER)
        undecided = session.exec(select(Case).where(Case.submission_id == "SI-2026-0103")).one()
        with pytest.raises(Refused) as no_grant:
            prepare_orders(session, undecided, officer)
    assert no_grant.value.code == "payment.no_grant"

    refused = grants("payments", "prepare", other, "--as", OFFICER, ok=False)
    assert "has not accepted the grant's conditions" in refused.text
    with transaction(settings.db_url) as session:
        accept_for_test(session, _case(session, other), account=None)
    refused = grants("payments", "prepare", other, "--as", OFFICER, ok=False)
    assert "has given no account to pay to" in refused.text
    with transaction(settings.db_url) as session:
        case = _case(session, other)
        session.add(
            PayeeAccount(
                case_id=case.id, kind=AccountKind.bankgiro, number="71640932", given_by="x"
            )
        )
        case.organisation.organisation_number = None
        session.add(case.organisation)
    refused = grants("payments", "prepare", other, "--as", OFFICER, ok=False)
    assert "has no organisation number; nothing is paid without one" in refused.text
    assert orders_on(other) == []


def _attest(order_id: int, email: str) -> tuple[int, str]:
    result = grants("payments", "attest", str(order_id), "--as", email, ok=False)
    return result.exit_code, result.text


def test_four_eyes_on_the_command_line_with_every_role(granted: tuple[str, str]) -> None:
    """Only the decision maker or an attestant attests, never the person who prepared the
    order, even an attestant; the step layer lets everyone try and the domain refuses."""
    accepted, _other = granted
    grants("people", "change", OFFICER, "--attestant", "--as", DECISION_MAKER)
    grants("payments", "prepare", accepted, "--as", OFFICER)
    [order] = orders_on(accepted)
    before = database_dump(load().home)
    for email, why in (
        (OFFICER, "prepared payment order"),  # the preparer, although an attestant
        (OTHER_OFFICER, "is case_officer and no attestant"),
        (ACTIVA, "is advisor and no attestant"),
        (FINANCE, "is finance and no attestant"),
    ):
        code, said = _attest(order.id, email)
        assert code == 2 and why in said, (email, said)
    assert database_dump(load().home) == before
    listed = grants("payments", "list", "--to-attest", "--as", OFFICER).text
    assert "0 payment order(s) to attest" in listed
    listed = grants("payments", "list", "--to-attest", "--as", ATTESTANT).text
    assert "1 payment order(s) to attest" in listed and accepted in listed

    code, said = _attest(order.id, ATTESTANT)
    assert code == 0 and "Attested payment order" in said, said
    [order] = orders_on(accepted)
    assert (order.status, order.attested_by) == (PaymentStatus.attested, ATTESTANT)
    code, said = _attest(order.id, DECISION_MAKER)
    assert code == 2 and "only a prepared order is attested" in said


@pytest.mark.parametrize(
    ("email", "code"),
    [
        (OFFICER, "payment.own_order"),
        (OTHER_OFFICER, "payment.not_attestant"),
        (ACTIVA, "payment.not_attestant"),
        (FINANCE, "payment.not_attestant"),
        (ATTESTANT, None),
        (DECISION_MAKER, None),
    ],
)
def test_four_eyes_in_the_domain_with_every_role(
    granted: tuple[str, str], email: str, code: str | None
) -> None:
    accepted, _other = granted
    settings = load()
    with transaction(settings.db_url) as session:
        officer = person(session, OFFICER)
        officer.attestant = True  # even an attestant does not attest their own order
        [order] = prepare_orders(session, _case(session, accepted), officer)
    with transaction(settings.db_url) as session:
        who = person(session, email)
        case = case_for(session, accepted, who, lock=True)
        if code is None:
            assert attest_order(session, case, who, order.id).attested_by == email
            return
        with pytest.raises(Refused) as refused:
            attest_order(session, case, who, order.id)
    assert refused.value.code == code
    assert orders_on(accepted)[0].status is PaymentStatus.prepared


def test_a_changed_account_holds_the_attestation_until_confirmed(granted: tuple[str, str]) -> None:
    accepted, _other = granted
    grants("payments", "prepare", accepted, "--as", OFFICER)
    [order] = orders_on(accepted)
    with transaction(load().db_url) as session:
        case = _case(session, accepted)
        changed = PayeeAccount(
            case_id=case.id, kind=AccountKind.bank_account, clearing="8327", number="9434516",
            given_by=case.organisation.email, needs_confirmation=True,
        )  # fmt: skip
        session.add(changed)
    for email in (ATTESTANT, DECISION_MAKER):
        code, said = _attest(order.id, email)
        assert code == 2 and "no second person has confirmed the change yet" in said
    with transaction(load().db_url) as session:
        account = session.exec(select(PayeeAccount).where(PayeeAccount.clearing == "8327")).one()
        account.confirmed_by, account.confirmed_at = DECISION_MAKER, utcnow()
        session.add(account)
    code, said = _attest(order.id, ATTESTANT)
    assert code == 2 and "no longer the case's; cancel it and prepare it again" in said

    refused = grants(
        "payments", "cancel", str(order.id), "--reason", " ", "--as", OFFICER, ok=False
    )
    assert "say why the payment order is cancelled" in refused.text
    grants("payments", "cancel", str(order.id), "--reason", "Nytt konto", "--as", OFFICER)
    grants("payments", "prepare", accepted, "--as", OFFICER)
    [order] = orders_on(accepted)
    assert order.end_to_end_id == f"{accepted}-1-2" and order.status is PaymentStatus.prepared
    assert _attest(order.id, ATTESTANT)[0] == 0


def test_a_rejected_order_is_prepared_again_to_a_corrected_account_and_attested_again(
    granted: tuple[str, str],
) -> None:
    accepted, _other = granted
    grants("payments", "prepare", accepted, "--as", OFFICER)
    [order] = orders_on(accepted)
    grants("payments", "attest", str(order.id), "--as", DECISION_MAKER)
    refused = grants(
        "payments", "cancel", str(order.id), "--reason", "x", "--as", DECISION_MAKER, ok=False
    )
    assert "only a case_officer may do this" in refused.text
    changed_by_another_part(order.id, status=PaymentStatus.exported)
    refused = grants(
        "payments", "cancel", str(order.id), "--reason", "x", "--as", OFFICER, ok=False
    )
    assert "only an order not yet sent to the bank" in refused.text
    changed_by_another_part(
        order.id, status=PaymentStatus.rejected, bank_reason="AC04 Closed account"
    )

    same = grants("payments", "prepare", accepted, "--as", OFFICER, ok=False)
    assert "put the account right before it is prepared again" in same.text
    with transaction(load().db_url) as session:
        case = _case(session, accepted)
        session.add(
            PayeeAccount(
                case_id=case.id, kind=AccountKind.plusgiro, number="4873121",
                given_by=OFFICER, needs_confirmation=True, confirmed_by=DECISION_MAKER,
                confirmed_at=utcnow(),
            )
        )  # fmt: skip
    grants("payments", "prepare", accepted, "--as", OFFICER)
    [again] = orders_on(accepted)
    assert (again.id, again.status, again.attested_by) == (order.id, "prepared", None)
    assert again.end_to_end_id == f"{accepted}-1-2" and again.bank_reason == ""
    assert _attest(again.id, DECISION_MAKER)[0] == 0
    with transaction(load().db_url) as session:
        actions = [
            e.action
            for e in session.exec(select(AuditEvent).where(AuditEvent.case_id == order.case_id))
        ]
    assert actions[-4:] == [
        "payment_order_prepared",
        "payment_order_attested",
        "payment_order_prepared",
        "payment_order_attested",
    ]


def test_finance_registers_a_sent_order_paid_and_the_budget_knows(granted: tuple[str, str]) -> None:
    accepted, _other = granted
    grants("payments", "prepare", accepted, "--as", OFFICER)
    [order] = orders_on(accepted)
    refused = grants(
        "payments", "paid", str(order.id), "--on", "2026-12-01", "--as", FINANCE, ok=False
    )
    assert "only an order sent to the bank is registered as paid" in refused.text
    changed_by_another_part(order.id, status=PaymentStatus.exported)
    for email in (OFFICER, DECISION_MAKER):
        refused = grants(
            "payments", "paid", str(order.id), "--on", "2026-12-01", "--as", email, ok=False
        )
        assert "only a finance may" in refused.text
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    refused = grants("payments", "paid", str(order.id), "--on", tomorrow, "--as", FINANCE, ok=False)
    assert "a payment is registered once it is made" in refused.text
    grants("payments", "paid", str(order.id), "--on", date.today().isoformat(), "--as", FINANCE)

    with transaction(load().db_url) as session:
        session.add(
            RepaymentClaim(
                case_id=order.case_id, amount=5_000, reason="Oanvända medel",
                status=RepaymentStatus.settled, paid_amount=5_000, ocr_reference="1234567897",
                drafted_by=OFFICER,
            )
        )  # fmt: skip
    said = grants("payments", "budget", "--as", FINANCE).text
    granted_total = GRANTED + OTHER_GRANTED
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in said.splitlines()]
    expected = ["SI-2026", "600000", str(granted_total), "19999", "5000"]
    assert [*expected, str(600_000 - granted_total)] in rows, said


def test_never_more_than_the_grant_when_the_plan_changed_after_an_instalment(
    granted: tuple[str, str],
) -> None:
    accepted, _other = granted
    grants("payments", "prepare", accepted, "--as", OFFICER)  # 60 %: 19 999 kr
    with transaction(load().db_url) as session:
        case = _case(session, accepted)
        case.call.payment_plan = [{"percent": 50, "after": "acceptance"}] * 2
        with pytest.raises(Refused) as refused:
            prepare_orders(session, case, person(session, OFFICER))
    assert refused.value.code == "payment.over_grant"
    assert refused.value.params == {
        "case_reference": accepted,
        "amount": 16_667,
        "standing": 19_999,
        "granted": GRANTED,
    }
    assert [o.amount for o in orders_on(accepted)] == [19_999]
