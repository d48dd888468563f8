"""No dead ends: every case that is not finished is on some person's task list.

The walk is on the domain itself, with a real SQLite database: a case in every state
that is not finished, with every combination of what each reviewer did (not declared yet,
no conflict, reviewed, declared a conflict), with and without the case officer among the
reviewers; then each person's task list, as the office's task page builds it
(`models.tasks.open_tasks`), and every case must be on one of them.
"""

import itertools
from datetime import date

import pytest
from sqlmodel import Session, select

from grants.settings import load
from models.db import engine_for, transaction
from models.states import CaseState
from models.tables import (
    AdvisoryGroup,
    Case,
    ConflictGround,
    Letter,
    Person,
    ReviewTask,
    Role,
    TaskStatus,
)
from models.tasks import FINISHED, TaskKind, open_tasks
from tests.helpers import (
    ACTIVA,
    CLI_ALL_MET,
    COOMPANION,
    DECISION_MAKER,
    OFFICER,
    a_call,
    a_case,
    an_organisation,
    database_dump,
    grants,
    pdf_pages,
    settled_dump,
)
from tests.office import post, sign_in
from tests.test_assessment import REASONS, actions

TODAY = date(2026, 12, 7)
QUORUM = 2
# What a reviewer did in the case: its task as the domain leaves it.
DID = {
    "undeclared": {"status": TaskStatus.open, "conflict": None},
    "no_conflict": {"status": TaskStatus.open, "conflict": ConflictGround.none},
    "reviewed": {"status": TaskStatus.submitted, "conflict": ConflictGround.none},
    "conflict": {"status": TaskStatus.conflicted, "conflict": ConflictGround.own_organisation},
}


def _people(session: Session, colleague: bool) -> dict[str, Person]:
    people = {
        "officer": Person(name="Maria", email="maria@example.se", role=Role.case_officer),
        "johan": Person(
            name="Johan", email="johan@example.se", role=Role.advisor, in_advisory_group=True
        ),
        "lena": Person(
            name="Lena", email="lena@example.se", role=Role.advisor, in_advisory_group=True
        ),
        # a colleague, who takes a case in which its own officer declared a conflict
        "per": Person(name="Per", email="per@example.se", role=Role.case_officer),
        # a case officer who has left: their cases are every active case officer's
        "anna": Person(name="Anna", email="anna@example.se", role=Role.case_officer, active=False),
        "karin": Person(name="Karin", email="karin@example.se", role=Role.decision_maker),
    }
    if not colleague:  # the office's only active case officer, then
        del people["per"]
    for person in people.values():
        person.organisation = "Region"
        session.add(person)
    session.add(AdvisoryGroup(id=1, review_quorum=QUORUM, include_case_officer=True))
    return people


def _possible(state: CaseState, did: tuple[str, ...]) -> bool:
    """A case still in review has fewer reviews than the quorum: they would have moved it."""
    return state is not CaseState.in_review or did.count("reviewed") < QUORUM


def _cases(session: Session, people: dict[str, Person]) -> list[str]:
    """A case for each state not finished and each combination of what its reviewers
    did, and one in each such state whose case officer has left; the references made."""
    call, organisation = a_call(), an_organisation()
    made: list[str] = []

    def case(officer: Person, state: CaseState, title: str) -> Case:
        made.append(f"26RS{len(made) + 1}")
        new = a_case(
            call,
            organisation,
            made[-1],
            case_officer=officer,
            state=state,
            date_received=TODAY,
            project_title=title,
        )
        session.add(new)
        return new

    for state in (s for s in CaseState if s not in FINISHED):
        case(people["anna"], state, f"{state} Anna's, who has left")
        for officer_reviews in (False, True):
            reviewers = ["johan", "lena"] + ["officer"] * officer_reviews
            for did in itertools.product(DID, repeat=len(reviewers)):
                if _possible(state, did):
                    reviewed = case(people["officer"], state, f"{state} {officer_reviews} {did}")
                    for who, what in zip(reviewers, did, strict=True):
                        task = ReviewTask(
                            case=reviewed, reviewer=people[who], due=TODAY, **DID[what]
                        )
                        session.add(task)
    session.commit()
    return made


@pytest.fixture
def session(tmp_path) -> Session:
    with Session(engine_for(f"sqlite:///{tmp_path / 'cases.db'}")) as session:
        yield session


