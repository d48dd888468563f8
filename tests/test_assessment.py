"""Assessment end to end: people act through the command line, flows send what follows.

Real flows, a real database file, a real SMTP server. The case of Kryddgården Lindesberg
(SI-2026-0105) names Coompanion Mälardalen as a partner, so Coompanion's advisor has a
conflict of interest in it.
"""

import csv
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

import pytest
from sqlmodel import select

from grants.settings import load
from models.db import transaction
from models.meetings import document_meeting
from models.tables import (
    STOCKHOLM,
    AuditEvent,
    Case,
    ChecklistAnswer,
    Document,
    FileNote,
    Person,
    ReviewTask,
)
from models.working_days import add_working_days, next_working_day
from tests.conftest import SAMPLES, Mailbox
from tests.helpers import (
    ACTIVA,
    CLI_ALL_MET,
    COOMPANION,
    DECISION_MAKER,
    OFFICER,
    database_dump,
    grants,
    pdf_pages,
)

REASONS = [
    "--reason",
    "benefit_to_society=Tydlig nytta för kvinnor som står långt från arbete.",
    "--reason",
    "innovative=Kopplar odling till förädling och försäljning.",
    "--reason",
    "new_locally=Inget liknande i Lindesberg.",
    "--reason",
    "anchored_with_partners=Kommunen och Bergslagens Livs står bakom.",
]


def the_case(submission_id: str = "SI-2026-0105") -> Case:
    with transaction(load().db_url) as session:
        return session.exec(select(Case).where(Case.submission_id == submission_id)).one()


def actions(case: Case) -> list[str]:
    with transaction(load().db_url) as session:
        query = select(AuditEvent.action).where(AuditEvent.case_id == case.id)
        return list(session.exec(query.order_by(AuditEvent.id)))


def attachment(message: EmailMessage, suffix: str) -> bytes:
    [part] = [p for p in message.iter_attachments() if p.get_filename().endswith(suffix)]
    return (
        part.get_content()
        if isinstance(part.get_content(), bytes)
        else part.get_payload(decode=True)
    )


@pytest.fixture
def registered(smtp_server: Mailbox) -> str:
    grants("intake", str(SAMPLES / "applications.json"), "--as", OFFICER)
    smtp_server.wait_for(8)
    return the_case().case_reference


