"""The acknowledgement letter, read back from the PDF as the applicant would read it."""

import hashlib
import io
import json
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import select

from flows.intake import intake
from grants import render
from grants.embedded import run_flow
from grants.settings import TEMPLATES, load
from models.db import transaction
from models.tables import Case, Letter
from tests.conftest import SAMPLES
from tests.helpers import pdf_pages

TODAY = render.format_date(date.today(), "sv")


def letter_of(submission_id: str) -> Letter:
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.submission_id == submission_id)).one()
        return session.exec(select(Letter).where(Letter.case_id == case.id)).one()


def test_swedish_acknowledgement_reads_right(sample_call_acknowledged: Path) -> None:
    letter = letter_of("SI-2026-0103")
    pages = pdf_pages(letter.pdf)
    text = " ".join(pages)
    reference = letter.letter_key.split("/")[0]
    assert len(pages) >= 1
    for number, page in enumerate(pages, start=1):
        assert f"Diarienummer {reference}" in page
        assert f"Sida {number} av {len(pages)}" in page
        assert "Region Örebro län" in page
    assert "Mottagningsbekräftelse" in text
    assert "Partnerskapet för sociala innovationer" in text
    assert "Vi har tagit emot er ansökan" in text
    assert "den 29 september 2026 tagit emot er ansökan" in text
    assert f"Datum {TODAY}" in text
    assert "Föreningen Lekbanken i Nora" in text and "Att: Maria Öhman" in text
    assert "Sökt belopp 20 000 kr" in text
    assert "Projektperiod 15 januari 2027 – 15 december 2027" in text
    assert "Handläggare Maria Lindqvist" in text
    assert "på delegation från kulturnämnden" in text
    assert letter.filename == f"{reference}-mottagningsbekraftelse.pdf"
    assert letter.sha256 == hashlib.sha256(letter.pdf).hexdigest()


def test_a_short_letter_is_one_page_and_the_side_column_keeps_addresses_whole(
    sample_call_acknowledged: Path,
) -> None:
    """The letter on one page; the data protection notice on the next, a page of its own."""
    for submission_id in ("SI-2026-0101", "SI-2026-0108"):  # no warnings: a short letter
        pages = pdf_pages(letter_of(submission_id).pdf)
        assert len(pages) == 2, submission_id
        assert "personuppgifter" not in pages[0].lower() and "personal data" not in pages[0]
        assert "Maria Lindqvist maria.lindqvist@regionorebrolan.example.se" in pages[0]
        # The footer's separators join items on one line; none ends a line.
        assert "019-602 10 00 sociala.innovationer@" in pages[0]


def test_english_on_request(sample_call_acknowledged: Path) -> None:
    letter = letter_of("SI-2026-0108")
    text = " ".join(pdf_pages(letter.pdf))
    assert "Acknowledgement of receipt" in text and "We have received your application" in text
    assert "On 20 November 2026, Region Örebro län received your application" in text
    assert "Amount applied for SEK 25,000" in text
    assert "Page 1 of" in text
    assert "Mottagningsbekräftelse" not in text
    assert letter.filename.endswith("-acknowledgement.pdf")


def test_letter_is_tagged_pdf_a_with_title_and_language(sample_call_acknowledged: Path) -> None:
    pdf = letter_of("SI-2026-0101").pdf
    reader = PdfReader(io.BytesIO(pdf))
    catalog = reader.trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="2" pdfaid:conformance="A"' in xmp  # level A: tagged
    assert "/StructTreeRoot" in catalog and catalog["/MarkInfo"]["/Marked"]
    assert catalog["/Lang"] == "sv"
    assert reader.metadata.title.startswith("Mottagningsbekräftelse")
    assert reader.metadata.author == "Region Örebro län"


def test_warnings_tell_the_applicant_what_is_needed_later(sample_call_acknowledged: Path) -> None:
    text = " ".join(pdf_pages(letter_of("SI-2026-0104").pdf))
    assert "Det här behöver vi senare" in text
    assert "organisationsnummer från Skatteverket" in text
    assert "Det här behöver vi senare" not in " ".join(pdf_pages(letter_of("SI-2026-0101").pdf))


def test_what_the_applicant_typed_is_text_and_reads_no_files(
    grants_home: Path, tmp_path: Path
) -> None:
    record = json.loads((SAMPLES / "applications.json").read_text())[0]
    record["project_title"] = '<b>fet</b> & "citat" <img src="file:///etc/passwd">'
    record["organisation_name"] = '<link rel="attachment" href="file:///etc/hostname">Förening'
    record["contact_person"] = (
        "{{ authority.email }} <style>@import url(file:///etc/passwd)</style>"
    )
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps([record]))
    run_flow(intake, path=str(path))
    letter = letter_of(record["submission_id"])
    text = " ".join(pdf_pages(letter.pdf))
    assert '<b>fet</b> & "citat" <img src="file:///etc/passwd">' in text
    assert '<link rel="attachment" href="file:///etc/hostname">Förening' in text
    assert "{{ authority.email }}" in text
    assert PdfReader(io.BytesIO(letter.pdf)).attachments == {}
    assert b"root:" not in letter.pdf


def test_the_renderer_may_read_only_template_assets() -> None:
    fetcher = render._weasyprint()[2]
    css = fetcher.fetch((TEMPLATES / "letters" / "letter.css").as_uri())
    assert b"@page" in css.read()
    for url in (
        "file:///etc/passwd",
        (TEMPLATES / "letters" / ".." / ".." / "pyproject.toml").as_uri(),
        "http://127.0.0.1:9/x.css",
        "data:text/css,body{}",
    ):
        with pytest.raises(ValueError, match="may not load"):
            fetcher.fetch(url)


def test_the_emailed_pdf_is_the_archived_one(sample_call_acknowledged: Path) -> None:
    letter = letter_of("SI-2026-0102")
    eml = sample_call_acknowledged / "outbox" / letter.filename.replace(".pdf", ".eml")
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == letter.filename
    assert attachment.get_content() == letter.pdf
    assert message["To"] == letter.recipient
    assert message["Subject"].startswith(f"Mottagningsbekräftelse {letter.letter_key[:-16]}")
    assert message["Date"] and message["Message-ID"]


def test_every_message_of_the_letters_has_its_swedish() -> None:
    """A letter worded through the catalog shows no English in a Swedish letter: every
    message the letter templates use is translated."""
    from babel.messages.pofile import read_po

    from grants.web.catalog import LETTERS, catalog_path, extracted, missing

    with catalog_path(domain=LETTERS).open("rb") as handle:
        catalog = read_po(handle, locale="sv")
    assert extracted(LETTERS).get("Notice of delay") is not None  # the letters are read
    assert missing(catalog, extracted(LETTERS)) == []


def test_a_message_fills_in_applicant_text_escaped_and_isolated() -> None:
    """What the applicant typed goes into a translated sentence as text, and right-to-left
    text cannot turn the sentence around it."""
    template = render.environment().from_string(
        "{{ _('Dear %(name)s,', name=name) }}", globals={"language": "sv"}
    )
    html = template.render(name="<b>\u05d0\u05d1</b>")
    assert html.startswith("Hej ") and "&lt;b&gt;" in html and "<b>" not in html
    assert "\u2068" in html  # first-strong isolate around the name
