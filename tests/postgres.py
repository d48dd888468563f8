"""A throwaway PostgreSQL server for the tests that check the same code works there.

Production runs on PostgreSQL; SQLite's single writer hides races that PostgreSQL's
row locks would expose, so intake is also run against a real server started here.
"""

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: ./run test installs Debian's postgresql")
    return Path(found[-1]).parent


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; run it as the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres_server(port: int) -> Iterator[str]:
    """Start a server on 127.0.0.1:port with trust authentication; yield its base URL."""
    binaries = _binaries()
    data = Path(tempfile.mkdtemp(prefix="grants-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        _as_postgres(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_postgres(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(data / "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(data, ignore_errors=True)


def create_database(base_url: str, name: str) -> str:
    """A new empty database on the server; its SQLAlchemy URL."""
    dsn = base_url.replace("postgresql+psycopg", "postgresql") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url}/{name}"
