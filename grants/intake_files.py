"""Reading form exports: JSON (one application or many) and CSV (from a form or a spreadsheet).

Only the file's shape is checked here; the fields are validated by the domain
(models.validation), which reports each fault by record, field and value.
"""

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

from models.text import quoted

FIELDS = (
    "submission_id",
    "submitted_at",
    "language",
    "organisation_name",
    "organisation_number",
    "legal_form",
    "municipality",
    "postal_address",
    "postcode",
    "city",
    "email",
    "contact_person",
    "phone",
    "bankgiro",
    "plusgiro",
    "project_title",
    "requested_amount",
    "co_financing_cash",
    "co_financing_hours",
    "project_start",
    "project_end",
    "societal_challenge",
    "description",
    "innovation",
    "long_term_effects",
    "target_group",
    "partners",
    "economic_activity",
    "other_de_minimis_aid",
)

KNOWN = frozenset(FIELDS)

# Column names as Swedish forms and spreadsheets tend to write them (a Microsoft Forms or
# Excel export has the questions' own words), after _plain: "Sökt belopp (kr)" is
# sokt_belopp. Every field an application has is here under the names a form would ask it by.
ALIASES = {
    "inlamnings_id": "submission_id",
    "ansokans_id": "submission_id",
    "ansokningsnummer": "submission_id",
    "inskickad": "submitted_at",
    "inskickat": "submitted_at",
    "inlamnad": "submitted_at",
    "inkom": "submitted_at",
    "inkommen": "submitted_at",
    "inkommet": "submitted_at",
    "datum": "submitted_at",
    "slutforandetid": "submitted_at",  # Forms: when the answer was sent in
    "sprak": "language",
    "brevsprak": "language",
    "organisation": "organisation_name",
    "organisationsnamn": "organisation_name",
    "organisationens_namn": "organisation_name",
    "foreningens_namn": "organisation_name",
    "sokande": "organisation_name",
    "sokande_organisation": "organisation_name",
    "organisationsnummer": "organisation_number",
    "organisationsnr": "organisation_number",
    "orgnr": "organisation_number",
    "org_nr": "organisation_number",
    "juridisk_form": "legal_form",
    "organisationsform": "legal_form",
    "foreningsform": "legal_form",
    "associationsform": "legal_form",
    "kommun": "municipality",
    "hemkommun": "municipality",
    "adress": "postal_address",
    "postadress": "postal_address",
    "gatuadress": "postal_address",
    "utdelningsadress": "postal_address",
    "postnummer": "postcode",
    "postnr": "postcode",
    "ort": "city",
    "postort": "city",
    "e_post": "email",
    "epost": "email",
    "e_mail": "email",
    "e_postadress": "email",
    "epostadress": "email",
    "mejl": "email",
    "mejladress": "email",
    "kontaktperson": "contact_person",
    "kontaktpersonens_namn": "contact_person",
    "telefon": "phone",
    "telefonnummer": "phone",
    "tel": "phone",
    "mobil": "phone",
    "mobilnummer": "phone",
    "bankgironummer": "bankgiro",
    "bg": "bankgiro",
    "plusgironummer": "plusgiro",
    "postgiro": "plusgiro",
    "pg": "plusgiro",
    "projekttitel": "project_title",
    "projektnamn": "project_title",
    "projektets_namn": "project_title",
    "projektets_titel": "project_title",
    "sokt_belopp": "requested_amount",
    "ansokt_belopp": "requested_amount",
    "belopp": "requested_amount",
    "medfinansiering": "co_financing_cash",
    "medfinansiering_kontant": "co_financing_cash",
    "kontant_medfinansiering": "co_financing_cash",
    "medfinansiering_i_pengar": "co_financing_cash",
    "medfinansiering_timmar": "co_financing_hours",
    "medfinansiering_ideella_timmar": "co_financing_hours",
    "ideella_timmar": "co_financing_hours",
    "ideell_tid": "co_financing_hours",
    "timmar_ideellt_arbete": "co_financing_hours",
    "projektstart": "project_start",
    "startdatum": "project_start",
    "projektets_start": "project_start",
    "projektets_startdatum": "project_start",
    "projektslut": "project_end",
    "slutdatum": "project_end",
    "projektets_slut": "project_end",
    "projektets_slutdatum": "project_end",
    "samhallsutmaning": "societal_challenge",
    "samhallsutmaningen": "societal_challenge",
    "beskrivning": "description",
    "projektbeskrivning": "description",
    "beskrivning_av_projektet": "description",
    "nyskapande": "innovation",
    "det_nyskapande": "innovation",
    "langsiktiga_effekter": "long_term_effects",
    "langsiktig_effekt": "long_term_effects",
    "malgrupp": "target_group",
    "malgrupper": "target_group",
    "samarbetspartner": "partners",
    "samarbetspartners": "partners",
    "samverkanspartner": "partners",
    "samverkanspartners": "partners",
    "ekonomisk_verksamhet": "economic_activity",
    "bedriver_ekonomisk_verksamhet": "economic_activity",
    "de_minimis": "other_de_minimis_aid",
    "stod_av_mindre_betydelse": "other_de_minimis_aid",
    "annat_stod_av_mindre_betydelse": "other_de_minimis_aid",
    "forsakran_om_stod_av_mindre_betydelse": "other_de_minimis_aid",
}

