"""`grants backup` and `grants restore` as a region's IT department runs them: a backup taken
while an intake registers and sends, restored into another home, verifies intact and holds
every case, letter and audit event it caught, exactly as the source has them; a restore
refuses a target that is not empty and an archive that is damaged, changing nothing; an
encrypted archive opens only with its identity; the retention rule deletes only our own
archives, keeping the newest of each day, week and month it is told to keep."""

import hashlib
import os
import shutil
import sqlite3
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest

from flows.intake import intake
from grants.embedded import run_flow
from models import clock
from models.tables import STOCKHOLM
from tests.conftest import SAMPLES
from tests.helpers import OFFICER, database_dump, grants

CONFIG = Path(__file__).resolve().parent.parent / "config" / "grants.toml"


def rows(home: Path) -> dict[str, list[tuple]]:
    """The cases, letters and audit events of a home's case database, in order."""
    with closing(sqlite3.connect(home / "grants.db")) as db:
        return {
            "cases": db.execute("SELECT id, case_reference FROM cases ORDER BY id").fetchall(),
            "letters": db.execute("SELECT id, case_id, kind FROM letters ORDER BY id").fetchall(),
            "events": db.execute("SELECT id, hash FROM audit_events ORDER BY id").fetchall(),
        }


def registered(home: Path) -> bool:
    """Whether a case is registered in the home's database (which may not be made yet)."""
    try:
        return bool(rows(home)["cases"])
    except sqlite3.OperationalError:  # no database yet, or not its tables
        return False


def backup_to(folder: Path) -> Path:
    """`grants backup --to folder`; the archive it made."""
    said = grants("backup", "--to", str(folder)).text
    assert "Backed up to" in said and "Not in it: the audit chain's key" in said, said
    [archive] = [p for p in folder.iterdir() if p.name.startswith("grants-backup-")
                 and not p.name.endswith(".sha256")]  # fmt: skip
    return archive


def restore_into(
    home: Path, archive: Path, monkeypatch: pytest.MonkeyPatch, source: Path, *extra: str
) -> str:
    """Restore `archive` into the empty `home`, the audit chain's key put back first (it is
    kept apart from the archives); then `grants verify` there must say intact."""
    home.mkdir(parents=True)
    shutil.copy2(source / "chain_key", home / "chain_key")
    monkeypatch.setenv("GRANTS_HOME", str(home))
    said = grants("restore", str(archive), *extra).text
    verified = grants("verify", "--as", OFFICER).text
    assert "Intact" in verified, verified
    return said


