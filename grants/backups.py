"""Backups a region can restore: one dated archive of everything a home needs to go on.

An archive (`grants-backup-2026-12-07T023000.tar.gz`, `.age` when encrypted) holds:

- `database/`: the case database as of one moment, taken while people and flows write:
  SQLite through its online backup API (a consistent copy of a database in use), PostgreSQL
  through `pg_dump --format=custom` (one snapshot transaction);
- `home/`: the files under GRANTS_HOME that are the case's or the office's (the office's
  uploaded form exports, the outbox's letters, the exported letters, the audit trail's
  anchors), copied before the database so no anchor names an event the copy lacks;
- `keys/`: the secret key that signs the applicants' links already sent;
- `config/`: the configuration file (GRANTS_CONFIG);
- `MANIFEST.sha256`: the SHA-256 of each of those, as `sha256sum -c` reads them.

Beside it, `ARCHIVE.sha256` holds the archive's own SHA-256. With `[backup] recipient` the
archive is encrypted for that age public key (pyrage, which the `age` command of Debian's
package also decrypts). The audit chain's key is never in it: whoever holds a copy of the
database and that key could chain a rewritten trail again, so it is kept apart.

`restore` checks the archive's checksum and every file of its manifest before it writes
anything, and writes only into an empty database and an empty GRANTS_HOME.
"""

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Hashable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from grants.settings import Settings, masked
from models import clock
from models.db import new_engine
from models.tables import local_time

ARCHIVE = re.compile(r"^grants-backup-(\d{4}-\d{2}-\d{2}T\d{6})\.tar\.gz(\.age)?$")
STAMP = "%Y-%m-%dT%H%M%S"
MANIFEST = "MANIFEST.sha256"
ABOUT = "backup.json"
CHECKSUM = ".sha256"  # the archive's own SHA-256, in the file beside it
ENCRYPTED = ".age"
# Under GRANTS_HOME but not the case's: run logs, Prefect's files, this machine's office
# address, and the keys (the secret key goes in keys/, the chain's key never).
NOT_BACKED_UP = {"logs", "prefect", "office-address", "secret_key", "chain_key"}
# What a home may hold and still be a restore's target: what any command makes on start,
# and the chain's key, which is put back by hand before the restore.
EMPTY_HOME_MAY_HOLD = {"logs", "prefect", "chain_key"}


class BackupRefused(Exception):
    """A backup or restore that cannot be done; one line naming what and why. Nothing was
    changed."""


@dataclass(frozen=True)
class Keep:
    """The retention rule: the newest archive of each of the last `daily` days, `weekly`
    ISO weeks and `monthly` months is kept; every other archive of ours is deleted."""

    daily: int
    weekly: int
    monthly: int


@dataclass
class Contents:
    """What an archive holds, counted for the person."""

    database: str = ""
    home_files: int = 0
    config: str = ""
    checksums: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Made:
    """An archive made: where, how large, what it holds, and the older ones deleted."""

    archive: Path
    size: int
    contents: Contents
    deleted: list[Path]


# --- backing up ---------------------------------------------------------------------------


def backup_folder(settings: Settings) -> Path:
    """Where archives go: `[backup] folder`, else GRANTS_HOME/backups."""
    configured = settings.config_file.backup.folder
    return Path(configured) if configured else settings.home / "backups"


