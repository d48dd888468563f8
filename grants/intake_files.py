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
        return data.decode("cp1252")  # Excel's "CSV (semicolon separated)" on Swedish Windows


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
    notes = [f"unknown field(s) ignored: {', '.join(unknown)}"] if unknown else []
    return records, notes


def _json_records(path: Path) -> list[Record]:
    try:
        data = json.loads(_text(path))
    except json.JSONDecodeError as error:
        raise UnreadableFile(f"{path}: not valid JSON ({error})") from None
    if isinstance(data, dict) and isinstance(data.get("applications"), list):
        data = data["applications"]
    items = data if isinstance(data, list) else [data]
    records = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise UnreadableFile(
                f"{path}: record {number} is {type(item).__name__}, not an object of fields"
            )
        records.append(Record(f"record {number}", item))
    return records


def _csv_records(path: Path) -> list[Record]:
    text = _text(path)
    header = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    if not reader.fieldnames or not set(reader.fieldnames) & set(FIELDS):
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
            fields = {key.strip(): value for key, value in row.items()}
            records.append(Record(f"record {number} (line {reader.line_num})", fields))
    return records
