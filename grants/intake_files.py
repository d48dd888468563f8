"""Reading form exports: JSON (one application or many) and CSV (from a form or a spreadsheet).

Only the file's shape is checked here; the fields are validated by the domain
(models.validation), which reports each fault by record, field and value.
"""

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
)


# Column names as Swedish forms and spreadsheets tend to write them, after _normalise_key.
ALIASES = {
    "inskickad": "submitted_at",
    "inkom": "submitted_at",
    "inkommen": "submitted_at",
    "datum": "submitted_at",
    "sprak": "language",
    "organisation": "organisation_name",
    "organisationsnamn": "organisation_name",
    "foreningens_namn": "organisation_name",
    "organisationsnummer": "organisation_number",
    "orgnr": "organisation_number",
    "juridisk_form": "legal_form",
    "organisationsform": "legal_form",
    "kommun": "municipality",
    "adress": "postal_address",
    "postadress": "postal_address",
    "postnummer": "postcode",
    "ort": "city",
    "postort": "city",
    "e_post": "email",
    "epost": "email",
    "e_mail": "email",
    "kontaktperson": "contact_person",
    "telefon": "phone",
    "projekttitel": "project_title",
    "projektnamn": "project_title",
    "sokt_belopp": "requested_amount",
    "belopp": "requested_amount",
    "medfinansiering_kontant": "co_financing_cash",
    "medfinansiering_timmar": "co_financing_hours",
    "ideella_timmar": "co_financing_hours",
    "projektstart": "project_start",
    "startdatum": "project_start",
    "projektslut": "project_end",
    "slutdatum": "project_end",
    "samhallsutmaning": "societal_challenge",
    "beskrivning": "description",
    "projektbeskrivning": "description",
    "nyskapande": "innovation",
    "langsiktiga_effekter": "long_term_effects",
    "malgrupp": "target_group",
    "samarbetspartner": "partners",
    "samarbetspartners": "partners",
}


def _plain(key: str) -> str:
    """A column name as people write it ("E-post ", "Sökt belopp") as e_post, sokt_belopp."""
    folded = key.strip().casefold().translate(str.maketrans("åäöé", "aaoe"))
    return "_".join("".join(c if c.isalnum() else " " for c in folded).split())


def _normalise_key(key: str) -> str:
    plain = _plain(key)
    return ALIASES.get(plain, plain)


def _fields(raw: dict[str, Any], parent: str = "") -> dict[str, Any]:
    """Flat fields with normalised names; nested objects ({"project": {"title": …}}) flattened."""
    fields: dict[str, Any] = {}
    for raw_key, value in raw.items():
        if isinstance(value, dict):
            fields |= _fields(value, _plain(str(raw_key)))
            continue
        plain = _plain(str(raw_key))
        key = f"{parent}_{plain}" if f"{parent}_{plain}" in FIELDS else _normalise_key(plain)
        fields[key] = value
    return fields


MAX_NESTING = 8  # a form export nests objects two or three deep
MAX_NAMED = 20  # unknown fields named in the note
MAX_CSV_FIELD = 2**31 - 1  # the csv module's default (128 KiB) would refuse the whole file


def _nesting(data: Any) -> int:
    """How deep lists and objects go in parsed JSON, counted without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return deepest


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


class UnreadableFile(ValueError):
    """The file as a whole cannot be read; nothing in it is taken in."""


@dataclass
class Record:
    label: str  # how a person finds the record in the file: "record 3 (line 4)"
    fields: dict[str, Any]


def _text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")  # Excel's "CSV (semicolon separated)" on Swedish Windows
    except UnicodeDecodeError:
        raise UnreadableFile(f"{path}: neither UTF-8 nor Windows-1252 text") from None


def read_records(path: Path) -> tuple[list[Record], list[str]]:
    """The file's records and notes about the file as a whole (such as unknown columns)."""
    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".json":
        records = _json_records(path)
    elif suffix in (".csv", ".txt"):
        records = _csv_records(path)
    else:
        raise UnreadableFile(f"{path}: expected a .json or .csv file, not {suffix or 'no suffix'}")
    unknown = sorted({key for r in records for key in r.fields} - set(FIELDS))
    named = ", ".join(quoted(key, 40) for key in unknown[:MAX_NAMED])
    more = f" and {len(unknown) - MAX_NAMED} more" if len(unknown) > MAX_NAMED else ""
    notes = [f"unknown field(s) ignored: {named}{more}"] if unknown else []
    return records, notes


def _json_records(path: Path) -> list[Record]:
    deep = f"{path}: nested more than {MAX_NESTING} levels deep; not a form export"
    try:
        data = json.loads(_text(path))
    except RecursionError:
        raise UnreadableFile(deep) from None
    except ValueError as error:  # JSONDecodeError, or a number too long to read
        raise UnreadableFile(f"{path}: not valid JSON ({_one_line(str(error))})") from None
    if _nesting(data) > MAX_NESTING:
        raise UnreadableFile(deep)
    if isinstance(data, dict) and isinstance(data.get("applications"), list):
        data = data["applications"]
    items = data if isinstance(data, list) else [data]
    records = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise UnreadableFile(
                f"{path}: record {number} is {type(item).__name__}, not an object of fields"
            )
        records.append(Record(f"record {number}", _fields(item)))
    return records


def _csv_records(path: Path) -> list[Record]:
    """The rows of a CSV file; a field of any length is read (validation refuses what is too
    long, naming the record), and a file the csv module cannot parse is refused whole."""
    try:
        return _csv_rows(path)
    except csv.Error as error:
        raise UnreadableFile(f"{path}: not a readable CSV file ({_one_line(str(error))})") from None


def _csv_rows(path: Path) -> list[Record]:
    csv.field_size_limit(MAX_CSV_FIELD)
    text = _text(path)
    header = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    if not reader.fieldnames or not {_normalise_key(n) for n in reader.fieldnames} & set(FIELDS):
        raise UnreadableFile(
            f"{path}: the first line must name the columns, for example: {', '.join(FIELDS[:6])} …"
        )
    records = []
    for number, row in enumerate(reader, start=1):
        if None in row:
            raise UnreadableFile(
                f"{path}: line {reader.line_num} has more values than the header has columns"
            )
        if any((value or "").strip() for value in row.values()):
            fields = _fields(row)
            records.append(Record(f"record {number} (line {reader.line_num})", fields))
    return records
