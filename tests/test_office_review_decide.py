"""The advisor's review and the decision maker's decision, in the office.

Cases are brought to review (and to the decision maker) through the domain, as the
command line would; then each person acts in the office, signed in with the link from the
outbox. Kryddgården Lindesberg (SI-2026-0105) names Coompanion Mälardalen as a partner,
so Johan Ek of Coompanion has a conflict of interest in it; after he declares it, the case
does not exist for him anywhere in the office.
"""

import html
import re
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import select

from flows.letters import send_letters
from grants.embedded import run_flow
from grants.render import format_date
from grants.settings import load
from models import clock
from models.audit import Actor
from models.checklist import Finding, complete_checklist
from models.db import transaction
from models.rules import Rules
from models.supplements import file_document
from models.tables import (
    Answer,
    Case,
    Criterion,
    Decision,
    Document,
    Letter,
    Person,
    Recommendation,
    ReviewTask,
)
from tests.helpers import ACTIVA, COOMPANION, DECISION_MAKER, OFFICER, database_dump
from tests.office import form_token, post, sign_in
from tests.test_decisions import to_awaiting_decision

REASONS = {
    "reason_benefit_to_society": "Tydlig nytta för kvinnor som står långt från arbete.",
    "reason_innovative": "Kopplar odling till förädling och försäljning.",
    "reason_new_locally": "Inget liknande i Lindesberg.",
    "reason_anchored_with_partners": "Kommunen och Bergslagens Livs står bakom.",
}


def text(response) -> str:
    """A page's words, as read: entities decoded, no-break spaces as spaces."""
    return html.unescape(response.text).replace("\u00a0", " ")


def person_in_office(office: TestClient, email: str) -> TestClient:
    """A browser of its own (its own cookies) on the same office, signed in, in English."""
    client = TestClient(office.app, base_url="http://127.0.0.1:8000")
    sign_in(client, email)
    post(client, "/language", {"language": "en", "next": "/tasks"})
    return client


def database(home: Path) -> list[str]:
    """The case database, less when each person's session was last seen (bookkeeping that
    any page view may touch, not a change any step made)."""
    return [row for row in database_dump(home) if "office_sessions" not in row]


def refused_unchanged(office: TestClient, expected_status: int, request) -> str:
    """Make a request that must be refused; the database must be as before (taken once the
    office's background sending has done what earlier steps ordered). The page."""
    settled = office.app.state.office
    assert settled.follow_up.wait_idle(60)
    before = database(settled.settings.home)
    response = request()
    assert response.status_code == expected_status, response.text
    assert database(settled.settings.home) == before
    return text(response)


def assert_no_such_case(
    client: TestClient, home: Path, url: str, ref: str, data: dict | None = None, status=404
) -> None:
    """`url` of case `ref` answers word for word as the same address of a case that does
    not exist (but for the address itself), 404 unless told, and changes nothing."""

    def answer(address: str) -> tuple[int, str]:
        before = database(home)
        response = client.get(address) if data is None else post(client, address, data)
        assert database(home) == before
        return response.status_code, text(response).replace(address, "ADDRESS")

    assert answer(url) == (status, answer(url.replace(ref, "26RS9999"))[1]), url


def in_review(*submission_ids: str) -> dict[str, str]:
    """These sample cases (the test's `sample_call`) through the checklist (all met) to
    review; each gets a document (the applicant's budget) and its acknowledgement's PDF."""
    settings = load()
    refs = {}
    with transaction(settings.db_url) as session:
        officer = session.exec(select(Person).where(Person.email == OFFICER)).one()
        for submission_id in submission_ids:
            case = session.exec(select(Case).where(Case.submission_id == submission_id)).one()
            findings = {c: Finding(Answer.met) for c in Criterion}
            complete_checklist(
                session, case, officer, findings, Rules.from_config(settings.file), date.today()
            )
            file_document(
                session, case, Actor.of(officer), "attachment", "budget.txt", b"Budget: 96 000 kr"
            )
            refs[submission_id] = case.case_reference
    run_flow(send_letters)
    return refs


def review_task_of(email: str, ref: str) -> ReviewTask:
    with transaction(load().db_url) as session:
        return session.exec(
            select(ReviewTask)
            .join(Case)
            .join(Person, Person.id == ReviewTask.reviewer_id)
            .where(Case.case_reference == ref, Person.email == email)
        ).one()


