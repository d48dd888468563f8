"""The authority's e-seal on signed decisions: a PAdES signature (pyHanko) over the
decision's PDF, and its check against the configured trust anchor.

The decision maker's act is the confirmation in the office (or `grants sign`); the seal
records it: the PDF is sealed where the signed decision is rendered, as an incremental
update that leaves the PDF/A-2a file it covers untouched (its identification, its structure
tree, its facts in the XMP metadata). The visible stamp (the decision maker, their title,
the time of the decision) is the letter's own tagged text, laid out by WeasyPrint in a box
the template leaves (`SEAL_BOX`); the signature's widget lies over that box, framing it, so
a PDF reader that is asked about the stamp shows the signature. The widget draws only its
frame: no text in an annotation, which PDF/A would want in embedded fonts and a screen
reader could not reach.

The key is a PKCS#12 file, or a key on a hardware module (PKCS#11); the demo and the tests
use one they make themselves (`generated_seal`): a root CA and an e-seal certificate
issued by it, made with `cryptography`, nothing downloaded.
"""

import asyncio
import hashlib
import io
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

SEAL_BOX = "seal"  # the id of the stamp's box in a sealed decision's template
FIELD_NAME = "Sigill"
GENERATED = "seal"  # the folder in GRANTS_HOME of a generated seal
GENERATED_PASSPHRASE = "generated"  # a generated seal's PKCS#12 file, in GRANTS_HOME only
P12_FILE, ANCHOR_FILE = "e-seal.p12", "root-ca.pem"


@dataclass(frozen=True)
class Pkcs11:
    """A key on a hardware security module: its PKCS#11 module, token and key labels."""

    module: str
    token_label: str
    key_label: str


@dataclass(frozen=True)
class Seal:
    """Where the authority's e-seal is and how to open it; plain values, so that the render
    workers (other processes) get it with each job. `passphrase`: the PKCS#12 file's, or
    the hardware token's user PIN."""

    trust_anchor: Path
    pkcs12: Path | None = None
    pkcs11: Pkcs11 | None = None
    passphrase: str = ""
    timestamp_url: str | None = None


NO_SEAL = Seal(Path())  # none configured: a decision given it is not made (SealFailed)


class SealFailed(Exception):
    """The seal cannot be applied: why, in one line."""


def generated_seal(folder: Path, authority: str) -> Seal:
    """The seal made in `folder` for the demo and the tests: a root CA and an e-seal
    certificate for `authority`, made on first use (a tenth of a second) and kept, so that
    every process on the home seals with the same one and `grants verify` trusts it. Made
    in a folder of its own and renamed: of two first uses at once, one's folder wins whole."""
    if not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        partial = folder.with_name(f".{folder.name}.{os.getpid()}")
        partial.mkdir(exist_ok=True)
        make_seal(partial, authority, GENERATED_PASSPHRASE)
        try:
            partial.rename(folder)
        except OSError:  # another process made it first
            shutil.rmtree(partial, ignore_errors=True)
    return Seal(folder / ANCHOR_FILE, pkcs12=folder / P12_FILE, passphrase=GENERATED_PASSPHRASE)


