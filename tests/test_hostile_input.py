"""Hostile and odd input: refused record by record (or file by file) with a short reason,
never a crash that loses the valid records, and never shown so that it misleads."""

import json
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from flows.intake import intake
from flows.letters import send_letters
from grants.embedded import run_flow
from grants.intake_files import CHUNK, UnreadableFile, open_export
from grants.render import render_text
from grants.settings import load
from models.db import transaction
from models.letters import letter_context
from models.tables import Letter, Notice
from models.validation import parse_amount, validate_application
from tests.conftest import SAMPLES, Mailbox, free_port
from tests.helpers import OFFICER, database_dump, grants
from tests.test_validation import CALL, TODAY, faults, sample

RLO, ARABIC = "\u202e", "جمعية الشباب"


def records(tmp_path: Path, name: str, changes: list[dict]) -> Path:
    """A JSON export of the first sample records, each with its changes."""
    base = json.loads((SAMPLES / "applications.json").read_text())
    path = tmp_path / name
    path.write_text(
        json.dumps([b | c for b, c in zip(base, changes, strict=False)], ensure_ascii=False)
    )
    return path


@pytest.mark.parametrize("text", ["35000²", "10①", "٣٥٠٠٠", "３５０００", "3 5 0 0 0 ⁰"])
def test_amounts_take_ascii_digits_only(text: str) -> None:
    assert "whole number of kronor" in faults(sample(requested_amount=text))["requested_amount"]


def test_a_strange_value_refuses_its_record_and_the_others_are_registered(
    tmp_path: Path,
) -> None:
    path = records(
        tmp_path,
        "odd.json",
        [
            {"requested_amount": "35000²"},
            {"organisation_number": 8024763156, "co_financing_cash": 10**40},
            {"bankgiro": ["5050-1501"], "project_end": {"year": 2027}},
            {},
        ],
    )
    result = grants("intake", str(path), "--no-letters", ok=False)
    assert result.exit_code == 1, result.output
    assert "1 registered" in result.output and "3 refused" in result.output


def test_deeply_nested_json_is_refused_whole(tmp_path: Path) -> None:
    for depth in (10_000, 50):
        path = tmp_path / f"deep{depth}.json"
        path.write_text("[" * depth + "]" * depth)
        result = grants("intake", str(path), ok=False)
        assert result.exit_code == 2 and "nested more than" in result.output, result.output
        assert "Traceback" not in result.output


HEADER = (SAMPLES / "applications.csv").read_text(encoding="utf-8").splitlines()[0]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.json", "[]"),
        ("wrapped.json", '{"applications": []}'),
        ("header-only.csv", HEADER + "\n"),
        ("blank-rows.csv", HEADER + "\n\n\n"),
    ],
)
def test_an_empty_export_is_refused_naming_the_file(
    name: str, content: str, tmp_path: Path, grants_home: Path
) -> None:
    """Not "0 application(s) read", exit 0: the wrong file, or an export made too early."""
    assert grants("intake", str(SAMPLES / "applications.json"), "--no-letters").exit_code == 0
    before = database_dump(grants_home)
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = grants("intake", str(path), ok=False)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f"{path}: no applications in it" in lines[0], result.output
    assert database_dump(grants_home) == before


def test_a_refused_value_is_quoted_short(tmp_path: Path) -> None:
    huge = "Å" * 5_000_000
    path = records(tmp_path, "huge.json", [{"description": huge, "project_title": huge[:300]}])
    result = grants("intake", str(path), "--no-letters", ok=False)
    assert result.exit_code == 1
    assert "(5000000 characters)" in result.output and "(300 characters)" in result.output
    assert len(result.output) < 5_000


@pytest.mark.parametrize(
    ("end", "refused"),
    [("2028-12-31", False), ("2029-01-01", True), ("2029-01-31", True), ("2029-06-30", True)],
)
def test_the_24_month_rule_counts_days(end: str, refused: bool) -> None:
    record = sample(project_start="2027-01-01", project_end=end, submitted_at="2026-11-02")
    if refused:
        assert "at most 24 months" in faults(record)["project_end"]
    else:
        validate_application(record, CALL, TODAY)


