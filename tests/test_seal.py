"""The authority's e-seal on signed decisions (grants.seal): a PAdES signature that leaves
the decision PDF/A-2a and tagged, a stamp that says who decided and when, an RFC 3161
timestamp from the configured service, and `grants verify` finding a decision whose seal
does not hold."""

import asyncio
import hashlib
import io
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import select

from flows.intake import intake
from flows.letters import letter_job, send_letters
from grants.embedded import run_flow
from grants.render import render_pdf
from grants.seal import FIELD_NAME, Seal, generated_seal, make_seal, seal_fault
from grants.settings import PROJECT_ROOT, load
from models import clock
from models.access import case_for
from models.db import transaction
from models.decisions import sign
from models.rules import Rules
from models.tables import Letter, Recommendation
from tests.conftest import SAMPLES, Mailbox
from tests.helpers import DECISION_MAKER, OFFICER, copy_home, grants, pdf_pages
from tests.test_decisions import person, to_awaiting_decision
from tests.test_integrity import signed_call  # noqa: F401  (the module's signed call)

SHIPPED = (PROJECT_ROOT / "config" / "grants.toml").read_text(encoding="utf-8")


@pytest.fixture
def decided(signed_call: Path, grants_home: Path) -> Path:  # noqa: F811
    """This test's own copy of the signed call, its generated seal with it."""
    copy_home(signed_call.parent, grants_home)
    return grants_home


def decision_pdf(home: Path) -> tuple[str, str, bytes]:
    """The signed decision's case reference, file name and PDF, as stored."""
    with sqlite3.connect(home / "grants.db") as db:
        return db.execute(
            "SELECT case_reference, filename, pdf FROM letters "
            "JOIN cases ON cases.id = letters.case_id WHERE kind = 'decision'"
        ).fetchone()


def store_pdf(home: Path, pdf: bytes) -> None:
    """Someone with the database puts another PDF in the decision's place, with its SHA-256."""
    with sqlite3.connect(home / "grants.db") as db:
        db.execute(
            "UPDATE letters SET pdf = ?, sha256 = ? WHERE kind = 'decision'",
            (pdf, hashlib.sha256(pdf).hexdigest()),
        )


def verify() -> tuple[int, str]:
    result = grants("verify", "--as", OFFICER, ok=False)
    return result.exit_code, " ".join(result.output.split())