def test_supplement_conflict_review_meeting_then_ready_for_the_draft_decision(
    registered: str, smtp_server: Mailbox, tmp_path: Path
) -> None:
    ref = registered
    # The checklist: one requirement unclear → a request for supplement with a deadline.
    result = grants(
        "checklist",
        ref,
        "--as",
        OFFICER,
        "--benefit-to-society",
        "met",
        "--innovative",
        "met",
        "--new-locally",
        "unclear",
        "--note",
        "new_locally=Beskriv hur projektet skiljer sig från Odla i Stan.",
        "--anchored-with-partners",
        "met",
    )
    assert "awaiting_supplement" in result.text
    [request] = smtp_server.wait_for(9)[8:]
    assert request["To"] == "hej@kryddgarden.example.se"
    assert request["Subject"].startswith(f"Begäran om komplettering {ref}")
    text = " ".join(pdf_pages(attachment(request, ".pdf")))
    deadline = add_working_days(date.today(), 10)
    assert "Beskriv hur projektet skiljer sig från Odla i Stan." in text
    assert "Nytt lokalt" in text
    assert f"{deadline.day} " in text and str(deadline.year) in text

    # The supplement comes; back to the checklist, now all met → review tasks.
    supplement = tmp_path / "komplettering.txt"
    supplement.write_text("Odla i Stan finns bara i Örebro; i Lindesberg finns inget liknande.")
    grants("supplement", ref, str(supplement), "--as", OFFICER)
    assert the_case().state == "received"
    grants(
        "checklist",
        ref,
        "--as",
        OFFICER,
        *[f"--{c}" for c in ()],
        *CLI_ALL_MET,
    )
    assert the_case().state == "in_review"
    assert ref in grants("tasks", "--as", COOMPANION).text

    # Coompanion is a partner: "no conflict" is refused, the conflict is recorded.
    refused = grants("declare", ref, "--as", COOMPANION, "--no-conflict", ok=False)
    assert refused.exit_code == 2 and "Coompanion Mälardalen" in refused.text
    assert "is a partner" in refused.text
    grants(
        "declare",
        ref,
        "--as",
        COOMPANION,
        "--conflict",
        "own_organisation",
        "--note",
        "Coompanion Mälardalen är samarbetspartner i projektet.",
    )
    # … and Coompanion's advisor can no longer see the case or act on it.
    hidden = grants("status", ref, "--as", COOMPANION, ok=False)
    assert hidden.exit_code == 2 and "conflict of interest" in hidden.text
    assert "Kryddgården" not in grants("status", "--as", COOMPANION).text
    assert ref not in grants("tasks", "--as", COOMPANION).text
    again = grants("review", ref, "--as", COOMPANION, "--recommend", "granted", *REASONS, ok=False)
    assert again.exit_code == 2 and "conflict of interest" in again.text

    # Two reviews complete the quorum of 2; the first tries to skip the declaration.
    early = grants("review", ref, "--as", ACTIVA, "--recommend", "granted", *REASONS, ok=False)
    assert "must first declare" in early.text
    grants("declare", ref, "--as", ACTIVA, "--no-conflict")
    grants(
        "review",
        ref,
        "--as",
        ACTIVA,
        "--recommend",
        "granted",
        *REASONS,
        "--other-funding",
        "Allmänna arvsfonden för en större fortsättning",
    )
    assert the_case().state == "in_review"
    grants("declare", ref, "--as", OFFICER, "--no-conflict")
    grants(
        "review",
        ref,
        "--as",
        OFFICER,
        "--recommend",
        "partly_granted",
        "--amount",
        "40000",
        *REASONS,
    )
    assert the_case().state == "applicant_meeting"

    # The meeting: an invitation with a calendar file, then the file note.
    starts = datetime.combine(next_working_day(date.today() + timedelta(days=7)), time(10))
    grants(
        "meeting",
        "book",
        ref,
        "--as",
        OFFICER,
        "--at",
        starts.strftime("%Y-%m-%d %H:%M"),
        "--place",
        "Regionens hus, Eklundavägen 1, Örebro",
    )
    invitation = smtp_server.wait_for(10)[9]
    assert invitation["Subject"].startswith(f"Inbjudan till möte {ref}")
    ics = attachment(invitation, ".ics").decode()
    assert "BEGIN:VEVENT" in ics and "LOCATION:Regionens hus\\, Eklundavägen 1\\, Örebro" in ics
    [part] = [p for p in invitation.iter_attachments() if p.get_filename() == "inbjudan.ics"]
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST" and part.get_param("charset") == "UTF-8"
    unfolded = ics.replace("\r\n ", "")
    # The organizer is who sent it (the From address): a calendar trusts the invitation.
    sender = parseaddr(invitation["From"])
    assert f'ORGANIZER;CN="{sender[0]}":mailto:{sender[1]}' in unfolded
    assert f"Handläggare: Maria Lindqvist\\, {OFFICER}" in unfolded
    invitation_text = " ".join(pdf_pages(attachment(invitation, ".pdf")))
    assert "Lena Holm" in invitation_text and "Johan Ek" not in invitation_text
    early_note = grants("meeting", "note", ref, "--as", OFFICER, "--text", "Vi talade.", ok=False)
    assert "once it has been held" in early_note.text
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        officer = session.exec(select(Person).where(Person.email == OFFICER)).one()
        document_meeting(
            session,
            case,
            officer,
            "Föreningen berättade om odlingslotterna.",
            now=starts.astimezone() + timedelta(hours=2),
        )

    case = the_case()
    assert case.state == "drafting_decision" and case.proposed_outcome is None
    trail = actions(case)
    for step in (
        "registered",
        "supplement_requested",
        "supplement_registered",
        "checklist_all_met",
        "review_tasks_created",
        "conflict_declared",
        "no_conflict_declared",
        "review_submitted",
        "reviews_complete",
        "meeting_booked",
        "meeting_documented",
    ):
        assert step in trail, step
    with transaction(load().db_url) as session:
        note = session.exec(select(FileNote).where(FileNote.case_id == case.id)).one()
        assert note.author == OFFICER and note.kind == "meeting_note"
        assert (
            len(
                session.exec(
                    select(ChecklistAnswer).where(ChecklistAnswer.case_id == case.id)
                ).all()
            )
            == 8
        )
        [document] = session.exec(select(Document).where(Document.case_id == case.id)).all()
        assert document.content.startswith(b"Odla i Stan")
        tasks = session.exec(select(ReviewTask).where(ReviewTask.case_id == case.id)).all()
        assert sorted(t.status for t in tasks) == ["conflicted", "submitted", "submitted"]


