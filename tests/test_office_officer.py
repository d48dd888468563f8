"""The case officer in the office: every step the command line gives them, as forms on the
case page, and the pages not tied to one case (intake, Community Talks, the delegation
report, undelivered letters). Cases are brought to a state through the command line or the
domain where that is quicker; then the officer acts through the office, and the tests look
at what a person would notice: the page's words, a letter in the outbox, a database that
did not change after a refusal."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlmodel import select

from flows.assessment import sweep
from grants.embedded import run_flow
from grants.settings import load
from models.checklist import Finding, complete_checklist
from models.db import transaction
from models.decisions import sign
from models.reviews import declare_conflict, submit_review
from models.rules import Rules
from models.tables import (
    STOCKHOLM,
    Answer,
    Case,
    ConflictGround,
    Criterion,
    Letter,
    Meeting,
    Person,
    Recommendation,
    utcnow,
)
from models.working_days import next_working_day
from tests.conftest import SAMPLES, free_port
from tests.helpers import (
    ACTIVA,
    CLI_ALL_MET,
    COOMPANION,
    DECISION_MAKER,
    OFFICER,
    database_dump,
    grants,
    pdf_pages,
    settled_dump,
    without_looks,
)
from tests.office import form_token, post, sign_in
from tests.test_decisions import to_awaiting_decision

KRYDDGARDEN = "SI-2026-0105"  # names Coompanion Mälardalen as partner
ALL_MET = {c.value: "met" for c in Criterion}


def the_case(submission_id: str = KRYDDGARDEN) -> Case:
    with transaction(load().db_url) as session:
        return session.exec(select(Case).where(Case.submission_id == submission_id)).one()


def outbox(subject: str) -> list[EmailMessage]:
    """The messages in the outbox whose subject starts with `subject`."""
    found = []
    for path in sorted(load().outbox_dir.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["Subject"].startswith(subject):
            found.append(message)
    return found


def sent(office) -> None:
    assert office.app.state.office.follow_up.wait_idle(60)


def page_text(response) -> str:
    return response.text.replace("\u00a0", " ")


def reviewed_by_activa_and_the_officer(ref: str) -> None:
    """Johan Ek (Coompanion) declares his conflict; Lena Holm and the officer review."""
    settings = load()
    rules = Rules.from_config(settings.file)
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        people = {p.email: p for p in session.exec(select(Person))}
        declare_conflict(
            session, case, people[COOMPANION], ConflictGround.own_organisation, "Partner.", rules
        )
        for email in (ACTIVA, OFFICER):
            declare_conflict(session, case, people[email], ConflictGround.none, "", rules)
            submit_review(
                session,
                case,
                people[email],
                Recommendation.partly_granted,
                40000,
                {c: f"{c.value}: bedömt av {people[email].name}." for c in Criterion},
                [],
                "",
                rules,
            )


@pytest.fixture
def registered(sample_call, office) -> str:
    """The eight sample applications, registered; the case officer signed in."""
    sign_in(office, OFFICER)
    return the_case().case_reference


def test_a_case_through_the_officers_steps_in_the_office(office, registered: str) -> None:
    ref = registered
    page = office.get(f"/cases/{ref}")
    assert 'id="checklist-heading"' in page.text

    # The checklist: one requirement unclear → a request for supplement, by letter.
    checklist = ALL_MET | {
        "new_locally": "unclear",
        "note_new_locally": "Beskriv hur projektet skiljer sig från Odla i Stan.",
    }
    done = post(office, f"/cases/{ref}/checklist", checklist)
    assert done.status_code == 200 and done.url.path == f"/cases/{ref}"
    assert the_case().state == "awaiting_supplement"
    sent(office)
    [request] = outbox(f"Begäran om komplettering {ref}")
    assert request["To"] == "hej@kryddgarden.example.se"

    # The supplement comes: uploaded, filed with its SHA-256; back to the checklist.
    text = "Odla i Stan finns bara i Örebro; i Lindesberg finns inget liknande.".encode()
    files = {"supplement_file": ("../../etc/komplettering.txt", text, "text/plain")}
    done = post(office, f"/cases/{ref}/supplement", files=files)
    assert done.status_code == 200
    assert the_case().state == "received"
    assert "komplettering.txt" in done.text and "/etc/" not in done.text

    # All met now: the advisory group reviews.
    assert post(office, f"/cases/{ref}/checklist", ALL_MET).status_code == 200
    assert the_case().state == "in_review"
    reviewed_by_activa_and_the_officer(ref)
    assert the_case().state == "applicant_meeting"

    # The meeting: booked in Swedish time on a working day, the invitation goes out.
    day = next_working_day(date.today() + timedelta(days=7))
    booking = {"meeting_date": day.isoformat(), "meeting_time": "10:00"}
    booking |= {"meeting_place": "Regionens hus, Eklundavägen 1, Örebro", "meeting_minutes": "60"}
    assert post(office, f"/cases/{ref}/meeting/book", booking).status_code == 200
    sent(office)
    [invitation] = outbox(f"Inbjudan till möte {ref}")
    ics = next(p for p in invitation.iter_attachments() if p.get_filename().endswith(".ics"))
    starts = datetime(day.year, day.month, day.day, 10, tzinfo=STOCKHOLM).astimezone(UTC)
    assert f"DTSTART:{starts.strftime('%Y%m%dT%H%M%SZ')}" in ics.get_content()

    # A file note before the meeting is refused; once it is held, it is recorded.
    before = settled_dump(office)
    early = post(office, f"/cases/{ref}/meeting/note", {"meeting_note": "Vi talade om odling."})
    assert early.status_code == 409 and "dokumentera det när det har hållits" in early.text
    assert "Vi talade om odling." in early.text  # what was typed is kept
    assert database_dump(load().home) == before
    with transaction(load().db_url) as session:  # time passes: the meeting was yesterday
        meeting = session.exec(select(Meeting)).one()
        meeting.starts_at = utcnow() - timedelta(days=1)
        meeting.ends_at = meeting.starts_at + timedelta(minutes=60)
        session.add(meeting)
    assert post(office, f"/cases/{ref}/meeting/note", {"meeting_note": "Vi talade om odling."})
    assert the_case().state == "drafting_decision"

    # The draft: the reviews' findings are shown beside each requirement, as input; the
    # officer words the decision's own finding.
    page = office.get(f"/cases/{ref}")
    assert "benefit_to_society: bedömt av Lena Holm." in page.text
    assert ">benefit_to_society: bedömt av Lena Holm.</textarea>" not in page.text
    draft = {f"draft_reason_{c.value}": f"{c.value}: uppfyllt." for c in Criterion}
    draft |= {"draft_outcome": "partly_granted", "draft_amount": "40 000"}
    draft |= {"draft_decisive": "Budgeten för material är för hög."}
    draft |= {"draft_conditions": "Materialbudgeten sänks till 10 000 kronor."}
    assert post(office, f"/cases/{ref}/draft", draft).status_code == 200

    # Less than applied for: communicated (FL 25 §), the reply registered, then submitted.
    assert post(office, f"/cases/{ref}/communicate").status_code == 200
    assert the_case().state == "communication"
    sent(office)
    [communication] = outbox(f"Kommunicering inför beslut {ref}")
    assert communication["To"] == "hej@kryddgarden.example.se"
    files = {"reply_file": ("svar.txt", b"Vi godtar 40 000 kronor.", "text/plain")}
    assert post(office, f"/cases/{ref}/reply", files=files).status_code == 200
    page = office.get(f"/cases/{ref}")
    assert the_case().state == "drafting_decision"
    assert ">Materialbudgeten sänks till 10 000 kronor.</textarea>" in page.text  # kept
    assert 'id="draft-reply-assessment"' in page.text  # the reply held comments
    before = settled_dump(office)
    unassessed = post(office, f"/cases/{ref}/draft", draft)
    assert (
        unassessed.status_code == 409 and "skriv vad synpunkterna har lett till" in unassessed.text
    )
    assert database_dump(load().home) == before
    assessed = draft | {"draft_reply_assessment": "Sökanden godtar beloppet."}
    shown = post(office, f"/cases/{ref}/draft", assessed)
    assert shown.status_code == 200
    # The case page states the latest version's findings in the decision's words.
    assert "Bedömningarna i version 2, med beslutets ord" in shown.text
    assert "innovative: uppfyllt." in shown.text and "Sökanden godtar beloppet." in shown.text
    # The applicant has seen this draft: no reason for not communicating is needed; the new
    # version adds nothing from others, which the case officer records (FL 25 §).
    unsaid = post(office, f"/cases/{ref}/submit-draft", {"no_communication_because": ""})
    assert unsaid.status_code == 409 and "inget nytt underlag från andra" in unsaid.text
    done = post(
        office,
        f"/cases/{ref}/submit-draft",
        {"no_communication_because": "", "nothing_new_from_others": "yes"},
    )
    assert done.status_code == 200 and the_case().state == "awaiting_decision"
    sent(office)
    [to_decide] = outbox(f"Förslag till beslut {ref}")
    assert to_decide["To"] == DECISION_MAKER


def test_a_refused_step_shows_why_keeps_what_was_typed_and_changes_nothing(
    office, registered: str
) -> None:
    ref = registered
    before = settled_dump(office)
    typed = ALL_MET | {"benefit_to_society": "not_met", "note_innovative": "Nytt i länet."}
    refused = post(office, f"/cases/{ref}/checklist", typed)
    assert refused.status_code == 409
    why = "Samhällsnytta är ”Inte uppfyllt”: skriv en anteckning om varför"
    assert 'role="alert"' in refused.text and why in refused.text  # in Swedish, by name
    assert "Nytt i länet." in refused.text
    assert 'value="not_met" checked' in refused.text
    english = post(office, "/language", {"language": "en", "next": f"/cases/{ref}/checklist"})
    assert english.url.path == f"/cases/{ref}" and "Eligibility checklist" in english.text
    for url, data in (
        (f"/cases/{ref}/meeting/book", {"meeting_date": "tisdag", "meeting_time": "10"}),
        (f"/cases/{ref}/supplement", {}),
        (f"/cases/{ref}/submit-draft", {"no_communication_because": "Inget nytt."}),
        (f"/cases/{ref}/draft", {"draft_amount": "fyrtiotusen"}),
    ):
        response = post(office, url, data)
        assert response.status_code == 409, url
        assert 'role="alert"' in response.text, url
    # The language switch went back to the case page, which records the look alone.
    assert without_looks(database_dump(load().home)) == without_looks(before)


def test_a_conflicted_reviewer_cannot_be_brought_back(office, registered: str) -> None:
    ref = the_case("SI-2026-0101").case_reference
    assert post(office, f"/cases/{ref}/checklist", ALL_MET).status_code == 200
    settings = load()
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        johan = session.exec(select(Person).where(Person.email == COOMPANION)).one()
        rules = Rules.from_config(settings.file)
        declare_conflict(
            session, case, johan, ConflictGround.earlier_involvement, "Hjälpte.", rules
        )
    page = office.get(f"/cases/{ref}")
    assert 'id="reviewer-email"' not in page.text  # nobody left to add
    before = settled_dump(office)
    refused = post(office, f"/cases/{ref}/reviewer", {"reviewer": COOMPANION})
    assert refused.status_code == 409 and "kan inte tas tillbaka" in refused.text
    maker = post(office, f"/cases/{ref}/reviewer", {"reviewer": DECISION_MAKER})
    only = "Bara den som har rollen Rådgivare eller Handläggare får göra detta"
    assert maker.status_code == 403 and only in maker.text
    assert database_dump(settings.home) == before


OFFICER_STEPS = (
    "checklist",
    "supplement-request",
    "supplement",
    "reviewer",
    "meeting/book",
    "meeting/note",
    "meeting/skip",
    "draft",
    "communicate",
    "reply",
    "submit-draft",
    "material",
    "withdrawal",
    "presentation",
    "final-report",
)


@pytest.mark.parametrize("who", [ACTIVA, DECISION_MAKER])
def test_only_a_case_officer_takes_an_officer_step(sample_call, office, who: str) -> None:
    ref = the_case().case_reference
    grants("checklist", ref, "--as", OFFICER, *CLI_ALL_MET)
    sign_in(office, who)
    before = settled_dump(office)
    for step in OFFICER_STEPS:
        response = post(office, f"/cases/{ref}/{step}", ALL_MET | {"reviewer": ACTIVA})
        assert response.status_code == 403, (step, response.status_code)
        assert "Bara den som har rollen Handläggare får" in response.text, step
        assert the_case().project_title not in response.text
    for page in ("/intake", "/talks", "/undelivered"):
        assert office.get(page).status_code == 403, page
    assert post(office, "/talks", {"talk_date": "2030-05-01"}).status_code == 403
    files = {"export": ("a.json", (SAMPLES / "mistakes.json").read_bytes(), "application/json")}
    assert post(office, "/intake", files=files).status_code == 403
    report = office.get("/delegation-report")
    assert report.status_code == (200 if who == DECISION_MAKER else 403)
    assert database_dump(load().home) == before
    assert not (load().home / "uploads").exists() or not any((load().home / "uploads").iterdir())


def test_without_sign_in_or_form_token_nothing_is_taken(sample_call, office) -> None:
    ref = the_case().case_reference
    token = form_token(office)
    before = settled_dump(office)
    for step in OFFICER_STEPS:
        response = office.post(
            f"/cases/{ref}/{step}", data={"csrf_token": token} | ALL_MET, follow_redirects=False
        )
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    for page in ("/intake", "/talks", "/undelivered", "/delegation-report"):
        response = office.get(page, follow_redirects=False)
        assert response.headers["location"] == f"/login?next={page}"
    assert database_dump(load().home) == before
    sign_in(office, OFFICER)
    before = settled_dump(office)
    for data in ({}, {"csrf_token": "not-the-token"}):
        for url in [f"/cases/{ref}/{step}" for step in OFFICER_STEPS] + ["/talks", "/intake"]:
            response = office.post(url, data=data | ALL_MET)
            assert response.status_code == 403, (url, data)
    assert database_dump(load().home) == before


def test_intake_upload_shows_the_refusals_and_registers_the_valid_record(office) -> None:
    sign_in(office, OFFICER)
    assert 'id="intake-export"' in office.get("/intake").text
    mistakes = (SAMPLES / "mistakes.json").read_bytes()
    files = {"export": ("../mistakes.json", mistakes, "application/json")}
    report = post(office, "/intake", files=files)
    assert report.status_code == 200
    text = page_text(report)
    assert text.count('<th scope="row">record ') == 9
    for shown in (
        "SI-2026-0901",
        "Föreningen Kulturkvarteret Kopparberg",
        "Västerås",
        "802467-5213",
    ):
        assert shown in text, shown
    assert "SI-2026-0905" in text
    case = the_case("SI-2026-0905")
    assert f'href="/cases/{case.case_reference}"' in text
    sent(office)
    assert outbox(f"Mottagningsbekräftelse {case.case_reference}")  # acknowledged
    saved = list((load().home / "uploads").iterdir())
    assert len(saved) == 1 and saved[0].name != "mistakes.json"

    again = post(office, "/intake", files=files)  # the same file twice registers nothing twice
    assert "SI-2026-0905" in again.text
    with transaction(load().db_url) as session:
        assert len(session.exec(select(Case)).all()) == 1

    before = settled_dump(office)
    for name, content, message in (
        ("trasig.json", b"{inte json", "trasig.json: not valid JSON"),
        ("ansokningar.xlsx", b"PK\x03\x04", "ansokningar.xlsx: expected a .json or .csv file"),
    ):
        refused = post(office, "/intake", files={"export": (name, content, "text/plain")})
        assert refused.status_code == 409 and message in refused.text, refused.text
        assert "uploads" not in refused.text
    assert database_dump(load().home) == before
    assert len(list((load().home / "uploads").iterdir())) == 2


def test_an_empty_export_is_refused_on_the_intake_page(office) -> None:
    sign_in(office, OFFICER)
    before = settled_dump(office)
    header = (SAMPLES / "applications.csv").read_bytes().splitlines()[0]
    for name, content in (("tom.json", b"[]"), ("rubriker.csv", header + b"\n"), ("noll.csv", b"")):
        refused = post(office, "/intake", files={"export": (name, content, "text/plain")})
        assert refused.status_code == 409, refused.text
        said = f"{name}: filen innehåller inga ansökningar; en tom export tas inte emot."
        assert said in refused.text and "ansökningar lästa" not in refused.text
    assert database_dump(load().home) == before
    assert not list((load().home / "uploads").iterdir())


def test_an_upload_while_the_prefect_server_is_away_takes_nothing_in(office, monkeypatch) -> None:
    """Server mode with its Prefect server down: the officer is told, and nothing is kept."""
    sign_in(office, OFFICER)
    before = settled_dump(office)
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    export = (SAMPLES / "applications.json").read_bytes()
    away = post(office, "/intake", files={"export": ("export.json", export, "application/json")})
    assert away.status_code == 503
    assert "Servern som sköter utlysningens automatiska arbete svarar inte" in away.text
    assert "Inget har tagits emot" in away.text
    assert database_dump(load().home) == before
    assert not list((load().home / "uploads").iterdir())


def test_the_delegation_report_as_pdf_and_csv(sample_call, office) -> None:
    ref = to_awaiting_decision("SI-2026-0106", Recommendation.partly_granted, 40000)
    settings = load()
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        maker = session.exec(select(Person).where(Person.email == DECISION_MAKER)).one()
        sign(session, case, maker, Rules.from_config(settings.file))
    today = datetime.now(STOCKHOLM).date().isoformat()
    for who in (OFFICER, DECISION_MAKER):
        sign_in(office, who)
        page = page_text(office.get(f"/delegation-report?first={today}&last={today}"))
        assert ref in page and "Skatekollektivet Askersund" in page and "40 000" in page
    pdf = office.get(f"/delegation-report.pdf?first={today}&last={today}")
    assert pdf.headers["content-type"] == "application/pdf"
    assert f"delegationsbeslut-{today}--{today}.pdf" in pdf.headers["content-disposition"]
    text = " ".join(pdf_pages(pdf.content))
    assert "Anmälan av delegationsbeslut" in text and ref in text
    assert "beviljas delvis" in text and "Summa beviljat 40 000 kr" in text
    listed = office.get(f"/delegation-report.csv?first={today}&last={today}")
    rows = list(csv.DictReader(io.StringIO(listed.content.decode("utf-8"))))
    assert [(r["case_reference"], r["outcome"], r["amount"]) for r in rows] == [
        (ref, "partly_granted", "40000")
    ]
    empty = office.get("/delegation-report?first=2026-01-01&last=2026-01-31")
    assert ref not in empty.text
    wrong = office.get(f"/delegation-report?first={today}&last=2026-01-01")
    assert wrong.status_code == 422 and 'role="alert"' in wrong.text


def test_undelivered_letters_with_their_reasons(sample_call, office) -> None:
    ref = the_case().case_reference
    with transaction(load().db_url) as session:
        letter = session.exec(select(Letter).where(Letter.case_id == the_case().id)).one()
        letter.attempts, letter.last_error = 3, "550 5.1.1 mailbox unavailable"
        session.add(letter)
    hidden = the_case("SI-2026-0101")
    settings = load()
    rules = Rules.from_config(settings.file)
    with transaction(settings.db_url) as session:  # the officer's sister leads the association
        case = session.get(Case, hidden.id)
        officer = session.exec(select(Person).where(Person.email == OFFICER)).one()
        all_met = {c: Finding(Answer.met) for c in Criterion}
        complete_checklist(session, case, officer, all_met, rules, date.today())
        declare_conflict(session, case, officer, ConflictGround.close_relative, "Syster.", rules)
    sign_in(office, OFFICER)
    page = page_text(office.get("/undelivered"))
    # The header and the one letter that failed: letters not yet tried are no one's worry.
    assert page.count("<tr>") == 1 + 1
    assert f'href="/cases/{ref}#letters"' in page and "550 5.1.1 mailbox unavailable" in page
    assert f"/cases/{hidden.case_reference}#" not in page and hidden.project_title not in page
    grants("deliver")
    assert 'href="/cases/' not in office.get("/undelivered").text


def test_community_talks_and_a_funded_projects_reporting(sample_call, office) -> None:
    ref = to_awaiting_decision("SI-2026-0106", Recommendation.granted)
    settings = load()
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        maker = session.exec(select(Person).where(Person.email == DECISION_MAKER)).one()
        sign(session, case, maker, Rules.from_config(settings.file))
    sign_in(office, OFFICER)
    before = settled_dump(office)
    past = post(office, "/talks", {"talk_date": "2020-05-01", "talk_theme": "T", "talk_venue": "V"})
    assert past.status_code == 409 and "Ett samhällssamtal registreras innan det hålls" in past.text
    assert 'value="2020-05-01"' in past.text
    assert database_dump(settings.home) == before
    talk = {"talk_date": "2028-09-01", "talk_theme": "Unga och idrott", "talk_venue": "Conventum"}
    talk |= {"talk_time": "13:30", "talk_ends": "15:30", "talk_address": "Olof Palmes torg 1"}
    # Letters go out in both languages: without the English theme, nothing is registered.
    no_english = post(office, "/talks", talk)
    assert no_english.status_code == 409 and "Temat på svenska och på engelska" in no_english.text
    assert 'value="Unga och idrott"' in no_english.text and 'value="13:30"' in no_english.text
    bad_time = post(office, "/talks", talk | {"talk_theme_en": "Sport", "talk_time": "halv två"})
    assert bad_time.status_code == 409 and "TT:MM" in bad_time.text
    assert database_dump(settings.home) == before
    done = post(office, "/talks", talk | {"talk_theme_en": "Young people and sport"})
    assert done.url.path == "/talks" and "Samhällssamtalet den" in page_text(done)
    assert "Unga och idrott" in done.text and "Young people and sport" in done.text
    assert "13:30" in done.text
    run_flow(sweep, today=date(2028, 6, 5))  # the project ends 30 June 2028: invited now
    assert the_case("SI-2026-0106").state == "reporting"
    assert 'id="presented-on"' in office.get(f"/cases/{ref}").text
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert post(office, f"/cases/{ref}/presentation", {"presented_on": yesterday})
    report = {"final_report_file": ("slutrapport.txt", b"Vi genomforde allt.", "text/plain")}
    assert post(office, f"/cases/{ref}/final-report", files=report).status_code == 200
    # The grant is not paid: the case stays open, and its page says what holds it.
    assert the_case("SI-2026-0106").state == "reporting"
    closing = page_text(office.get(f"/cases/{ref}"))
    assert f"<tr><td>Utbetalning {ref}-1 betald</td><td>nej</td></tr>" in closing


@pytest.mark.browser
def test_the_officers_pages_in_a_browser_meet_wcag_21_aa(
    sample_call, live_office, browser_page
) -> None:
    """The checklist done with the keyboard's labels, an intake upload, and an axe-core scan
    of each of the officer's forms and pages."""
    from tests.test_office_browser import accessibility_violations, browser_sign_in

    base = live_office.state.base_url
    drafting = to_awaiting_decision("SI-2026-0106", Recommendation.partly_granted, 40000, False)
    page = browser_page
    browser_sign_in(page, base, OFFICER)

    ref = the_case("SI-2026-0101").case_reference
    page.goto(f"{base}/cases/{ref}")
    assert accessibility_violations(page) == []
    checklist = page.get_by_role("form", name="Kontroll av grundkraven")
    for group in page.get_by_role("group").all():
        if group.get_by_label("Uppfyllt", exact=True).count():
            group.get_by_label("Uppfyllt", exact=True).check()
    checklist.get_by_role("button", name="Registrera kontrollen").click()
    page.get_by_role("status").filter(has_text="Kontrollen är registrerad").wait_for()
    assert the_case("SI-2026-0101").state == "in_review"
    assert accessibility_violations(page) == []

    page.goto(f"{base}/cases/{drafting}")
    assert accessibility_violations(page) == []
    # Less than applied for and not communicated: refused (FL 25 §), the reason shown.
    page.get_by_role("button", name="Lämna förslaget").click()
    page.get_by_role("alert").filter(has_text="kommunicera det först").wait_for()
    assert the_case("SI-2026-0106").state == "drafting_decision"
    assert accessibility_violations(page) == []

    page.goto(f"{base}/intake")
    page.get_by_label("Formulärexport (.json eller .csv)").set_input_files(
        str(SAMPLES / "mistakes.json")
    )
    page.get_by_role("button", name="Registrera ansökningarna").click()
    page.get_by_role("table", name="Poster som inte kunde registreras").wait_for()
    assert accessibility_violations(page) == []
    for path in ("/talks", "/undelivered", "/delegation-report"):
        page.goto(base + path)
        assert accessibility_violations(page) == [], path


