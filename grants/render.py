"""Letters from Jinja2 templates to PDF/A with WeasyPrint.

Applicant data is escaped by Jinja2's autoescaping (templates end in `.html`) and
isolated against bidirectional reordering (`_isolated`, on every inserted value), and
WeasyPrint may fetch nothing but the project's own files under templates/: an
applicant who types `<img src="file:///etc/passwd">` gets that text in the letter,
and even markup that slipped through could not read a file or reach the network.
"""

import atexit
import hashlib
import io
import json
import mimetypes
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from contextlib import suppress
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from xml.etree import ElementTree

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import Markup, escape

from grants.catalogs import translations
from grants.seal import NO_SIGNATURE, SEAL_BOX, Seal, SealFailed, seal_fault, seal_pdf
from grants.settings import TEMPLATES
from models.tables import STOCKHOLM
from models.text import isolated

MONTHS = {
    "sv": ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
           "september", "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}  # fmt: skip
NBSP = "\u00a0"


def format_date(value: date | str, language: str = "sv") -> str:
    """22 november 2026 (sv) or 22 November 2026 (en), from a date or an ISO date string."""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return f"{value.day} {MONTHS[language][value.month - 1]} {value.year}"


def _local(value: datetime | str) -> datetime:
    """A datetime, or ISO string, in Swedish local time; a naive one is taken to be local."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=STOCKHOLM)
    return value.astimezone(STOCKHOLM)


def format_time(value: datetime | str, language: str = "sv") -> str:
    """11.30 (sv) or 11:30 (en), Swedish local time."""
    local = _local(value)
    return f"{local:%H}{'.' if language == 'sv' else ':'}{local:%M}"


def format_datetime(value: datetime | str, language: str = "sv") -> str:
    """3 december 2026 kl. 10.00 (sv) or 3 December 2026 at 10:00 (en), Swedish local time."""
    local = _local(value)
    at = "kl." if language == "sv" else "at"
    return f"{format_date(local.date(), language)} {at} {format_time(local, language)}"


def format_amount(value: int, language: str = "sv") -> str:
    """50 000 kr (sv, with no-break spaces) or SEK 50,000 (en)."""
    if language == "en":
        return f"SEK{NBSP}{value:,}"
    return f"{value:,}".replace(",", NBSP) + f"{NBSP}kr"


def format_kronor(value: int) -> str:
    """50 000 kronor: an amount written out, as a Swedish decision states it."""
    return f"{value:,}".replace(",", NBSP) + f"{NBSP}kronor"


def format_number(value: int, language: str = "sv") -> str:
    """10 000 (sv, with a no-break space) or 10,000 (en)."""
    return f"{value:,}".replace(",", NBSP if language == "sv" else ",")


def format_decimal(value: Decimal, language: str = "sv") -> str:
    """40,67 (sv) or 40.67 (en): a ratio to two decimals, thousands grouped as numbers are."""
    whole, _, hundredths = f"{value:.2f}".partition(".")
    return f"{format_number(int(whole), language)}{',' if language == 'sv' else '.'}{hundredths}"


def format_list(items: Iterable[str], language: str = "sv") -> str:
    """ "A, B och C" (sv) or "A, B and C" (en)."""
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + (" och " if language == "sv" else " and ") + items[-1]


def email_link(address: str) -> Markup:
    """An e-mail address as a link a reader can tap, never wrapped: an address split at its
    @ (or anywhere) reads as two words and cannot be copied whole."""
    shown = escape(address)
    return Markup(f'<a class="nowrap" href="mailto:{shown}">{shown}</a>')


def _isolated(value: Any) -> Any:
    """Every value a template inserts: text without bidi controls, and right-to-left text
    isolated, so that no name or title can reverse the letter's own text around it."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return isolated(value)
    return value


LETTERS = "letters"  # the letters' gettext catalog (locale/sv/LC_MESSAGES/letters.po)


@pass_context
def _translated(context: Context, message: str, **values: Any) -> str:
    """`_("…")` and `{% trans %}` in a letter: the message of the letters' catalog in the
    letter's language (`language` in its context), its %(name)s filled in with `values`,
    each isolated and, in HTML, escaped like every other value a letter inserts."""
    text = translations(LETTERS, context["language"]).gettext(message)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % {name: _isolated(value) for name, value in values.items()}


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_isolated,
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["date"] = format_date
    env.filters["datetime"] = format_datetime
    env.filters["time"] = format_time
    env.filters["amount"] = format_amount
    env.filters["email"] = email_link
    env.globals.update(_=_translated, gettext=_translated)  # `{% trans %}` calls gettext
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.filters["kronor"] = format_kronor
    env.filters["number"] = format_number
    env.filters["listing"] = format_list
    return env


def template_for(name: str) -> Template:
    """The template `name` ("letters/decision.sv.html"), or, for a letter worded alike in
    both languages, its one template ("letters/acknowledgement.html"), translated through
    the letters' catalog. A letter whose sentences are built differently in Swedish and
    English (the decision, the communication) keeps a template per language."""
    stem, _, extension = name.rpartition(".")
    base, dot, language = stem.rpartition(".")
    shared = f"{base}.{extension}" if dot and language in ("sv", "en") else name
    return environment().select_template([name, shared])


def render_text(template: str, context: dict[str, Any]) -> str:
    return template_for(template).render(**context)


@cache
def _weasyprint() -> tuple[Any, Any, Any]:
    """WeasyPrint, imported once per process (0.8 s), with one shared font configuration."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class TemplateAssetsOnly(URLFetcher):
        """Serves files under templates/ and refuses every other URL."""

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            parsed = urlparse(url)
            path = Path(unquote(parsed.path)).resolve()
            if parsed.scheme != "file" or not path.is_relative_to(TEMPLATES.resolve()):
                raise ValueError(f"letters may not load {url!r}")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})

    return HTML, FontConfiguration(), TemplateAssetsOnly()


PDF_VARIANT = "pdf/a-2a"  # PDF/A-2 level A: tagged, in reading order, with its language
FACTS_FILE = "decision-facts.json"  # where decisions rendered before the XMP facts had them


def render_pdf(template: str, context: dict[str, Any], seal: Seal | None = None) -> bytes:
    """One letter as a tagged PDF/A-2a: archivable, and read in order by a screen reader
    (the structure tree, the document language from `<html lang>`, alternative texts).

    A signed decision (`facts` in its context, models.decision_letter) carries its facts in
    its XMP metadata, in a schema the file declares (an extension schema, as PDF/A-2
    allows), for `grants verify` to read back (`embedded_facts`). With `seal` it is sealed
    (grants.seal): the template leaves a box for the stamp (`sealed` in its context), and
    the signature's widget is put over it. Raises SealFailed."""
    html_class, fonts, fetcher = _weasyprint()
    facts = context.get("facts")
    sealing = bool(facts) and seal is not None
    html = html_class(
        string=render_text(template, context | {"sealed": sealing}),
        base_url=(TEMPLATES / template).parent.as_uri() + "/",
        url_fetcher=fetcher,
    )
    document = html.render(font_config=fonts, pdf_variant=PDF_VARIANT)
    pdf = document.write_pdf(
        pdf_variant=PDF_VARIANT,
        uncompressed_pdf=False,
        finisher=_with_facts(facts) if facts else None,
    )
    if not sealing or seal is None:
        return pdf
    reason = f"Beslut i ärende {facts['case_reference']}"
    return seal_pdf(pdf, seal, _stamp_box(document), reason)


def _stamp_box(document: Any) -> tuple[int, float, float, float, float]:
    """Where the template left the stamp: its page, and left, bottom, right and top in PDF
    points (WeasyPrint gives the box in CSS pixels from the page's top left)."""
    for number, page in enumerate(document.pages):
        if SEAL_BOX in page.anchors:
            left, top, right, bottom = (value * PT_PER_PX for value in page.anchors[SEAL_BOX])
            height = page.height * PT_PER_PX
            return number, left, height - bottom, right, height - top
    raise SealFailed(f"the letter has no box with the id {SEAL_BOX!r} for the stamp")


PT_PER_PX = 0.75  # a CSS pixel is 1/96 inch, a PDF point 1/72

# The facts in the XMP metadata: each a property of our namespace, declared in the file as
# an extension schema (PDF/A-2 refuses undeclared properties), with its XMP value type.
FACTS_NS = "urn:grants:ns:decision-facts:1/"
FACTS_PREFIX = "decisionFacts"
FACTS = {
    "case_reference": ("caseReference", "Text", "The case reference"),
    "version": ("version", "Integer", "The version of the decision that was signed"),
    "outcome": ("outcome", "Text", "The outcome: granted, partly_granted, refused, dismissed"),
    "amount": ("amount", "Integer", "The amount granted, in whole kronor"),
    "signed_by": ("signedBy", "Text", "The e-mail address of the decision maker"),
    "signed_at": ("signedAt", "Text", "When the decision was signed (ISO 8601, UTC)"),
    "decision_date": ("decisionDate", "Text", "The date of the decision (Swedish time)"),
}
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
# The seal's update writes the XMP again (pyHanko, through ElementTree, to keep its dates
# in step with the document's information): with our prefix, as the schema declares it.
ElementTree.register_namespace(FACTS_PREFIX, FACTS_NS)


def _with_facts(facts: dict[str, Any]) -> Any:
    """A WeasyPrint finisher that adds `facts` to the PDF's XMP metadata."""

    def finish(document: Any, pdf: Any) -> None:
        for item in pdf.objects:
            if getattr(item, "extra", {}).get("Type") == "/Metadata":
                xmp = b"".join(item.stream)
                item.stream = [xmp.replace(b"</rdf:RDF>", _facts_xmp(facts) + b"</rdf:RDF>", 1)]

    return finish


def _facts_xmp(facts: dict[str, Any]) -> bytes:
    """The facts as XMP: the extension schema that declares them, then their values."""
    declared = "".join(
        f'<rdf:li rdf:parseType="Resource"><pdfaProperty:name>{name}</pdfaProperty:name>'
        f"<pdfaProperty:valueType>{kind}</pdfaProperty:valueType>"
        "<pdfaProperty:category>external</pdfaProperty:category>"
        f"<pdfaProperty:description>{escape(about)}</pdfaProperty:description></rdf:li>"
        for name, kind, about in FACTS.values()
    )
    values = "".join(
        f"<{FACTS_PREFIX}:{FACTS[key][0]}>{escape(str(value))}</{FACTS_PREFIX}:{FACTS[key][0]}>"
        for key, value in facts.items()
        if key in FACTS and value is not None
    )
    return (
        '<rdf:Description rdf:about="" '
        'xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" '
        'xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" '
        'xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">'
        '<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">'
        "<pdfaSchema:schema>The facts of a signed decision, for verification</pdfaSchema:schema>"
        f"<pdfaSchema:namespaceURI>{FACTS_NS}</pdfaSchema:namespaceURI>"
        f"<pdfaSchema:prefix>{FACTS_PREFIX}</pdfaSchema:prefix>"
        f"<pdfaSchema:property><rdf:Seq>{declared}</rdf:Seq></pdfaSchema:property>"
        "</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>"
        f'<rdf:Description rdf:about="" xmlns:{FACTS_PREFIX}="{FACTS_NS}">'
        f"{values}</rdf:Description>"
    ).encode()


def embedded_facts(pdf: bytes) -> dict[str, Any] | None:
    """The facts a signed decision's PDF carries (`render_pdf`), or None if it carries none
    (rendered before they were embedded). A PDF that cannot be read carries none either:
    its SHA-256 check says it was changed.

    Each PDF is read once per process: the sweep verifies every signed decision each time
    it runs, and parsing a PDF (pypdf, pure Python) costs a tenth of a second or more; the
    same bytes carry the same facts, so they are known by the bytes' SHA-256."""
    digest = hashlib.sha256(pdf).digest()
    if digest not in _FACTS_READ:
        if len(_FACTS_READ) >= FACTS_KEPT:
            _FACTS_READ.clear()
        _FACTS_READ[digest] = _read_facts(pdf)
    facts = _FACTS_READ[digest]
    return dict(facts) if facts is not None else None


FACTS_KEPT = 10_000  # signed decisions' facts kept read in a process: a few MB
_FACTS_READ: dict[bytes, dict[str, Any] | None] = {}


def _read_facts(pdf: bytes) -> dict[str, Any] | None:
    """The facts in the XMP metadata; in a decision rendered before they were kept there,
    the embedded file (PDF/A-3a) that held them."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(pdf))
        metadata = reader.trailer["/Root"].get("/Metadata")
        facts = _xmp_facts(metadata.get_object().get_data()) if metadata else None
        if facts is not None:
            return facts
        found = reader.attachments.get(FACTS_FILE)
        return json.loads(found[0]) if found else None
    except (PyPdfError, ValueError, OSError, KeyError, ElementTree.ParseError):
        return None


def _xmp_facts(xmp: bytes) -> dict[str, Any] | None:
    """The facts in an XMP packet, typed as declared; None if it holds none. A property may
    be written as an element or as an attribute of its rdf:Description (as pyHanko does)."""
    for description in ElementTree.fromstring(xmp).iter(f"{{{RDF}}}Description"):
        values = {key: _xmp_value(description, name) for key, (name, _, _) in FACTS.items()}
        if any(value is not None for value in values.values()):
            return {
                key: int(value) if value is not None and FACTS[key][1] == "Integer" else value
                for key, value in values.items()
            }
    return None


def _xmp_value(description: ElementTree.Element, name: str) -> str | None:
    element = description.find(f"{{{FACTS_NS}}}{name}")
    if element is not None:
        return element.text or ""
    return description.get(f"{{{FACTS_NS}}}{name}")


def seal_check(seal: Seal | None) -> Callable[[bytes], str | None] | None:
    """What is wrong with a signed decision's seal against `seal`'s trust anchor, for
    models.integrity.verify; None when no seal is configured. A decision rendered before
    decisions were sealed (its facts in an embedded file, or none) is not asked for one:
    its SHA-256, in the keyed audit trail, holds it as it was."""
    if seal is None:
        return None

    def fault(pdf: bytes) -> str | None:
        found = seal_fault(pdf, seal.trust_anchor)
        return None if found == NO_SIGNATURE and not _facts_in_xmp(pdf) else found

    return fault


def _facts_in_xmp(pdf: bytes) -> bool:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        metadata = PdfReader(io.BytesIO(pdf)).trailer["/Root"].get("/Metadata")
        return bool(metadata) and _xmp_facts(metadata.get_object().get_data()) is not None
    except (PyPdfError, ValueError, OSError, KeyError, ElementTree.ParseError):
        return True  # a PDF that cannot be read is no earlier decision: its fault is told


class RenderFailed(str):
    """Why one letter could not be rendered: returned in its place, so the others go on."""


WARM_UP = '<html lang="sv"><link rel="stylesheet" href="letter.css"><p>Mottagningsbekräftelse</p>'


def _warm_up() -> None:
    """What a process's first letter costs beyond the others, paid up front: WeasyPrint
    imported, the letters' stylesheet and fonts loaded (a second or two in all). Should it
    fail, the letters' own rendering says why, letter by letter."""
    with suppress(Exception):
        html_class, fonts, fetcher = _weasyprint()
        html = html_class(
            string=WARM_UP, base_url=(TEMPLATES / "letters").as_uri() + "/", url_fetcher=fetcher
        )
        html.write_pdf(font_config=fonts, pdf_variant=PDF_VARIANT)


def warm_up() -> None:
    """This process's first letter paid up front (a worker that renders a step's letter
    itself): WeasyPrint, the stylesheet and fonts, and every letter's template compiled."""
    _warm_up()
    for name in environment().list_templates(extensions=["html"]):
        if name.startswith("letters/"):
            template_for(name)


Job = tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], Seal | None]