def test_an_address_keeps_its_ascii_domain_form() -> None:
    valid = validate_application(sample(email="Info@Exämpel.SE"), CALL, TODAY)
    assert valid.organisation["email"].endswith("@xn--exmpel-cua.se")
    valid = validate_application(sample(email="info@xn--exmpel-cua.se"), CALL, TODAY)
    assert valid.organisation["email"] == "info@xn--exmpel-cua.se"
    for address in ("användare@[127.0.0.1]", '"två ord"@exempel.se', "a\u202eb@exempel.se"):
        assert "not a valid e-mail address" in faults(sample(email=address))["email"]


class Envelopes(Mailbox):
    def __init__(self) -> None:
        super().__init__()
        self.recipients: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.recipients += envelope.rcpt_tos
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.mark.parametrize("smtputf8", [True, False])
def test_an_internationalised_address_goes_with_smtputf8_or_fails_once(
    smtputf8: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = records(
        tmp_path, "intl.json", [{"email": "användare@exempel.se"}, {"email": "info@exämpel.se"}]
    )
    mailbox, port = Envelopes(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    monkeypatch.setenv("GRANTS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GRANTS_SMTP_PORT", str(port))
    try:
        run_flow(intake, path=str(path))
        run_flow(send_letters)
    finally:
        controller.stop()
    with transaction(load().db_url) as session:
        states = [x.delivery_state for x in session.exec(select(Letter).order_by(Letter.id))]
        told = session.exec(select(Notice).where(Notice.kind == "letter_undeliverable")).all()
    if smtputf8:
        assert states == ["sent", "sent"]
        assert sorted(mailbox.recipients) == ["användare@exempel.se", "info@xn--exmpel-cua.se"]
        assert "användare@exempel.se" in [m["To"] for m in mailbox.messages]
        assert not any("=?" in str(m["To"]) for m in mailbox.messages)
    else:
        assert states == ["failed", "sent"] and len(told) == 1
        assert mailbox.recipients.count("info@xn--exmpel-cua.se") == 1


class NoSmtputf8Busy(Envelopes):
    """A server without SMTPUTF8 that is, for now, too busy for one address (451)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == "info@busy.example.se":
            return "451 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_each_letter_not_delivered_is_worded_by_its_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused for good (no SMTPUTF8 for an internationalised address) is "failed", never
    waiting; only the letter a temporary refusal holds back waits for its next try."""
    path = records(
        tmp_path,
        "intl.json",
        [{"email": "användare@exempel.se"}, {"email": "info@busy.example.se"}, {}],
    )
    mailbox, port = NoSmtputf8Busy(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=False)
    controller.start()
    monkeypatch.setenv("GRANTS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GRANTS_SMTP_PORT", str(port))
    try:
        result = grants("intake", str(path), ok=False)
        with transaction(load().db_url) as session:  # the retry is due
            for letter in session.exec(select(Letter).where(Letter.retry_at.is_not(None))):
                letter.retry_at -= timedelta(hours=1)
                session.add(letter)
        again = grants("deliver", ok=False)
    finally:
        controller.stop()
    assert again.exit_code == 1, again.output
    assert "0 letter(s) rendered, 0 delivered, 1 not delivered;" in again.output
    assert result.exit_code == 1, result.output
    assert "Letters: 3 created, 1 delivered, 2 not delivered." in result.output
    for output, attempts in ((result.output, 1), (again.output, 2)):
        said = {line.split()[2]: line for line in output.splitlines() if "Not delivered" in line}
        assert len(said) == 2, output
        refused, busy = (
            said["26RS1-mottagningsbekraftelse.pdf"],
            said["26RS2-mottagningsbekraftelse.pdf"],
        )
        assert "(failed: refused for good" in refused and "SMTPNotSupportedError" in refused
        assert "waiting for the mail server, next try " in busy and "451 try again later" in busy
        assert f"{attempts} attempt(s)" in busy
        assert "1 letter(s) could not be delivered" in output
        assert "1 letter(s) have not arrived yet" in output
        assert "left queued" not in output


def test_bidi_controls_are_dropped_and_right_to_left_text_isolated(tmp_path: Path) -> None:
    path = records(
        tmp_path,
        "bidi.json",
        [{"organisation_name": f"Föreningen {RLO}Unga röster", "project_title": ARABIC}],
    )
    run_flow(intake, path=str(path), send_letters=False)
    with transaction(load().db_url) as session:
        letter = session.exec(select(Letter)).one()
        html = render_text(
            "letters/acknowledgement.sv.html",
            letter_context(letter, load().file["authority"], date.today()),
        )
    assert RLO not in html and "Föreningen Unga röster" in html
    assert f"\u2068{ARABIC}\u2069" in html
    listing = (
        grants("status", "--as", OFFICER).output + grants("status", "26RS1", "--as", OFFICER).output
    )
    assert RLO not in listing and "Föreningen Unga röster" in listing
    assert f"\u2068{ARABIC}" in listing


def test_status_shows_a_letter_not_yet_rendered() -> None:
    assert grants("intake", str(SAMPLES / "applications.csv"), "--no-letters").exit_code == 0
    result = grants("status", "26RS1", "--as", OFFICER)
    assert result.exit_code == 0, result.output
    assert "not yet rendered" in result.output


def test_parse_amount_still_reads_what_people_write() -> None:
    assert [parse_amount(v) for v in ("50 000 kr", "50000,00", "SEK 50,000", 35000)] == [
        50_000,
        50_000,
        50_000,
        35_000,
    ]


def test_odd_values_anywhere_refuse_only_their_record(tmp_path: Path) -> None:
    path = records(
        tmp_path,
        "odder.json",
        [
            {"project_start": "9999-12-01", "project_end": "9999-12-31"},
            {"co_financing_cash": -100, "co_financing_hours": 1000},
            {"submission_id": "S" * 1_000_000},
            {"organisation_name": {"nested": ["x"] * 3}, "submitted_at": "T"},
            {},
        ],
    )
    result = grants("intake", str(path), "--no-letters", ok=False)
    assert result.exit_code == 1, result.output
    assert "1 registered" in result.output and "4 refused" in result.output
    assert "lies outside the years" in result.output and "must not be negative" in result.output
    assert len(result.output) < 5_000


def test_a_file_in_no_known_encoding_is_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes((SAMPLES / "applications.csv").read_bytes() + b"\x81\x8d\x8f\x90\x9d\n")
    result = grants("intake", str(path), ok=False)
    assert result.exit_code == 2 and "neither UTF-8 nor Windows-1252" in result.output


def test_a_file_of_many_chunks_reads_as_json_reads_it(tmp_path: Path) -> None:
    """The export is read a chunk at a time: records that straddle chunks, and a value
    longer than three chunks, come out as the whole file parsed at once would give them."""
    base = json.loads((SAMPLES / "applications.json").read_text())
    many = [base[n % len(base)] | {"submission_id": f"SI-{n}"} for n in range(600)]
    many[300]["description"] = "Å" * (3 * CHUNK + 7)
    path = tmp_path / "many.json"
    path.write_text(json.dumps({"applications": many}, ensure_ascii=False, indent=2))
    assert path.stat().st_size > 4 * CHUNK
    export = open_export(path)
    assert export.count == 600 and export.notes == []
    read = [record.fields for record in export.records()]
    assert [fields["submission_id"] for fields in read] == [f"SI-{n}" for n in range(600)]
    assert read == [dict(item) for item in json.loads(path.read_text())["applications"]]


def test_a_broken_file_of_many_chunks_is_refused_whole_where_json_says(tmp_path: Path) -> None:
    """A fault deep in a large export refuses it before its first record is taken in, and
    is placed at the line and column where json places it."""
    base = json.loads((SAMPLES / "applications.json").read_text())
    text = json.dumps(base * 300, ensure_ascii=False, indent=1)
    for broken in (text[: 2 * CHUNK + 5], text.replace('"Kumla"', '"Kumla" "Hallsberg"', 50)):
        path = tmp_path / "broken.json"
        path.write_text(broken)
        with pytest.raises(ValueError) as expected:
            json.loads(broken)
        with pytest.raises(UnreadableFile) as refused:
            open_export(path)
        where = f"{expected.value.msg}: line {expected.value.lineno} column {expected.value.colno}"
        assert where in str(refused.value)


def test_a_number_too_long_to_read_refuses_the_file_cleanly(tmp_path: Path) -> None:
    """Python reads no integer of more than 4,300 digits: the file is refused, the process
    goes on (a streaming parser in C that crashed on it was turned down for that)."""
    path = records(tmp_path, "digits.json", [{}, {"requested_amount": "DIGITS"}])
    path.write_text(path.read_text().replace('"DIGITS"', "1" * 4400))
    result = grants("intake", str(path), "--no-letters", ok=False)
    assert result.exit_code == 2 and "digits.json: not valid JSON" in result.output
    assert "Traceback" not in result.output