def captions(page: str) -> dict[str, str]:
    """Each table of the page by its caption: the table's text."""
    return {
        caption: table
        for caption, table in re.findall(r"<caption>([^<]+)</caption>(.*?)</table>", page, re.S)
    }


def test_the_draft_to_the_decision_maker_is_not_listed_as_a_letter_to_the_applicant(
    sample_call, office
) -> None:
    ref = to_awaiting_decision("SI-2026-0101", Recommendation.granted)
    sign_in(office, OFFICER)
    tables = captions(office.get(f"/cases/{ref}").text)
    to_applicant = tables["Brev till sökande"]
    assert f"{ref}-mottagningsbekraftelse.pdf" in to_applicant
    assert "forslag-till-beslut" not in to_applicant
    assert (
        f"{ref}-forslag-till-beslut-1.pdf"
        in tables["Förslag till beslut som skickats till beslutsfattaren"]
    )


@pytest.mark.parametrize("who", [ACTIVA, OFFICER, DECISION_MAKER])
def test_the_menu_names_each_page_once(sample_call, office, who: str) -> None:
    sign_in(office, who)
    menu = re.search(r"<nav aria-label=[^>]+>(.*?)</nav>", office.get("/tasks").text, re.S)
    pages = re.findall(r'<a href="([^"]+)"', menu.group(1))
    assert len(pages) == len(set(pages)), pages
    assert ("/reviews" in pages) == (who != DECISION_MAKER)