def _render_job(job: Job) -> "bytes | RenderFailed":
    try:
        return render_pdf(*job)
    except Exception as error:  # one letter's fault must not stop the batch
        return RenderFailed(f"{type(error).__name__}: {error}")


POOLS: dict[int, ProcessPoolExecutor] = {}  # by size: kept for the life of this process


def _pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes kept for the life of this one, so each pays WeasyPrint's start once.

    Spawned, not forked: the parent runs Prefect's threads, which a fork would copy
    mid-flight.
    """
    if workers not in POOLS:
        spawn = multiprocessing.get_context("spawn")
        POOLS[workers] = ProcessPoolExecutor(workers, mp_context=spawn, initializer=_warm_up)
        atexit.register(POOLS[workers].shutdown)
    return POOLS[workers]


def on_every_core(letters: int, workers: int = 0) -> bool:
    """Whether `letters` are enough to pay for starting a worker process per core."""
    workers = workers or os.cpu_count() or 1
    return workers > 1 and letters >= 4 * workers


def start_workers(letters: int, workers: int = 0) -> None:
    """Start the render workers now, in the background, if `letters` will be rendered on
    every core: a command that is about to start Prefect (seconds) calls this first, so
    that the workers' own start-up is over when the first letters come."""
    workers = workers or os.cpu_count() or 1
    if on_every_core(letters, workers):
        pool = _pool(workers)
        for _ in range(workers):
            pool.submit(os.getpid)  # a process is spawned for each job while none is idle


def render_many(jobs: list[Job], workers: int = 0) -> Iterable[bytes | RenderFailed]:
    """Render letters in order; on every core when there are enough to pay for starting the
    worker processes, or they are running already. Every job is handed out as soon as a
    worker is free, so no core waits while another finishes a batch.

    A letter that cannot be rendered comes back as RenderFailed, saying why."""
    workers = workers or os.cpu_count() or 1
    if workers in POOLS or on_every_core(len(jobs), workers):
        return _pool(workers).map(_render_job, jobs)
    return map(_render_job, jobs)