def make_backup(settings: Settings, folder: Path, recipient: str | None, keep: Keep) -> Made:
    """One archive of the home in `folder` (made readable by us only), its checksum beside
    it, then the retention rule applied to our archives there."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"grants-backup-{local_time(clock.now()).strftime(STAMP)}"
    final = folder / f"{name}.tar.gz{ENCRYPTED if recipient else ''}"
    if final.exists():
        raise BackupRefused(f"{final}: an archive of this second is there already; try again")
    with tempfile.TemporaryDirectory(dir=folder, prefix=".partial-") as work:
        tar_path = Path(work) / f"{name}.tar.gz"
        contents = _write_archive(settings, tar_path, name, folder)
        made = tar_path
        if recipient:
            made = Path(work) / final.name
            _encrypt(tar_path, made, recipient)
        os.chmod(made, 0o600)
        digest = _sha256_file(made)
        os.replace(made, final)
    _write_private(final.with_name(final.name + CHECKSUM), f"{digest}  {final.name}\n")
    deleted = prune(folder, keep, newest=final)
    return Made(final, final.stat().st_size, contents, deleted)


def _write_archive(settings: Settings, tar_path: Path, name: str, folder: Path) -> Contents:
    """The archive's members, each one's SHA-256 in the manifest written last."""
    contents = Contents()
    with tarfile.open(tar_path, "w:gz", compresslevel=6) as tar:

        def add(relative: str, data: bytes) -> None:
            contents.checksums[relative] = hashlib.sha256(data).hexdigest()
            info = tarfile.TarInfo(f"{name}/{relative}")
            info.size, info.mode, info.mtime = len(data), 0o600, int(clock.now().timestamp())
            tar.addfile(info, io.BytesIO(data))

        for relative, data in _home_files(settings, folder):  # before the database: see above
            add(f"home/{relative}", data)
            contents.home_files += 1
        kind, snapshot = _database_snapshot(settings, tar_path.parent)
        contents.checksums[f"database/{snapshot.name}"] = _sha256_file(snapshot)
        tar.add(snapshot, f"{name}/database/{snapshot.name}", filter=_private)  # may be large
        snapshot.unlink()
        contents.database = kind
        add("keys/secret_key", settings.signing_key.encode())
        contents.config = settings.config.name
        add(f"config/{settings.config.name}", settings.config.read_bytes())
        about = {"made_at": local_time(clock.now()).isoformat(), "database": kind}
        add(ABOUT, json.dumps(about, indent=2).encode())
        manifest = "".join(f"{digest}  {path}\n" for path, digest in contents.checksums.items())
        info = tarfile.TarInfo(f"{name}/{MANIFEST}")
        info.size, info.mode, info.mtime = (
            len(manifest.encode()),
            0o600,
            int(clock.now().timestamp()),
        )
        tar.addfile(info, io.BytesIO(manifest.encode()))
    return contents


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    return info


def _home_files(settings: Settings, folder: Path) -> Iterator[tuple[str, bytes]]:
    """Each file under GRANTS_HOME that is the case's or the office's, read once (so the
    manifest's checksum is of the bytes archived, even of a file being appended to); not
    the archives (in `folder`, or the configured one) if they are under it."""
    home = settings.home.resolve()
    skipped = {folder.resolve(), backup_folder(settings).resolve(), *_database_files(settings)}
    for path in sorted(home.rglob("*")):
        relative = path.relative_to(home)
        if relative.parts[0] in NOT_BACKED_UP or any(p.startswith(".") for p in relative.parts):
            continue
        if path.is_symlink() or not path.is_file() or _inside(path, skipped):
            continue
        yield relative.as_posix(), path.read_bytes()


def _inside(path: Path, places: set[Path]) -> bool:
    return any(path == place or place in path.parents for place in places)


def _database_files(settings: Settings) -> list[Path]:
    """An SQLite database's file and its companions (write-ahead log, shared memory)."""
    url = make_url(settings.db_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return []
    path = Path(url.database).resolve()
    return [path, *(path.with_name(path.name + end) for end in ("-wal", "-shm", "-journal"))]


def _database_snapshot(settings: Settings, work: Path) -> tuple[str, Path]:
    """The case database as of one moment, in a file under `work`."""
    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite":
        copy = work / "grants.db"
        with (
            closing(sqlite3.connect(_read_only(url.database), uri=True)) as source,
            closing(sqlite3.connect(copy)) as target,
        ):
            source.execute("PRAGMA busy_timeout=60000")
            source.backup(target)  # in one step: the whole database as of one transaction
        return "sqlite", copy
    dump = work / "grants.dump"
    _postgres(settings, "pg_dump", ["--format=custom", f"--file={dump}"])
    return "postgresql", dump


def _read_only(path: str) -> str:
    """An SQLite URI that opens the file at `path` for reading only (any characters)."""
    return f"{Path(path).resolve().as_uri()}?mode=ro"


def _postgres(settings: Settings, program: str, arguments: list[str]) -> None:
    """Run PostgreSQL's `program` on the case database, its password in the environment
    (PGPASSWORD) rather than on a command line others can read."""
    url = make_url(settings.db_url)
    target = url.set(drivername="postgresql", password=None)
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    command = [program, f"--dbname={target.render_as_string(hide_password=False)}", *arguments]
    try:
        subprocess.run(command, env=environment, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupRefused(
            f"{program} is not installed: apt-get install postgresql-client"
        ) from None
    except subprocess.CalledProcessError as error:
        said = " ".join((error.stderr or "").split())[:300]
        raise BackupRefused(f"{program} on {masked(settings.db_url)!r} failed: {said}") from None


def _encrypt(plain: Path, encrypted: Path, recipient: str) -> None:
    import pyrage

    pyrage.encrypt_file(str(plain), str(encrypted), [pyrage.x25519.Recipient.from_str(recipient)])


# --- retention ----------------------------------------------------------------------------


def prune(folder: Path, keep: Keep, newest: Path) -> list[Path]:
    """Apply the retention rule to our archives in `folder` (by the date in their names; any
    other file is left alone) and delete the rest with their checksum files. `newest`, just
    made, is always kept."""
    archives = sorted(
        (
            (datetime.strptime(match.group(1), STAMP), path)
            for path in folder.iterdir()
            if (match := ARCHIVE.match(path.name))
        ),
        reverse=True,
    )
    kept = {newest}
    rules: list[tuple[int, Callable[[datetime], Hashable]]] = [
        (keep.daily, lambda moment: moment.date()),
        (keep.weekly, lambda moment: moment.isocalendar()[:2]),
        (keep.monthly, lambda moment: (moment.year, moment.month)),
    ]
    for count, period in rules:
        periods: list[Hashable] = []
        for moment, path in archives:
            if period(moment) not in periods:
                if len(periods) == count:
                    break
                periods.append(period(moment))
                kept.add(path)
    deleted = [path for _, path in archives if path not in kept]
    for path in deleted:
        path.unlink()
        path.with_name(path.name + CHECKSUM).unlink(missing_ok=True)
    return deleted


# --- restoring ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    contents: Contents
    config_written: Path | None  # where the archive's configuration was put, if anywhere
    config_differs: bool


def restore(settings: Settings, archive: Path, identity: Path | None) -> Restored:
    """The archive's case database, files and keys into this (empty) home and database."""
    _refuse_unless_empty(settings, archive)
    _check_checksum(archive)
    with tempfile.TemporaryDirectory(dir=settings.home, prefix=".restoring-") as work:
        tar_path = Path(work) / "archive.tar.gz"
        if archive.name.endswith(ENCRYPTED):
            _decrypt(archive, tar_path, identity)
        else:
            tar_path = archive
        root, contents = _unpack(tar_path, Path(work) / "unpacked")
        _restore_database(settings, root / "database", Path(work))
        for relative in contents.checksums:
            if relative.startswith("home/"):
                target = settings.home / relative.removeprefix("home/")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / relative, target)
        _write_private(settings.home / "secret_key", (root / "keys/secret_key").read_text())
        config_written, differs = _restore_config(settings, root / "config" / contents.config)
    return Restored(contents, config_written, differs)


def _refuse_unless_empty(settings: Settings, archive: Path) -> None:
    """Refuse a target that holds a case database or a home's files (but the folder the
    archive is in): a restore never overwrites or merges."""
    tables = _tables(settings)
    if tables:
        raise BackupRefused(
            f"GRANTS_DATABASE_URL {masked(settings.db_url)!r}: not empty ({len(tables)} "
            "table(s)); restore into an empty database"
        )
    home = settings.home.resolve()
    allowed = {*EMPTY_HOME_MAY_HOLD, *(p.name for p in _database_files(settings))}
    held = sorted(
        p.name
        for p in home.iterdir()
        if p.name not in allowed
        and not p.name.startswith(".")
        and not _inside(archive.resolve(), {p.resolve()})  # restored from the home's backups
    )
    if held:
        raise BackupRefused(
            f"GRANTS_HOME {str(settings.home)!r}: not empty (it holds {', '.join(held[:3])}"
            f"{' …' if len(held) > 3 else ''}); restore into an empty home"
        )


def _tables(settings: Settings) -> list[str]:
    """The tables of the case database; an SQLite file not there yet has none. Opened
    without upgrading it (models.db.engine_for would make grants' tables)."""
    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite" and not Path(str(url.database)).exists():
        return []
    engine = new_engine(settings.db_url, migrating=True)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            return [
                table
                for schema in inspector.get_schema_names()
                if schema not in ("information_schema", "pg_catalog")
                for table in inspector.get_table_names(schema=schema)
            ]
    except SQLAlchemyError as error:
        reason = " ".join(str(getattr(error, "orig", None) or error).split())[:300]
        raise BackupRefused(
            f"GRANTS_DATABASE_URL {masked(settings.db_url)!r}: cannot open it: {reason}"
        ) from None
    finally:
        engine.dispose()


def _check_checksum(archive: Path) -> None:
    """The archive's SHA-256 against the checksum file beside it."""
    beside = archive.with_name(archive.name + CHECKSUM)
    if not archive.is_file():
        raise BackupRefused(f"{str(archive)!r}: no such archive")
    try:
        expected = beside.read_text(encoding="utf-8").split()[0]
    except (OSError, UnicodeDecodeError, IndexError):
        raise BackupRefused(
            f"{str(archive)!r}: no checksum beside it ({beside.name}); "
            "an archive that cannot be checked is not restored"
        ) from None
    if _sha256_file(archive) != expected:
        raise BackupRefused(
            f"{str(archive)!r}: damaged: its SHA-256 is not the one in {beside.name}"
        )


def _decrypt(archive: Path, plain: Path, identity: Path | None) -> None:
    import pyrage

    if identity is None:
        raise BackupRefused(
            f"{str(archive)!r}: encrypted; give the age identity (private key) file: "
            "--identity FILE"
        )
    try:
        lines = identity.read_text(encoding="utf-8").splitlines()
        keys = [pyrage.x25519.Identity.from_str(x.strip()) for x in lines if x.startswith("AGE-")]
    except (OSError, UnicodeDecodeError, pyrage.IdentityError):
        raise BackupRefused(f"--identity {str(identity)!r}: not an age identity file") from None
    if not keys:
        raise BackupRefused(f"--identity {str(identity)!r}: no AGE-SECRET-KEY line in it")
    try:
        pyrage.decrypt_file(str(archive), str(plain), keys)
    except pyrage.DecryptError:
        raise BackupRefused(
            f"{str(archive)!r}: cannot be decrypted with --identity {str(identity)!r}"
        ) from None


def _unpack(tar_path: Path, into: Path) -> tuple[Path, Contents]:
    """The archive unpacked (plain files only, nothing outside `into`), every file checked
    against its manifest; the folder it holds, and what it holds."""
    try:
        with tarfile.open(tar_path, "r:gz") as tar:
            tar.extractall(into, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupRefused(f"{tar_path.name}: not an archive of grants: {error}") from None
    roots = [p for p in into.iterdir() if p.is_dir()]
    if len(roots) != 1 or not (roots[0] / MANIFEST).is_file():
        raise BackupRefused(f"{tar_path.name}: not an archive of grants (no {MANIFEST})")
    root = roots[0]
    contents = Contents()
    for line in (root / MANIFEST).read_text(encoding="utf-8").splitlines():
        digest, _, relative = line.partition("  ")
        contents.checksums[relative] = digest
    found = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {MANIFEST}
    for relative in sorted(found | set(contents.checksums)):
        path = root / relative
        if relative not in contents.checksums or not path.is_file():
            raise BackupRefused(f"damaged: {relative} is not as {MANIFEST} lists it")
        if _sha256_file(path) != contents.checksums[relative]:
            raise BackupRefused(f"damaged: {relative} does not match its SHA-256 in {MANIFEST}")
    for relative in contents.checksums:
        if relative.startswith("home/"):
            contents.home_files += 1
        elif relative.startswith("config/"):
            contents.config = relative.removeprefix("config/")
    contents.database = json.loads((root / ABOUT).read_text(encoding="utf-8"))["database"]
    return root, contents


def _restore_database(settings: Settings, folder: Path, work: Path) -> None:
    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite":
        source = folder / "grants.db"
        if not source.exists():
            raise BackupRefused("the archive holds a PostgreSQL dump: restore it on PostgreSQL")
        target = Path(str(url.database))
        target.parent.mkdir(parents=True, exist_ok=True)
        for companion in _database_files(settings):  # an empty database's, checked above
            companion.unlink(missing_ok=True)
        partial = work / "grants.db"
        shutil.copyfile(source, partial)
        shutil.move(partial, target)
        return
    dump = folder / "grants.dump"
    if not dump.exists():
        raise BackupRefused("the archive holds an SQLite database: restore it on SQLite")
    arguments = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    _postgres(settings, "pg_restore", [*arguments, str(dump)])


def _restore_config(settings: Settings, archived: Path) -> tuple[Path | None, bool]:
    """The archive's configuration to GRANTS_CONFIG when no file is there; beside the home
    (GRANTS_HOME/restored-config/) when one there differs, to compare."""
    data = archived.read_bytes()
    if not settings.config.exists():
        settings.config.parent.mkdir(parents=True, exist_ok=True)
        settings.config.write_bytes(data)
        return settings.config, False
    if settings.config.read_bytes() == data:
        return None, False
    kept = settings.home / "restored-config" / archived.name
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(data)
    return kept, True


# --- small helpers --------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_private(path: Path, text: str) -> None:
    """`text` in `path`, readable by us only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
