"""The command line as a case officer uses it."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from tests.conftest import SAMPLES, free_port
from tests.helpers import OFFICER, database_dump, grants


def test_intake_status_and_history(grants_home: Path) -> None:
    result = grants("intake", str(SAMPLES / "applications.json"))
    assert result.exit_code == 0, result.output
    assert "8 application(s) read: 8 registered, 0 already registered, 0 refused" in result.output
    assert "no organisation number yet" in result.output

    listing = grants("status", "--as", OFFICER)
    assert listing.exit_code == 0
    assert "8 case(s)" in listing.output and "Skatekollektivet Askersund" in listing.output
    reference = next(w for w in listing.output.split() if w.endswith("RS6"))

    detail = grants("status", reference.lower(), "--as", OFFICER)
    assert detail.exit_code == 0, detail.output
    for expected in (
        "Rullbräda i Askersund",
        "50 000 kr",
        "registered",
        "letter_created",
        "letter_sent",
        "Maria Lindqvist",
        "case_officer",
        "→ received",
        "-mottagningsbekraftelse.pdf",
    ):
        assert expected in detail.text

    missing = grants("status", "26RS99999", "--as", OFFICER, ok=False)
    assert missing.exit_code == 2 and "no case with case reference" in missing.output


def test_refused_records_give_exit_code_1_and_a_report(grants_home: Path) -> None:
    result = grants("intake", str(SAMPLES / "mistakes.csv"), ok=False)
    assert result.exit_code == 1
    assert "Refused record 1 (line 2) SI-2026-0951:" in result.output
    assert "municipality = 'Stockholm': is not a municipality in Örebro county" in result.output
    assert "bankgiro = '5050-1502': the check digit" in result.output
    assert "4 application(s) read: 1 registered, 0 already registered, 3 refused" in result.output


def test_unknown_person_or_wrong_role_is_refused_and_nothing_changes(grants_home: Path) -> None:
    grants("intake", str(SAMPLES / "applications.csv"))
    before = database_dump(grants_home)
    result = grants(
        "intake", str(SAMPLES / "applications.json"), "--as", "nobody@example.se", ok=False
    )
    assert (
        result.exit_code == 2 and "'nobody@example.se' is not a registered person" in result.output
    )
    result = grants(
        "intake",
        str(SAMPLES / "applications.json"),
        "--as",
        "johan.ek@coompanion.example.se",
        ok=False,
    )
    assert result.exit_code == 2
    assert "Johan Ek <johan.ek@coompanion.example.se> is advisor" in result.output
    assert "only a case_officer may do this" in result.output
    assert database_dump(grants_home) == before


def test_unreadable_file_is_refused_at_once(grants_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"PK\x03\x04")
    result = grants("intake", str(path), ok=False)
    assert result.exit_code == 2 and "expected a .json or .csv file" in result.output
    assert database_dump(grants_home) == []


def test_two_intakes_at_once_in_two_processes(
    grants_home: Path, tmp_path: Path, prefect_server: str
) -> None:
    """Two officers' `grants intake` started together: every case gets its own reference."""
    records = json.loads((SAMPLES / "applications.json").read_text())
    files = []
    for half in (0, 1):
        path = tmp_path / f"half{half}.json"
        path.write_text(json.dumps(records[half::2]))
        files.append(path)
    env = os.environ | {"PREFECT_API_URL": prefect_server, "GRANTS_HOME": str(grants_home)}
    command = [sys.executable, "-m", "grants", "intake", "--no-letters"]
    processes = [
        subprocess.Popen(
            [*command, str(f)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for f in files
    ]
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    listing = grants("status", "--as", OFFICER).output
    references = sorted(w for w in listing.split() if "RS" in w and w[:2].isdigit())
    assert len(references) == 8 and len(set(references)) == 8


def test_a_worker_needs_a_prefect_server(grants_home: Path, monkeypatch) -> None:
    """`grants worker` serves a Prefect server; without one named it says so and stops."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    result = grants("worker", ok=False)
    assert result.exit_code == 2 and "PREFECT_API_URL is not set" in result.output
    down = f"http://127.0.0.1:{free_port()}/api"  # nothing listens: a worker would wait unseen
    worker = subprocess.run(
        [sys.executable, "-m", "grants", "worker"],
        env=os.environ | {"PREFECT_API_URL": down},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert worker.returncode == 2, worker.stderr  # systemd's Restart=on-failure tries again
    assert f"no Prefect server answers at PREFECT_API_URL={down}" in worker.stderr


UNCLEAR_NEW_LOCALLY = [
    *("--as", OFFICER, "--benefit-to-society", "met"),
    *("--innovative", "met", "--new-locally", "unclear", "--anchored-with-partners", "met"),
    *("--note", "new_locally=Beskriv vad som är nytt."),
]


def test_a_step_stands_when_the_prefect_server_does_not_answer(grants_home: Path) -> None:
    """Server mode with the server down: the step is taken, its letter waits in the case
    database for the scheduled send-letters, and the person is told so (exit 0); a command
    that runs a flow says it cannot, in one line (exit 2), and changes nothing."""
    from sqlmodel import select

    from grants.settings import load
    from models.db import transaction
    from models.tables import Letter
    from tests.conftest import free_port

    intake = grants("intake", str(SAMPLES / "applications.json"), "--no-letters")
    assert intake.exit_code == 0, intake.output
    reference = f"{date.today().year % 100:02d}RS1"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env |= {"PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api", "COLUMNS": "300"}
    step = subprocess.run(
        [sys.executable, "-m", "grants", "checklist", reference, *UNCLEAR_NEW_LOCALLY],
        env=env,
        capture_output=True,
        text=True,
    )
    assert step.returncode == 0, step.stdout + step.stderr
    assert "the scheduled send-letters will make and send them" in step.stdout
    assert "the Prefect server did not take it" in step.stdout
    with transaction(load().db_url) as session:
        [letter] = session.exec(select(Letter).where(Letter.kind == "supplement_request")).all()
        assert letter.delivery_state == "to_render"

    # What runs a flow says in one line that it cannot, and does nothing (no traceback).
    before = database_dump(grants_home)
    for command in (["intake", str(SAMPLES / "demo_more.json")], ["deliver"], ["sweep"]):
        refused = subprocess.run(
            [sys.executable, "-m", "grants", *command],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "no Prefect server answers at PREFECT_API_URL=http" in refused.stderr
        assert "Traceback" not in refused.stdout + refused.stderr
    assert database_dump(grants_home) == before
