"""The README's first command: the whole call, twice, as a new user runs it."""

import json
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from time import monotonic, sleep
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from sqlmodel import select

from grants.settings import PROJECT_ROOT
from models.working_days import next_working_day
from tests.conftest import MadeOnce, migrated_prefect_home
from tests.helpers import OFFICER, database_dump, grants, pdf_pages, swedish_template_words
from tests.test_processes import command_env, started_under

EXPECTED = {  # case → (outcome, amount, state): every case closes once its gates are open
    "RS1": ("granted", "35 000 kr", "closed"),
    "RS2": ("partly_granted", "40 000 kr", "closed"),
    "RS3": ("granted", "20 000 kr", "closed"),
    "RS4": ("refused", "", "closed"),
    "RS5": ("granted", "48 000 kr", "closed"),
    "RS6": ("granted", "50 000 kr", "closed"),
    "RS7": ("partly_granted", "25 000 kr", "closed"),
    "RS8": ("granted", "25 000 kr", "closed"),
    "RS9": ("dismissed", "", "closed"),  # the gap prevented examination: the officer's choice
    "RS10": ("closed", "", "closed"),  # withdrawn: avskrivs
}


# The two tests that need the whole demo's run share it (made_once): one worker runs both.
ONE_DEMO = pytest.mark.xdist_group("demo")