def test_an_advisor_declares_no_conflict_then_reviews(
    sample_call, office: TestClient, grants_home: Path
):
    refs = in_review("SI-2026-0105", "SI-2026-0108")
    ref, english = refs["SI-2026-0105"], refs["SI-2026-0108"]
    lena = person_in_office(office, ACTIVA)

    listed = text(lena.get("/reviews"))
    assert ref in listed and english in listed
    assert "2 applications wait for your review" in listed
    assert "Declare any conflict of interest, then review" in listed

    page = text(lena.get(f"/reviews/{ref}"))
    assert "Kryddgården" in page and "Coompanion Mälardalen" in page  # the application
    assert "Benefit to society" in page and "Met" in page  # the checklist's findings
    [document] = re.findall(rf'href="(/cases/{ref}/documents/\d+)"', page)
    assert lena.get(document).content == b"Budget: 96 000 kr"
    assert "Conflict of interest (Förvaltningslagen 16 §)" in page
    assert "Submit the review" not in page  # the declaration comes first

    # Reviewing before declaring is refused, and changes nothing.
    early = refused_unchanged(
        office,
        409,
        lambda: post(lena, f"/reviews/{ref}/review", {"recommendation": "granted"} | REASONS),
    )
    assert "must first declare any conflict of interest" in early

    declared = post(lena, f"/reviews/{ref}/declaration", {"conflict": "none"})
    assert "No conflict of interest declared. Your review is next." in text(declared)
    assert "Submit the review" in text(declared)
    assert "write your reasons, suggestions and comments in English" not in text(declared)

    # A review without two of its reasons: refused with the message, what was typed kept.
    partial = {k: v for k, v in REASONS.items() if "new_locally" not in k and "anchored" not in k}
    bad = refused_unchanged(
        office,
        409,
        lambda: post(
            lena,
            f"/reviews/{ref}/review",
            {"recommendation": "partly_granted", "proposed_amount": "40 000"} | partial,
        ),
    )
    assert "Missing: New locally, Anchored with partners." in bad
    assert REASONS["reason_innovative"] in bad and 'value="40 000"' in bad
    too_much = refused_unchanged(
        office,
        409,
        lambda: post(
            lena,
            f"/reviews/{ref}/review",
            {"recommendation": "partly_granted", "proposed_amount": "60000"} | REASONS,
        ),
    )
    assert "must be at least SEK 20,000 and less than the SEK 48,000 applied for" in too_much

    done = post(
        lena,
        f"/reviews/{ref}/review",
        {
            "recommendation": "partly_granted",
            "proposed_amount": "40 000",
            "other_funding": "Allmänna arvsfonden\n\nMikrofonden Mälardalen\n",
            "comments": "Budgeten för lokalhyra är hög.",
        }
        | REASONS,
    )
    shown = text(done)
    assert "Your review is submitted" in shown and "cannot be changed" in shown
    assert "SEK 40,000" in shown and "Submit the review" not in shown
    task = review_task_of(ACTIVA, ref)
    assert (task.status, task.recommendation, task.proposed_amount) == (
        "submitted",
        "partly_granted",
        40_000,
    )
    assert task.other_funding == ["Allmänna arvsfonden", "Mikrofonden Mälardalen"]
    assert task.reasons["new_locally"] == "Inget liknande i Lindesberg."
    assert ref not in text(lena.get("/reviews"))  # done: no longer waiting
    again = refused_unchanged(
        office,
        409,
        lambda: post(lena, f"/reviews/{ref}/review", {"recommendation": "granted"} | REASONS),
    )
    assert "it is part of the record" in again

    # A case in English: the form says to write for it in English.
    post(lena, f"/reviews/{english}/declaration", {"conflict": "none"})
    assert "write your reasons, suggestions and comments in English" in text(
        lena.get(f"/reviews/{english}")
    )


