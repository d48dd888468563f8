"""Previews: what a step would send, shown before the step is taken.

A step that sends a letter out of the authority, or cannot be taken back, is first
rehearsed (`grants.steps.rehearse`: taken and rolled back, nothing kept) and its letters
rendered by the same code the send-letters flow renders them with. The PDFs, and any file
the form carried, are kept here, in this process's memory only, for the confirmation page
and its confirmation: the database holds nothing of a preview. A preview is the person's
own, for one case, and is forgotten after `KEPT` or once the step is taken.
"""

import io
import secrets
import threading
import time
from dataclasses import dataclass, field

from grants.render import RenderFailed, render_many
from grants.steps import Rehearsal

KEPT = 30 * 60  # seconds a preview is kept for its confirmation
MOST = 50  # previews kept at once in all (a file may be 20 MB); the oldest goes first


@dataclass(frozen=True)
class ShownLetter:
    """A letter as it will be sent: to whom, its file name, its PDF and the PDF's text."""

    recipient: str
    filename: str
    pdf: bytes
    text: str


@dataclass
class Preview:
    """One person's preview of a step on a case, with the files its form carried."""

    person: str
    case_reference: str
    letters: list[ShownLetter]
    files: dict[str, tuple[str, bytes]]
    made: float = field(default_factory=time.monotonic)


_previews: dict[str, Preview] = {}
_lock = threading.Lock()


def pdf_text(pdf: bytes) -> str:
    """A PDF's text, page by page, for reading in the page beside the PDF itself."""
    from pypdf import PdfReader

    return "\n\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def shown_letters(rehearsal: Rehearsal, workers: int) -> list[ShownLetter]:
    """The rehearsed step's letters rendered as the send-letters flow renders them."""
    jobs = [(letter.template, letter.context) for letter in rehearsal.letters]
    shown = []
    for letter, pdf in zip(rehearsal.letters, render_many(jobs, workers), strict=True):
        if isinstance(pdf, RenderFailed):
            raise RuntimeError(f"{letter.filename} cannot be rendered: {pdf}")
        shown.append(ShownLetter(letter.recipient, letter.filename, pdf, pdf_text(pdf)))
    return shown


def keep(preview: Preview) -> str:
    """Keep a preview for its confirmation; its token."""
    token = secrets.token_urlsafe(16)
    with _lock:
        _forget_old()
        _previews[token] = preview
    return token


def kept(token: str, person: str, case_reference: str) -> Preview | None:
    """The person's preview on the case under `token`, if it is still kept."""
    with _lock:
        _forget_old()
        preview = _previews.get(token)
    if preview is None or (preview.person, preview.case_reference) != (person, case_reference):
        return None
    return preview


def forget(token: str) -> None:
    with _lock:
        _previews.pop(token, None)


def _forget_old() -> None:
    """Previews past KEPT go, and the oldest beyond MOST (called with the lock held)."""
    now = time.monotonic()
    for token in [t for t, p in _previews.items() if now - p.made > KEPT]:
        del _previews[token]
    while len(_previews) > MOST:
        del _previews[next(iter(_previews))]