def make_seal(folder: Path, authority: str, passphrase: str) -> tuple[Path, Path]:
    """A new root CA and an e-seal certificate it issued to `authority`, in `folder`: the
    PKCS#12 file (key, certificate, chain) under `passphrase` and the root's certificate
    (the trust anchor), as PEM. Returns their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    def name(common_name: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, authority),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )

    def usage(**allowed: bool) -> x509.KeyUsage:
        flags = ("digital_signature", "content_commitment", "key_encipherment")
        flags += ("data_encipherment", "key_agreement", "key_cert_sign", "crl_sign")
        return x509.KeyUsage(
            **{f: allowed.get(f, False) for f in flags}, encipher_only=False, decipher_only=False
        )

    now = datetime.now(UTC)
    # RSA, as real e-seals mostly are: an EC key would make pyHanko declare the PDF 2.0
    # extension for ECDSA (ISO 32002), and a PDF/A-2 file is PDF 1.7.
    root_key, seal_key = (rsa.generate_private_key(65537, 2048) for _ in range(2))
    root_name = name(f"{authority} root CA (generated)")
    root = (
        _certificate(root_name, root_name, root_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    seal = (
        _certificate(name(f"{authority} e-seal"), root_name, seal_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    p12, anchor = folder / P12_FILE, folder / ANCHOR_FILE
    anchor.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    encryption = serialization.BestAvailableEncryption(passphrase.encode())
    p12.touch(mode=0o600)
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(b"e-seal", seal_key, seal, [root], encryption)
    )
    return p12, anchor


def _certificate(subject: Any, issuer: Any, public_key: Any, now: datetime) -> Any:
    from cryptography import x509

    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=10 * 365))
    )


@cache
def signer(seal: Seal) -> Any:
    """The pyHanko signer of `seal`, opened once per process. Raises SealFailed."""
    from pyhanko.sign import signers

    if seal.pkcs11 is not None:
        return _pkcs11_signer(seal.pkcs11, seal.passphrase)
    if seal.pkcs12 is None:
        raise SealFailed("no e-seal configured")
    try:
        loaded = signers.SimpleSigner.load_pkcs12(
            str(seal.pkcs12), passphrase=seal.passphrase.encode() or None
        )
    except (OSError, ValueError) as error:
        raise SealFailed(f"{str(seal.pkcs12)!r} cannot be opened: {error}") from None
    if loaded is None:
        raise SealFailed(f"{str(seal.pkcs12)!r} cannot be opened with the passphrase given")
    return loaded


def _pkcs11_signer(module: Pkcs11, pin: str) -> Any:
    """The key `module.key_label` on the token `module.token_label`, with its certificate
    of the same label; the session stays open for the life of the process."""
    try:
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

        session = open_pkcs11_session(
            module.module, token_criteria=TokenCriteria(label=module.token_label), user_pin=pin
        )
        return PKCS11Signer(session, cert_label=module.key_label, key_label=module.key_label)
    except ImportError as error:
        raise SealFailed(f"PKCS#11 needs python-pkcs11 ({error.msg})") from None
    except Exception as error:  # the module's own errors, of many kinds
        raise SealFailed(f"the token {module.token_label!r} cannot be used: {error}") from None


def seal_pdf(
    pdf: bytes, seal: Seal, box: tuple[int, float, float, float, float], reason: str
) -> bytes:
    """`pdf` with the e-seal's PAdES signature appended (an incremental update), its widget
    over `box` (page index, then left, bottom, right, top in PDF points), and an RFC 3161
    timestamp from `seal.timestamp_url` if one is configured. Raises SealFailed."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    page, *rect = box
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
    )
    field = fields.SigFieldSpec(FIELD_NAME, on_page=page, box=tuple(rect))
    pdf_signer = signers.PdfSigner(
        meta,
        signer(seal),
        timestamper=_timestamper(seal.timestamp_url),
        stamp_style=_frame_style(),
        new_field_spec=field,
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        _one_producer(writer)
        return _outside_a_running_loop(lambda: pdf_signer.sign_pdf(writer).getvalue())
    except Exception as error:  # a token, a timestamp service, a PDF: one letter's fault
        raise SealFailed(f"{type(error).__name__}: {error}") from None


def _outside_a_running_loop(call: Callable[[], Any]) -> Any:
    """`call` where asyncio.run may run: pyHanko's plain calls start an event loop of their
    own, which Python refuses in a thread whose loop is running (an ASGI server's, or
    Playwright's synchronous API); there it runs in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(call).result()


def _one_producer(writer: Any) -> None:
    """The same producer in the document information and the XMP, as PDF/A wants: pyHanko
    writes its own name into the XMP, and would add it after WeasyPrint's in the document
    information."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.metadata.model import VENDOR

    info = writer.trailer.raw_get("/Info")
    if isinstance(info, generic.IndirectObject):
        info.get_object()["/Producer"] = generic.TextStringObject(VENDOR)
        writer.mark_update(info)


def _timestamper(url: str | None) -> Any:
    if not url:
        return None
    from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

    return RequestsHTTPTimeStamper(url, timeout=30)


@cache
def _frame_style() -> Any:
    """The widget's appearance: a thin frame round the letter's own stamp, and nothing else."""
    from pyhanko.stamp import BaseStamp, BaseStampStyle

    class Frame(BaseStamp):
        def _render_inner_content(self) -> list[bytes]:
            return []

    class FrameStyle(BaseStampStyle):
        def create_stamp(self, writer: Any, box: Any, text_params: dict) -> Frame:
            return Frame(writer, self, box)

    return FrameStyle(border_width=1, border_color=(0.2, 0.2, 0.2))


def anchors_of(path: Path) -> list[Any]:
    """The trusted certificates in the PEM (or DER) file `path`. Raises OSError or ValueError."""
    from asn1crypto import pem, x509

    data = path.read_bytes()
    if not pem.detect(data):
        return [x509.Certificate.load(data)]
    return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]


NO_SIGNATURE = "carries no seal"
CHECKS_KEPT = 10_000
_CHECKED: dict[bytes, str | None] = {}


def seal_fault(pdf: bytes, trust_anchor: Path) -> str | None:
    """What is wrong with the seal of a signed decision's PDF, or None if it holds: one
    signature, intact, covering the whole file, by a certificate that chains to the trust
    anchor. Known by the bytes' and the anchor's SHA-256: the sweep checks every decision."""
    try:
        anchor = trust_anchor.read_bytes()
    except OSError as error:
        return f"the trust anchor {str(trust_anchor)!r} cannot be read: {error.strerror}"
    digest = hashlib.sha256(hashlib.sha256(pdf).digest() + anchor).digest()
    if digest not in _CHECKED:
        if len(_CHECKED) >= CHECKS_KEPT:
            _CHECKED.clear()
        _CHECKED[digest] = _fault(pdf, trust_anchor)
    return _CHECKED[digest]


def _fault(pdf: bytes, trust_anchor: Path) -> str | None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    except Exception as error:  # a PDF that cannot be read has no seal that holds
        return f"the PDF cannot be read ({type(error).__name__})"
    if not signatures:
        return NO_SIGNATURE
    try:
        context = ValidationContext(trust_roots=anchors_of(trust_anchor), allow_fetching=False)
        status = _outside_a_running_loop(lambda: validate_pdf_signature(signatures[-1], context))
    except Exception as error:  # a signature pyHanko cannot even evaluate does not hold
        return f"the seal cannot be checked ({type(error).__name__}: {error})"
    if not status.intact or not status.valid:
        return "the seal does not hold: the PDF was changed after it was sealed"
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return "the seal does not cover the whole PDF: something was added after it"
    if not status.trusted:
        issuer = status.signing_cert.issuer.human_friendly
        return f"the seal's certificate (issued by {issuer}) does not chain to the trust anchor"
    return None
