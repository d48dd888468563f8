"""The applicant answers through the personal link in its letter: no account, no sign-in.

A supplement request and a communication are ordered as the case officer orders them; the
letter (PDF and e-mail) carries the link; the link's page shows the request; what is sent
there is filed on the case like a supplement or reply the case officer registers, with the
applicant as the actor, and the case officer is told. A link used twice, changed, made for
another case or past its last day, and a file that is not what it claims, change nothing.
"""

import hashlib
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar

import pytest
from pypdf import PdfReader, PdfWriter
from sqlmodel import select

from flows.assessment import sweep
from flows.letters import send_letters
from grants.applicant_links import link_for
from grants.embedded import run_flow
from grants.settings import load
from models.access import case_for
from models.communication import communicate
from models.db import transaction
from models.documents import DOCX, ODT, media_type_of
from models.rules import Rules
from models.tables import AuditEvent, Case, Document, Recommendation, Role
from tests.conftest import Mailbox
from tests.helpers import OFFICER, database_dump, grants, pdf_pages, settled_dump
from tests.office import post
from tests.test_assessment import attachment
from tests.test_decisions import person, to_awaiting_decision

T = TypeVar("T")
LINK = re.compile(r"http://127\.0\.0\.1:8000/a/[A-Za-z0-9_.-]+")
KRYDDGARDEN = "hej@kryddgarden.example.se"
MISSING = "Beskriv hur projektet skiljer sig från Odla i Stan."


def small_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def letter_to(mailbox: Mailbox, recipient: str, subject: str) -> EmailMessage:
    return next(
        m for m in mailbox.messages if m["To"] == recipient and m["Subject"].startswith(subject)
    )


def the_case(ref: str) -> Case:
    with transaction(load().db_url) as session:
        return session.exec(select(Case).where(Case.case_reference == ref)).one()


def path_of(link: str) -> str:
    return link.removeprefix("http://127.0.0.1:8000")


def links_in(message: EmailMessage) -> tuple[str, str]:
    """The link in the e-mail's body, and the text of its PDF letter, which does not carry
    it: the letter is an official document anyone may ask for."""
    [in_body] = LINK.findall(message.get_body().get_content())
    pdf = attachment(message, ".pdf")
    text = "".join(pdf_pages(pdf)).replace(" ", "")
    uris = [
        annotation.get_object()["/A"]["/URI"]
        for page in PdfReader(io.BytesIO(pdf)).pages
        for annotation in page.get("/Annots", [])
        if "/A" in annotation.get_object()
    ]
    token = in_body.rsplit("/", 1)[-1]
    assert token not in text and not any(token in uri for uri in uris)
    return in_body, text


@pytest.fixture
def asked(sample_call, smtp_server: Mailbox, office) -> tuple[str, str]:
    """Kryddgården's case with a supplement requested by the case officer: (ref, link)."""
    ref = the_case_by_submission("SI-2026-0105").case_reference
    grants(
        "checklist", ref, "--as", OFFICER, "--benefit-to-society", "met", "--innovative", "met",
        "--new-locally", "unclear", "--note", f"new_locally={MISSING}",
        "--anchored-with-partners", "met",
    )  # fmt: skip
    smtp_server.wait_for(9)
    letter = letter_to(smtp_server, KRYDDGARDEN, f"Begäran om komplettering {ref}")
    link, text = links_in(letter)
    deadline = the_request_deadline(ref)
    assert f"senast{deadline.day}" in text  # "Svara senast 11 december 2026"
    assert "personligalänkenie-postmeddelandet" in text  # where the link is
    return ref, link


def the_case_by_submission(submission_id: str) -> Case:
    with transaction(load().db_url) as session:
        return session.exec(select(Case).where(Case.submission_id == submission_id)).one()


def the_request_deadline(ref: str) -> date:
    from models.tables import SupplementRequest

    with transaction(load().db_url) as session:
        query = select(SupplementRequest.deadline).join(Case).where(Case.case_reference == ref)
        return session.exec(query).one()


def documents(ref: str) -> list[Document]:
    with transaction(load().db_url) as session:
        query = select(Document).join(Case, Document.case_id == Case.id)
        return list(session.exec(query.where(Case.case_reference == ref).order_by(Document.id)))


def events(ref: str, action: str) -> list[AuditEvent]:
    with transaction(load().db_url) as session:
        query = select(AuditEvent).join(Case, AuditEvent.case_id == Case.id)
        return list(
            session.exec(query.where(Case.case_reference == ref, AuditEvent.action == action))
        )