@pytest.mark.parametrize("colleague", [True, False], ids=["two officers", "one officer"])
def test_every_case_not_finished_is_on_someones_task_list(
    session: Session, colleague: bool
) -> None:
    """Including a case whose reviewers all declared a conflict, or reviewed too few: it
    is the case officer's, with why, until they name a substitute or go on with fewer; and
    a case whose only case officer declared a conflict: the decision maker's, who adds one."""
    people = _people(session, colleague)
    made = _cases(session, people)
    on_a_list = {
        task.case_reference
        for person in people.values()
        if person.active  # who has left signs in no more
        for task in open_tasks(session, person, TODAY)
    }
    cases = session.exec(select(Case)).all()
    stranded = [
        f"{c.case_reference} ({c.project_title})"
        for c in cases
        if c.case_reference not in on_a_list
    ]
    assert not stranded, f"{len(stranded)} of {len(cases)} cases on nobody's task list: {stranded}"
    assert len(cases) == len(made) > 600
    officers = {t.case_reference: t.kind for t in open_tasks(session, people["officer"], TODAY)}
    blocked = {
        c.project_title
        for c in cases
        if officers.get(c.case_reference) is TaskKind.too_few_reviewers
    }
    # johan and lena both stepped aside, the officer not reviewing: nobody else could
    assert "in_review False ('conflict', 'conflict')" in blocked
    # a reviewer left who has not declared yet: the case is theirs, and the officer's too,
    # as one reviewer can never make the quorum of two
    assert "in_review False ('conflict', 'undeclared')" in blocked
    # two reviewers without a conflict: the quorum can be reached, nothing for the officer
    assert "in_review True ('conflict', 'undeclared', 'no_conflict')" not in blocked
    # the officer declared a conflict: the colleague's case; with none, the decision maker's
    orphaned = "in_review True ('reviewed', 'conflict', 'conflict')"
    orphan = next(c for c in cases if c.project_title == orphaned)
    holders = {
        who
        for who, person in people.items()
        if person.active
        for task in open_tasks(session, person, TODAY)
        if task.case_reference == orphan.case_reference
    }
    assert holders == ({"per"} if colleague else {"karin"}), holders


# --- The two ways on, through the command line and the office ---------------------------

FORENINGSHUSET = "SI-2026-0102"  # Stiftelsen Activa (Lena Holm's own) is a partner
KRYDDGARDEN = "SI-2026-0105"  # Coompanion (Johan Ek's own) is a partner
EVA = "eva.berg@ideellkraft.example.se"


def _case(submission_id: str) -> Case:
    with transaction(load().db_url) as session:
        return session.exec(select(Case).where(Case.submission_id == submission_id)).one()


def _both_advisors_step_aside(submission_id: str = FORENINGSHUSET) -> str:
    """The checklist met; Lena Holm's organisation is a partner, Johan Ek's sister chairs
    the applicant: only the case officer is left of the three reviewers, for a quorum of two."""
    ref = _case(submission_id).case_reference
    grants("checklist", ref, "--as", OFFICER, *CLI_ALL_MET)
    grants("declare", ref, "--as", ACTIVA, "--conflict", "own_organisation", "--note", "Partner.")
    grants("declare", ref, "--as", COOMPANION, "--conflict", "close_relative", "--note", "Syster.")
    return ref


def _reviewed_by(ref: str, who: str) -> None:
    grants("declare", ref, "--as", who, "--no-conflict")
    grants("review", ref, "--as", who, "--recommend", "granted", *REASONS)


def _officers_tasks() -> str:
    return grants("tasks", "--as", OFFICER).text


