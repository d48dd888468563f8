"""Reading in the page and what changed.

The applicant's words are read where they came in: a message on the case page and, a
reply to a communication, on the decision maker's page beside what the case officer made
of it; a PDF or an image opens in the browser, anything else is downloaded, and no file
can act as a page of the office. A case where something came in or went wrong since a
person last looked at it is marked in their lists until they look, for them alone; the
notices e-mailed to them are listed on their task page too.
"""

import html
import io
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from grants.applicant_links import link_for
from grants.settings import load
from models.access import case_for
from models.audit import Actor
from models.checklist import Finding, complete_checklist
from models.communication import communicate
from models.db import transaction
from models.decisions import prepare_draft, submit_for_decision
from models.looks import changes_since_looked, looked, newest_event
from models.reviews import declare_conflict
from models.rules import Rules
from models.supplements import receive_supplement
from models.tables import (
    Answer,
    Case,
    CaseLook,
    ConflictGround,
    Criterion,
    Document,
    Recommendation,
    SupplementRequest,
)
from tests.helpers import ACTIVA, COOMPANION, DECISION_MAKER, OFFICER
from tests.office import post, sign_in
from tests.test_decisions import WORDING, person, to_awaiting_decision
from tests.test_office_applicant import small_pdf
from tests.test_office_review_decide import person_in_office

KRYDDGARDEN = "SI-2026-0105"  # names Coompanion Mälardalen as partner
MESSAGE = "Protokollet skickas med post i morgon.\nStyrelsen: <b>Anna</b> & Per"
REPLY = "We have more partners than you write.\nThe list: <script>alert(1)</script>"
ASSESSMENT = "The partners named do not change the finding on innovation."


def supplement_asked(submission_id: str = KRYDDGARDEN) -> tuple[str, str]:
    """The case with a supplement requested by the case officer: (ref, the link's path)."""
    settings = load()
    rules = Rules.from_config(settings.file)
    findings = {c: Finding(Answer.met) for c in Criterion}
    findings[Criterion.new_locally] = Finding(Answer.unclear, "Beskriv förebilderna.")
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.submission_id == submission_id)).one()
        complete_checklist(session, case, person(session, OFFICER), findings, rules, date.today())
        request = session.exec(
            select(SupplementRequest).where(SupplementRequest.case_id == case.id)
        ).one()
        ref, deadline = case.case_reference, request.deadline
    return ref, _path(link_for(settings, ref, "supplement", 1, deadline))


def _path(link: str) -> str:
    return link.removeprefix(load().base_url)


def answered(office: TestClient, path: str, message: str, files: dict | None = None) -> None:
    """The applicant sends its answer through the link, as the page's form posts it."""
    applicant = TestClient(office.app, base_url="http://127.0.0.1:8000")
    applicant.get(path)
    sent = post(applicant, path, {"message": message}, files=files, follow_redirects=False)
    assert sent.status_code == 303, sent.text


def row_of(page: str, ref: str) -> str:
    """The table row of a list that links to the case."""
    [row] = [r for r in re.findall(r"<tr.*?</tr>", page, re.S) if f">{ref}</a>" in r]
    return html.unescape(row)


def test_the_applicants_words_are_read_in_the_page_and_the_reply_beside_its_assessment(
    sample_call, office: TestClient
):
    ref, path = supplement_asked()
    answered(office, path, MESSAGE)
    maria = person_in_office(office, OFFICER)

    page = maria.get(f"/cases/{ref}").text
    # The message as the applicant wrote it: escaped, its line break kept.
    assert (
        "Protokollet skickas med post i morgon.\nStyrelsen: &lt;b&gt;Anna&lt;/b&gt; &amp; Per"
        in page
    )
    assert "<b>Anna</b>" not in page
    assert "Supplement: meddelande.txt" in page

    # A reply to the communication, with a file, for the decision maker.
    settings = load()
    rules = Rules.from_config(settings.file)
    english = to_awaiting_decision("SI-2026-0108", Recommendation.refused, submit=False)
    with transaction(settings.db_url) as session:
        officer = person(session, OFFICER)
        case = case_for(session, english, officer, lock=True)
        asked = communicate(session, case, officer, rules, date.today())
    reply_path = _path(link_for(settings, english, "communication", 1, asked.deadline))
    answered(office, reply_path, REPLY, {"file": ("partners.pdf", small_pdf())})
    with transaction(settings.db_url) as session:
        officer = person(session, OFFICER)
        case = case_for(session, english, officer, lock=True)
        prepare_draft(
            session, case, officer, rules, reasons=WORDING, decisive="Inget nytt.",
            not_met=["innovative"], reply_assessment=ASSESSMENT,
        )  # fmt: skip
        submit_for_decision(session, case, officer, rules, "", nothing_new_from_others=True)

    karin = person_in_office(office, DECISION_MAKER)
    page = karin.get(f"/decisions/{english}").text
    words = "We have more partners than you write.\nThe list: &lt;script&gt;alert(1)&lt;/script&gt;"
    assert words in page and "<script>" not in page
    assert page.index(words) < page.index(ASSESSMENT), "the reply, then what was made of it"
    [pdf] = re.findall(rf'href="(/cases/{english}/documents/\d+)">partners.pdf', page)
    opened = karin.get(pdf)
    assert opened.headers["content-type"] == "application/pdf"
    assert opened.headers["content-disposition"].startswith("inline")


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


