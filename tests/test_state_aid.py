"""De minimis aid before the decision: intake takes the applicant's economic activity and its
declaration of other de minimis aid from the form export, or asks for the declaration; the
case officer records what the applicant sent, in the office as on the command line, and a
declaration that cannot be read is refused, naming the field and the value."""

import json
import re
from pathlib import Path

from sqlmodel import select

from flows.intake import intake
from grants.embedded import run_flow
from grants.settings import load
from models.db import transaction
from models.tables import Case, Letter
from tests.conftest import SAMPLES
from tests.helpers import OFFICER, database_dump, pdf_pages


def _case(submission_id: str) -> Case:
    with transaction(load().db_url) as session:
        return session.exec(select(Case).where(Case.submission_id == submission_id)).one()


def test_intake_reads_the_declaration_or_asks_for_it_and_refuses_one_it_cannot_read(
    grants_home: Path, tmp_path: Path
) -> None:
    records = json.loads((SAMPLES / "applications.json").read_text(encoding="utf-8"))
    kumla, lindesberg = (
        r for r in records if r["submission_id"] in ("SI-2026-0102", "SI-2026-0105")
    )
    undeclared = {k: v for k, v in lindesberg.items() if k != "other_de_minimis_aid"}
    selling = records[0] | {"submission_id": "SI-2026-0901", "ekonomisk verksamhet": "ja"}
    garbled = kumla | {"submission_id": "SI-2026-0902", "other_de_minimis_aid": "Kumla: mycket"}
    export = tmp_path / "export.json"
    export.write_text(json.dumps([kumla, undeclared, selling, garbled]), encoding="utf-8")

    report = run_flow(intake, path=str(export))

    [refused] = [r for r in report["results"] if r["status"] == "refused"]
    [fault] = refused["faults"]
    assert (fault["field"], fault["value"], fault["code"]) == (
        "other_de_minimis_aid",
        "Kumla: mycket",
        "field.aid_item",
    )
    declared = _case("SI-2026-0102")
    assert declared.economic_activity and declared.warnings == []
    assert declared.other_de_minimis_aid == [
        {"grantor": "Kumla kommun", "amount": 25000, "granted_on": "2025-05-12"},
        {"grantor": "Tillväxtverket", "amount": 150000, "granted_on": "2024-03-04"},
    ]
    # An ekonomisk förening without a declaration, and a non-profit association that says it
    # carries on economic activity: both are asked for the declaration in the acknowledgement.
    for submission_id in ("SI-2026-0105", "SI-2026-0901"):
        case = _case(submission_id)
        assert case.economic_activity and case.other_de_minimis_aid is None
        assert case.warnings == ["no_de_minimis_declaration"]
        with transaction(load().db_url) as session:
            letter = session.exec(select(Letter).where(Letter.case_id == case.id)).one()
        text = " ".join(pdf_pages(letter.pdf))
        assert "bedriver ekonomisk verksamhet" in text, submission_id
        assert "försäkran om annat stöd av mindre betydelse" in text


def test_the_case_page_records_economic_activity_and_the_declaration(
    sample_call: Path, office
) -> None:
    from tests.office import post, sign_in

    sign_in(office, OFFICER)
    page = office.get("/cases/26RS5").text
    assert 'action="/cases/26RS5/state-aid"' in page
    assert re.search(r'value="yes" checked', page)  # an ekonomisk förening
    assert "Lindesbergs kommun: 30000: 2026-02-16</textarea>" in page
    before = database_dump(sample_call)

    bad = post(
        office,
        "/cases/26RS5/state-aid",
        {
            "economic_activity": "yes",
            "other_de_minimis_aid": "Lindesbergs kommun: mycket: 2026-02-16",
        },
    )
    assert bad.status_code == 409
    assert "Annat stöd av mindre betydelse = ”Lindesbergs kommun: mycket: 2026-02-16”" in bad.text
    assert database_dump(sample_call) == before

    done = post(
        office,
        "/cases/26RS5/state-aid",
        {"economic_activity": "yes", "other_de_minimis_aid": "inga"},
    )
    assert done.status_code == 200 and "Statligt stöd registrerat." in done.text
    case = _case("SI-2026-0105")
    assert case.economic_activity and case.other_de_minimis_aid == []
    post(office, "/cases/26RS5/state-aid", {"economic_activity": "no", "other_de_minimis_aid": ""})
    assert not _case("SI-2026-0105").economic_activity


def test_the_state_aid_form_in_the_browser_meets_wcag_21_aa(
    sample_call, live_office, chromium, tmp_path
) -> None:
    """The case officer records a declaration by the form's labels, in Swedish; axe finds
    nothing on the case page with the form open, nor after a refusal."""
    from tests.test_office_browser import (
        accessibility_violations,
        browser_sign_in,
        keep_screenshot,
    )

    base = live_office.state.base_url
    context = chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    browser_sign_in(page, base, OFFICER)
    page.goto(f"{base}/cases/26RS5")
    page.get_by_text("Statligt stöd: ekonomisk verksamhet och annat stöd").click()  # <details>
    form = page.get_by_role("form", name="Statligt stöd: ekonomisk verksamhet och annat stöd")
    assert form.get_by_label("Ja: ett bidrag är stöd av mindre betydelse").is_checked()
    declaration = form.get_by_label("Sökandens försäkran om annat stöd av mindre betydelse")
    declaration.fill("Lindesbergs kommun: trettio: 2026-02-16")
    form.get_by_role("button", name="Spara").click()
    page.get_by_role("alert").filter(has_text="Annat stöd av mindre betydelse = ").wait_for()
    assert accessibility_violations(page) == []
    declaration.scroll_into_view_if_needed()
    keep_screenshot(page, "office-case-state-aid", tmp_path)
    declaration.fill("Lindesbergs kommun: 30000: 2026-02-16\nÖrebro kommun: 12000: 2025-10-01")
    form.get_by_role("button", name="Spara").click()
    page.get_by_text("Statligt stöd registrerat.").wait_for()
    assert accessibility_violations(page) == []
    context.close()
    assert len(_case("SI-2026-0105").other_de_minimis_aid) == 2