def test_a_substitute_reviewer_from_outside_the_group(sample_call) -> None:
    ref = _both_advisors_step_aside()
    assert "too few reviewers" in _officers_tasks()
    before = database_dump(load().home)
    for options, said in (
        (["--name", "Eva Berg", "--email", "eva.berg@", "--organisation", "Ideell Kraft"], "email"),
        (["--name", " ", "--email", EVA, "--organisation", "Ideell Kraft"], "name"),
        (["--name", "Eva Berg", "--email", EVA, "--organisation", ""], "organisation"),
    ):
        refused = grants("substitute-reviewer", ref, *options, "--as", OFFICER, ok=False)
        assert refused.exit_code == 2 and f"{said} = " in refused.text, refused.text
    assert database_dump(load().home) == before

    added = grants(
        "substitute-reviewer",
        ref,
        *("--name", "Eva Berg", "--email", EVA.upper(), "--organisation", "Ideell Kraft"),
        *("--title", "verksamhetsledare", "--as", OFFICER),
    )
    assert "Eva Berg <eva.berg@ideellkraft.example.se> (added as an advisor outside" in added.text
    with transaction(load().db_url) as session:
        eva = session.exec(select(Person).where(Person.email == EVA)).one()
        assert (eva.role, eva.in_advisory_group, eva.title) == (
            "advisor",
            False,
            "verksamhetsledare",
        )
    assert "declare conflicts first" in grants("tasks", "--as", EVA).text
    _reviewed_by(ref, EVA)
    assert "too few reviewers" not in _officers_tasks()  # two can review: Eva and the officer
    _reviewed_by(ref, OFFICER)
    assert _case(FORENINGSHUSET).state == "applicant_meeting"
    trail = actions(_case(FORENINGSHUSET))
    assert trail.index("substitute_reviewer") < trail.index("reviews_complete")

    # Another case: the e-mail is a registered person's, who is taken as they are.
    other = _case(KRYDDGARDEN).case_reference
    grants("checklist", other, "--as", OFFICER, *CLI_ALL_MET)
    again = grants(
        "substitute-reviewer",
        other,
        *("--name", "E. Berg", "--email", EVA, "--organisation", "Annan", "--as", OFFICER),
    )
    assert "Eva Berg <eva.berg@ideellkraft.example.se> (was registered already)" in again.text
    twice = grants(
        "substitute-reviewer",
        other,
        *("--name", "Eva Berg", "--email", EVA, "--organisation", "X", "--as", OFFICER),
        ok=False,
    )
    assert "Eva Berg already has a review task for" in twice.text


def test_going_on_with_fewer_reviews_is_said_in_the_decision(sample_call) -> None:
    ref = _both_advisors_step_aside()
    reason = "Båda rådgivarna har anmält jäv och ingen ersättare fanns att tillgå i tid."
    before = database_dump(load().home)
    none_yet = grants("go-on-with-fewer", ref, "--reason", reason, "--as", OFFICER, ok=False)
    assert "no review of" in none_yet.text and "substitute" in none_yet.text
    assert database_dump(load().home) == before
    _reviewed_by(ref, OFFICER)
    assert _case(FORENINGSHUSET).state == "in_review"  # one review of the two needed
    reachable = _case(KRYDDGARDEN).case_reference
    grants("checklist", reachable, "--as", OFFICER, *CLI_ALL_MET)
    before = database_dump(load().home)
    unreasoned = grants("go-on-with-fewer", ref, "--reason", " ", "--as", OFFICER, ok=False)
    assert unreasoned.exit_code == 2 and "reason = ' ': is required" in unreasoned.text
    refused = grants("go-on-with-fewer", reachable, "--reason", reason, "--as", OFFICER, ok=False)
    assert "can still reach its quorum: 3 reviewer(s)" in refused.text
    assert database_dump(load().home) == before
    went_on = grants("go-on-with-fewer", ref, "--reason", reason, "--as", OFFICER)
    assert "the case is now 'applicant_meeting'" in went_on.text
    assert "too few reviewers" not in _officers_tasks()

    grants("meeting", "skip", ref, "--as", OFFICER, "--reason", "Ansökan är tydlig.")
    grants("draft", ref, "--as", OFFICER, *REASONS, "--decisive", "Projektet uppfyller kraven.")
    grants("submit-draft", ref, "--as", OFFICER)
    grants("sign", ref, "--as", DECISION_MAKER)
    said = (
        "Ärendet har bedömts av en granskare i stället för två, eftersom jäv hindrade övriga "
        f"i rådgivningsgruppen från att delta. Handläggarens skäl för att gå vidare: {reason}"
    )
    for kind in ("draft_decision", "decision"):
        assert said in " ".join(pdf_pages(_letter_pdf(ref, kind))), kind


def _letter_pdf(ref: str, kind: str) -> bytes:
    with transaction(load().db_url) as session:
        query = select(Letter.pdf).join(Case).where(Case.case_reference == ref, Letter.kind == kind)
        return session.exec(query).one()