@pytest.mark.slow
@ONE_DEMO
def test_demo_runs_the_whole_call_once(made_once: MadeOnce, grants_home: Path) -> None:
    result = made_once("demo", lambda: grants("demo"))
    text = result.text
    # Not on a terminal: the stages in plain lines, no live display's control codes.
    assert "\x1b" not in text
    assert "The call, on the simulated clock from " in text
    # The letters after the ten acknowledgements, by people's steps and the sweep: the nine
    # final-report reminders are gone (every grantee reports on time), and four came: 26RS2
    # asked to complete its report, 26RS1's repayment claim for the money its report left
    # unspent (communicated and decided), 26RS8's year-after follow-up.
    assert re.search(
        r"The call: \d+ round\(s\), .*: \d+ steps taken by people, 44 letters "
        r"sent; 10 of 10 cases decided\.",
        text,
    ), text
    [logs] = re.findall(r"Prefect's run logs: (\S+)", text)  # the home it ran in
    assert Path(logs).stat().st_size > 0 and Path(logs).parents[1].joinpath("grants.db").exists()
    call = text.split("The money after the decisions")[0]  # the table of the call
    for suffix, (outcome, amount, state) in EXPECTED.items():
        [row] = [line for line in call.splitlines() if f"{suffix} " in line and "│" in line]
        assert outcome in row and amount in row and state in row, row
    letters = {p.name for p in (grants_home / "letters").glob("*.pdf")}
    # 26RS8's decision in Swedish (the act) and its translation; 26RS6's repayment claim
    # communicated and decided; 26RS1's too, for what its final report left unspent; 26RS2
    # asked to complete its final report; 26RS8's follow-up a year after its project.
    assert len(letters) == 55
    # Every grantee sends its final report the day after its project ended, before its due
    # date: the sweep has nobody to remind.
    assert sum("paminnelse-slutrapport" in n or "final-report-reminder" in n for n in letters) == 0
    assert "26RS2-komplettering-slutrapport-1.pdf" in letters
    assert "26RS8-follow-up-1.pdf" in letters
    kinds = ("beslut", "mottagningsbekraftelse", "forslag-till-beslut-1")
    assert all(any(name.endswith(f"-{k}.pdf") for name in letters) for k in kinds)
    assert any("begaran-om-komplettering" in n for n in letters)
    # FL 25 §: every draft against the applicant (RS2, RS4, RS7, RS9) was communicated first.
    # RS4's answer to the applicant's objection rests on the municipality's statement: that
    # was communicated again, in a second letter. So were RS6's and RS1's repayment claims.
    assert sorted(n for n in letters if "kommunicering" in n) == sorted(
        [f"26RS{n}-kommunicering-1.pdf" for n in (2, 4, 7, 9)]
        + ["26RS4-kommunicering-2.pdf", "26RS6-kommunicering-aterkrav-1.pdf"]
        + ["26RS1-kommunicering-aterkrav-1.pdf"]  # the claim its final report led to
    )
    # FL 11 §: RS9 was told before its promised date passed that the decision would be later.
    assert "26RS9-besked-om-forsening.pdf" in letters
    assert sum("inbjudan-samhallssamtal" in n for n in letters) == 6
    refusal = " ".join(
        pdf_pages(next((grants_home / "letters").glob("*RS4-beslut.pdf")).read_bytes())
    )
    assert "avslår ansökan" in refusal and "föreningar med barn- och ungdomsverksamhet" in refusal
    assert "kommit in med synpunkter" in refusal and "ändrar därför inte bedömningen" in refusal
    assert "med nytt underlag från Örebro kommun, fritidsförvaltningen" in refusal
    translated = next(n for n in letters if n.endswith("-decision-translation.pdf"))
    english = " ".join(pdf_pages((grants_home / "letters" / translated).read_bytes()))
    assert "Area Manager, Culture and Civil Society" in english
    assert "Development Officer, Civil Society" in english
    swedish = swedish_template_words()
    assert "26RS8-beslut.pdf" in letters  # the act is Swedish, whatever the case's language
    for name in sorted(n for n in letters if n.startswith("26RS8") and n != "26RS8-beslut.pdf"):
        text = " ".join(pdf_pages((grants_home / "letters" / name).read_bytes()))
        text = re.sub(r"\S+@\S+|www\.\S+", " ", text)  # addresses are names, not words
        found = {w.lower() for w in re.findall(r"[A-Za-zÅÄÖåäöÉé]{4,}", text)} & swedish
        assert not found, f"{name}: Swedish from our templates: {sorted(found)}"
    anchors = anchor_notices(grants_home)  # the trail's anchor, each simulated day it grew
    assert anchors >= 1
    # + the grantee told of its changed account, and its case officer asked to confirm it,
    # + the case officer told of each final report sent (26RS2's twice: asked to complete it)
    assert len(list((grants_home / "outbox").glob("*.eml"))) == 55 + anchors + 2 + 8
    the_money_went_through_the_bank(grants_home, result.text)
    the_results_are_in(grants_home, result.text)
    payment_files = sorted(p.name for p in (grants_home / "payments").iterdir())

    before = database_dump(grants_home)
    again = grants("demo")
    assert again.exit_code == 0, again.output
    assert "0 registered, 8 already registered" in again.output
    assert "0 steps taken by people, 0 letters sent; 10 of 10 cases decided." in again.output
    assert database_dump(grants_home) == before
    assert len(list((grants_home / "outbox").glob("*.eml"))) == 55 + anchors + 2 + 8
    assert sorted(p.name for p in (grants_home / "payments").iterdir()) == payment_files


PAIN_001 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
ACCOUNT_CHANGED = "26RS5"  # its grantee gave a new account while its payment waited
RECLAIMED = ("26RS6", 6_000)  # the project that pays back money it will not use


