"""The case list in the office: searched, filtered, sorted and paged by plain links, and
exported as a spreadsheet Excel in Sweden opens as it is; never with a case the reader
declared a conflict of interest in.

The eight sample applications (tests/conftest.py) are the known state: their amounts,
municipalities, contact people and organisation numbers are in samples/applications.json.
"""

import csv
import io
import re
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from grants.settings import load
from models import case_list
from models.db import transaction
from models.tables import Case
from tests.helpers import ACTIVA, DECISION_MAKER, OFFICER
from tests.test_access import CONFLICTED, officer_conflicted  # noqa: F401  (fixture)
from tests.test_integrity import decided, signed_call  # noqa: F401  (fixtures)
from tests.test_office_review_decide import person_in_office, text

ROW = re.compile(r'<tr>\s*<td><a href="/cases/([^"]+)">')


def references() -> dict[str, str]:
    """Case reference by the sample's submission id."""
    with transaction(load().db_url) as session:
        return dict(session.exec(select(Case.submission_id, Case.case_reference)).all())


def listed(client: TestClient, query: str) -> list[str]:
    """The submission ids of the cases the list shows for `query`, in its order."""
    page = client.get(f"/cases?{query}")
    assert page.status_code == 200, page.text
    by_reference = {ref: sid for sid, ref in references().items()}
    return [by_reference[ref] for ref in ROW.findall(page.text)]


def ids(*numbers: int) -> list[str]:
    return [f"SI-2026-01{n:02}" for n in numbers]


def test_the_list_is_searched_by_contact_e_mail_and_organisation_number(
    sample_call: Path, office: TestClient
) -> None:
    maria = person_in_office(office, OFFICER)
    assert listed(maria, "q=Amina+Yusuf") == ids(5)  # the contact person
    assert listed(maria, "q=KFCC.example") == ids(8)  # the e-mail, any case
    assert listed(maria, "q=8025290738") == ids(3)  # the organisation number without hyphen
    assert listed(maria, "q=802529-0738") == ids(3)  # … and with it
    assert listed(maria, "q=Kryddg%C3%A5rden") == ids(5)  # the organisation, as before
    assert listed(maria, "q=") == ids(1, 2, 3, 4, 5, 6, 7, 8)