def test_a_declared_conflict_removes_the_case_from_the_advisor(
    sample_call, office: TestClient, grants_home: Path
):
    refs = in_review("SI-2026-0105", "SI-2026-0101")
    ref, other = refs["SI-2026-0105"], refs["SI-2026-0101"]
    johan = person_in_office(office, COOMPANION)
    assert "2 tasks wait for you" in text(johan.get("/tasks"))
    page = text(johan.get(f"/reviews/{ref}"))
    [document] = re.findall(rf'href="(/cases/{ref}/documents/\d+)"', page)
    assert johan.get(document).status_code == 200

    # Coompanion is a partner: "no conflict" is refused; a conflict needs its note.
    partner = refused_unchanged(
        office, 409, lambda: post(johan, f"/reviews/{ref}/declaration", {"conflict": "none"})
    )
    assert "Coompanion Mälardalen" in partner and "is a partner" in partner
    no_note = refused_unchanged(
        office,
        409,
        lambda: post(johan, f"/reviews/{ref}/declaration", {"conflict": "own_organisation"}),
    )
    ground = "The matter concerns my own organisation"
    assert f"Say what the conflict of interest (“{ground}”) consists of." in no_note
    assert 'value="own_organisation" checked' in no_note

    declared = post(
        johan,
        f"/reviews/{ref}/declaration",
        {"conflict": "own_organisation", "note": "Coompanion är samarbetspartner."},
        follow_redirects=False,
    )
    assert (declared.status_code, declared.headers["location"]) == (303, "/tasks")
    tasks = text(johan.get("/tasks"))
    assert "removed from the case" in tasks
    assert ref not in tasks and other in tasks and "1 task waits for you" in tasks
    reviews = text(johan.get("/reviews"))
    assert ref not in reviews and "1 application waits for your review" in reviews
    assert "Kryddgården" not in text(johan.get("/cases?q=Kryddg%C3%A5rden"))

    # Every address of the case answers exactly as for a case that does not exist.
    for url in (f"/reviews/{ref}", document):
        assert_no_such_case(johan, grants_home, url, ref)
    assert_no_such_case(johan, grants_home, f"/cases/{ref}", ref, status=403)  # no advisor's
    assert_no_such_case(
        johan, grants_home, f"/reviews/{ref}/declaration", ref, {"conflict": "none"}
    )
    data = {"recommendation": "granted"} | REASONS
    assert_no_such_case(johan, grants_home, f"/reviews/{ref}/review", ref, data)
    assert review_task_of(COOMPANION, ref).conflict_note == "Coompanion är samarbetspartner."


def test_a_conflicted_case_officer_no_longer_finds_the_case(
    sample_call, office: TestClient, grants_home: Path
):
    ref = in_review("SI-2026-0105")["SI-2026-0105"]
    maria = person_in_office(office, OFFICER)
    with transaction(load().db_url) as session:
        letter = session.exec(select(Letter).join(Case).where(Case.case_reference == ref)).one()
        document = session.exec(select(Document).join(Case).where(Case.case_reference == ref)).one()
    files = (f"/cases/{ref}/letters/{letter.id}", f"/cases/{ref}/documents/{document.id}")
    assert all(maria.get(url).status_code == 200 for url in files)
    assert ref in text(maria.get("/cases?q=Kryddg%C3%A5rden"))

    post(maria, f"/reviews/{ref}/declaration", {"conflict": "other", "note": "Min bror."})
    assert ref not in text(maria.get("/cases"))
    assert ref not in text(maria.get("/cases?q=Kryddg%C3%A5rden"))
    assert ref not in text(maria.get("/tasks")) and ref not in text(maria.get("/reviews"))
    for url in (f"/cases/{ref}", f"/reviews/{ref}", *files):
        assert_no_such_case(maria, grants_home, url, ref)