def test_not_eligible_goes_straight_to_a_proposed_refusal(registered: str) -> None:
    ref = the_case("SI-2026-0101").case_reference
    grants(
        "checklist",
        ref,
        "--as",
        OFFICER,
        "--benefit-to-society",
        "not_met",
        "--note",
        "benefit_to_society=Projektet gynnar bara föreningens egna medlemmar.",
        "--innovative",
        "met",
        "--new-locally",
        "met",
        "--anchored-with-partners",
        "met",
    )
    case = the_case("SI-2026-0101")
    assert case.state == "drafting_decision" and case.proposed_outcome == "refused"
    assert "egna medlemmar" in case.proposal_reason


def test_every_role_violation_and_illegal_step_is_refused_and_changes_nothing(
    registered: str, grants_home: Path
) -> None:
    ref = registered
    other = the_case("SI-2026-0101").case_reference
    grants(
        "checklist",
        other,
        "--as",
        OFFICER,
        *CLI_ALL_MET,
    )
    before = database_dump(grants_home)
    attempts = {
        "an advisor runs the checklist": (
            ["checklist", ref, "--as", ACTIVA, *CLI_ALL_MET],
            "only a case_officer may do this",
        ),
        "the decision maker declares": (
            ["declare", other, "--as", DECISION_MAKER, "--no-conflict"],
            "only a advisor or case_officer",
        ),
        "nobody says who acts": (["checklist", ref, *CLI_ALL_MET], "say who acts"),
        "an unknown person": (
            ["checklist", ref, "--as", "x@example.se", *CLI_ALL_MET],
            "not a registered person",
        ),
        "a checklist out of turn": (
            ["checklist", other, "--as", OFFICER, *CLI_ALL_MET],
            "'in_review'; the step 'checklist' is taken only while it is 'received'",
        ),
        "a note missing": (
            [
                "checklist",
                ref,
                "--as",
                OFFICER,
                "--benefit-to-society",
                "unclear",
                "--innovative",
                "met",
                "--new-locally",
                "met",
                "--anchored-with-partners",
                "met",
            ],
            "a note must say why",
        ),
        "a requirement missing": (
            ["checklist", ref, "--as", OFFICER, "--innovative", "met"],
            "missing: benefit_to_society, new_locally",
        ),
        "a review before the case is in review": (
            ["review", ref, "--as", ACTIVA, "--recommend", "granted", *REASONS],
            "the step 'submit_review' is taken only while it is 'in_review'",
        ),
        "a review without declaring": (
            ["review", other, "--as", ACTIVA, "--recommend", "granted", *REASONS],
            "must first declare",
        ),
        "a supplement nobody asked for": (
            ["supplement", ref, str(SAMPLES / "README.md"), "--as", OFFICER],
            "the step 'register_supplement' is taken only while it is 'awaiting_supplement'",
        ),
        "a meeting before the review": (
            [
                "meeting",
                "book",
                other,
                "--as",
                OFFICER,
                "--at",
                "2030-01-10 10:00",
                "--place",
                "Örebro",
            ],
            "the step 'book_meeting' is taken only while it is 'applicant_meeting'",
        ),
        "a bad meeting time": (
            ["meeting", "book", other, "--as", OFFICER, "--at", "tisdag", "--place", "Örebro"],
            "YYYY-MM-DD HH:MM",
        ),
        "an unknown case": (
            ["checklist", "26RS99999", "--as", OFFICER, *CLI_ALL_MET],
            "no case with case reference",
        ),
        "a bad criterion": (
            ["review", other, "--as", ACTIVA, "--recommend", "granted", "--reason", "nytta=stor"],
            "CRITERION=TEXT",
        ),
    }
    for what, (args, message) in attempts.items():
        result = grants(*args, ok=False)
        assert result.exit_code == 2, (what, result.output)
        assert message in result.text, (what, result.text)
    assert database_dump(grants_home) == before
    grants("declare", other, "--as", ACTIVA, "--no-conflict")
    before = database_dump(grants_home)
    for args, message in [
        (["declare", other, "--as", ACTIVA, "--no-conflict"], "not changed afterwards"),
        (
            ["review", other, "--as", ACTIVA, "--recommend", "partly_granted", *REASONS],
            "needs the proposed amount",
        ),
        (
            [
                "review",
                other,
                "--as",
                ACTIVA,
                "--recommend",
                "partly_granted",
                "--amount",
                "90000",
                *REASONS,
            ],
            "less than the 35000 applied for",
        ),
        (
            ["review", other, "--as", ACTIVA, "--recommend", "refused", "--amount", "1", *REASONS],
            "no amount goes with 'refused'",
        ),
        (
            ["review", other, "--as", ACTIVA, "--recommend", "granted", *REASONS[:4]],
            "missing: new_locally, anchored_with_partners",
        ),
    ]:
        result = grants(*args, ok=False)
        assert result.exit_code == 2 and message in result.text, result.text
    assert database_dump(grants_home) == before