def test_a_signed_decision_is_sealed_as_an_update_that_keeps_it_pdfa_2a(decided: Path) -> None:
    _, _, pdf = decision_pdf(decided)
    first_revision = pdf[: pdf.index(b"%%EOF") + len(b"%%EOF")]
    assert len(first_revision) < len(pdf)  # the seal is appended: an incremental update
    for version in (PdfReader(io.BytesIO(first_revision)), PdfReader(io.BytesIO(pdf))):
        root = version.trailer["/Root"]
        xmp = root["/Metadata"].get_object().get_data()
        assert b'pdfaid:part="2"' in xmp and b'pdfaid:conformance="A"' in xmp, xmp[:400]
        assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
        assert root["/Lang"] == "sv" and "/Version" not in root  # PDF 1.7, as PDF/A-2 is
        producer = version.trailer["/Info"]["/Producer"]  # the same in both, as PDF/A wants
        assert f'pdf:Producer="{producer}"'.encode() in xmp, (producer, xmp[:600])
    reader = PdfReader(io.BytesIO(pdf))
    (field,) = [f.get_object() for f in reader.trailer["/Root"]["/AcroForm"]["/Fields"]]
    assert field["/FT"] == "/Sig" and field["/T"] == FIELD_NAME
    assert field["/V"]["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert field["/F"] & 4  # printed, as PDF/A wants every annotation
    assert field["/AP"]["/N"].get_object()["/Subtype"] == "/Form"  # the frame it draws
    page = next(  # the page of the seal's widget (a letter's links are annotations too)
        i
        for i, p in enumerate(reader.pages)
        if any(a.get_object()["/Subtype"] == "/Widget" for a in p.get("/Annots", []))
    )
    stamp = pdf_pages(pdf)[page]
    # The stamp the widget frames: who decided and when, in the letter's own tagged text.
    assert "Elektroniskt förseglat av Region Örebro län" in stamp, stamp
    assert "Beslutsfattare: Karin Sjöberg, områdeschef" in stamp, stamp
    assert "Beslutet fattades: " in stamp and " kl. " in stamp.split("Beslutet fattades: ")[1]


def test_a_decision_changed_by_one_byte_is_found_by_its_seal(decided: Path) -> None:
    reference, filename, pdf = decision_pdf(decided)
    at = pdf.index(b"stream", len(pdf) // 4) + 40  # inside a page's content, under the seal
    store_pdf(decided, pdf[:at] + bytes([pdf[at] ^ 1]) + pdf[at + 1 :])
    code, output = verify()
    assert code == 1, output
    changed = f"{reference}: {filename}: the seal does not hold: the PDF was changed after it"
    assert changed in output, output


def test_a_decision_sealed_with_another_authoritys_certificate_is_found(
    decided: Path, tmp_path: Path
) -> None:
    reference, filename, _ = decision_pdf(decided)
    other = tmp_path / "other-ca"
    other.mkdir()
    p12, _ = make_seal(other, "Region Örebro län", "other")  # the same name, another CA
    store_pdf(decided, rendered_decision(Seal(other / "root-ca.pem", p12, passphrase="other")))
    code, output = verify()
    assert code == 1, output
    assert f"{reference}: {filename}: the seal's certificate (issued by" in output, output
    assert "does not chain to the trust anchor" in output, output


def test_a_decision_whose_seal_was_taken_off_is_found(decided: Path) -> None:
    reference, filename, pdf = decision_pdf(decided)
    store_pdf(decided, pdf[: pdf.index(b"%%EOF") + len(b"%%EOF")])  # as before it was sealed
    code, output = verify()
    assert code == 1 and f"{reference}: {filename}: carries no seal" in output, output


def test_a_decision_made_before_decisions_were_sealed_is_not_asked_for_a_seal(
    decided: Path,
) -> None:
    settings = load()
    with transaction(settings.db_url) as session:
        letter = session.exec(select(Letter).where(Letter.kind == "decision")).one()
        template, context = letter_job(settings, letter, clock.today())
    store_pdf(decided, render_pdf(template, context | {"facts": None}))  # no facts, no seal
    _, output = verify()
    assert "seal" not in output, output  # its SHA-256 against the trail is what holds it


def test_a_decision_is_sealed_and_checked_where_an_event_loop_runs(decided: Path) -> None:
    """pyHanko's plain calls start an event loop of their own: in a thread whose loop is
    running (the office's, or a browser test's Playwright) they must still seal and check."""
    settings = load()
    _, _, pdf = decision_pdf(decided)

    async def in_a_running_loop() -> tuple[bytes, str | None]:
        return rendered_decision(settings.seal), seal_fault(pdf, settings.seal.trust_anchor)

    with ThreadPoolExecutor(1) as thread:  # a thread of its own: the suite's may have a loop
        sealed, fault = thread.submit(asyncio.run, in_a_running_loop()).result()
    assert fault is None and seal_fault(sealed, settings.seal.trust_anchor) is None


def rendered_decision(seal: Seal) -> bytes:
    """The signed decision of this test's home rendered and sealed again with `seal`."""
    settings = load()
    with transaction(settings.db_url) as session:
        letter = session.exec(select(Letter).where(Letter.kind == "decision")).one()
        template, context = letter_job(settings, letter, clock.today())
    return render_pdf(template, context, seal)


class TimestampService(BaseHTTPRequestHandler):
    """An RFC 3161 timestamp service on 127.0.0.1: pyHanko's own dummy timestamper, with a
    TSA certificate made for the test, answering over HTTP as a real one does."""

    stamper = None
    requests = 0

    def do_POST(self) -> None:
        from asn1crypto import tsp

        request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
        answer = type(self).stamper.request_tsa_response(request).dump()
        type(self).requests += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def timestamp_service() -> Iterator[str]:
    TimestampService.stamper = dummy_timestamper()
    TimestampService.requests = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), TimestampService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def dummy_timestamper() -> object:
    """pyHanko's DummyTimeStamper with a self-signed TSA certificate (time stamping only)."""
    from asn1crypto import keys, x509
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    key = rsa.generate_private_key(65537, 2048)
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    now = datetime.now(UTC)
    certificate = (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(cx509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    der_key = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return DummyTimeStamper(
        x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
        keys.PrivateKeyInfo.load(der_key),
    )


def test_the_seal_carries_a_timestamp_from_the_configured_service(
    decided: Path, timestamp_service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, url = decided / "grants.toml", timestamp_service
    configured = f'\ngenerated = true\ntimestamp_url = "{url}"\n'
    config.write_text(SHIPPED.replace("\ngenerated = true\n", configured), encoding="utf-8")
    monkeypatch.setenv("GRANTS_CONFIG", str(config))
    seal = load().seal
    assert seal is not None and seal.timestamp_url == timestamp_service.rstrip("/")
    pdf = rendered_decision(seal)
    assert TimestampService.requests >= 1  # (pyHanko asks once more, to size the token)
    from pyhanko.pdf_utils.reader import PdfFileReader

    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    unsigned = [a["type"].native for a in signature.signer_info["unsigned_attrs"]]
    assert unsigned == ["signature_time_stamp_token"], unsigned
    store_pdf(decided, pdf)  # sealed and timestamped, it still holds
    _, output = verify()
    assert "the seal" not in output, output


@pytest.mark.parametrize(
    ("seal", "says"),
    [
        ("", "no [seal]: signed decisions must carry the authority's e-seal"),
        ("[seal]\ngenerated = false", "[seal] generated: false and no pkcs12 or [seal.pkcs11]"),
        ('[seal]\ngenerated = true\npkcs12 = "{p12}"', "and generated both given: give one"),
        ('[seal]\npkcs12 = "{p12}"', "[seal] trust_anchor: '' is missing"),
        ('[seal]\npkcs12 = "/nowhere.p12"\ntrust_anchor = "{ca}"', "'/nowhere.p12' is not a file"),
        (
            '[seal]\npkcs12 = "{p12}"\npassphrase = "wrong"\ntrust_anchor = "{ca}"',
            "cannot be opened with its passphrase",
        ),
    ],
)
def test_a_missing_or_wrong_seal_is_refused_at_start(
    seal: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = generated_seal(tmp_path / "made", "Region Örebro län")
    shipped = SHIPPED[: SHIPPED.index("\n# The authority's e-seal")]
    config = tmp_path / "grants.toml"
    config.write_text(
        shipped + "\n" + seal.format(p12=made.pkcs12, ca=made.trust_anchor), encoding="utf-8"
    )
    monkeypatch.setenv("GRANTS_CONFIG", str(config))
    result = grants("undelivered", "--as", OFFICER, ok=False)
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.output.split()), result.output


def test_the_passphrase_comes_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = make_seal(tmp_path, "Region Örebro län", "hemligt")
    shipped = SHIPPED[: SHIPPED.index("\n# The authority's e-seal")]
    config = tmp_path / "grants.toml"
    seal = f'[seal]\npkcs12 = "{made[0]}"\ntrust_anchor = "{made[1]}"\n'
    config.write_text(shipped + "\n" + seal, encoding="utf-8")
    (tmp_path / "passphrase").write_text("hemligt\n", encoding="utf-8")
    monkeypatch.setenv("GRANTS_CONFIG", str(config))
    assert "cannot be opened" in grants("undelivered", "--as", OFFICER, ok=False).output
    monkeypatch.setenv("GRANTS_SEAL_PASSPHRASE_FILE", str(tmp_path / "passphrase"))
    result = grants("undelivered", "--as", OFFICER, ok=False)
    assert result.exit_code == 0 and "seal" not in result.output, result.output


SOFTHSM = Path("/usr/lib/softhsm/libsofthsm2.so")  # Debian's softhsm2 (./run test installs it)


def test_a_key_on_a_hardware_module_seals_through_pkcs11(
    decided: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SoftHSM stands in for the region's hardware module: the e-seal's key and certificate
    on a token, found by their labels, opened with the token's PIN from the environment."""
    import pkcs11
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        pkcs12,
    )
    from pkcs11.util.x509 import decode_x509_certificate

    tokens = tmp_path / "tokens"
    tokens.mkdir()
    (tmp_path / "softhsm2.conf").write_text(f"directories.tokendir = {tokens}\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(tmp_path / "softhsm2.conf"))
    init = ["softhsm2-util", "--init-token", "--free", "--label", "grants"]
    subprocess.run([*init, "--pin", "1234", "--so-pin", "0000"], check=True, capture_output=True)
    seal = generated_seal(decided / "seal", "Region Örebro län")  # the home's own CA and key
    key, certificate, _ = pkcs12.load_key_and_certificates(
        seal.pkcs12.read_bytes(), seal.passphrase.encode()
    )
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    put = ["softhsm2-util", "--import", str(pem), "--token", "grants", "--label", "e-seal"]
    subprocess.run([*put, "--id", "01", "--pin", "1234"], check=True, capture_output=True)
    with pkcs11.lib(str(SOFTHSM)).get_token(token_label="grants").open(True, "1234") as token:
        stored = decode_x509_certificate(certificate.public_bytes(Encoding.DER))
        named = {pkcs11.Attribute.LABEL: "e-seal", pkcs11.Attribute.ID: b"\1"}
        token.create_object(stored | named | {pkcs11.Attribute.TOKEN: True})
    pem.unlink()
    config = decided / "grants.toml"
    module = f'[seal]\ntrust_anchor = "{seal.trust_anchor}"\n[seal.pkcs11]\nmodule = "{SOFTHSM}"\n'
    labels = 'token_label = "grants"\nkey_label = "e-seal"\n'
    config.write_text(SHIPPED.replace("[seal]\ngenerated = true\n", module + labels))
    monkeypatch.setenv("GRANTS_CONFIG", str(config))
    monkeypatch.setenv("GRANTS_SEAL_PASSPHRASE", "1234")
    configured = load().seal
    assert configured is not None and configured.pkcs11 is not None
    store_pdf(decided, rendered_decision(configured))
    _, output = verify()
    assert "the seal" not in output, output  # sealed on the token, it holds


def test_a_decision_in_english_is_the_swedish_act_with_its_translation_in_one_e_mail(
    smtp_server: Mailbox,
) -> None:
    run_flow(intake, path=str(SAMPLES / "applications.json"), send_letters=False)
    reference = to_awaiting_decision("SI-2026-0108", Recommendation.granted)  # English
    settings = load()
    with transaction(settings.db_url) as session:
        maker = person(session, DECISION_MAKER)
        sign(session, case_for(session, reference, maker, lock=True), maker, Rules())
    run_flow(send_letters)
    [message] = [m for m in smtp_server.messages if m["Subject"].startswith("Decision ")]
    attached = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    act, translation = f"{reference}-beslut.pdf", f"{reference}-decision-translation.pdf"
    assert sorted(attached) == sorted([act, translation])
    body = " ".join(message.get_body(("plain",)).get_content().split())
    assert f"attached as a PDF in Swedish, {act}: that is the decision itself" in body
    assert f"An English translation, {translation}, is attached with it" in body
    swedish = " ".join(pdf_pages(attached[act]))
    assert "beviljar" in swedish and "Elektroniskt förseglat av Region Örebro län" in swedish
    assert seal_fault(attached[act], settings.seal.trust_anchor) is None  # the act is sealed
    english = " ".join(pdf_pages(attached[translation]))
    assert "Translation. This is an English translation of the decision" in english
    assert "Area Manager, Culture and Civil Society" in english  # the English titles
    assert PdfReader(io.BytesIO(attached[translation])).trailer["/Root"].get("/AcroForm") is None
    with sqlite3.connect(load().home / "grants.db") as db:
        kept = db.execute(  # both kept on the case
            "SELECT filename, delivery_state FROM letters WHERE kind LIKE 'decision%' ORDER BY id"
        ).fetchall()
    assert kept == [(translation, "sent"), (act, "sent")]  # both kept on the case
    assert grants("verify", "--as", OFFICER).exit_code == 0  # both as written
