"""Secrets from files rather than the environment file: each secret setting given as
GRANTS_NAME_FILE or as a systemd credential ($CREDENTIALS_DIRECTORY/name) is read from the
file; a file named but unreadable, empty, or given besides the variable itself is one line
naming the variable and the path, exit 2, and nothing made. An applicant's link signed
before the secret key was rotated still opens with the earlier key among the previous ones.
"""

from datetime import date
from pathlib import Path

import pytest

from grants.applicant_links import LinkInvalid, link_for, read
from grants.settings import SECRETS, Settings
from tests.helpers import OFFICER, grants


def value_for(name: str, folder: Path) -> str:
    """A value the setting `name` can take (a database URL for database_url)."""
    if name == "database_url":
        return f"sqlite:///{folder / 'elsewhere.db'}"
    return f"{name}-s3cret with spaces"


@pytest.mark.parametrize("name", SECRETS)
def test_each_secret_is_read_from_its_file(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / f"{name}.txt"
    path.write_text(value_for(name, tmp_path) + "\n", encoding="utf-8")
    monkeypatch.setenv(f"GRANTS_{name.upper()}_FILE", str(path))
    assert getattr(Settings(), name) == value_for(name, tmp_path)


@pytest.mark.parametrize("name", SECRETS)
def test_each_secret_is_read_from_its_systemd_credential(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / name).write_text(value_for(name, tmp_path), encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    monkeypatch.setenv(f"GRANTS_{name.upper()}", "")  # as the example env file leaves it
    assert getattr(Settings(), name) == value_for(name, tmp_path)


def _one_line_naming(variable: str, path: Path, reason: str, home: Path) -> None:
    result = grants("status", "--as", OFFICER, ok=False)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert f"{variable} '{path}': {reason}" in lines[0], result.output
    assert not (home / "grants.db").exists()


@pytest.mark.parametrize("name", SECRETS)
def test_an_unreadable_secret_file_is_one_line_naming_the_variable_and_path(
    name: str, grants_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    variable = f"GRANTS_{name.upper()}_FILE"
    missing = tmp_path / "nowhere" / name
    monkeypatch.setenv(variable, str(missing))
    _one_line_naming(variable, missing, "cannot read it: No such file or directory", grants_home)

    empty = tmp_path / "empty"
    empty.write_text("\n")
    monkeypatch.setenv(variable, str(empty))
    _one_line_naming(variable, empty, "the file is empty", grants_home)

    empty.write_text(value_for(name, tmp_path))
    monkeypatch.setenv(f"GRANTS_{name.upper()}", value_for(name, tmp_path))
    _one_line_naming(variable, empty, f"GRANTS_{name.upper()} is set too", grants_home)


def test_an_unreadable_systemd_credential_is_one_line_naming_it(
    grants_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    (credentials / "smtp_password").mkdir(parents=True)  # not a file: cannot be read
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    _one_line_naming(
        "GRANTS_SMTP_PASSWORD (systemd credential)",
        credentials / "smtp_password",
        "cannot read it: Is a directory",
        grants_home,
    )


def test_a_link_signed_before_the_key_was_rotated_still_opens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRANTS_SECRET_KEY", "the-old-key")
    sent = link_for(Settings(), "26RS1", "supplement", 1, date.today()).rsplit("/", 1)[1]

    monkeypatch.setenv("GRANTS_SECRET_KEY", "the-new-key")
    with pytest.raises(LinkInvalid):  # without the earlier key the link names nothing
        read(Settings(), sent)
    monkeypatch.setenv("GRANTS_PREVIOUS_SECRET_KEYS", "an-older-key the-old-key")
    rotated = Settings()
    assert read(rotated, sent).case_reference == "26RS1"
    new = link_for(rotated, "26RS2", "supplement", 1, date.today()).rsplit("/", 1)[1]
    monkeypatch.delenv("GRANTS_PREVIOUS_SECRET_KEYS")
    assert read(Settings(), new).case_reference == "26RS2"  # signed with the new key
