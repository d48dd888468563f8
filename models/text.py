"""Text from outside (applicants, form exports, mail servers) made safe to show.

Bidirectional controls (U+202A–U+202E, U+2066–U+2069, the marks) reorder whatever follows
them: an unterminated right-to-left override in a name reverses the letter's own text
around it. They carry nothing an applicant needs, so they are dropped wherever a value is
shown; each edge also isolates the value (`<bdi>` in letters, FSI…PDI in a terminal) so
that right-to-left script in it stays inside it. A refused value is quoted, never
printed whole: a 50 MB field must not become a 50 MB message.
"""

import re

BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Hebrew, Arabic, Syriac, Thaana, N'Ko, Samaritan, Mandaic and their presentation forms.
RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff]")
FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"
QUOTE_LIMIT = 80


def without_bidi_controls(text: str) -> str:
    return BIDI_CONTROLS.sub("", text)


def isolated(text: str) -> str:
    """The text without bidi controls; if it holds right-to-left script, wrapped in an
    isolate (FSI … PDI, what `<bdi>` means), so it cannot reorder what stands around it."""
    text = without_bidi_controls(text)
    if RIGHT_TO_LEFT.search(text):
        return f"{FIRST_STRONG_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}"
    return text


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """The value as a Python literal, at most `limit` characters of it, with its length
    when it was cut."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


def clipped(value: object, limit: int = QUOTE_LIMIT) -> str | None:
    """A value from a file as a short label (a record's id or name in a report): text of at
    most `limit` characters, cut with an ellipsis; None when there is none."""
    if value is None or value == "":
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