UNITS = re.compile(r"\([^()]*\)")  # "(kr)", "(ÅÅÅÅ-MM-DD)", "(frivilligt)": said, not named


def _plain(key: str) -> str:
    """A column name as people write it ("E-post ", "Sökt belopp (kr)") as e_post,
    sokt_belopp: what it says in parentheses is a unit or a hint, not part of the name."""
    folded = UNITS.sub(" ", key).strip().casefold().translate(str.maketrans("åäöé", "aaoe"))
    return "_".join("".join(c if c.isalnum() else " " for c in folded).split())


def _normalise_key(key: str) -> str:
    plain = _plain(key)
    return ALIASES.get(plain, plain)


@lru_cache(maxsize=256)  # a file names its ~30 fields again in every record
def _field_name(raw_key: str, parent: str) -> str:
    """The field a key names; `parent`: the plain name of the object it is nested in."""
    plain = _plain(raw_key)
    nested = f"{parent}_{plain}"
    return nested if nested in KNOWN else _normalise_key(plain)


def _fields(raw: dict[str, Any], parent: str = "") -> dict[str, Any]:
    """Flat fields with normalised names; nested objects ({"project": {"title": …}}) flattened."""
    fields: dict[str, Any] = {}
    for raw_key, value in raw.items():
        if isinstance(value, dict):
            fields |= _fields(value, _plain(str(raw_key)))
        else:
            fields[_field_name(str(raw_key), parent)] = value
    return fields


MAX_NESTING = 8  # a form export nests objects two or three deep
MAX_NAMED = 20  # unknown fields named in the note
MAX_CSV_FIELD = 2**31 - 1  # the csv module's default (128 KiB) would refuse the whole file
CHUNK = 2**20  # characters read at a time: the file is never held whole
MAX_HEADER = 2**16  # characters of a CSV file's first line that tell its delimiter
NEAR_END = 16  # a JSON value cut off by the end of what was read fails this close to it
_TOO_DEEP = f"nested more than {MAX_NESTING} levels deep; not a form export"


def _nesting(data: Any) -> int:
    """How deep lists and objects go in parsed JSON, counted without recursion (only lists
    and objects are stacked: a record's 30 plain values cost a test each)."""
    if not isinstance(data, dict | list):
        return 0
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        items = value.values() if isinstance(value, dict) else value
        stack.extend((item, depth + 1) for item in items if isinstance(item, dict | list))
    return deepest


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


class UnreadableFile(ValueError):
    """The file as a whole cannot be read; nothing in it is taken in."""


class EmptyExport(UnreadableFile):
    """The file reads, but holds no application (`[]`, a CSV of its header only): most
    likely the wrong file or an export made too early, so it is refused, not taken in as
    "0 applications read"."""


@dataclass
class Record:
    label: str  # how a person finds the record in the file: "record 3 (line 4)"
    fields: dict[str, Any]


@dataclass(frozen=True)
class FormExport:
    """A form export read through once and found readable as a whole.

    Nothing of it is kept but what it says about itself: a national call's export has
    100,000 applications, too many to hold at once. `records()` reads it again, one
    record at a time, for whoever registers them.
    """

    path: Path
    encoding: str
    count: int  # records, blank CSV rows left out
    notes: list[str]  # about the file as a whole, such as unknown columns

    def records(self) -> Iterator[Record]:
        """The records in the file's order, read as they are needed."""
        return _records(self.path, self.encoding)