def test_conflicts_leaving_too_few_reviewers_tell_the_case_officer(
    registered: str, smtp_server: Mailbox
) -> None:
    """Stiftelsen Activa is a partner of SI-2026-0102; Coompanion's advisor also steps aside."""
    ref = the_case("SI-2026-0102").case_reference
    grants(
        "checklist",
        ref,
        "--as",
        OFFICER,
        *CLI_ALL_MET,
    )
    grants(
        "declare",
        ref,
        "--as",
        ACTIVA,
        "--conflict",
        "own_organisation",
        "--note",
        "Stiftelsen Activa är partner.",
    )
    assert len(smtp_server.messages) == 8  # two reviewers are still enough
    grants(
        "declare",
        ref,
        "--as",
        COOMPANION,
        "--conflict",
        "close_relative",
        "--note",
        "Min syster är ordförande i föreningen.",
    )
    [notice] = smtp_server.wait_for(9)[8:]
    assert notice["To"] == OFFICER
    assert notice["Subject"] == f"För få granskare utan jäv i {ref}"
    assert "grants substitute-reviewer" in notice.get_body(("plain",)).get_content()
    refused = grants("assign-reviewer", ref, ACTIVA, "--as", OFFICER, ok=False)
    assert "conflict of interest" in refused.text
    grants("declare", ref, "--as", OFFICER, "--no-conflict")
    grants("review", ref, "--as", OFFICER, "--recommend", "granted", *REASONS)
    assert the_case("SI-2026-0102").state == "in_review"  # one review of the two needed


