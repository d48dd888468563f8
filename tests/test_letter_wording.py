"""What the demo's letters say about who does what: the advisors give an opinion,
the Region assesses and decides; drafts, which go to the decision maker, speak of the
applicant rather than to them; and the smaller wording a jurist read them for."""

import re
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import MadeOnce
from tests.helpers import grants, pdf_pages

# The demo's run is shared with tests/test_demo.py (made_once "demo"): one worker runs them.
ONE_DEMO = pytest.mark.xdist_group("demo")


def _letters(home: Path) -> dict[str, str]:
    """Every letter the demo wrote, by file name, as one line of its text."""
    return {pdf.name: _text(pdf.read_bytes()) for pdf in sorted((home / "letters").glob("*.pdf"))}


@cache
def _text(pdf: bytes) -> str:
    """Read once per session: every test reads the same demo's letters (made_once)."""
    return " ".join(" ".join(pdf_pages(pdf)).split())


@pytest.fixture
def letters(made_once: MadeOnce, grants_home: Path) -> dict[str, str]:
    made_once("demo", lambda: grants("demo"))
    return _letters(grants_home)


@pytest.mark.slow
@ONE_DEMO
def test_the_advisors_give_an_opinion_and_the_region_assesses_and_decides(
    letters: dict[str, str],
) -> None:
    for name, text in letters.items():
        for portrayed_deciding in (
            "prövar ansökan",
            "deltagit",
            "Rådgivningsgruppen bedömer",
            "Enligt rådgivningsgruppen",
            "Rådgivningsgruppens förslag",
            "förslag till beslut från rådgivningsgruppen",
            "prepared by the advisory group",
            "Also taking part",
            "advisory group's proposal",
        ):
            assert portrayed_deciding not in text, f"{name}: {portrayed_deciding!r}"
    # Every decision the advisory group gave an opinion on names the decision maker, the
    # officer who presented it and the advisors, and its reasons are the Region's.
    for n in range(1, 8):
        decision = letters[f"26RS{n}-beslut.pdf"]
        assert "Beslutet har fattats av Karin Sjöberg" in decision
        assert "Föredragande: Maria Lindqvist" in decision
        assert "har lämnat ett yttrande över ansökan" in decision
        assert re.search(r"Yttrande har lämnats av: [^.]*\(Stiftelsen Activa\)", decision) or (
            "Yttrande har lämnats av: Johan Ek (Coompanion Mälardalen)" in decision
        ), decision
        assert "Region Örebro län bedömer ansökan mot grundkraven" in decision
    assert "Region Örebro län bedömer att 7 000 kr räcker" in letters["26RS2-beslut.pdf"]
    english = letters["26RS8-decision-translation.pdf"]
    assert "Presented by (föredragande): Maria Lindqvist" in english
    assert "has given an opinion on the application" in english
    assert "An opinion was given by: Johan Ek (Coompanion Mälardalen)" in english
    # No review, no opinion: the dismissal and the write-off do not claim one.
    for name in ("26RS9-beslut.pdf", "26RS10-beslut.pdf"):
        assert "yttrande" not in letters[name].lower(), name
    assert "lämnar ett yttrande över ansökan" in letters["26RS1-mottagningsbekraftelse.pdf"]
    communication = letters["26RS4-kommunicering-1.pdf"]
    assert (
        "Förslag till beslut Rådgivningsgruppen i Partnerskapet för sociala innovationer har "
        "lämnat ett yttrande" in communication
    )


@pytest.mark.slow
@ONE_DEMO
def test_drafts_speak_of_the_applicant_not_to_them(letters: dict[str, str]) -> None:
    drafts = {n: t for n, t in letters.items() if "forslag-till-beslut" in n or "draft" in n}
    assert len(drafts) == 10
    for name, text in drafts.items():
        addressed = r"\b(ni|er|era|ert|Ni|Er|Era|Ert)\b" if "forslag" in name else r"(?i)\byou"
        assert not re.findall(addressed, text), f"{name}: {re.findall(addressed, text)}"
    assert "Sökanden sökte 45 000 kr" in drafts["26RS2-forslag-till-beslut-1.pdf"]
    assert "Sökandens synpunkter inför beslutet" in drafts["26RS4-forslag-till-beslut-2.pdf"]
    assert "the applicant must send a final report" in drafts["26RS8-draft-decision-1.pdf"]


@pytest.mark.slow
@ONE_DEMO
def test_the_smaller_wording_a_jurist_read_the_letters_for(letters: dict[str, str]) -> None:
    refusal = letters["26RS4-beslut.pdf"]
    assert refusal.count("hjälper gärna till") == 1
    # Refused because a like activity exists: no fund for new activities is recommended.
    assert "nya verksamheter" not in refusal
    # Each case's file note on the skipped meeting is its own, and none contradicts it.
    communications = [t for n, t in letters.items() if "kommunicering" in n]
    # 26RS4 is heard twice (the new material from others); so are 26RS6 and 26RS1 on their
    # repayment claims (money unused, money a final report left unspent).
    assert len(communications) == 7
    assert not any("rådgivningsgruppen är enig" in text for text in communications)
    own_note = letters["26RS4-kommunicering-1.pdf"]
    assert "Yttrandena pekar på att en liknande verksamhet redan finns i Vivalla" in own_note
    assert "Ansökan är tydlig" not in own_note
    # The write-off: its reasons under one heading, the withdrawal dated.
    closed = letters["26RS10-beslut.pdf"]
    assert "Skäl för beslutet Avgörande för beslutet" not in closed
    assert re.search(
        r"Skäl för beslutet Den \d{1,2} \w+ 2026 kom sökandens skriftliga återkallelse", closed
    ), closed
    # The pause lasts until the supplement comes, but at most until the deadline.
    for name in (
        "26RS3-begaran-om-komplettering-1.pdf",
        "26RS9-begaran-om-komplettering-1.pdf",
        "26RS9-paminnelse-komplettering-1.pdf",
    ):
        assert re.search(
            r"gör uppehåll tills kompletteringen har kommit in, dock längst till den "
            r"\d{1,2} \w+ 202\d",
            letters[name],
        ), name


@pytest.mark.slow
@ONE_DEMO
def test_the_missing_signatory_is_a_formal_requirement_not_a_basic_one(
    letters: dict[str, str],
) -> None:
    asked = "Skicka ett styrelseprotokoll eller en fullmakt"
    for name in (
        "26RS9-begaran-om-komplettering-1.pdf",
        "26RS9-paminnelse-komplettering-1.pdf",
        "26RS9-forslag-till-beslut-1.pdf",
        "26RS9-beslut.pdf",
    ):
        text = letters[name]
        assert f"Formellt krav: Behörig firmatecknare {asked}" in text, name
        assert "Förankrat hos samarbetspartner" not in text, name
    assert (
        "Utöver de fyra grundkraven måste en ansökan uppfylla formella krav"
        in (letters["26RS9-begaran-om-komplettering-1.pdf"])
    )