def test_the_meeting_note_is_offered_once_the_meeting_has_ended(sample_call, office) -> None:
    """Before its end the page says when the note can be written (and the domain refuses
    one, tests.test_meetings_and_delays); after it, the form is there."""
    ref = the_case().case_reference
    grants("checklist", ref, "--as", OFFICER, *CLI_ALL_MET)
    reviewed_by_activa_and_the_officer(ref)
    sign_in(office, OFFICER)
    day = next_working_day(date.today() + timedelta(days=7))
    booking = {"meeting_date": day.isoformat(), "meeting_time": "10:00"}
    booking |= {"meeting_place": "Regionens hus, Eklundavägen 1, Örebro", "meeting_minutes": "60"}
    assert post(office, f"/cases/{ref}/meeting/book", booking).status_code == 200
    page = page_text(office.get(f"/cases/{ref}"))
    assert 'id="meeting-note"' not in page
    assert "Tjänsteanteckningen kan skrivas när mötet är slut" in page and "11:00" in page
    with transaction(load().db_url) as session:  # time passes: the meeting ended a minute ago
        meeting = session.exec(select(Meeting)).one()
        meeting.ends_at = utcnow() - timedelta(minutes=1)
        meeting.starts_at = meeting.ends_at - timedelta(minutes=60)
        session.add(meeting)
    page = page_text(office.get(f"/cases/{ref}"))
    assert 'id="meeting-note"' in page and "kan skrivas när mötet är slut" not in page