def test_the_list_is_filtered_sorted_and_paged_keeping_the_filters(
    sample_call: Path, office: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    maria = person_in_office(office, OFFICER)
    assert listed(maria, "municipality=Nora") == ids(3)
    assert listed(maria, "amount_from=40+000&amount_to=48000") == ids(2, 4, 5)
    assert listed(maria, "received_from=2026-10-01&received_to=2026-10-31") == ids(4, 5)
    assert listed(maria, "state=received&outcome=granted") == []  # nothing decided yet

    by_amount = "sort=applied&order=desc"
    assert listed(maria, by_amount) == ids(6, 5, 2, 4, 1, 7, 8, 3)
    page = text(maria.get(f"/cases?{by_amount}"))
    [sorted_column] = re.findall(
        r'<th scope="col"[^>]*aria-sort="(\w+)"[^>]*>\s*<a[^>]*>([^<]+)', page
    )
    assert (sorted_column[0], sorted_column[1].strip()) == ("descending", "Applied for")
    assert listed(maria, "sort=applicant") == ids(3, 4, 1, 8, 2, 5, 6, 7)  # by name, A to Ö
    assert listed(maria, "sort=received&order=desc") == ids(8, 7, 6, 5, 4, 3, 2, 1)

    monkeypatch.setattr(case_list, "PAGE_SIZE", 3)
    asked = "amount_from=25000&sort=applied"  # seven cases: 3 + 3 + 1
    assert listed(maria, asked) == ids(8, 7, 1)
    assert listed(maria, f"{asked}&page=2") == ids(4, 2, 5)
    second = text(maria.get(f"/cases?{asked}&page=2"))
    assert "7 cases, page 2 of 3" in second
    links = re.findall(r'href="(/cases\?[^"]*page=\d[^"]*)"', second)
    assert links and all("amount_from=25000" in x and "sort=applied" in x for x in links)
    assert 'aria-current="page">2<' in second
    assert listed(maria, f"{asked}&page=3") == ids(6)
    assert listed(maria, f"{asked}&page=9") == ids(6)  # beyond the last: the last


def test_a_filter_it_cannot_read_is_named_at_its_field(
    sample_call: Path, office: TestClient
) -> None:
    maria = person_in_office(office, OFFICER)
    answer = maria.get("/cases?amount_from=lots&received_to=2026-13-01&q=Nora")
    assert answer.status_code == 422
    page = text(answer)
    assert "Applied for, from (kr): “lots”. Write the amount in whole kronor" in page
    assert "Received to: “2026-13-01”. Give the date as YYYY-MM-DD." in page
    assert (
        'id="amount_from" name="amount_from" type="text" inputmode="numeric" size="9" '
        'value="lots" aria-invalid="true" aria-describedby="amount_from-error"' in page
    )
    assert 'value="Nora"' in page  # what was typed is kept
    csv_answer = maria.get("/cases.csv?amount_to=-5")
    assert csv_answer.status_code == 422 and "“-5”" in csv_answer.text


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel reads UTF-8 by
    body = response.content.decode("utf-8-sig")
    assert "\r\n" in body
    return list(csv.DictReader(io.StringIO(body, newline=""), delimiter=";"))


def test_the_export_is_the_filtered_list_as_excel_in_sweden_opens_it(
    decided: Path,  # noqa: F811
    office: TestClient,
) -> None:
    formula = '=HYPERLINK("http://evil.example/","Klicka")'
    with sqlite3.connect(decided / "grants.db", isolation_level=None) as db:
        db.execute(
            "UPDATE organisations SET contact_person = ? WHERE organisation_number = ?",
            (formula, "769640-2572"),
        )
    maria = person_in_office(office, OFFICER)
    rows = read_csv(maria.get("/cases.csv?sort=applied&order=desc&amount_from=30000"))
    assert list(rows[0]) == [
        "Diarienummer",
        "Status",
        "Inkom",
        "Organisation",
        "Organisationsnummer",
        "Kommun",
        "Kontaktperson",
        "E-post",
        "Projekt",
        "Sökt belopp (kr)",
        "Beslut",
        "Beviljat belopp (kr)",
        "Beslutsdatum",
    ]
    refs = references()
    assert [r["Diarienummer"] for r in rows] == [refs[i] for i in ids(6, 5, 2, 4, 1, 7)]
    signed = next(r for r in rows if r["Diarienummer"] == refs["SI-2026-0101"])
    assert signed["Status"] == "Beslutat"  # Swedish, whatever the page's language
    assert signed["Beslut"] == "Beviljas delvis"
    assert (signed["Sökt belopp (kr)"], signed["Beviljat belopp (kr)"]) == ("35000", "30000")
    assert signed["Inkom"] == "2026-08-24"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", signed["Beslutsdatum"])
    assert signed["Organisation"] == "Föreningen Unga röster i Hällefors"
    assert signed["Kontaktperson"] == "Linnéa Åström"
    other = next(r for r in rows if r["Diarienummer"] == refs["SI-2026-0105"])
    assert (other["Status"], other["Beslut"], other["Beviljat belopp (kr)"]) == ("Inkom", "", "")
    assert other["Organisationsnummer"] == "769640-2572"
    assert other["Kontaktperson"] == f"'{formula}"  # text in Excel, never a formula


def test_the_list_and_export_leave_out_a_case_the_reader_declared_a_conflict_in(
    officer_conflicted: Path,  # noqa: F811
    office: TestClient,
) -> None:
    maria = person_in_office(office, OFFICER)
    assert CONFLICTED not in ROW.findall(maria.get("/cases").text)
    searched = text(maria.get(f"/cases?q={CONFLICTED}"))
    assert ROW.findall(searched) == [] and "0 cases" in searched
    assert "7 cases" in text(maria.get("/cases"))
    exported = [r["Diarienummer"] for r in read_csv(maria.get("/cases.csv"))]
    assert len(exported) == 7 and CONFLICTED not in exported
    assert "Hällefors" not in text(maria.get("/cases"))  # nor in the municipalities offered

    karin = person_in_office(office, DECISION_MAKER)
    assert CONFLICTED in [r["Diarienummer"] for r in read_csv(karin.get("/cases.csv"))]

    lena = person_in_office(office, ACTIVA)  # an advisor reads cases only by reviewing them
    for url in ("/cases", "/cases.csv"):
        answer = lena.get(url)
        assert answer.status_code == 403 and CONFLICTED not in answer.text