HOSTILE_PAGE = b"<html><body><script>fetch('/cases').then(r => r.text())</script></body></html>"
HOSTILE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
)


@pytest.mark.parametrize(
    ("media_type", "content", "shown"),
    [
        ("text/html", HOSTILE_PAGE, False),
        ("image/svg+xml", HOSTILE_SVG, False),
        ("application/xhtml+xml", HOSTILE_PAGE, False),
        ("text/plain", b"Hej <script>alert(1)</script>", False),
        ("image/png", png(), True),
        ("application/pdf", small_pdf(), True),
    ],
    ids=["html", "svg", "xhtml", "text", "png", "pdf"],
)
def test_no_file_that_came_in_can_act_as_a_page_of_the_office(
    sample_call, office: TestClient, media_type: str, content: bytes, shown: bool
):
    """Uploads are typed by their content and markup is refused, but a row stored before
    that, or one a later bug lets by, must still not run script in the office's origin:
    only a PDF or an image of an accepted kind is shown inline; every file is sandboxed
    (but a PDF, which Chromium's viewer shows apart from the origin) and never sniffed."""
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.submission_id == KRYDDGARDEN)).one()
        document = Document(
            case_id=case.id, kind="supplement", filename="svar.html", media_type=media_type,
            content=content, sha256="0" * 64, registered_by="hej@kryddgarden.example.se",
        )  # fmt: skip
        session.add(document)
        session.flush()
        url = f"/cases/{case.case_reference}/documents/{document.id}"
    maria = person_in_office(office, OFFICER)
    served = maria.get(url)
    assert served.status_code == 200 and served.content == content
    assert served.headers["x-content-type-options"] == "nosniff"
    disposition = served.headers["content-disposition"]
    assert disposition.startswith("inline" if shown else "attachment"), disposition
    policy = served.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert ("sandbox" in policy) is (media_type != "application/pdf"), policy


def task_list(client: TestClient) -> str:
    """The person's task list, without the notices below it."""
    page = client.get("/tasks").text
    return page[: page.index('id="notices"')]


def notices(client: TestClient) -> str:
    """The notices e-mailed to the person, as their task page lists them."""
    page = client.get("/tasks").text
    return page[page.index('id="notices"') :]


def test_a_case_is_marked_new_for_each_person_until_they_look_at_it(
    sample_call, office: TestClient
):
    ref, path = supplement_asked()
    maria = person_in_office(office, OFFICER)
    karin = TestClient(office.app, base_url="http://127.0.0.1:8000")
    sign_in(karin, DECISION_MAKER)  # in Swedish, the office's first language
    assert "New:" not in row_of(task_list(maria), ref)
    assert "No notices have been e-mailed to you." in notices(maria)

    answered(office, path, MESSAGE)
    tasks = task_list(maria)
    assert "New: supplement received" in row_of(tasks, ref)
    assert "New:" not in tasks.replace(row_of(tasks, ref), ""), "only the case that changed"
    assert "New: supplement received" in row_of(maria.get("/cases").text, ref)
    assert "Nytt: komplettering inkommen" in row_of(karin.get("/cases").text, ref)
    # The notice e-mailed to the case officer, in the office too; not to anyone else.
    assert "The supplement came in" in row_of(notices(maria), ref)
    assert "Inga meddelanden har skickats till dig med e-post." in notices(karin)

    # Looking at the case clears the marker for the case officer alone.
    assert maria.get(f"/cases/{ref}").status_code == 200
    assert "New:" not in row_of(task_list(maria), ref)
    assert "New:" not in row_of(maria.get("/cases").text, ref)
    assert "Nytt: komplettering inkommen" in row_of(karin.get("/cases").text, ref)
    karin.get(f"/cases/{ref}")
    assert "Nytt:" not in row_of(karin.get("/cases").text, ref)

    # What the person does themselves is not news to them; what another does is.
    settings = load()
    rules = Rules.from_config(settings.file)
    with transaction(settings.db_url) as session:
        case = case_for(session, ref, person(session, OFFICER), lock=True)
        findings = {c: Finding(Answer.met) for c in Criterion}
        complete_checklist(session, case, person(session, OFFICER), findings, rules, date.today())
    assert "New:" not in row_of(maria.get("/cases").text, ref)
    with transaction(settings.db_url) as session:
        case = case_for(session, ref, person(session, COOMPANION), lock=True)
        declare_conflict(
            session, case, person(session, COOMPANION), ConflictGround.own_organisation,
            "Coompanion är samarbetspartner.", rules,
        )  # fmt: skip
    assert "New: conflict of interest declared" in row_of(task_list(maria), ref)
    # A reviewer reads the message beside the application; opening it is their look.
    lena = person_in_office(office, ACTIVA)
    assert "New: supplement received" in row_of(task_list(lena), ref)
    review = lena.get(f"/reviews/{ref}").text
    assert "Styrelsen: &lt;b&gt;Anna&lt;/b&gt; &amp; Per" in review
    assert "New:" not in row_of(task_list(lena), ref)


