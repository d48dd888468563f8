"""The README's first command: the whole call, twice, as a new user runs it."""

import re
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import database_dump, grants, pdf_pages, swedish_template_words

EXPECTED = {  # case → (outcome, amount, state)
    "RS1": ("granted", "35 000 kr", "reporting"),
    "RS2": ("partly_granted", "40 000 kr", "reporting"),
    "RS3": ("granted", "20 000 kr", "reporting"),
    "RS4": ("refused", "", "decided"),
    "RS5": ("granted", "48 000 kr", "reporting"),
    "RS6": ("granted", "50 000 kr", "reporting"),
    "RS7": ("partly_granted", "25 000 kr", "reporting"),
    "RS8": ("granted", "25 000 kr", "reporting"),
    "RS9": ("dismissed", "", "decided"),  # the gap prevented examination: the officer's choice
    "RS10": ("closed", "", "decided"),  # withdrawn: avskrivs
}


@pytest.mark.slow
def test_demo_runs_the_whole_call_once(grants_home: Path) -> None:
    result = grants("demo")
    assert result.exit_code == 0, result.output
    text = result.output.replace("\u00a0", " ")
    # Not on a terminal: the stages in plain lines, no live display's control codes.
    assert "\x1b" not in text
    assert "The call, on the simulated clock from " in text
    # The letters after the ten acknowledgements, by people's steps and the sweep.
    assert re.search(
        r"The call: \d+ round\(s\), .*: \d+ steps taken by people, 36 letters "
        r"sent; 10 of 10 cases decided\.",
        text,
    ), text
    assert f"Prefect's run logs: {grants_home.resolve() / 'logs' / 'grants.log'}" in text
    for suffix, (outcome, amount, state) in EXPECTED.items():
        [row] = [line for line in text.splitlines() if f"{suffix} " in line and "│" in line]
        assert outcome in row and amount in row and state in row, row
    letters = {p.name for p in (grants_home / "letters").glob("*.pdf")}
    assert len(letters) == 46
    kinds = ("beslut", "mottagningsbekraftelse", "forslag-till-beslut-1")
    assert all(any(name.endswith(f"-{k}.pdf") for name in letters) for k in kinds)
    assert any("begaran-om-komplettering" in n for n in letters)
    # FL 25 §: every draft against the applicant (RS2, RS4, RS7, RS9) was communicated first.
    assert sorted(n for n in letters if "kommunicering" in n) == [
        f"26RS{n}-kommunicering-1.pdf" for n in (2, 4, 7, 9)
    ]
    assert sum("inbjudan-samhallssamtal" in n for n in letters) == 6
    refusal = " ".join(
        pdf_pages(next((grants_home / "letters").glob("*RS4-beslut.pdf")).read_bytes())
    )
    assert "avslår ansökan" in refusal and "Allmänna arvsfonden" in refusal
    assert "kommit in med synpunkter" in refusal and "ändrar därför inte bedömningen" in refusal
    english = " ".join(
        pdf_pages(
            (
                grants_home / "letters" / next(n for n in letters if n.endswith("-decision.pdf"))
            ).read_bytes()
        )
    )
    assert "Area Manager, Culture and Civil Society" in english
    assert "Development Officer, Civil Society" in english
    swedish = swedish_template_words()
    for name in sorted(n for n in letters if n.startswith("26RS8")):
        text = " ".join(pdf_pages((grants_home / "letters" / name).read_bytes()))
        text = re.sub(r"\S+@\S+|www\.\S+", " ", text)  # addresses are names, not words
        found = {w.lower() for w in re.findall(r"[A-Za-zÅÄÖåäöÉé]{4,}", text)} & swedish
        assert not found, f"{name}: Swedish from our templates: {sorted(found)}"
    anchors = anchor_notices(grants_home)  # the trail's anchor, each simulated day it grew
    assert anchors >= 1
    assert len(list((grants_home / "outbox").glob("*.eml"))) == 47 + anchors  # + RS9's expiry

    before = database_dump(grants_home)
    again = grants("demo")
    assert again.exit_code == 0, again.output
    assert "0 registered, 8 already registered" in again.output
    assert "0 steps taken by people, 0 letters sent; 10 of 10 cases decided." in again.output
    assert database_dump(grants_home) == before
    assert len(list((grants_home / "outbox").glob("*.eml"))) == 47 + anchors


def anchor_notices(home: Path) -> int:
    """The e-mails that gave the case officers the audit trail's anchor (grants.anchors)."""
    with sqlite3.connect(home / "grants.db") as db:
        return db.execute("SELECT count(*) FROM notices WHERE kind = 'audit_anchor'").fetchone()[0]
