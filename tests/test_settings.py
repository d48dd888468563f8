"""The environment's settings as an operator mistypes them: GRANTS_DATABASE_URL malformed in
each way a hand-written URL can be is one line naming the variable and the value, with the
password masked, exit 2, on the command line and in `grants serve` alike, and nothing made."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grants.settings import masked
from tests.conftest import SAMPLES, free_port
from tests.helpers import OFFICER, grants

MALFORMED = [
    ("postgresql+psycopg://u:secret@db.example:abc/grants", "its port 'abc' is not a number"),
    ("mysql://u:secret@db.example/grants", "mysql is not supported"),
    ("postgresql://u:secret@[::1/grants", "the '[' of its IPv6 host is not closed"),
    ("", "empty; unset it for the SQLite file in GRANTS_HOME"),
    ("  ", "empty; unset it for the SQLite file in GRANTS_HOME"),
    ("sqlite:", "not a database URL"),
    ("sqlite:nonsense", "not a database URL"),
    ("sqlite://", "an in-memory database keeps nothing"),
]


def _said_once(output: str, value: str, reason: str) -> None:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert f"GRANTS_DATABASE_URL {masked(value)!r}: " in lines[0] and reason in lines[0], output
    assert "Traceback" not in output and "secret" not in output


@pytest.mark.parametrize(("value", "reason"), MALFORMED)
def test_a_malformed_database_url_is_one_line_naming_it(
    value: str, reason: str, grants_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRANTS_DATABASE_URL", value)
    for command in (
        ["status", "--as", OFFICER],
        ["intake", str(SAMPLES / "applications.json")],
        ["deliver"],
        ["serve", "--port", "1"],
    ):
        result = grants(*command, ok=False)
        assert result.exit_code == 2, (command, result.output, result.exception)
        _said_once(result.output, value, reason)
    assert not (grants_home / "grants.db").exists()


def test_the_office_does_not_start_on_a_malformed_database_url(grants_home: Path) -> None:
    """The real `grants serve` process (every form in-process above): one line, exit 2."""
    for value, reason in MALFORMED[:4]:
        served = subprocess.run(
            [str(Path(sys.executable).parent / "grants"), "serve", "--port", str(free_port())],
            env=os.environ | {"COLUMNS": "300", "GRANTS_DATABASE_URL": value},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert served.returncode == 2, served.stdout + served.stderr
        _said_once(served.stdout + served.stderr, value, reason)
    assert not (grants_home / "grants.db").exists()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://grants:s3cr@t@db/grants",
            "postgresql+psycopg://grants:***@db/grants",
        ),
        ("postgresql://grants@db:5432/grants", "postgresql://grants@db:5432/grants"),
        (
            "postgresql://db/grants?password=s3cret&sslmode=require",
            "postgresql://db/grants?password=***&sslmode=require",
        ),
        ("grants:s3cret@db", "grants:***@db"),
    ],
)
def test_a_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert masked(url) == shown