def test_the_office_shows_the_stuck_case_and_both_ways_on(sample_call, office) -> None:
    ref = _both_advisors_step_aside()
    reachable = _case(KRYDDGARDEN).case_reference
    grants("checklist", reachable, "--as", OFFICER, *CLI_ALL_MET)
    sign_in(office, OFFICER)
    tasks = office.get("/tasks").text
    row = tasks[tasks.index(f'href="/cases/{ref}#steps"') :].split("</tr>")[0]
    assert "För få granskare utan jäv: utse en ersättare eller gå vidare med färre" in row
    page = office.get(f"/cases/{ref}").text
    assert "För få granskare utan jäv: 1 kan granska, 2 granskningar behövs." in page
    assert '<details class="substitute" open>' in page and 'id="fewer-heading"' not in page
    assert "går när minst en granskning har lämnats in" in page  # none is in yet
    calm = office.get(f"/cases/{reachable}").text  # three can review: nothing is stuck
    assert '<details class="substitute">' in calm and "För få granskare" not in calm

    _reviewed_by(ref, OFFICER)
    assert 'id="fewer-heading"' in office.get(f"/cases/{ref}").text
    before = settled_dump(office)
    typed = {"name": "Eva Berg", "email": "eva.berg@", "organisation": "Ideell Kraft"}
    refused = post(office, f"/cases/{ref}/substitute-reviewer", typed)
    assert refused.status_code == 409, refused.status_code
    assert 'id="email-error"' in refused.text and 'value="eva.berg@"' in refused.text
    assert 'aria-describedby="email-error" aria-invalid="true"' in refused.text
    unreasoned = post(office, f"/cases/{ref}/fewer-reviews", {"reason": " "})
    assert unreasoned.status_code == 409 and 'id="reason-error"' in unreasoned.text
    assert "Skäl = ””: måste fyllas i" in unreasoned.text
    assert settled_dump(office) == before

    added = post(office, f"/cases/{ref}/substitute-reviewer", typed | {"email": EVA})
    assert "har lagts till som rådgivare utanför rådgivningsgruppen" in added.text
    assert 'id="fewer-heading"' not in added.text  # Eva and the officer make two
    sign_in(office, EVA)
    assert f'href="/reviews/{ref}"' in office.get("/tasks").text

    # Another case stuck the same way, taken on with the one review there is.
    other = _both_advisors_step_aside("SI-2026-0104")
    _reviewed_by(other, OFFICER)
    sign_in(office, OFFICER)
    went_on = post(office, f"/cases/{other}/fewer-reviews", {"reason": "Jäv; ingen ersättare."})
    assert "Ärendet går vidare med färre granskningar och är nu: " in went_on.text
    assert "Jäv; ingen ersättare." in went_on.text  # the file note, on the case page
    tasks = office.get("/tasks").text
    row = tasks[tasks.index(f'href="/cases/{other}"') :].split("</tr>")[0]
    assert "Boka, dokumentera eller hoppa över mötet med sökande" in row


@pytest.mark.browser
def test_the_stuck_case_in_a_browser(sample_call, live_office, browser_page, tmp_path) -> None:
    """From the task list to the case's forms, which axe finds WCAG 2.1 AA-clean, and a
    substitute named by keyboard and mouse as a person does."""
    from tests.test_office_browser import accessibility_violations, browser_sign_in, keep_screenshot

    ref = _both_advisors_step_aside()
    page, base_url = browser_page, live_office.state.base_url
    browser_sign_in(page, base_url, OFFICER)
    page.locator(f'a[href="/cases/{ref}#steps"]').click()  # the row of the task to unblock
    page.get_by_role("heading", name="Utse en ersättare utanför rådgivningsgruppen").wait_for()
    assert page.url.endswith(f"/cases/{ref}#steps")
    assert accessibility_violations(page) == []
    page.locator("#steps").scroll_into_view_if_needed()
    keep_screenshot(page, "office-too-few-reviewers", tmp_path)
    form = page.locator('form[action$="/substitute-reviewer"]')
    form.get_by_label("Namn").fill(" ")  # the browser lets a space by; the office does not
    form.get_by_label("E-post").fill(EVA)
    form.get_by_label("Organisation", exact=True).fill("Ideell Kraft")
    form.get_by_role("button", name="Lägg till ersättaren").click()
    page.locator("#name-error").wait_for()
    assert accessibility_violations(page) == []
    keep_screenshot(page, "office-substitute-refused", tmp_path)
    form.get_by_label("Namn").fill("Eva Berg")
    form.get_by_role("button", name="Lägg till ersättaren").click()
    page.get_by_text("har lagts till som rådgivare utanför rådgivningsgruppen").wait_for()
    assert page.get_by_role("heading", name="Gå vidare med färre granskningar").count() == 0