def the_money_went_through_the_bank(home: Path, printed: str) -> None:
    """After the decisions: every grant accepted (one on paper), its first instalment paid
    through pain.001 files that the ISO schema takes and that pay exactly what the decisions
    and the call's payment plan say, the bank's camt.054 registered; a changed account held
    its order out of the first payment file until a second person confirmed it; a repayment
    claim decided and settled by the bank's credit."""
    schema = etree.XMLSchema(etree.parse(str(PROJECT_ROOT / "grants/xsd/pain.001.001.03.xsd")))
    files = sorted((home / "payments").glob("*.xml"))
    assert len(files) == 2, files  # the call's payment run, and the held order once confirmed
    paid_in: dict[str, dict[str, Decimal]] = {}
    for xml in files:
        document = etree.parse(str(xml))
        assert schema.validate(document), schema.error_log
        assert xml.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
        assert xml.with_suffix(".csv").stat().st_size > 0
        ns = {"p": PAIN_001}
        amounts = {
            tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns): Decimal(
                tx.findtext("p:Amt/p:InstdAmt", namespaces=ns)
            )
            for tx in document.iterfind(".//p:CdtTrfTxInf", ns)
        }
        assert Decimal(document.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=ns)) == sum(
            amounts.values()
        )
        paid_in[xml.stem] = amounts
    [(plan_json,)] = _rows(home, "SELECT payment_plan FROM calls")
    plan = json.loads(plan_json)  # the call's: the first instalment is paid after acceptance
    granted = _rows(
        home,
        "SELECT case_reference, amount FROM decisions JOIN cases ON cases.id = case_id "
        "WHERE status = 'signed' AND outcome IN ('granted', 'partly_granted')",
    )
    first = {f"{ref}-1": Decimal(amount * plan[0]["percent"] // 100) for ref, amount in granted}
    first_file, second_file = paid_in.values()
    assert first_file | second_file == first and len(first) == 7
    assert list(second_file) == [f"{ACCOUNT_CHANGED}-1"]
    assert _rows(home, "SELECT DISTINCT status FROM payment_orders") == [("paid",)]
    assert _rows(home, "SELECT count(*) FROM payment_orders WHERE paid_on IS NULL") == [(0,)]
    accepted = _rows(home, "SELECT registered_by FROM acceptances")
    assert len(accepted) == 7 and [by for (by,) in accepted if by] == [OFFICER]

    trail = [
        (action, json.loads(detail or "{}"))
        for action, detail in _rows(
            home,
            "SELECT action, detail FROM audit_events JOIN cases ON cases.id = case_id "
            "WHERE case_reference = ? ORDER BY audit_events.id",
            ACCOUNT_CHANGED,
        )
    ]
    money = [a for a, _ in trail if a.startswith(("payment", "payee", "conditions"))]
    assert money == [
        "conditions_accepted",
        "payment_order_prepared",
        "payment_order_attested",
        "payee_account_changed",
        "payee_account_confirmed",
        "payment_exported",
        "payment_paid",
    ]
    [confirmed] = [data for a, data in trail if a == "payee_account_confirmed"]
    assert confirmed["verification"].startswith("Ringde föreningens ordförande")
    [exported] = [data for a, data in trail if a == "payment_exported"]
    assert exported["message_id"] == files[1].stem  # not in the first file: it was held
    [(told,)] = _rows(home, "SELECT recipient FROM notices WHERE kind = 'account_changed.sv'")
    assert told == "hej@kryddgarden.example.se"

    reference, amount = RECLAIMED
    claim = (
        "SELECT status, amount, paid_amount, settled_by, ocr_reference FROM repayment_claims "
        "JOIN cases ON cases.id = case_id WHERE case_reference = ?"
    )
    [(status, claimed, paid_back, settled_by, ocr)] = _rows(home, claim, reference)
    assert (status, claimed, paid_back, settled_by) == ("settled", amount, amount, "bank")
    decision = pdf_pages((home / "letters" / f"{reference}-beslut-aterkrav-1.pdf").read_bytes())
    assert "5050-1055" in decision[0] and ocr in decision[0]
    assert (home / "letters" / f"{reference}-kommunicering-aterkrav-1.pdf").exists()
    assert "The money after the decisions" in printed
    # 26RS6's claim, and 26RS1's for the 3 000 kr its final report left unspent
    assert (
        "Budget of SI-2026: 600 000 kr; granted 243 000 kr, paid 243 000 kr, paid back 9 000 kr"
        in printed
    )


UNSPENT = ("26RS1", 3_000)  # its final report spent 32 000 kr of the 35 000 kr paid
COMPLETED = "26RS2"  # asked to complete its final report, and sent it again
FOLLOWED_UP = "26RS8"  # answers the follow-up a year after its project ended


def the_results_are_in(home: Path, printed: str) -> None:
    """After the money: each grantee answered its Community Talk invitation and sent its
    final report through its link; the case officer registered each Talk's attendance after
    it and approved each report (one after asking to complete it, one claiming back the
    money unspent); every case closed, none before its gates let it: a grant once its report
    was approved, its payments paid and its claims settled, the refusal, the dismissal and
    the withdrawal the day after their time for appeal; one project answered its follow-up;
    the 360Giving package's sums are the signed grants'."""
    reports = _rows(
        home,
        "SELECT case_reference, status, rounds FROM final_reports "
        "JOIN cases ON cases.id = case_id ORDER BY case_reference",
    )
    assert len(reports) == 7 and {status for _, status, _ in reports} == {"approved"}
    kinds = {ref: [r["kind"] for r in json.loads(rounds)] for ref, _, rounds in reports}
    assert kinds[COMPLETED] == ["submitted", "more_requested", "submitted", "approved"]
    assert all(k == ["submitted", "approved"] for ref, k in kinds.items() if ref != COMPLETED)
    reference, unspent = UNSPENT
    claimed = _rows(
        home,
        "SELECT status, amount, paid_amount FROM repayment_claims "
        "JOIN cases ON cases.id = case_id WHERE case_reference = ?",
        reference,
    )
    assert claimed == [("settled", unspent, unspent)]
    talks = _rows(
        home,
        "SELECT a.case_id, t.held_on, date(w.registered_at), w.came, w.presented_by "
        "FROM talk_answers a JOIN community_talks t ON t.id = a.community_talk_id "
        "JOIN talk_attendance w ON w.case_id = a.case_id",
    )
    assert len(talks) == 7 and all(held < registered for _, held, registered, _, _ in talks)
    assert all(came == 3 and presented for _, _, _, came, presented in talks)

    closed = _closing_days(home)
    assert len(closed) == 10, closed
    [(announced,)] = _rows(home, "SELECT announced_on FROM notice_board_days")
    last_day = next_working_day(date.fromisoformat(announced) + timedelta(weeks=3))
    for ref in ("26RS4", "26RS9", "26RS10"):  # the sweep closes them the day after
        assert closed[ref] == last_day + timedelta(days=1), (ref, closed[ref], last_day)
    for ref, opened in _gates_opened(home).items():
        assert closed[ref] >= opened, f"{ref} closed {closed[ref]}, its last gate opened {opened}"

    answered = "SELECT case_reference, continues FROM follow_ups JOIN cases ON cases.id = case_id"
    assert _rows(home, answered) == [(FOLLOWED_UP, 1)]
    [package] = list((home / "open-data").glob("360giving-*.json"))
    assert package.with_suffix(".csv").stat().st_size > 0
    published = json.loads(package.read_text())["grants"]
    signed = _rows(
        home,
        "SELECT case_reference, amount FROM decisions JOIN cases ON cases.id = case_id "
        "WHERE status = 'signed' AND outcome IN ('granted', 'partly_granted')",
    )
    assert {g["id"].rsplit("-", 1)[1]: g["amountAwarded"] for g in published} == dict(signed)
    assert sum(g["amountAwarded"] for g in published) == sum(a for _, a in signed) == 243_000
    [(paid,)] = _rows(home, "SELECT sum(amount) FROM payment_orders WHERE status = 'paid'")
    assert sum(g["amountDisbursed"] for g in published) == paid
    # The committee's annual report of each year with decisions (2026 and 2027), with the
    # impact table, and each Talk's programme, as the statistics page and the organiser
    # download them.
    annuals = sorted((home / "statistics").glob("arsrapport-*.pdf"))
    assert [p.stem for p in annuals] == ["arsrapport-2026", "arsrapport-2027"]
    for annual in annuals:
        report = " ".join(pdf_pages(annual.read_bytes()))
        assert "Beviljat och utbetalt per kommun" in report and "Vad bidragen ledde till" in report
        assert "26RS" not in report  # aggregate only: no case is named
        assert annual.with_suffix(".csv").stat().st_size > 0
    programmes = sorted((home / "talks").glob("samhallssamtal-*-program.pdf"))
    assert programmes and len(programmes) == len(_rows(home, "SELECT id FROM community_talks"))
    shown = " ".join(" ".join(pdf_pages(p.read_bytes())) for p in programmes)
    titles = _rows(home, "SELECT project_title FROM cases JOIN talk_answers ON case_id = cases.id")
    assert all(" ".join(title.split())[:20] in " ".join(shown.split()) for (title,) in titles)
    said = " ".join(printed.split())
    assert "final reports approved: 7 (26RS2 after being asked to complete it)" in said
    assert "26RS1 reported 3 000 kr unspent, claimed back" in said
    assert "Community Talks: 7 answer(s) through the grantees' links, 7 attendance(s)" in said
    assert "cases closed: 10 of 10 (2027-02-11: 26RS4, 26RS9, 26RS10;" in said
    assert "year-after follow-up answered: 26RS8" in said
    assert f"open data (360Giving): {package.name}" in said


def _closing_days(home: Path) -> dict[str, date]:
    """Each case's closing day, Swedish time, from the trail."""
    closings = _rows(
        home,
        "SELECT case_reference, at FROM audit_events JOIN cases ON cases.id = case_id "
        "WHERE action = 'case_closed'",
    )
    return {ref: _swedish_day(at) for ref, at in closings}


def _gates_opened(home: Path) -> dict[str, date]:
    """Per grant, the day its last gate opened: the report approved, the last payment
    registered paid, the last repayment claim settled."""
    opened = _rows(
        home,
        "SELECT case_reference, max(at) FROM audit_events JOIN cases ON cases.id = case_id "
        "WHERE action IN ('final_report_approved', 'payment_paid', 'payment_registered_paid', "
        "'repayment_paid', 'repayment_settled') GROUP BY case_reference",
    )
    return {ref: _swedish_day(at) for ref, at in opened}


def _swedish_day(moment: str) -> date:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC).astimezone(STOCKHOLM).date()


def anchor_notices(home: Path) -> int:
    """The e-mails that gave the case officers the audit trail's anchor (grants.anchors)."""
    with sqlite3.connect(home / "grants.db") as db:
        return db.execute("SELECT count(*) FROM notices WHERE kind = 'audit_anchor'").fetchone()[0]


def test_the_demo_clock_wakes_on_the_first_day_of_a_supplement_reminder(
    sample_call: Path,
) -> None:
    """With nobody to act, the demo's clock goes straight on to when the calendar next moves
    a case: for a supplement request, the first day its reminder may go, not the day after
    its deadline (the sweep would find the reminder's days gone, and send none)."""
    from grants import demo
    from grants.settings import load
    from grants.steps import take
    from models.checklist import Finding
    from models.db import transaction
    from models.supplements import reminder_day
    from models.tables import Answer, Criterion, SupplementRequest
    from models.working_days import next_working_day

    settings = load()
    findings = {c: Finding(Answer.met) for c in Criterion}
    findings[Criterion.anchored_with_partners] = Finding(Answer.unclear, "Skicka ett intyg.")
    reference = f"{date.today().year % 100:02d}RS3"
    take(settings, "checklist", OFFICER, reference, findings=findings, missing=[])
    with transaction(settings.db_url) as session:
        deadline = session.exec(select(SupplementRequest)).one().deadline
    reminder = next_working_day(reminder_day(deadline, settings.rules))
    assert demo.next_due(settings) == datetime.combine(reminder, time(9), tzinfo=STOCKHOLM)


def test_the_demo_registers_the_finance_person_that_an_earlier_home_lacks(
    grants_home: Path,
) -> None:
    """People are seeded from the configuration once, so the home of a demo run before the
    configuration named its finance person has none, and the demo's payment run would be
    refused half-way. The case officer adds them, once, as a person would (`add_person`)."""
    from grants import demo
    from grants.settings import load

    assert "5 person(s)" in grants("people", "list", "--as", OFFICER).text  # seeded
    with closing(sqlite3.connect(grants_home / "grants.db")) as db, db:
        db.execute("DELETE FROM people WHERE role = 'finance'")  # as seeded before
    assert "4 person(s)" in grants("people", "list", "--as", OFFICER).text

    settings = load()
    assert demo._finance(settings) == 0  # nothing to pay yet
    assert demo._finance(settings) == 0
    people = grants("people", "list", "--as", OFFICER).text
    assert "5 person(s)" in people and "Anneli Berglund" in people
    added = "SELECT actor, detail FROM audit_events WHERE action = 'person_added'"
    [(actor, detail)] = _rows(grants_home, added)
    assert actor == OFFICER and json.loads(detail)["role"] == "finance"


KILLS = (  # the demo is killed once the trail holds this many events of this action
    ("letter_sent", 3),  # during the intake's acknowledgements
    ("review_submitted", 5),  # in the advisory group's review
    ("decision_signed", 3),  # after the first decisions were signed
    ("payment_exported", 6),  # once the call's payment file was made, before its day ended
    ("payment_paid", 6),  # once the bank's report on it was registered
)
STOCKHOLM = ZoneInfo("Europe/Stockholm")
MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2})?")
# What differs between any two runs of the demo, killed or not: the audit chain's hashes
# (over exact times), a letter's PDF and its SHA-256 (the personal links' tokens), how a
# letter was rendered (alone or with others), and how many times its delivery was tried (a
# delivery the kill interrupted is taken again: at least once), and the trail's head an
# anchor e-mail gives the officers (its hash, and the ids of events interleaved otherwise).
# The bank's own time stamp in a credit notification's entry references (20270119090312-1).
BANK_STAMP = re.compile(r">(\d{8})\d{6}(-\d+<)")
# When a payment file or a bank's report was made: a moment of the clock, its day compared even
# when it fell on a whole minute (the first thing a round did), which MOMENT keeps whole.
CREATED = re.compile(r"<CreDtTm>(\d{4}-\d{2}-\d{2})T[^<]*</CreDtTm>")
NOT_COMPARED = {"hash", "prev_hash", "pdf", "sha256", "rendered_by", "attempts", "anchor"}


