"""The office for lawful casework: everything the command line can do, the case
officer can do through the case page's forms. Each step: the form does it, and a refusal
shows the domain's message on the page, keeps what was typed and changes nothing."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from grants.settings import load
from models.checklist import Finding, complete_checklist
from models.db import transaction
from models.decisions import sign
from models.meetings import skip_meeting
from models.reviews import declare_conflict, submit_review
from models.rules import Rules
from models.tables import (
    Answer,
    Case,
    Communication,
    ConflictGround,
    Criterion,
    Decision,
    Document,
    FileNote,
    Letter,
    Person,
    Recommendation,
    SupplementRequest,
)
from models.working_days import next_working_day
from tests.helpers import (
    ACTIVA,
    DECISION_MAKER,
    OFFICER,
    database_dump,
    pdf_pages,
    settled_dump,
)
from tests.office import post, sign_in
from tests.test_decisions import to_awaiting_decision
from tests.test_office_officer import ALL_MET, page_text, sent, the_case

HALLEFORS = "SI-2026-0101"
ASKERSUND = "SI-2026-0106"
KARLSKOGA = "SI-2026-0108"  # the applicant asked for English
WITHDRAWAL = {"withdrawal_file": ("aterkallelse.txt", b"Vi drar tillbaka ansokan.", "text/plain")}
DRAFT_WORDING = {f"draft_reason_{c.value}": f"Beslutet: {c.value} är uppfyllt." for c in Criterion}


@pytest.fixture
def registered(sample_call, office) -> str:
    """The sample applications registered, the case officer signed in; the first case."""
    sign_in(office, OFFICER)
    return the_case().case_reference


def reviewed(submission_id: str, recommendation: Recommendation, amount: int | None) -> str:
    """The checklist all met and two reviews in (Lena Holm's and the officer's): the case
    waits for its applicant meeting. Returns its reference."""
    settings = load()
    rules = Rules.from_config(settings.file)
    with transaction(settings.db_url) as session:
        people = {p.email: p for p in session.exec(select(Person))}
        case = session.exec(select(Case).where(Case.submission_id == submission_id)).one()
        all_met = {c: Finding(Answer.met) for c in Criterion}
        complete_checklist(session, case, people[OFFICER], all_met, rules, date.today())
        for email in (ACTIVA, OFFICER):
            declare_conflict(session, case, people[email], ConflictGround.none, "", rules)
            submit_review(
                session,
                case,
                people[email],
                recommendation,
                amount,
                {c: f"{people[email].name} om {c.value}." for c in Criterion},
                [],
                "",
                rules,
            )
        return case.case_reference


def drafting(submission_id: str, recommendation: Recommendation, amount: int | None) -> str:
    """Reviewed, and the meeting skipped: the draft decision is next."""
    ref = reviewed(submission_id, recommendation, amount)
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        officer = session.exec(select(Person).where(Person.email == OFFICER)).one()
        skip_meeting(session, case, officer, "Ansökan är tydlig.")
    return ref


def unchanged_refusal(office, url: str, data: dict, message: str, files=None) -> str:
    """Post a form the domain refuses: 409, its message in an alert, nothing changed."""
    before = settled_dump(office)
    refused = post(office, url, data, files=files)
    assert refused.status_code == 409, refused.text
    text = page_text(refused)
    assert 'role="alert"' in text and message in text, text
    assert database_dump(load().home) == before
    return text


def test_a_supplement_request_examines_as_it_stands_unless_dismissal_is_reasoned(
    office, registered: str
) -> None:
    ref = registered
    page = page_text(office.get(f"/cases/{ref}"))
    assert 'value="examine" checked' in page  # the default: examined as it stands
    assert "skriv det på svenska" in page  # the reason goes into the letter as written
    unclear = ALL_MET | {"innovative": "unclear", "note_innovative": "Budget saknas."}
    unclear |= {"checklist_missing": "Projektets budget"}
    typed = unchanged_refusal(
        office,
        f"/cases/{ref}/checklist",
        unclear | {"checklist_if_no_reply": "dismiss"},
        "Avvisning är bara för en brist som hindrar att ansökan prövas alls (20 § FL)",
    )
    assert 'value="dismiss" checked' in typed and "Projektets budget" in typed
    unchanged_refusal(
        office,
        f"/cases/{ref}/checklist",
        unclear | {"checklist_dismiss_because": "Utan budget kan ansökan inte prövas."},
        "men begäran är att pröva ärendet i befintligt skick",
    )

    because = "Utan budget kan ansökan inte prövas."
    dismiss = {"checklist_if_no_reply": "dismiss", "checklist_dismiss_because": because}
    assert post(office, f"/cases/{ref}/checklist", unclear | dismiss).status_code == 200
    sent(office)
    with transaction(load().db_url) as session:
        request = session.exec(select(SupplementRequest)).one()
        assert (request.on_expiry, request.dismiss_because) == ("dismiss", because)
        letter = session.exec(
            select(Letter).where(
                Letter.kind == "supplement_request", Letter.case_id == request.case_id
            )
        ).one()
        text = " ".join(" ".join(pdf_pages(letter.pdf)).split())
    assert because in text  # the letter says why the gap prevents examination

    # Before the meeting: a request with nothing chosen is examined as it stands.
    other = reviewed(ASKERSUND, Recommendation.granted, None)
    unchanged_refusal(
        office,
        f"/cases/{other}/supplement-request",
        {"request_missing": "Intyg", "request_if_no_reply": "dismiss"},
        "skriv varför den här gör det",
    )
    asked = post(office, f"/cases/{other}/supplement-request", {"request_missing": "Intyg"})
    assert asked.status_code == 200
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == other)).one()
        request = session.exec(
            select(SupplementRequest).where(SupplementRequest.case_id == case.id)
        ).one()
        assert (request.on_expiry, request.dismiss_because) == ("examine", "")


def test_meetings_keep_office_hours_and_no_double_bookings(office, registered: str) -> None:
    first = reviewed(HALLEFORS, Recommendation.granted, None)
    second = reviewed(ASKERSUND, Recommendation.granted, None)
    page = page_text(office.get(f"/cases/{first}"))
    assert "inom kontorstid, 08:00–17:00" in page  # the configured hours, as a hint

    day = next_working_day(date.today() + timedelta(days=7))
    sunday = day + timedelta(days=6 - day.weekday())
    booking = {"meeting_date": day.isoformat(), "meeting_time": "10:00", "meeting_minutes": "60"}
    booking |= {"meeting_place": "Sal A, Regionens hus"}
    url = f"/cases/{first}/meeting/book"
    on_sunday = unchanged_refusal(
        office,
        url,
        booking | {"meeting_date": sunday.isoformat()},
        "är inte en arbetsdag; möten med sökande hålls på arbetsdagar",
    )
    assert 'value="Sal A, Regionens hus"' in on_sunday  # what was typed is kept
    unchanged_refusal(
        office, url, booking | {"meeting_time": "16:30"}, "måste ligga inom kontorstid, 08:00–17:00"
    )

    assert post(office, url, booking).status_code == 200
    assert "Sal A, Regionens hus" in page_text(office.get(f"/cases/{first}"))
    again = f"/cases/{second}/meeting/book"
    unchanged_refusal(
        office, again, booking, "Sal A, Regionens hus är redan bokat"
    )  # the same room
    elsewhere = booking | {"meeting_place": "Sal B"}  # the same people (Lena Holm, the officer)
    unchanged_refusal(office, again, elsewhere, "är redan med i ett annat möte")
    later = elsewhere | {"meeting_time": "13:00"}
    assert post(office, again, later).status_code == 200
    assert the_case(ASKERSUND).state == "applicant_meeting"


def test_the_draft_is_worded_beside_the_findings(office, registered: str) -> None:
    ref = drafting(HALLEFORS, Recommendation.refused, None)
    page = page_text(office.get(f"/cases/{ref}"))
    # Side by side: the checklist's and each reviewer's finding per requirement.
    assert "Lena Holm om innovative." in page and "Maria Lindqvist om innovative." in page
    assert page.count("vad som har bedömts</caption>") == 4
    # The decision's own wording starts empty: the reviews are input, not the text.
    assert '<textarea id="draft-reason-innovative" name="draft_reason_innovative"' in page
    assert ">Lena Holm om innovative.</textarea>" not in page
    assert 'id="draft-not-met-innovative"' in page
    assert "Medfinansiering: 5 000 kr i pengar + 100 timmar × 330 kr = 38 000 kr" in page
    assert 'id="draft-reply-assessment"' not in page  # nothing was communicated

    url = f"/cases/{ref}/draft"
    refusal = DRAFT_WORDING | {"draft_outcome": "refused", "draft_decisive": "Inte nytt."}
    typed = unchanged_refusal(
        office,
        url,
        refusal | {"draft_reason_innovative": ""},
        "Saknas: Nyskapande med långsiktiga och hållbara effekter.",
    )
    assert "Beslutet: benefit_to_society är uppfyllt." in typed
    grant = DRAFT_WORDING | {"draft_outcome": "granted", "draft_amount": "35 000"}
    grant |= {"draft_not_met_innovative": "yes"}
    kept = unchanged_refusal(
        office,
        url,
        grant,
        "”Beviljas” kräver att alla grundkrav är uppfyllda; inte uppfyllt: Nyskapande med",
    )
    assert 'name="draft_not_met_innovative" value="yes" checked' in kept

    not_new = {"draft_not_met_innovative": "yes"}
    not_new |= {"draft_reason_innovative": "Verksamheten finns redan i kommunen."}
    assert post(office, url, refusal | not_new).status_code == 200
    with transaction(load().db_url) as session:
        draft = session.exec(select(Decision)).one()
        assert draft.outcome == "refused" and draft.findings["innovative"] == "not_met"
        assert draft.findings["benefit_to_society"] == "met"
        assert draft.reasons["innovative"] == "Verksamheten finns redan i kommunen."
    page = page_text(office.get(f"/cases/{ref}"))
    assert ">Verksamheten finns redan i kommunen.</textarea>" in page  # the latest version
    assert 'name="draft_not_met_innovative" value="yes" checked' in page


def test_an_english_case_asks_for_english_wording(office, registered: str) -> None:
    received = page_text(office.get(f"/cases/{the_case(KARLSKOGA).case_reference}"))
    assert "skriv det som sökanden läser" in received  # the checklist's notes reach them
    ref = drafting(KARLSKOGA, Recommendation.granted, None)
    page = page_text(office.get(f"/cases/{ref}"))
    assert "Sökanden har bett om engelska" in page  # above the draft's wording
    assert "skriv det på engelska" in page  # what closing the case would rest on


def test_submitting_needs_a_reason_only_for_an_uncommunicated_adverse_draft(
    office, registered: str
) -> None:
    granted = drafting(HALLEFORS, Recommendation.granted, None)
    assert post(office, f"/cases/{granted}/draft", DRAFT_WORDING).status_code == 200
    page = page_text(office.get(f"/cases/{granted}"))
    assert "Varför kommunicering inte behövs (valfritt)" in page
    assert 'name="no_communication_because" maxlength="4000" aria-describedby' in page  # optional
    assert post(office, f"/cases/{granted}/submit-draft", {}).status_code == 200
    assert the_case(HALLEFORS).state == "awaiting_decision"

    cut = drafting(ASKERSUND, Recommendation.partly_granted, 40_000)
    partly = DRAFT_WORDING | {"draft_decisive": "Resebudgeten är för hög."}
    assert post(office, f"/cases/{cut}/draft", partly).status_code == 200
    unchanged_refusal(office, f"/cases/{cut}/submit-draft", {}, "kommunicera det först")
    why = "Sökanden föreslog själv beloppet i sin komplettering."
    done = post(office, f"/cases/{cut}/submit-draft", {"no_communication_because": why})
    assert done.status_code == 200 and the_case(ASKERSUND).state == "awaiting_decision"
    with transaction(load().db_url) as session:
        note = session.exec(select(FileNote).where(FileNote.kind == "no_communication")).one()
        assert note.text == why  # in the file


@pytest.mark.parametrize("has_comments", [False, True])
def test_a_reply_without_comments_needs_no_assessment(
    office, registered: str, has_comments: bool
) -> None:
    ref = drafting(ASKERSUND, Recommendation.partly_granted, 40_000)
    partly = DRAFT_WORDING | {"draft_decisive": "Resebudgeten är för hög."}
    assert post(office, f"/cases/{ref}/draft", partly).status_code == 200
    reply = {"reply_file": ("svar.txt", b"Vi har inga synpunkter.", "text/plain")}
    unchanged_refusal(
        office,
        f"/cases/{ref}/reply",
        {},
        "det här steget tas bara när det har status",
        files=reply,
    )
    assert post(office, f"/cases/{ref}/communicate").status_code == 200
    page = page_text(office.get(f"/cases/{ref}"))
    assert "Sökanden meddelar att de inte har några synpunkter" in page
    data = {} if has_comments else {"reply_no_comments": "yes"}
    assert post(office, f"/cases/{ref}/reply", data, files=reply).status_code == 200
    with transaction(load().db_url) as session:
        assert session.exec(select(Communication)).one().reply_has_comments is has_comments
    page = page_text(office.get(f"/cases/{ref}"))
    assert ('id="draft-reply-assessment"' in page) is has_comments
    again = post(office, f"/cases/{ref}/draft", partly)
    assert again.status_code == (409 if has_comments else 200)


def test_a_withdrawal_without_its_reason_is_refused(office, registered: str) -> None:
    ref = registered
    page = page_text(office.get(f"/cases/{ref}"))
    assert 'id="withdrawal-heading"' in page and "skriv det på svenska" in page
    typed = unchanged_refusal(
        office,
        f"/cases/{ref}/withdrawal",
        {"withdrawal_reason": " "},
        "Skriv vad beslutet att avskriva ärendet grundas på.",
        files=WITHDRAWAL,
    )
    assert 'id="withdrawal-reason"' in typed


def test_a_withdrawal_takes_the_case_to_a_draft_that_closes_it(office, registered: str) -> None:
    ref = registered
    reason = "Sökanden har återkallat ansökan."
    url = f"/cases/{ref}/withdrawal"
    done = post(office, url, {"withdrawal_reason": reason}, files=WITHDRAWAL)
    assert done.status_code == 200 and "Återkallelsen aterkallelse.txt" in page_text(done)
    case = the_case()
    assert (case.state, case.proposed_outcome, case.proposal_reason) == (
        "drafting_decision",
        "closed",
        reason,
    )
    with transaction(load().db_url) as session:
        assert session.exec(select(Document).where(Document.kind == "withdrawal")).one()
    # The draft that closes the case: no findings on the requirements, the reason decisive.
    assert post(office, f"/cases/{ref}/draft", {"draft_outcome": ""}).status_code == 200
    with transaction(load().db_url) as session:
        draft = session.exec(select(Decision)).one()
        assert (draft.outcome, draft.decisive, draft.findings) == ("closed", reason, {})
    assert post(office, f"/cases/{ref}/submit-draft", {}).status_code == 200  # against no one
    assert the_case().state == "awaiting_decision"


def test_a_decided_case_cannot_be_withdrawn(office, registered: str) -> None:
    ref = to_awaiting_decision(HALLEFORS, Recommendation.granted)
    settings = load()
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        maker = session.exec(select(Person).where(Person.email == DECISION_MAKER)).one()
        sign(session, case, maker, Rules.from_config(settings.file))
    assert 'id="withdrawal-heading"' not in office.get(f"/cases/{ref}").text
    unchanged_refusal(
        office,
        f"/cases/{ref}/withdrawal",
        {"withdrawal_reason": "Återkallad."},
        "det här steget tas bara när det har status",
        files=WITHDRAWAL,
    )


def test_a_case_undecided_six_months_is_on_my_tasks(office, registered: str) -> None:
    ref = registered
    with transaction(load().db_url) as session:  # received seven months ago
        case = session.exec(select(Case).where(Case.case_reference == ref)).one()
        case.date_received = date.today() - timedelta(days=214)
        session.add(case)
    tasks = page_text(office.get("/tasks"))
    assert "Oavgjort i sex månader: sökanden får begära att ärendet avgörs" in tasks
    assert tasks.count(f'<a href="/cases/{ref}">{ref}</a>') == 2  # the checklist, and FL 12 §