@pytest.mark.browser
def test_the_officer_reads_the_message_in_a_browser_where_the_task_list_marked_it(
    sample_call, live_office, chromium, tmp_path
):
    """The path in Chromium, in Swedish: the applicant's message sent on a phone, the case
    marked in the officer's task list, the message read on the case page, the mark gone;
    axe finds no WCAG 2.1 AA violation on the pages on the way."""
    from tests.test_office_browser import (
        accessibility_violations,
        browser_sign_in,
        keep_screenshot,
    )

    base = live_office.state.base_url
    ref, path = supplement_asked()
    phone = chromium.new_context(locale="sv-SE", viewport={"width": 375, "height": 800})
    applicant = phone.new_page()
    applicant.goto(base + path)
    applicant.get_by_label("Meddelande (frivilligt)").fill(MESSAGE)
    applicant.get_by_role("button", name="Skicka till Region Örebro län").click()
    applicant.wait_for_url(base + path)
    phone.close()

    laptop = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = laptop.new_page()
    browser_sign_in(page, base, OFFICER)
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=ref, exact=True))
    assert "Nytt: komplettering inkommen" in row.first.inner_text()
    assert page.get_by_role("heading", name="Meddelanden som skickats till dig med e-post")
    assert accessibility_violations(page) == []
    keep_screenshot(page, "office-tasks-new", tmp_path)

    row.first.get_by_role("link", name=ref, exact=True).click()
    message = page.get_by_role("article").filter(has_text="meddelande.txt")
    assert message.inner_text().count("\n") >= 2  # its heading, its lines
    assert "Styrelsen: <b>Anna</b> & Per" in message.inner_text()
    assert accessibility_violations(page) == []
    message.scroll_into_view_if_needed()
    keep_screenshot(page, "office-case-message", tmp_path)

    page.goto(base + "/tasks")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=ref, exact=True))
    assert "Nytt:" not in row.first.inner_text()
    laptop.close()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_look_is_kept_per_person_and_never_goes_back(
    database: str, request: pytest.FixtureRequest
) -> None:
    """The record of a look, on both databases the office runs on (an upsert each speaks
    in its own dialect): the first look and a later one, two pages finishing out of order,
    and another person's marks untouched."""
    if database == "postgresql":
        request.getfixturevalue("on_postgres")
    request.getfixturevalue("sample_call")
    ref, _link = supplement_asked()
    settings = load()
    with transaction(settings.db_url) as session:
        case = case_for(session, ref, person(session, OFFICER), lock=True)
        receive_supplement(session, case, Actor.applicant_of(case), "svar.txt", b"Se bilaga.")
    with transaction(settings.db_url) as session:
        maria, karin = person(session, OFFICER), person(session, DECISION_MAKER)
        case = case_for(session, ref, maria)
        seen = newest_event(session, case)
        assert changes_since_looked(session, maria, [ref]) == {ref: ["supplement_registered"]}
        looked(session, maria, case.id, seen - 1)  # a page read before the supplement
    with transaction(settings.db_url) as session:
        assert changes_since_looked(session, maria, [ref]) == {ref: ["supplement_registered"]}
        looked(session, maria, case.id, seen)
    with transaction(settings.db_url) as session:
        looked(session, maria, case.id, seen - 1)  # that first page finishing last
    with transaction(settings.db_url) as session:
        assert changes_since_looked(session, maria, [ref]) == {}
        assert changes_since_looked(session, karin, [ref]) == {ref: ["supplement_registered"]}
        rows = session.exec(select(CaseLook).where(CaseLook.case_id == case.id)).all()
        assert [(row.person_id, row.last_event_id) for row in rows] == [(maria.id, seen)]
