"""What every letter the demo makes says, and how, as a jurist and an applicant read it: no
personal link in a PDF (an official document anyone may ask for), the whole appeal notice
on one page in normal type, the whole data protection notice in the acknowledgement and a
pointer to it in every later letter, and a layout that reads: no page holding only a tail,
no address split across lines, web and e-mail addresses that are links, and a draft's mark
that a screen reader does not read out."""

import io
import re
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cache
from pathlib import Path

import pytest
from pypdf import PdfReader

from grants.settings import PROJECT_ROOT, load
from tests.conftest import MadeOnce
from tests.helpers import grants
from tests.test_demo import ONE_DEMO

SHIPPED = PROJECT_ROOT / "config" / "grants.toml"
ASKING = ("begaran-om-komplettering", "kommunicering")  # the letters whose e-mail has a link
DECISIONS = re.compile(r"-(beslut|decision)\.pdf$")
DRAFTS = re.compile(r"-(forslag-till-beslut|draft-decision)-\d+\.pdf$")
ACKNOWLEDGEMENTS = re.compile(r"-(mottagningsbekraftelse|acknowledgement)\.pdf$")
FEWEST_LINES = 6  # on a letter's last page, besides the header and footer every page has
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@pytest.fixture
def demo(made_once: MadeOnce, grants_home: Path) -> Path:
    """This test's copy of the demo's home, the whole call run through."""
    made_once("demo", lambda: grants("demo"))
    return grants_home


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    """A PDF's pages' text and each page's link targets."""
    return _parsed(path.read_bytes())


@cache
def _parsed(pdf: bytes) -> tuple[list[str], list[list[str]]]:
    """Read once per session: every test reads the same demo's letters (made_once)."""
    reader = PdfReader(io.BytesIO(pdf))
    texts = [page.extract_text() for page in reader.pages]
    uris = [
        [
            annotation.get_object()["/A"].get("/URI", "")
            for annotation in page.get("/Annots", [])
            if "/A" in annotation.get_object()
        ]
        for page in reader.pages
    ]
    return texts, uris


def every_uri(path: Path) -> list[str]:
    return [uri for page in _read(path)[1] for uri in page]


def letters(home: Path, pattern: re.Pattern[str] | None = None) -> list[Path]:
    found = sorted((home / "letters").glob("*.pdf"))
    # Every letter the demo makes, of every kind: with the money (acceptance, repayment
    # claims) and the results (a final report asked to be completed, a follow-up), no
    # final-report reminder since every grantee reports on time.
    assert len(found) == 55
    return [p for p in found if pattern is None or pattern.search(p.name)]


def text_of(path: Path) -> str:
    return "\n".join(_read(path)[0])


def emails(home: Path) -> dict[str, EmailMessage]:
    """The demo's e-mails to applicants by the name of the letter they carry."""
    found = {}
    for path in (home / "outbox").glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        for part in message.iter_attachments():
            if part.get_filename() and part.get_filename().endswith(".pdf"):
                found[part.get_filename()] = message
    return found


@pytest.mark.slow
@ONE_DEMO
def test_no_pdf_carries_a_personal_link_and_the_email_does(demo: Path) -> None:
    """The nine letters that ask for an answer say in the PDF where the link is (the e-mail)
    and that post or e-mail to the case officer count the same; the link and its signed
    token are in the e-mail's text only, in no PDF's text or link."""
    mailed = emails(demo)
    tokens = []
    asking = [p for p in letters(demo) if any(kind in p.name for kind in ASKING)]
    # 26RS4 is heard twice; 26RS6 and 26RS1 are heard on their repayment claims
    assert len(asking) == 9
    for path in asking:
        body = mailed[path.name].get_body().get_content()
        [link] = re.findall(r"https?://\S+/a/([\w.-]+)", body)
        tokens.append(link)
        said = re.sub(r"\s+", " ", text_of(path)).replace("e- post", "e-post")
        assert "personliga länken i e-postmeddelandet" in said or (
            "personal link in the e-mail" in said
        ), path.name
        assert "gäller lika" in said or "count the same" in said, path.name
    for path in letters(demo):
        flat = re.sub(r"\s+", "", "".join(_read(path)[0]))
        assert "/a/" not in flat, path.name
        assert not [uri for uri in every_uri(path) if "/a/" in uri], path.name
        for token in tokens:
            assert token[:16] not in flat, f"{path.name} holds a signed token"