def open_export(path: Path) -> FormExport:
    """Check the whole file before anything in it is taken in, keeping none of it.

    Raises UnreadableFile for a file that is not a form export, is in neither UTF-8 nor
    Windows-1252, or is broken anywhere (a cut-off JSON array, a CSV row with too many
    values): found here, before the first record is registered, not half-way through;
    EmptyExport for one without a single application.
    """
    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv", ".txt"):
        raise UnreadableFile(f"{path}: expected a .json or .csv file, not {suffix or 'no suffix'}")
    encoding = _encoding(path)
    count, unknown = 0, set()
    for record in _records(path, encoding):
        count += 1
        unknown.update(record.fields.keys() - KNOWN)
    if not count:
        raise EmptyExport(f"{path}: no applications in it; an empty export is not taken in")
    return FormExport(path, encoding, count, _unknown_note(unknown))


def _unknown_note(unknown: set[str]) -> list[str]:
    named = ", ".join(quoted(key, 40) for key in sorted(unknown)[:MAX_NAMED])
    more = f" and {len(unknown) - MAX_NAMED} more" if len(unknown) > MAX_NAMED else ""
    return [f"unknown field(s) ignored: {named}{more}"] if unknown else []


def _encoding(path: Path) -> str:
    """UTF-8 (a byte order mark allowed), else Windows-1252: what Excel's "CSV (semicolon
    separated)" writes on Swedish Windows. Decided on the whole file, a chunk at a time."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            with path.open(encoding=encoding, newline="") as handle:
                while handle.read(CHUNK):
                    pass
        except UnicodeDecodeError:
            continue
        return encoding
    raise UnreadableFile(f"{path}: neither UTF-8 nor Windows-1252 text")


def _records(path: Path, encoding: str) -> Iterator[Record]:
    try:
        with path.open(encoding=encoding, newline="") as handle:
            if path.suffix.lower() == ".json":
                yield from _json_records(_JsonText(handle))
            else:
                yield from _csv_records(handle)
    except RecursionError:  # the standard library's reader meets a depth no form has
        raise UnreadableFile(f"{path}: {_TOO_DEEP}") from None
    except UnreadableFile as error:
        raise UnreadableFile(f"{path}: {error}") from None


# --- JSON -----------------------------------------------------------------------------------
#
# The standard library reads one JSON value from a string (raw_decode); the file's text is
# held in a window that holds the value being read and grows only while one value needs it.
# ijson streams too, but its C parser crashes the process on an integer of more than 4,300
# digits (Python's limit on reading one), and a file that can crash the office is exactly
# what must be refused cleanly.

_DECODER = json.JSONDecoder()
_BLANK = re.compile(r"[ \t\n\r]*")


class _JsonText:
    """The file's text through a window: what was read and not yet used."""

    def __init__(self, handle: TextIO) -> None:
        self.handle, self.window, self.at = handle, "", 0
        self.line, self.column = 1, 1  # where the window starts in the file
        self.ended = False

    def _more(self) -> bool:
        """Drop what was used, read at least as much again as is left (so that a long value
        costs reads in proportion to its length); False at the end of the file."""
        used = self.window[: self.at]
        newlines = used.count("\n")
        self.line += newlines
        self.column = len(used) - used.rfind("\n") if newlines else self.column + len(used)
        chunk = self.handle.read(max(CHUNK, len(self.window) - self.at))
        self.window, self.at = self.window[self.at :] + chunk, 0
        self.ended = not chunk
        return not self.ended

    def peek(self) -> str:
        """The next character that is not white space, not used; "" at the end."""
        while True:
            self.at = _BLANK.match(self.window, self.at).end()
            if self.at < len(self.window):
                return self.window[self.at]
            if not self._more():
                return ""

    def expect(self, allowed: str, what: str) -> str:
        """Use the next character, one of `allowed`; else the file is not JSON."""
        char = self.peek()
        if not char or char not in allowed:
            raise self.fail(f"Expecting {what}")
        self.at += 1
        return char

    def fail(self, message: str) -> UnreadableFile:
        """The file is not JSON from the next character on."""
        return self.invalid(json.JSONDecodeError(message, self.window, self.at))

    def value(self) -> Any:
        """The next JSON value, read further until it is whole."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.window, self.at)
            except json.JSONDecodeError as error:
                if self.ended or not self._cut_off(error):
                    raise self.invalid(error) from None
                self._more()  # and read it again, whole or as far as the file goes
                continue
            except ValueError as error:  # a number too long to read: cut off or not
                raise UnreadableFile(f"not valid JSON ({_one_line(str(error))})") from None
            if end == len(self.window) and not self.ended:
                self._more()  # a number may go on: 12 of 1234
                continue
            self.at = end
            return value

    def _cut_off(self, error: json.JSONDecodeError) -> bool:
        """Whether the value may only be cut off by the window's end, not broken."""
        return (
            error.msg.startswith("Unterminated string") or error.pos >= len(self.window) - NEAR_END
        )

    def invalid(self, error: json.JSONDecodeError) -> UnreadableFile:
        line = self.line + error.lineno - 1
        column = error.colno + (self.column - 1 if error.lineno == 1 else 0)
        return UnreadableFile(f"not valid JSON ({error.msg}: line {line} column {column})")