@pytest.mark.slow
@ONE_DEMO
def test_a_demo_killed_and_run_again_ends_as_one_never_killed(
    made_once: MadeOnce, grants_home: Path, tmp_path: Path, migrated_prefect_database: Path
) -> None:
    """The demo killed (kill -9) five times on its way, during the intake, in the review,
    after some decisions were signed, after the payment file was made and after the bank's
    report on it was registered, each time run again, and at last run to its end,
    leaves the database an uninterrupted run leaves: the same rows (each case's trail in
    its order), with the same dates.

    "The same" is what a user reading the case would call the same: every record on the
    same day, Swedish time (a run resumes a minute or so after the records it was killed
    after, so a record's time of day can differ by that); a time someone chose (a meeting
    at 10.00) the same to the minute; the same letters of each kind to each case, each sent
    once; and no record in the trail dated before the one before it."""
    made_once("demo", lambda: grants("demo"))
    home = tmp_path / "killed" / "home"
    env = command_env(tmp_path / "killed")
    migrated_prefect_home(Path(env["PREFECT_HOME"]), migrated_prefect_database)
    killed_at = [_kill_once(env, home, action, count) for action, count in KILLS]
    assert killed_at == sorted(killed_at) and len(set(killed_at)) == len(KILLS), killed_at
    final = subprocess.run(
        [sys.executable, "-m", "grants", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert final.returncode == 0, final.stdout + final.stderr
    assert "10 of 10 cases decided" in final.stdout, final.stdout

    at = [moment for (moment,) in _rows(home, "SELECT at FROM audit_events ORDER BY id")]
    assert at == sorted(at), "a record in the trail is dated before the one before it"
    letters = "SELECT case_reference, kind FROM letters JOIN cases ON cases.id = case_id"
    assert ("26RS9", "supplement_reminder") in _rows(home, letters)
    made, killed = _dated_dump(grants_home), _dated_dump(home)
    assert made.keys() == killed.keys()
    for table in made:
        assert killed[table] == made[table], f"{table} differs after the kills at {killed_at}"
    assert sorted(p.name for p in (home / "outbox").iterdir()) == sorted(
        p.name for p in (grants_home / "outbox").iterdir()
    )
    for folder in ("payments", "bank"):  # the payment files and the bank's reports, whole
        assert sorted(p.name for p in (home / folder).iterdir()) == sorted(
            p.name for p in (grants_home / folder).iterdir()
        )


def _kill_once(env: dict[str, str], home: Path, action: str, count: int) -> int:
    """Run `grants demo` in `home` and kill -9 it once the trail holds `count` events of
    `action`; return how many events the trail held when it was killed."""
    command = subprocess.Popen(
        [sys.executable, "-m", "grants", "demo"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = monotonic() + 300
        while command.poll() is None and monotonic() < deadline:
            if _count(home, action) >= count:
                command.kill()
                break
            sleep(0.05)
    finally:
        if command.poll() is None:
            command.kill()
    assert command.wait() == -9, f"the demo ended before {count} {action}"
    deadline = monotonic() + 20  # its Prefect server ends with it (grants.processes)
    while started_under(command.pid) and monotonic() < deadline:
        sleep(0.2)
    return len(_rows(home, "SELECT id FROM audit_events"))


def _count(home: Path, action: str) -> int:
    """How many events of `action` the trail holds now (0 before it exists)."""
    try:
        query = "SELECT count(*) FROM audit_events WHERE action = ?"
        return _rows(home, query, action)[0][0]
    except sqlite3.Error:  # no database or no table yet, or locked by a writer
        return 0


def _rows(home: Path, query: str, *parameters: Any) -> list[tuple]:
    with closing(sqlite3.connect(home / "grants.db", timeout=5)) as connection:
        return connection.execute(query, parameters).fetchall()


def _dated_dump(home: Path) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows in order (the trail case by case), with each moment recorded (to
    the microsecond, in a column or in a JSON value) made its day in Sweden; but what
    NOT_COMPARED names."""
    with closing(sqlite3.connect(home / "grants.db")) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        dump = {}
        for (table,) in tables.fetchall():
            rows = connection.execute(f"SELECT * FROM {table} ORDER BY rowid")
            names = [column[0] for column in rows.description]
            dump[table] = [
                {k: _dated(v) for k, v in zip(names, row, strict=True) if k not in NOT_COMPARED}
                for row in rows
            ]
    # Each case's trail in its order; the cases' events may interleave otherwise (a rerun's
    # intake sends what the killed run left queued before the round goes on).
    trail = sorted(dump["audit_events"], key=lambda event: (event["case_id"] or 0, event["id"]))
    dump["audit_events"] = [{k: v for k, v in event.items() if k != "id"} for event in trail]
    return dump


def _dated(value: Any) -> Any:
    """A value with each moment in it recorded by the clock made its day in Sweden (a time
    of whole minutes, chosen by someone, a meeting's, stays as it is), and JSON read, but
    what NOT_COMPARED names."""
    if isinstance(value, dict):
        return {k: _dated(v) for k, v in value.items() if k not in NOT_COMPARED}
    if isinstance(value, list):
        return [_dated(v) for v in value]
    if isinstance(value, bytes) and value.startswith(b"<?xml"):  # a payment file, a report
        made = CREATED.sub(r"<CreDtTm>\1</CreDtTm>", value.decode())
        return BANK_STAMP.sub(r">\1\2", _dated(made))
    if not isinstance(value, str):
        return value
    if value.startswith(("{", "[")):
        return _dated(json.loads(value))
    return MOMENT.sub(_day, value)


def _day(found: re.Match[str]) -> str:
    moment = datetime.fromisoformat(found.group(0))
    if moment.second == moment.microsecond == 0:
        return found.group(0)
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(STOCKHOLM).date().isoformat()
