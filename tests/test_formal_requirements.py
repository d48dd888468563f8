"""Formal requirements apart from the four basic requirements (FL 20 §): who
applies, who signed for the applicant, a complete application. A gap in one is asked for
under its own name and, left unremedied, leads to dismissal; it is never filed under one of
the four."""

from pathlib import Path

from sqlmodel import select

from grants.settings import load
from models.db import transaction
from models.tables import Case, FormalAnswer, SupplementRequest
from tests.helpers import CLI_ALL_MET, OFFICER, database_dump, grants
from tests.office import post, sign_in
from tests.test_office_officer import ALL_MET

SIGNATORY = "Skicka ett styrelseprotokoll som visar vem som får skriva under för föreningen."


def _case(submission_id: str = "SI-2026-0105") -> Case:
    with transaction(load().db_url) as session:
        return session.exec(select(Case).where(Case.submission_id == submission_id)).one()


def _formal_and_asked(case: Case) -> tuple[dict[str, tuple[str, str]], list[dict]]:
    """The formal findings recorded for the case, and what its supplement request asks."""
    with transaction(load().db_url) as session:
        answers = session.exec(select(FormalAnswer).where(FormalAnswer.case_id == case.id))
        found = {a.requirement.value: (a.answer.value, a.note) for a in answers}
        requests = session.exec(
            select(SupplementRequest).where(SupplementRequest.case_id == case.id)
        ).all()
        return found, [item for r in requests for item in r.missing]


def test_a_formal_gap_is_asked_for_under_its_own_requirement(sample_call: Path) -> None:
    ref = _case().case_reference
    before = database_dump(sample_call)
    # A requirement that is not one, and a formal requirement "not met": refused, nothing kept.
    wrong = grants("checklist", ref, "--as", OFFICER, *CLI_ALL_MET, "--formal", "x=y", ok=False)
    assert wrong.exit_code != 0 and "--formal 'x=y'" in wrong.text
    assert "identity, signatory, complete" in wrong.text
    empty = grants(
        "checklist", ref, "--as", OFFICER, *CLI_ALL_MET, "--formal", "signatory=", ok=False
    )
    assert empty.exit_code != 0 and "--formal 'signatory='" in empty.text
    assert database_dump(sample_call) == before

    grants("checklist", ref, "--as", OFFICER, *CLI_ALL_MET, "--formal", f"signatory={SIGNATORY}")
    assert _case().state == "awaiting_supplement"
    found, asked = _formal_and_asked(_case())
    assert found == {
        "identity": ("met", ""),
        "signatory": ("unclear", SIGNATORY),
        "complete": ("met", ""),
    }
    assert asked == [{"criterion": None, "formal": "signatory", "text": SIGNATORY}]
    shown = grants("checklist", ref, "--as", OFFICER).text
    assert "Formal: A signatory with authority to sign" in shown and "unclear" in shown


def test_the_office_checklist_records_formal_requirements_apart(sample_call: Path, office) -> None:
    sign_in(office, OFFICER)
    ref = _case().case_reference
    page = office.get(f"/cases/{ref}").text
    assert "Formella krav" in page and "Behörig firmatecknare" in page
    before = database_dump(sample_call)
    # Formal requirements are met or unclear: "not met" is refused at its field.
    refused = post(office, f"/cases/{ref}/checklist", ALL_MET | {"signatory": "not_met"})
    assert "kan inte vara ”inte uppfyllt”" in refused.text
    assert 'id="checklist-signatory-met"' in refused.text
    assert database_dump(sample_call) == before

    form = ALL_MET | {"signatory": "unclear", "note_signatory": SIGNATORY}
    assert post(office, f"/cases/{ref}/checklist", form).status_code == 200
    assert _case().state == "awaiting_supplement"
    found, asked = _formal_and_asked(_case())
    assert found["signatory"] == ("unclear", SIGNATORY)
    assert asked == [{"criterion": None, "formal": "signatory", "text": SIGNATORY}]