def notices_to(mailbox: Mailbox, office, recipient: str) -> list[EmailMessage]:
    assert office.app.state.office.follow_up.wait_idle(60)
    return [
        m
        for m in mailbox.messages
        if m["To"] == recipient and "/cases/" in str(m.get_body().get_content())
    ]


def test_the_applicant_sends_the_supplement_through_the_letters_link(
    asked: tuple[str, str], office, smtp_server: Mailbox
) -> None:
    ref, link = asked
    page = office.get(path_of(link))  # nobody signed in
    assert page.status_code == 200
    assert 'lang="sv"' in page.text
    for words in (ref, "Kryddgården", "Begäran om komplettering nr 1", MISSING, "Nytt lokalt"):
        assert words in page.text, words
    deadline = the_request_deadline(ref)
    assert f"{deadline.day} " in page.text and str(deadline.year) in page.text

    pdf = small_pdf()
    sent = post(
        office,
        path_of(link),
        {"message": "Odla i Stan finns bara i Örebro; i Lindesberg finns inget liknande."},
        files={"file": ("komplettering.pdf", pdf, "application/pdf")},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    receipt = office.get(sent.headers["location"])
    assert receipt.status_code == 200 and "Tack" in receipt.text

    assert the_case(ref).state == "received"  # back to the eligibility checklist
    filed = documents(ref)
    assert [(d.filename, d.media_type) for d in filed] == [
        ("komplettering.pdf", "application/pdf"),
        ("meddelande.txt", "text/plain"),
    ]
    assert filed[0].sha256 == hashlib.sha256(pdf).hexdigest()
    assert filed[1].content.decode().startswith("Odla i Stan finns bara i Örebro")
    [registered] = events(ref, "supplement_registered")
    assert (registered.actor, registered.role) == (KRYDDGARDEN, Role.applicant)
    assert registered.detail["sha256"] == filed[0].sha256
    [message_filed] = events(ref, "applicant_message_filed")
    assert message_filed.role == Role.applicant

    [notice] = notices_to(smtp_server, office, OFFICER)
    assert notice["Subject"] == f"Kompletteringen i {ref} har kommit in"
    body = notice.get_body().get_content()
    assert f"http://127.0.0.1:8000/cases/{ref}" in body
    assert "komplettering.pdf" in body and filed[0].sha256 in body

    # The same link again: refused, and nothing changes.
    before = settled_dump(office)
    again = post(office, path_of(link), {"message": "En sak till."}, follow_redirects=False)
    assert again.status_code == 409
    assert "redan besvarats" in again.text and "Maria Lindqvist" in again.text
    assert database_dump(load().home) == before


def test_changed_foreign_expired_links_and_hostile_files_are_refused(
    asked: tuple[str, str], office
) -> None:
    ref, link = asked
    settings = load()
    token = link.rsplit("/", 1)[1]
    other = the_case_by_submission("SI-2026-0101").case_reference
    foreign = link_for(settings, other, "supplement", 1, date.today())
    payload_of_other = foreign.rsplit("/", 1)[1].split(".")[0]
    expired = link_for(settings, ref, "supplement", 1, date.today() - timedelta(days=15))
    pdf = small_pdf()
    before = settled_dump(office)

    changed = [
        f"/a/{token[:-2]}{'A' if token[-2] != 'A' else 'B'}{token[-1]}",  # the signature
        f"/a/{payload_of_other}.{token.split('.')[1]}",  # another case, this signature
        "/a/not-a-link",
    ]
    for path in changed:
        assert office.get(path).status_code == 404, path
        refused = post(office, path, {"message": "Hej"}, files={"file": ("a.pdf", pdf)})
        assert refused.status_code == 404 and "Länken fungerar inte" in refused.text, path

    # A real link for a case that asked for nothing: the other case stays as it was.
    for response in (
        office.get(path_of(foreign)),
        post(office, path_of(foreign), {"message": "Hej"}),
    ):
        assert response.status_code == 409
        assert "inte längre öppen" in response.text

    # A link past its last day (14 days after the deadline).
    for response in (
        office.get(path_of(expired)),
        post(office, path_of(expired), {"message": "Hej"}),
    ):
        assert response.status_code == 410
        assert "Länken har slutat gälla" in response.text

    hostile = {
        "an HTML page": ("komplettering.pdf", b"<!doctype html><script>alert(1)</script>"),
        "a program": ("komplettering.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(200)),
    }
    for what, (name, content) in hostile.items():
        refused = post(
            office, path_of(link), {"message": "Se bilagan."}, files={"file": (name, content)}
        )
        assert refused.status_code == 422, what
        assert "Filen är av ett slag som vi inte kan ta emot" in refused.text, what
        assert "Se bilagan." in refused.text, "what was typed is kept"
    nothing = post(office, path_of(link), {"message": "  "})
    assert (
        nothing.status_code == 422 and "Ladda upp en fil eller skriv ett meddelande" in nothing.text
    )

    assert database_dump(settings.home) == before
    assert the_case(ref).state == "awaiting_supplement"

    # The deadline passes and the case moves on as the request said: the link, still
    # within its days, now says the request is closed.
    run_flow(sweep, today=the_request_deadline(ref) + timedelta(days=1))
    assert the_case(ref).state != "awaiting_supplement"
    before = settled_dump(office)
    for response in (office.get(path_of(link)), post(office, path_of(link), {"message": "Hej"})):
        assert response.status_code == 409 and "inte längre öppen" in response.text
    assert database_dump(settings.home) == before


@pytest.mark.parametrize("with_file", [False, True], ids=["message alone", "with a file"])
def test_a_message_that_begins_with_a_bracket_is_taken_as_the_text_it_is(
    asked: tuple[str, str], office, with_file: bool
) -> None:
    """A message is words typed in the page, not a file: nothing in it is judged as a file's
    content is (an HTML page begins with "<"), whatever it begins with."""
    ref, link = asked
    typed = "<Protokollet> skickas med post i morgon.\n<b>Hälsningar</b>, Kryddgården"
    files = {"file": ("protokoll.pdf", small_pdf(), "application/pdf")} if with_file else None
    sent = post(office, path_of(link), {"message": typed}, files=files, follow_redirects=False)
    assert sent.status_code == 303, "not refused as a file of a kind we cannot take"
    filed = documents(ref)
    assert [(d.filename, d.media_type) for d in filed][-1] == ("meddelande.txt", "text/plain")
    assert filed[-1].content.decode() == typed
    assert len(filed) == (2 if with_file else 1)
    assert the_case(ref).state == "received"


def signed_in_by_mail(office, mailbox: Mailbox, email: str) -> None:
    """Signed in with the link the office e-mails to `email` through the SMTP server."""
    post(office, "/login", {"email": email})
    mailed = [m.get_body().get_content() for m in mailbox.messages if m["To"] == email]
    [token] = re.findall(r"/login/link\?token=([\w-]+)", mailed[-1])
    signed = post(office, "/login/link", {"token": token}, follow_redirects=False)
    assert signed.status_code == 303


def test_the_case_page_names_what_came_in_in_the_pages_language(
    asked: tuple[str, str], office, smtp_server: Mailbox
) -> None:
    """What the applicant sent, the history's step and the letters' language are named in
    the page's language, never by the domain's codes."""
    ref, link = asked
    files = {"file": ("komplettering.pdf", small_pdf(), "application/pdf")}
    post(office, path_of(link), {"message": "Se bilagan."}, files=files)
    signed_in_by_mail(office, smtp_server, OFFICER)
    swedish = office.get(f"/cases/{ref}").text
    for named in ("Sökandens meddelande registrerat", "<td>Komplettering</td>", "<dd>svenska</dd>"):
        assert named in swedish, named
    english = post(office, "/language", {"language": "en", "next": f"/cases/{ref}"}).text
    for named in ("The applicant&#39;s message filed", "<td>Supplement</td>", "<dd>Swedish</dd>"):
        assert named in english, named
    for page in (swedish, english):
        for code in ("applicant message filed", "<td>supplement</td>"):
            assert code not in page, code
    assert "<dd>svenska</dd>" not in english


MIB = 1024 * 1024


def deflated_zeros(start: bytes, mebibytes: int) -> bytes:
    """`start` and then `mebibytes` MiB of zeros as one raw deflate stream, made in
    milliseconds: after a full flush the compressor starts afresh, so each further MiB of
    zeros packs to the same block, repeated."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = packer.compress(start) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(bytes(MIB)) + packer.flush(zlib.Z_FULL_FLUSH)
    return first + block * mebibytes + packer.flush()


def zip_by_hand(entries: dict[str, tuple[bytes, int]], lies: dict[str, int] | None = None) -> bytes:
    """A zip archive whose entry `name` unpacks to `start` and `mebibytes` MiB of zeros
    (a zip bomb when they are many), each deflated; `lies`: the unpacked size its headers
    claim for an entry instead of the true one."""
    local, central = b"", b""
    for name, (start, mebibytes) in entries.items():
        packed = deflated_zeros(start, mebibytes)
        crc = zlib.crc32(start)
        for _ in range(mebibytes):
            crc = zlib.crc32(bytes(MIB), crc)
        size = (lies or {}).get(name, len(start) + mebibytes * MIB)
        fields = (8, 0, 0x21, crc, len(packed), size, len(name))
        central += struct.pack(
            "<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, *fields, 0, 0, 0, 0, 0, len(local)
        )
        local += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, *fields, 0)
        local += name.encode() + packed
        central += name.encode()
    count = len(entries)
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, count, count, len(central), len(local), 0)
    return local + central + end


def document(entries: dict[str, str]) -> bytes:
    """An ODT or DOCX as office programs write one: `mimetype` stored, the rest deflated."""
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        for name, text in entries.items():
            kind = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, text, compress_type=kind)
    return packed.getvalue()


def with_memory_growth(during: Callable[[], T]) -> tuple[T, int]:
    """What `during()` returned, and how far this process's resident memory rose above
    where it stood while it ran, in bytes (the peak is reset first: /proc/self/clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")
    before = int(re.search(r"VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1))
    result = during()
    peak = int(re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1))
    return result, (peak - before) * 1024


def test_zip_bombs_sent_as_documents_are_refused_unread_and_real_ones_pass(
    asked: tuple[str, str], office
) -> None:
    ref, link = asked
    bombs = {
        # ODT-shaped: its media type, then a gigabyte of zeros, in the entry read first.
        "komplettering.odt": zip_by_hand({"mimetype": (ODT.encode(), 1024)}),
        # DOCX-shaped: the document itself unpacks to half a gigabyte.
        "komplettering.docx": zip_by_hand(
            {"[Content_Types].xml": (b"<Types/>", 0), "word/document.xml": (b"<w:document>", 512)}
        ),
        # The same, but the archive claims its document unpacks to 1,000 bytes.
        "ljuger.docx": zip_by_hand(
            {"[Content_Types].xml": (b"<Types/>", 0), "word/document.xml": (b"<w:document>", 512)},
            lies={"word/document.xml": 1000},
        ),
    }
    before = settled_dump(office)
    for name, bomb in bombs.items():
        assert len(bomb) < 1_100_000, name  # the bombs are small; what they unpack to is not
        files = {"file": (name, bomb, DOCX)}
        refused, growth = with_memory_growth(
            lambda files=files: post(office, path_of(link), {"message": "Bilagan."}, files=files)
        )
        assert growth < 100 * MIB, f"{name}: the office grew by {growth // MIB} MB"
        assert refused.status_code == 422, name
        assert "Inte skickat" in refused.text and name in refused.text, name
        assert "kan därför inte tas emot" in refused.text, name
    assert database_dump(load().home) == before, "nothing was stored"
    assert the_case(ref).state == "awaiting_supplement"

    # In English, to an applicant who chose it.
    post(office, "/language", {"language": "en"})
    files = {"file": ("komplettering.odt", bombs["komplettering.odt"])}
    english = post(office, path_of(link), {}, files=files)
    assert "would take up more than 20 MB once unpacked" in english.text
    assert "komplettering.odt" in english.text

    # Real documents still pass: a DOCX, and an ODT sent through the link.
    text = "<text>" + "Odla i Stan finns bara i Örebro. " * 2000 + "</text>"
    docx = document({"[Content_Types].xml": "<Types/>", "word/document.xml": text})
    assert media_type_of(docx, "komplettering.docx") == DOCX
    odt = document({"mimetype": ODT, "content.xml": text})
    files = {"file": ("komplettering.odt", odt, ODT)}
    sent = post(office, path_of(link), {}, files=files, follow_redirects=False)
    assert sent.status_code == 303
    [(filename, media_type)] = [(d.filename, d.media_type) for d in documents(ref)]
    assert (filename, media_type) == ("komplettering.odt", ODT)


def test_the_page_needs_no_sign_in_but_does_need_the_form_token(
    asked: tuple[str, str], office
) -> None:
    ref, link = asked
    page = office.get(path_of(link), follow_redirects=False)
    assert page.status_code == 200, "no redirect to /login"
    before = settled_dump(office)
    for data in ({"message": "Hej"}, {"message": "Hej", "csrf_token": "not-the-token"}):
        refused = office.post(path_of(link), data=data, follow_redirects=False)
        assert refused.status_code == 403
    assert database_dump(load().home) == before
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    sent = office.post(
        path_of(link), data={"csrf_token": token, "message": "Hej"}, follow_redirects=False
    )
    assert sent.status_code == 303
    assert the_case(ref).state == "received"


def test_the_applicant_comments_on_a_communication_in_english(
    sample_call, smtp_server: Mailbox, office
) -> None:
    settings = load()
    ref = to_awaiting_decision("SI-2026-0108", Recommendation.refused, submit=False)
    with transaction(settings.db_url) as session:
        officer = person(session, OFFICER)
        case = case_for(session, ref, officer, lock=True)
        communicate(session, case, officer, Rules.from_config(settings.file), date.today())
    run_flow(send_letters)
    letter = letter_to(smtp_server, "secretary@kfcc.example.org", "Communication before decision")
    link, text = links_in(letter)
    assert "thepersonallinkinthee-mail" in text

    page = office.get(path_of(link))
    assert page.status_code == 200 and 'lang="en"' in page.text
    assert "Communication before decision no. 1" in page.text and ref in page.text
    before = settled_dump(office)
    hostile = post(
        office,
        path_of(link),
        {"message": "See the file."},
        files={"file": ("reply.pdf", b"<html></html>")},
    )
    assert hostile.status_code == 422 and "The file is of a kind we cannot accept" in hostile.text
    assert database_dump(settings.home) == before

    sent = post(office, path_of(link), {"message": "We have more partners than you write."})
    assert sent.status_code == 200 and "Thank you" in sent.text  # after the redirect
    assert the_case(ref).state == "drafting_decision"
    [reply] = documents(ref)
    assert (reply.kind, reply.filename) == ("communication_reply", "message.txt")
    assert reply.sha256 == hashlib.sha256(b"We have more partners than you write.").hexdigest()
    [event] = events(ref, "communication_reply")
    assert (event.actor, event.role) == ("secretary@kfcc.example.org", Role.applicant)
    [notice] = notices_to(smtp_server, office, OFFICER)
    assert notice["Subject"] == f"Svaret på kommuniceringen i {ref} har kommit in"
    assert f"http://127.0.0.1:8000/cases/{ref}" in notice.get_body().get_content()

    before = settled_dump(office)
    again = post(office, path_of(link), {"message": "And one more thing."})
    assert again.status_code == 409 and "already been answered" in again.text
    assert database_dump(settings.home) == before


@pytest.mark.browser
def test_the_applicant_answers_in_a_browser_and_every_page_meets_wcag_21_aa(
    sample_call, live_office, browser_page, tmp_path
) -> None:
    """As an applicant does: the link from the e-mail, a file and a message, the receipt;
    and an axe-core scan of the form, the receipt and a broken link's page."""
    from tests.test_office_browser import accessibility_violations, keep_screenshot

    ref = the_case_by_submission("SI-2026-0105").case_reference
    grants("request-supplement", ref, "--as", OFFICER, "--missing", MISSING)
    [eml] = load().outbox_dir.glob(f"{ref}-begaran-om-komplettering-1.eml")
    body = message_from_bytes(eml.read_bytes(), policy=policy.default).get_body().get_content()
    [link] = re.findall(r"http://127\.0\.0\.1:\d+/a/[A-Za-z0-9_.-]+", body)

    page = browser_page
    page.goto(link)
    page.get_by_role("heading", name="Skicka er komplettering").wait_for()
    assert accessibility_violations(page) == []
    keep_screenshot(page, "office-applicant", tmp_path)
    upload = tmp_path / "komplettering.pdf"
    upload.write_bytes(small_pdf())
    page.get_by_label("Fil (frivilligt)").set_input_files(str(upload))
    page.get_by_label("Meddelande (frivilligt)").fill("Odla i Stan finns bara i Örebro.")
    page.get_by_role("button", name="Skicka till Region Örebro län").click()
    page.get_by_role("heading", name="Tack: ert svar har kommit in").wait_for()
    assert accessibility_violations(page) == []
    assert the_case(ref).state == "received"
    assert [d.filename for d in documents(ref)] == ["komplettering.pdf", "meddelande.txt"]

    page.goto(link + "x")
    page.get_by_role("heading", name="Länken fungerar inte").wait_for()
    assert accessibility_violations(page) == []