def test_reviews_need_a_reviewer_signed_in_and_the_form_token(
    sample_call, office: TestClient, grants_home: Path
):
    ref = in_review("SI-2026-0105")["SI-2026-0105"]
    signed_out = TestClient(office.app, base_url="http://127.0.0.1:8000")
    for url in ("/reviews", f"/reviews/{ref}"):
        response = signed_out.get(url, follow_redirects=False)
        assert response.headers["location"] == f"/login?next={url}"
    refused_unchanged(
        office,
        403,
        lambda: signed_out.post(f"/reviews/{ref}/declaration", data={"conflict": "none"}),
    )

    lena = person_in_office(office, ACTIVA)
    post(lena, "/language", {"language": "sv", "next": "/tasks"})  # the default language
    swedish = text(lena.get(f"/reviews/{ref}"))
    assert "Jäv (förvaltningslagen 16 §)" in swedish and "Lämna jävsförklaringen" in swedish
    assert "Mina granskningar" in swedish  # in the menu
    form_token(lena)
    for token in ({}, {"csrf_token": "not-the-token"}):
        refused_unchanged(
            office,
            403,
            lambda token=token: lena.post(
                f"/reviews/{ref}/declaration", data={"conflict": "none"} | token
            ),
        )

    karin = person_in_office(office, DECISION_MAKER)  # not a reviewer
    assert karin.get("/reviews").status_code == 403
    assert karin.get(f"/reviews/{ref}").status_code == 403
    refused_unchanged(
        office, 403, lambda: post(karin, f"/reviews/{ref}/declaration", {"conflict": "none"})
    )


def awaiting_decision(*submission_ids: str) -> dict[str, str]:
    """These sample cases (the test's `sample_call`) with the decision maker (reviews granted)."""
    return {s: to_awaiting_decision(s, Recommendation.granted) for s in submission_ids}


def test_the_decision_maker_reads_the_draft_and_signs(
    sample_call, office: TestClient, grants_home: Path
):
    ref = awaiting_decision("SI-2026-0106")["SI-2026-0106"]
    karin = person_in_office(office, DECISION_MAKER)

    listed = text(karin.get("/decisions"))
    assert ref in listed and "1 draft decision waits for your decision" in listed
    assert "Granted" in listed and "SEK 50,000" in listed
    assert "Skatekollektivet Askersund" in listed  # the applicant
    assert f"{format_date(clock.today(), 'en')} at " in listed  # waiting since, in Sweden
    in_list = text(karin.get("/cases?state=awaiting_decision"))
    assert ref in in_list and "Skatekollektivet Askersund" in in_list and "1 case" in in_list

    waiting = text(karin.get(f"/decisions/{ref}"))
    assert "The draft's PDF is being made" in waiting and "<iframe" not in waiting
    run_flow(send_letters)
    page = text(karin.get(f"/decisions/{ref}"))
    [frame] = re.findall(r'<iframe src="([^"]+)"', page)
    assert frame.startswith(f"/cases/{ref}/letters/")
    assert karin.get(frame).headers["content-type"] == "application/pdf"
    assert "Left in the call now" in page and "SEK 600,000" in page
    assert "Left after this grant" in page and "SEK 550,000" in page
    assert "Not communicated." in page  # granted as applied for: nothing against them
    assert "Maria Lindqvist" in page  # the presenting officer
    assert "Beslutets bedömning av benefit_to_society." in page  # the draft's own wording
    assert page.count("<td>Met</td>") == 4  # met, per requirement
    assert "SEK 10,000 in cash + 130 hours × SEK 330 = SEK 52,900, against SEK 50,000" in page
    assert "enough (at least as much as the grant)" in page

    # Nobody but the decision maker signs: the case officer and an advisor are refused.
    for email in (OFFICER, ACTIVA):
        other = person_in_office(office, email)
        assert other.get(f"/decisions/{ref}").status_code == 403
        assert other.get(f"/decisions/{ref}/sign").status_code == 403
        refused = refused_unchanged(
            office, 403, lambda other=other: post(other, f"/decisions/{ref}/sign")
        )
        assert "Only a person with the role Decision maker may do this" in refused

    # Signed out: to the sign-in page; a form without its token: refused.
    signed_out = TestClient(office.app, base_url="http://127.0.0.1:8000")
    response = signed_out.get(f"/decisions/{ref}", follow_redirects=False)
    assert response.headers["location"] == f"/login?next=/decisions/{ref}"
    refused_unchanged(office, 403, lambda: signed_out.post(f"/decisions/{ref}/sign"))
    for token in ({}, {"csrf_token": "forged"}):
        refused_unchanged(
            office, 403, lambda token=token: karin.post(f"/decisions/{ref}/sign", data=token)
        )

    post(karin, "/language", {"language": "sv", "next": "/tasks"})  # the default language
    swedish = text(karin.get(f"/decisions/{ref}/sign"))
    assert "Signera beslutet?" in swedish and "50 000 kr" in swedish and "Beviljas" in swedish
    post(karin, "/language", {"language": "en", "next": "/tasks"})
    confirm = text(karin.get(f"/decisions/{ref}/sign"))
    assert "Sign the decision?" in confirm
    assert "Granted" in confirm and "SEK 50,000" in confirm and "Askersund" in confirm
    signed = post(karin, f"/decisions/{ref}/sign", follow_redirects=False)
    assert (signed.status_code, signed.headers["location"]) == (303, "/decisions")
    after = text(karin.get("/decisions"))
    assert "The decision is signed" in after and ref not in after
    assert office.app.state.office.follow_up.wait_idle(60)
    letter = message_from_bytes(
        (load().outbox_dir / f"{ref}-beslut.eml").read_bytes(), policy=policy.default
    )
    assert letter["Subject"].startswith(f"Beslut {ref}")
    assert letter["To"] == "styrelsen@skatekollektivet.example.org"  # the applicant
    assert [a.get_filename() for a in letter.iter_attachments()] == [f"{ref}-beslut.pdf"]
    with transaction(load().db_url) as session:
        decision = session.exec(select(Decision).where(Decision.status == "signed")).one()
        assert (decision.decided_by, decision.amount) == (DECISION_MAKER, 50_000)
    # Signed is final: a second signature is refused.
    assert "is “Decided”" in refused_unchanged(
        office, 409, lambda: post(karin, f"/decisions/{ref}/sign")
    )