@pytest.fixture
def intake_running(
    grants_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[threading.Thread]:
    """The sample call's intake running in a thread, in batches of two applications, once
    its first case is registered."""
    monkeypatch.setenv("GRANTS_BATCH_SIZE", "2")
    report: dict = {}
    thread = threading.Thread(
        target=lambda: report.update(run_flow(intake, path=str(SAMPLES / "applications.json")))
    )
    thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and thread.is_alive():
        if registered(grants_home):
            break
        time.sleep(0.01)
    yield thread
    thread.join(120)
    assert report["letters"] == {"created": 8, "sent": 8, "failed": 0}


def test_a_backup_taken_mid_intake_restores_intact_with_every_case_letter_and_event(
    grants_home: Path, intake_running: threading.Thread, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    during = backup_to(tmp_path / "archives-during")
    assert intake_running.is_alive(), "the intake ended before the backup: not mid-call"
    intake_running.join(120)
    source = rows(grants_home)
    after = backup_to(tmp_path / "archives-after")

    restored = tmp_path / "restored-during"
    restore_into(restored, during, monkeypatch, grants_home)
    caught = rows(restored)
    assert caught["cases"] and len(caught["events"]) < len(source["events"])
    for table in ("cases", "letters", "events"):  # a prefix of what the source went on to hold
        assert caught[table] == source[table][: len(caught[table])], table
    assert (restored / "secret_key").read_text() == (grants_home / "secret_key").read_text()
    for letter in (restored / "outbox").glob("*"):
        assert letter.read_bytes() == (grants_home / "outbox" / letter.name).read_bytes()

    whole = tmp_path / "restored-after"
    said = restore_into(whole, after, monkeypatch, grants_home)
    # The 8 letters in the outbox, and the generated seal's key and certificate (seal/).
    assert "the case database (sqlite), 10 file(s)" in said, said
    assert database_dump(whole) == database_dump(grants_home)
    assert len(rows(whole)["letters"]) == 8 and len(rows(whole)["cases"]) == 8
    assert sorted(p.name for p in (whole / "outbox").iterdir()) == sorted(
        p.name for p in (grants_home / "outbox").iterdir()
    )


def _said_once(result, *parts: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    for part in parts:
        assert part in lines[0], result.output


def _listing(home: Path) -> list[tuple[str, bytes]]:
    return sorted(
        (str(p.relative_to(home)), p.read_bytes() if p.is_file() else b"")
        for p in home.rglob("*") if p.relative_to(home).parts[0] not in ("logs", "prefect")
    )  # fmt: skip


def test_restore_refuses_a_target_not_empty_and_a_damaged_archive_changing_nothing(
    sample_call: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = backup_to(tmp_path / "archives")

    # Into the home it came from: the database is not empty.
    before, listing = database_dump(sample_call), _listing(sample_call)
    _said_once(grants("restore", str(archive), ok=False), "GRANTS_DATABASE_URL", "not empty")
    assert database_dump(sample_call) == before and _listing(sample_call) == listing

    # A home that holds files of its own, on an empty database.
    other = tmp_path / "other"
    (other / "uploads").mkdir(parents=True)
    (other / "uploads" / "export.json").write_text("[]")
    monkeypatch.setenv("GRANTS_HOME", str(other))
    _said_once(
        grants("restore", str(archive), ok=False), f"GRANTS_HOME '{other}'", "not empty",
        "uploads",
    )  # fmt: skip
    assert _listing(other) == [("uploads", b""), ("uploads/export.json", b"[]")]

    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("GRANTS_HOME", str(empty))
    damaged = tmp_path / "damaged" / archive.name
    damaged.parent.mkdir()
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    shutil.copy2(f"{archive}.sha256", f"{damaged}.sha256")
    _said_once(grants("restore", str(damaged), ok=False), "damaged", "SHA-256")
    os.remove(f"{damaged}.sha256")
    _said_once(grants("restore", str(damaged), ok=False), "no checksum beside it")

    # A file changed inside, the archive's own checksum made again: the manifest finds it.
    inside = tmp_path / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(inside, filter="data")
    [root] = inside.iterdir()
    (root / "keys" / "secret_key").write_text("someone else's key")
    with tarfile.open(damaged, "w:gz") as tar:
        tar.add(root, arcname=root.name)
    digest = hashlib.sha256(damaged.read_bytes()).hexdigest()
    Path(f"{damaged}.sha256").write_text(f"{digest}  {damaged.name}\n")
    _said_once(grants("restore", str(damaged), ok=False), "damaged: keys/secret_key does not match")
    assert _listing(empty) == [] and not (empty / "grants.db").exists()


def _config_with(tmp_path: Path, section: str) -> Path:
    config = tmp_path / "grants.toml"
    config.write_text(CONFIG.read_text(encoding="utf-8") + "\n[backup]\n" + section)
    return config


def test_an_encrypted_backup_opens_only_with_its_identity(
    sample_call: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyrage

    identity = pyrage.x25519.Identity.generate()
    key_file = tmp_path / "backup-key.txt"
    key_file.write_text(f"# public key: {identity.to_public()}\n{identity}\n")
    stranger = tmp_path / "stranger.txt"
    stranger.write_text(f"{pyrage.x25519.Identity.generate()}\n")
    config = _config_with(tmp_path, f'recipient = "{identity.to_public()}"\n')
    monkeypatch.setenv("GRANTS_CONFIG", str(config))

    archive = backup_to(tmp_path / "archives")
    assert archive.name.endswith(".tar.gz.age")
    assert archive.read_bytes().startswith(b"age-encryption.org/v1")
    assert b"SQLite format" not in archive.read_bytes()

    target = tmp_path / "restored"
    target.mkdir()
    monkeypatch.setenv("GRANTS_HOME", str(target))
    _said_once(grants("restore", str(archive), ok=False), "encrypted", "--identity FILE")
    _said_once(
        grants("restore", str(archive), "--identity", str(stranger), ok=False),
        "cannot be decrypted",
    )
    os.rmdir(target)
    said = restore_into(target, archive, monkeypatch, sample_call, "--identity", str(key_file))
    assert "Restored" in said and database_dump(target) == database_dump(sample_call)


def test_a_recipient_that_is_not_an_age_key_is_refused_before_anything_is_made(
    sample_call: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRANTS_CONFIG", str(_config_with(tmp_path, 'recipient = "0xDEADBEEF"\n')))
    _said_once(
        grants("backup", ok=False),
        "[backup] recipient: '0xDEADBEEF' is not an age public key",
    )
    assert not (sample_call / "backups").exists()


def test_retention_keeps_the_newest_of_each_day_week_and_month_and_only_ours(
    sample_call: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config_with(tmp_path, "keep_daily = 3\nkeep_weekly = 2\nkeep_monthly = 3\n")
    monkeypatch.setenv("GRANTS_CONFIG", str(config))
    folder = sample_call / "backups"  # [backup] folder unset: GRANTS_HOME/backups
    folder.mkdir()
    last = datetime(2031, 1, 15).toordinal()
    for day in range(last - 119, last + 1):  # each night at 02:30 for four months
        name = f"grants-backup-{datetime.fromordinal(day):%Y-%m-%d}T023000.tar.gz"
        (folder / name).write_text("an older archive")
        (folder / f"{name}.sha256").write_text(f"0  {name}\n")
    foreign = ["notes.txt", "grants-backup-manual.tar.gz", "db-2030-01-01.dump"]
    for name in foreign:
        (folder / name).write_text("not ours")

    with clock.simulated():  # Wednesday 15 January 2031 in Sweden
        clock.move_to(datetime(2031, 1, 15, 10, 0, 0, tzinfo=STOCKHOLM))
        first = grants("backup").text
        clock.move_to(datetime(2031, 1, 15, 10, 0, 2, tzinfo=STOCKHOLM))
        second = grants("backup").text
    assert "3 day(s), 2 week(s) and 3 month(s); 115 older archive(s) deleted" in first, first
    assert "1 older archive(s) deleted" in second, second  # this morning's first

    kept = sorted(p.name for p in folder.iterdir() if not p.name.endswith(".sha256"))
    assert kept == sorted(
        [
            *foreign,
            "grants-backup-2030-11-30T023000.tar.gz",  # November's newest
            "grants-backup-2030-12-31T023000.tar.gz",  # December's newest
            "grants-backup-2031-01-12T023000.tar.gz",  # last week's newest (a Sunday)
            "grants-backup-2031-01-13T023000.tar.gz",  # the day before yesterday
            "grants-backup-2031-01-14T023000.tar.gz",  # yesterday
            "grants-backup-2031-01-15T100002.tar.gz",  # today's newest, this week's, January's
        ]
    )
    checksums = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sha256"))
    assert checksums == sorted(f"{name}.sha256" for name in kept if name not in foreign)


def test_a_postgresql_database_is_dumped_and_restored_into_an_empty_one(
    on_postgres: str, postgres_base_url: str, grants_home: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from tests.postgres import create_database
    from tests.test_postgres import counts

    grants("intake", str(SAMPLES / "applications.json"), "--as", OFFICER, "--no-letters")
    source = counts()
    archive = backup_to(tmp_path / "archives")
    with tarfile.open(archive) as tar:
        assert any(name.endswith("/database/grants.dump") for name in tar.getnames())

    target = create_database(postgres_base_url, "grants_restored_from_backup")
    monkeypatch.setenv("GRANTS_DATABASE_URL", target)
    said = restore_into(tmp_path / "restored", archive, monkeypatch, grants_home)
    assert "the case database (postgresql)" in said, said
    assert counts() == source == {"Case": 8, "Organisation": 8, "Letter": 8, "AuditEvent": 8}

    monkeypatch.setenv("GRANTS_HOME", str(tmp_path / "another"))
    _said_once(
        grants("restore", str(archive), ok=False),
        "GRANTS_DATABASE_URL 'postgresql+psycopg://postgres@127.0.0.1:",
        "/grants_restored_from_backup': not empty",
    )