def _json_records(text: _JsonText) -> Iterator[Record]:
    """The records of a JSON export, each checked for depth and shape as it is read."""
    for number, (item, depth) in enumerate(_json_items(text), start=1):
        if _nesting(item) + depth > MAX_NESTING:
            raise UnreadableFile(_TOO_DEEP)
        if not isinstance(item, dict):
            raise UnreadableFile(
                f"record {number} is {type(item).__name__}, not an object of fields"
            )
        yield Record(f"record {number}", _fields(item))
    if text.peek():
        raise text.fail("Extra data")


def _json_items(text: _JsonText) -> Iterator[tuple[Any, int]]:
    """Each application with how deep in the file it stands: an array of them (1), an
    object {"applications": [...]} (2), or one application alone (0)."""
    first = text.peek()
    if first == "[":
        yield from ((item, 1) for item in _json_array(text))
    elif first == "{":
        yield from _json_object(text)
    else:
        yield text.value(), 0


def _json_array(text: _JsonText) -> Iterator[Any]:
    text.expect("[", "'['")
    if text.peek() == "]":
        text.at += 1
        return
    while True:
        yield text.value()
        if text.expect(",]", "',' delimiter") == "]":
            return


def _json_object(text: _JsonText) -> Iterator[tuple[Any, int]]:
    """The items of its "applications" array, read one by one; else the object itself,
    as one application (which is small)."""
    text.expect("{", "'{'")
    fields: dict[str, Any] = {}
    wrapped = False
    if text.peek() == "}":
        text.at += 1
    else:
        while True:
            if text.peek() != '"':
                raise text.fail("Expecting property name enclosed in double quotes")
            key = text.value()
            text.expect(":", "':' delimiter")
            if key == "applications" and text.peek() == "[":
                yield from ((item, 2) for item in _json_array(text))
                wrapped = True
            else:
                fields[key] = text.value()
            if text.expect(",}", "',' delimiter") == "}":
                break
    if not wrapped:
        yield fields, 0


# --- CSV ------------------------------------------------------------------------------------


def _csv_records(handle: TextIO) -> Iterator[Record]:
    """The rows of a CSV file; a field of any length is read (validation refuses what is too
    long, naming the record), and a file the csv module cannot parse is refused whole."""
    csv.field_size_limit(MAX_CSV_FIELD)
    header = handle.readline(MAX_HEADER)
    handle.seek(0)
    delimiter = max((",", ";", "\t"), key=header.count)
    reader = csv.DictReader(handle, delimiter=delimiter)
    try:
        if not reader.fieldnames or not {_normalise_key(n) for n in reader.fieldnames} & KNOWN:
            raise UnreadableFile(
                f"the first line must name the columns, for example: {', '.join(FIELDS[:6])} …"
            )
        for number, row in enumerate(reader, start=1):
            if None in row:
                raise UnreadableFile(
                    f"line {reader.line_num} has more values than the header has columns"
                )
            if any((value or "").strip() for value in row.values()):
                yield Record(f"record {number} (line {reader.line_num})", _fields(row))
    except csv.Error as error:
        raise UnreadableFile(f"not a readable CSV file ({_one_line(str(error))})") from None
