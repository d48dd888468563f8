"""The configuration file as a region edits it: every key known, every value checked before
anything is done, and a mistake told in one line that names the file, the key and the value."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from grants.config import read_config
from grants.settings import PROJECT_ROOT, load
from tests.conftest import SAMPLES, free_port
from tests.helpers import OFFICER, database_dump, grants

SHIPPED = PROJECT_ROOT / "config" / "grants.toml"


def shipped_with(old: str, new: str) -> str:
    """The shipped configuration with one edit, as a region would make it."""
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text, f"config/grants.toml no longer has {old!r}"
    return text.replace(old, new, 1)


def without_section(name: str) -> str:
    """The shipped configuration with a whole [section] (header and keys) taken out."""
    text = SHIPPED.read_text(encoding="utf-8")
    cut = re.sub(rf"(?ms)^\[{name}\]\n.*?(?=^\[)", "", text)
    assert cut != text
    return cut


def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "grants.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("GRANTS_CONFIG", str(path))
    return path


def test_the_shipped_file_arrives_whole_in_the_typed_configuration() -> None:
    """Every key the region wrote is read, as written: nothing dropped or silently changed."""
    written = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    config = read_config(SHIPPED)
    assert config.model_dump(exclude_unset=True) == written  # TOML's own types: dates too
    settings = load()
    assert settings.rules.meeting_hours == "08:00-17:00"
    assert config.assessment.review_quorum == 2  # seeds the database (tests/test_people.py)
    assert config.advisory_group.members == [
        "johan.ek@coompanion.example.se",
        "lena.holm@activa.example.se",
    ]
    assert settings.base_url == "http://127.0.0.1:8000"


MISTAKES = [
    pytest.param(
        shipped_with("maximum_grant =", "maximum_grnt ="),
        "[call] maximum_grnt: no such key; did you mean maximum_grant?",
        id="misspelt key",
    ),
    pytest.param(
        shipped_with("budget = 600000", 'budget = "600 000"'),
        "[call] budget: '600 000' is not a whole number",
        id="text for a number",
    ),
    pytest.param(
        shipped_with("minimum_grant = 20000", "minimum_grant = -20000"),
        "[call] minimum_grant: -20000 must be 0 or more",
        id="negative amount",
    ),
    pytest.param(
        shipped_with("minimum_grant = 20000", "minimum_grant = 60000"),
        "[call] maximum_grant: 50000 is less than minimum_grant (60000)",
        id="grant range upside down",
    ),
    pytest.param(
        shipped_with('"johan.ek@coompanion.example.se"\nrole', '"johan.ek@coompanion"\nrole'),
        "[[people]] 2 (Johan Ek) email: 'johan.ek@coompanion' is not a valid e-mail address",
        id="invalid e-mail of a person",
    ),
    pytest.param(
        shipped_with('role = "decision_maker"', 'role = "chair"'),
        "[[people]] 4 (Karin Sjöberg) role: 'chair' is not a role for people: "
        "one of case_officer, advisor, decision_maker",
        id="unknown role",
    ),
    pytest.param(
        shipped_with('members = ["johan.ek@', 'members = ["johan.eek@'),
        "[advisory_group] members: 'johan.eek@coompanion.example.se' is not one of the [[people]]",
        id="reviewer who is not a person",
    ),
    pytest.param(
        shipped_with("closed_months = [7, 12]", "closed_months = [7, 13]"),
        "[call] closed_months: 13 is not a month (1 to 12)",
        id="month 13",
    ),
    pytest.param(
        shipped_with('meeting_hours = "08:00-17:00"', 'meeting_hours = "8 to 5"'),
        "[assessment] meeting_hours: '8 to 5' is not office hours written HH:MM-HH:MM",
        id="office hours",
    ),
    pytest.param(
        shipped_with(
            '# base_url = "https://bidrag.regionorebrolan.example.se"',
            'base_url = "bidrag.example.se"',
        ),
        "[office] base_url: 'bidrag.example.se' is not a web address starting with https://",
        id="base_url without scheme",
    ),
    pytest.param(
        shipped_with("applicant_link_days = 14", "applicant_link_days = 1.5"),
        "[office] applicant_link_days: 1.5 is not a whole number",
        id="days as a fraction",
    ),
    pytest.param(
        shipped_with('iban = "SE4550000000058398257466"', 'iban = "SE4550000000058398257467"'),
        "[payments] iban: 'SE4550000000058398257467' has a wrong check",
        id="the Region's IBAN mistyped",
    ),
    pytest.param(
        shipped_with('organisation_number = "232100-0164"', 'organisation_number = "232100-0165"'),
        "[payments] organisation_number: '232100-0165' the check digit (the last digit) does "
        "not match",
        id="the Region's organisation number mistyped",
    ),
    pytest.param(without_section("registry"), "no [registry] section", id="missing section"),
    pytest.param(
        shipped_with("[assessment]", "[assesment]"),
        "[assesment]: no such section; did you mean [assessment]?",
        id="misspelt section",
    ),
]


@pytest.mark.parametrize(("text", "says"), MISTAKES)
def test_a_mistake_in_the_file_is_one_line_and_nothing_is_done(
    text: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grants_home: Path
) -> None:
    path = configured(tmp_path, monkeypatch, text)
    for command in (["intake", str(SAMPLES / "applications.json")], ["status", "--as", OFFICER]):
        result = grants(*command, ok=False)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert f"GRANTS_CONFIG {str(path)!r}: " in lines[0] and says in lines[0], lines[0]
        assert "Traceback" not in result.output
    assert not (grants_home / "grants.db").exists()
    assert not (grants_home / "outbox").exists()


def test_a_file_spoilt_later_leaves_the_cases_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grants_home: Path
) -> None:
    """A region that edits the file between two intakes: the second is refused whole."""
    grants("intake", str(SAMPLES / "applications.json"))
    before = database_dump(grants_home)
    letters = sorted((grants_home / "outbox").iterdir())
    configured(tmp_path, monkeypatch, shipped_with("handling_weeks = 8", "handling_weeks = 0"))
    again = grants("intake", str(SAMPLES / "applications.csv"), ok=False)
    assert again.exit_code == 2 and "[call] handling_weeks: 0 must be 1 or more" in again.output
    assert database_dump(grants_home) == before
    assert sorted((grants_home / "outbox").iterdir()) == letters


def test_the_office_does_not_start_on_a_wrong_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grants_home: Path
) -> None:
    """`grants serve` with a mistake in [auth.oidc]: one line, exit 2, nothing listening."""
    path = configured(
        tmp_path,
        monkeypatch,
        shipped_with(
            "# Sign-in for the region's own staff",
            '[auth.oidc]\nname = "Region Örebro län"\n'
            'server_metadata_url = "https://login.example.se/.well-known/openid-configuration"\n'
            "client_id = 4711\n\n# Sign-in for the region's own staff",
        ),
    )
    served = subprocess.run(
        [str(Path(sys.executable).parent / "grants"), "serve", "--port", str(free_port())],
        env=os.environ | {"COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert served.returncode == 2, served.stdout + served.stderr
    lines = (served.stdout + served.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert f"GRANTS_CONFIG {str(path)!r}: [auth.oidc] client_id: 4711 is not text" in lines[0]
    assert not (grants_home / "grants.db").exists()