@pytest.mark.slow
@ONE_DEMO
def test_every_decision_has_the_whole_appeal_notice_on_one_page_in_normal_type(
    demo: Path,
) -> None:
    """Court and address, the three weeks from the notice board's day and where it is
    published, who may appeal: all on one page, as large as the letter's own text. A
    refusal, a dismissal or a write-off granted nothing: no "beloppet"."""
    authority = load().file["authority"]
    decisions = letters(demo, DECISIONS)
    assert len(decisions) == 10
    for path in decisions:
        texts, uris = _read(path)
        swedish = path.name.endswith("-beslut.pdf")
        heading = "Hur man överklagar beslutet" if swedish else "How to appeal against the decision"
        [page] = [i for i, text in enumerate(texts) if heading in text]
        flat = re.sub(r"\s+", " ", texts[page])
        court = authority["appeal_court"] if swedish else authority["appeal_court_en"]
        who, association, start = (
            ("folkbokförd i en kommun i Örebro län", "En förening", "Tiden räknas inte")
            if swedish
            else ("resident in a municipality in Örebro county", "An association", "does not run")
        )
        weeks, board = (
            ("tre veckor", "anslagstavla") if swedish else ("three weeks", "notice board")
        )
        parts = [court, authority["appeal_court_address"], weeks, board, who, association, start]
        for part in parts:
            assert part in flat, f"{path.name}: {part!r} not on the appeal notice's page"
        assert authority["notice_board"] in uris[page], path.name
        assert authority["appeal_court_website"] in uris[page], path.name
        assert "Kontakta oss om ni vill veta" not in flat
        body, appeal = _type_sizes(path, page, heading)
        assert appeal >= body, f"{path.name}: the appeal notice in smaller type"
        if any(f"26RS{n}-" in path.name for n in (4, 9, 10)):  # refused, dismissed, closed
            start = flat.index(heading)
            assert "beloppet" not in flat[start:] and "amount" not in flat[start:], path.name
    for path in letters(demo, DRAFTS):  # a draft is no decision: nothing to appeal yet
        text = text_of(path)
        assert "Hur man överklagar" not in text and "How to appeal" not in text, path.name
        assert "laglighetsprövning" not in text and "Förvaltningsrätten" not in text, path.name


def _type_sizes(path: Path, page: int, heading: str) -> tuple[float, float]:
    """The letter's body size (the commonest on its first page) and the smallest size of
    the appeal notice's text (from its heading to the end of the notice)."""
    reader = PdfReader(io.BytesIO(path.read_bytes()))

    def sizes(number: int) -> list[tuple[float, str]]:
        found: list[tuple[float, str]] = []

        def visit(text, cm, tm, font, size):  # pypdf's visitor's arguments
            if text.strip():
                found.append((round(size * (tm[0] or 1), 1), text.strip()))

        reader.pages[number].extract_text(visitor_text=visit)
        return found

    body = Counter(size for size, _ in sizes(0)).most_common(1)[0][0]
    runs = sizes(page)
    start = next(i for i, (_, text) in enumerate(runs) if heading in text)
    end = next(
        i for i, (_, text) in enumerate(runs) if text.startswith(("Personuppgifter", "Personal"))
    )
    return body, min(size for size, _ in runs[start:end])


@pytest.mark.slow
@ONE_DEMO
def test_the_acknowledgement_has_the_whole_privacy_notice_and_later_letters_point_to_it(
    demo: Path,
) -> None:
    """GDPR Article 13 whole in the acknowledgement: controller and contact, the data
    protection officer, purposes and legal basis, who reads the application (the advisory
    group's organisations, from the configuration), retention, the rights and IMY. Every
    later letter points there in one sentence and repeats none of it."""
    file = load().file
    authority = file["authority"]
    organisations = ["Coompanion Mälardalen", "Stiftelsen Activa"]
    acknowledgements = letters(demo, ACKNOWLEDGEMENTS)
    assert len(acknowledgements) == 10
    for path in acknowledgements:
        flat = re.sub(r"\s+", " ", text_of(path))
        swedish = "mottagningsbekraftelse" in path.name
        parts = [
            authority["controller"] if swedish else authority["controller_en"],
            authority["data_protection_officer"],
            authority["email"],
            authority["retention"] if swedish else authority["retention_en"],
            *organisations,
            "6.1 e" if swedish else "6(1)(e)",
            *(
                ("rättade", "begränsas", "invända", "Integritetsskyddsmyndigheten")
                if swedish
                else ("rectified", "restrict", "object", "Integritetsskyddsmyndigheten")
            ),
        ]
        for part in parts:
            assert part in flat, f"{path.name}: no {part!r}"
        assert "https://www.imy.se" in every_uri(path), path.name
    for path in letters(demo):
        if path in acknowledgements:
            continue
        flat = re.sub(r"\s+", " ", text_of(path))
        assert (
            "står i mottagningsbekräftelsen" in flat
            or "acknowledgement of receipt for case" in flat
        ), f"{path.name} does not point to the privacy notice"
        assert "6.1 e" not in flat and "6(1)(e)" not in flat, f"{path.name} repeats half of it"