def test_the_decision_maker_amends_and_sends_back(
    sample_call, office: TestClient, grants_home: Path
):
    ref = to_awaiting_decision("SI-2026-0106", Recommendation.partly_granted, 40_000)
    other = to_awaiting_decision("SI-2026-0101", Recommendation.granted)
    karin = person_in_office(office, DECISION_MAKER)
    page = text(karin.get(f"/decisions/{ref}"))
    assert "Sökanden har själv föreslagit beslutet vid mötet." in page  # why not communicated

    amended = {
        "outcome": "partly_granted",
        "granted_amount": "45 000",
        "decisive": "Kostnaderna för resor är för höga.",
        "conditions": "Redovisa resorna särskilt.",
    }
    too_much = refused_unchanged(
        office,
        409,
        lambda: post(karin, f"/decisions/{ref}/amend", amended | {"granted_amount": "60 000"}),
    )
    assert "must be between SEK 20,000 and SEK 49,999" in too_much and 'value="60 000"' in too_much
    assert "Kostnaderna för resor är för höga." in too_much
    # Less than the applicant has seen (FL 25 §): it goes back to be communicated instead.
    further = refused_unchanged(
        office,
        409,
        lambda: post(karin, f"/decisions/{ref}/amend", amended | {"granted_amount": "30 000"}),
    )
    assert "goes further against the applicant than what they have seen" in further

    page = text(post(karin, f"/decisions/{ref}/amend", amended))
    assert "Version 2 of the draft is ready to sign" in page
    assert "Redovisa resorna särskilt." in page and "SEK 45,000" in page
    assert "SEK 555,000" in page  # left after this grant
    with transaction(load().db_url) as session:
        versions = session.exec(select(Decision).join(Case).where(Case.case_reference == ref))
        assert [(d.version, d.status, d.amount) for d in versions] == [
            (1, "superseded", 40_000),
            (2, "draft", 45_000),
        ]
    assert "SEK 45,000" in text(karin.get(f"/decisions/{ref}/sign"))

    # Sending back needs a comment; with one, the draft goes back to the case officer.
    empty = refused_unchanged(
        office, 409, lambda: post(karin, f"/decisions/{other}/send-back", {"comment": " "})
    )
    assert "Say what the case officer should look at again." in empty
    back = text(post(karin, f"/decisions/{other}/send-back", {"comment": "Motivera beloppet."}))
    assert "The draft is sent back to the case officer" in back and other not in back
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.case_reference == other)).one()
        assert case.state == "drafting_decision"
    maria = person_in_office(office, OFFICER)  # the case officer may not amend or send back
    for step, data in (("amend", amended), ("send-back", {"comment": "Nej."})):
        refused_unchanged(
            office,
            403,
            lambda step=step, data=data: post(maria, f"/decisions/{ref}/{step}", data),
        )