def test_from_draft_to_signed_decision_through_the_command_line(
    registered: str, smtp_server: Mailbox, tmp_path: Path
) -> None:
    """Draft, submit, a signature refused to everyone but the decision maker, the decision."""
    ref = the_case("SI-2026-0106").case_reference
    grants("checklist", ref, "--as", OFFICER, *CLI_ALL_MET)
    for reviewer, recommendation in ((ACTIVA, "partly_granted"), (OFFICER, "partly_granted")):
        grants("declare", ref, "--as", reviewer, "--no-conflict")
        grants(
            "review",
            ref,
            "--as",
            reviewer,
            "--recommend",
            recommendation,
            "--amount",
            "40000",
            *REASONS,
            "--other-funding",
            "RF-SISU Örebro län: idrottslyftet",
        )
    grants("meeting", "skip", ref, "--as", OFFICER, "--reason", "Ansökan är tydlig.")
    form = grants("draft", ref, "--as", OFFICER)  # the draft form: findings side by side
    assert "Lena Holm" in form.text and "Inget liknande i Lindesberg." in form.text
    assert "co-financing" in form.text
    unworded = grants("draft", ref, "--as", OFFICER, "--decisive", "För hög budget.", ok=False)
    assert "word the decision's finding on every basic requirement" in unworded.text
    grants(
        "draft",
        ref,
        "--as",
        OFFICER,
        *REASONS,
        "--decisive",
        "Projektet uppfyller grundkraven; budgeten för material är för hög.",
    )
    before = len(smtp_server.messages)
    uncommunicated = grants("submit-draft", ref, "--as", OFFICER, ok=False)
    assert "communicate it first" in uncommunicated.text and "FL 25 §" in uncommunicated.text
    grants(
        "submit-draft",
        ref,
        "--as",
        OFFICER,
        "--no-communication-because",
        "Sökanden har själv föreslagit den lägre budgeten vid mötet.",
    )
    [draft_mail] = smtp_server.wait_for(before + 1)[before:]
    assert draft_mail["To"] == DECISION_MAKER
    draft_text = " ".join(pdf_pages(attachment(draft_mail, ".pdf")))
    assert "Förslag till beslut" in draft_text and "40 000" in draft_text
    # A draft is a draft: a proposed amount, nothing to appeal, not addressed to the applicant.
    assert "Föreslaget belopp 40 000 kr" in draft_text and "Beviljat belopp" not in draft_text
    assert "laglighetsprövning" not in draft_text and "Att: " not in draft_text
    mail_text = draft_mail.get_body(("plain",)).get_content()
    assert "grants " not in mail_text and "--as" not in mail_text and ref in mail_text

    for who in (OFFICER, ACTIVA, COOMPANION):
        refused = grants("sign", ref, "--as", who, ok=False)
        assert refused.exit_code == 2 and "only a decision_maker may do this" in refused.text
    grants("sign", ref, "--as", DECISION_MAKER)
    case = the_case("SI-2026-0106")
    assert case.state == "decided"
    [decision_mail] = smtp_server.wait_for(before + 2)[before + 1 :]
    assert decision_mail["To"] == "styrelsen@skatekollektivet.example.org"
    pages = pdf_pages(attachment(decision_mail, ".pdf"))
    text = " ".join(pages)
    for page_number, page in enumerate(pages, start=1):
        assert ref in page and f"Sida {page_number} av {len(pages)}" in page
    for required in (
        "Beslut",
        "Karin Sjöberg",
        "delegation från kulturnämnden",
        "punkt 4.3 i kulturnämndens delegationsordning",
        "Maria Lindqvist",
        "Lena Holm",
        "40 000",
        "50 000",
        "laglighetsprövning",
        "Slutrapport",
        "budgeten för material är för hög",
        "idrottslyftet",
        "Villkor",
        "Utbetalning",
        "Kulturnämndens riktlinjer",
    ):
        assert required in text, required
    again = grants("sign", ref, "--as", DECISION_MAKER, ok=False)
    assert again.exit_code == 2 and "'decided'" in again.text

    # The delegation report for the committee lists it, as PDF and as CSV.
    today = datetime.now(STOCKHOLM).date().isoformat()  # decisions are dated in Swedish time
    report = grants(
        "delegation-report", "--from", today, "--to", today, "--out", str(tmp_path), "--as", OFFICER
    )
    assert "1 decision(s)" in report.text
    [csv_file] = tmp_path.glob("delegationsbeslut-*.csv")
    rows = list(csv.DictReader(csv_file.open(encoding="utf-8")))
    assert rows == [
        {
            "case_reference": ref,
            "decided_on": today,
            "organisation": "Skatekollektivet Askersund",
            "organisation_number": "802538-6148",
            "project_title": case.project_title,
            "outcome": "partly_granted",
            "amount": "40000",
            "paid": "0",
            "decision_maker": "Karin Sjöberg",
        }
    ]
    report_text = " ".join(pdf_pages(next(tmp_path.glob("delegationsbeslut-*.pdf")).read_bytes()))
    assert "Anmälan av delegationsbeslut" in report_text
    assert f"{ref}" in report_text and "beviljas delvis" in report_text
    assert "Summa beviljat 40 000 kr" in report_text