def _body_lines(texts: list[str]) -> list[list[str]]:
    """Each page's lines but those every page has (the header and footer, page numbers
    aside)."""

    def plain(line: str) -> str:
        return re.sub(r"\d+", "#", line.strip())

    lines = [[line for line in text.splitlines() if line.strip()] for text in texts]
    common = (
        set.intersection(*(set(map(plain, page)) for page in lines)) if len(texts) > 1 else set()
    )
    return [[line for line in page if plain(line) not in common] for page in lines]


@pytest.mark.slow
@ONE_DEMO
def test_no_letter_ends_on_a_page_holding_only_a_tail(demo: Path) -> None:
    for path in letters(demo):
        texts, _ = _read(path)
        if len(texts) > 1:
            last = _body_lines(texts)[-1]
            assert len(last) >= FEWEST_LINES, f"{path.name}: last page holds only {last}"


@pytest.mark.slow
@ONE_DEMO
def test_no_address_is_split_across_lines_and_addresses_are_links(demo: Path) -> None:
    """An e-mail address or a postcode never wraps (not at its @, nowhere); every e-mail
    address printed is a mailto link, and the authority's website is a link on every page."""
    file = load().file
    authority = file["authority"]
    known = {authority["email"], authority["data_protection_officer"]}
    known |= {person["email"] for person in file["people"]}
    known |= {str(message["To"]) for message in emails(demo).values()}  # the applicants'
    for path in letters(demo):
        texts, uris = _read(path)
        for number, (text, targets) in enumerate(zip(texts, uris, strict=True)):
            where = f"{path.name} p{number + 1}"
            for address in known:
                begun = address[: address.index("@") + 2]  # "maria.lindqvist@r"
                begun = len(re.findall(rf"(?<![\w.+-]){re.escape(begun)}", text))
                assert text.count(address) == begun, f"{where}: {address} split"
                if address in text:
                    assert f"mailto:{address}" in targets, f"{where}: {address} is no link"
            assert not re.search(r"@\s*\n", text), where
            court = authority["appeal_court_address"].split(", ")[-1]  # "651 12 Karlstad"
            for postcode in (authority["postcode"], court):
                assert text.count(postcode) == re.sub(r"\s+", " ", text).count(postcode), where
            assert "https://www.regionorebrolan.se" in targets, where


@pytest.mark.slow
@ONE_DEMO
def test_the_draft_mark_is_an_artifact_no_screen_reader_reads(demo: Path) -> None:
    """The "FÖRSLAG" mark is drawn on every page of a draft, as an artifact with no text:
    nothing of it is extracted, nor in the structure tree a screen reader follows."""
    drafts = letters(demo, DRAFTS)
    assert len(drafts) == 10
    for path in drafts:
        reader = PdfReader(io.BytesIO(path.read_bytes()))
        text = text_of(path)
        assert "FÖRSLAG" not in text and "DRAFT" not in text, path.name
        assert "Förslag till beslut" in text or "Draft decision" in text
        for page in reader.pages:
            content = page.get_contents().get_data()
            assert re.search(rb"/Artifact\s+BMC", content), f"{path.name}: no artifact drawn"
        tree = _structure_text(reader.trailer["/Root"]["/StructTreeRoot"])
        assert "FÖRSLAG" not in tree and "DRAFT" not in tree


def _structure_text(node, seen: set[int] | None = None) -> str:
    """Every /Alt and /ActualText in the structure tree: what a screen reader could be given
    besides the tagged content."""
    seen = seen if seen is not None else set()
    node = node.get_object() if hasattr(node, "get_object") else node
    if id(node) in seen:
        return ""
    seen.add(id(node))
    found = []
    if isinstance(node, dict):
        found += [str(node.get(key, "")) for key in ("/Alt", "/ActualText")]
        kids = node.get("/K", [])
        for kid in kids if isinstance(kids, list) else [kids]:
            found.append(_structure_text(kid, seen))
    return " ".join(found)


def test_a_plain_http_base_url_is_refused_at_start_up(
    grants_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside the demo and the tests (`[office] allow_http_links`), the office, a worker and
    every command that may send a personal link refuse an http `base_url`: one line naming
    the setting and its value, exit 2, before anything is done."""
    text = SHIPPED.read_text(encoding="utf-8")
    config = tmp_path / "grants.toml"
    monkeypatch.setenv("GRANTS_CONFIG", str(config))
    config.write_text(text.replace("allow_http_links = true", ""), encoding="utf-8")
    for command in (("deliver",), ("worker",), ("serve",)):  # serve last: it would serve
        refused = grants(*command, ok=False)
        assert refused.exit_code == 2, refused.output
        [line] = refused.output.strip().splitlines()
        assert "[office] base_url 'http://127.0.0.1:8000'" in line and "https" in line
    assert not (grants_home / "grants.db").exists()
    https = 'base_url = "https://bidrag.example.se"'
    config.write_text(
        text.replace("allow_http_links = true", "").replace(
            '# base_url = "https://bidrag.regionorebrolan.example.se"', https
        ),
        encoding="utf-8",
    )
    assert grants("deliver").exit_code == 0
