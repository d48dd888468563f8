"""Migrations: a database is upgraded, never recreated, and loses nothing on the way.

A database made by grants before migrations is built by that grants itself (main's code at
the commit before migrations came, from git), with real data in it; today's grants opens
it. `alembic check` is the guard that the models and the revisions agree.
"""

import io
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Enum, create_engine, inspect, text
from sqlmodel import SQLModel

from grants.settings import PROJECT_ROOT, load
from models.schema import ALEMBIC_INI, PRE_MIGRATION_TABLES, VERSION_TABLE, heads_on_disk
from tests.conftest import SAMPLES
from tests.helpers import OFFICER, database_dump, grants

# The finance department's person in the shipped configuration, not in the old one's.
SHIPPED_FINANCE = "anneli.berglund@regionorebrolan.example.se"

# Main just before migrations came: its `create_all` made the schema that the baseline
# revision makes, and a region's database from then has no version table.
PRE_MIGRATION_COMMIT = "bafadb8348ef3fba1c2db63325262aff6b613d13"
HEADS = set(ScriptDirectory.from_config(Config(ALEMBIC_INI)).get_heads())


@pytest.fixture(scope="module")
def grants_before_migrations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkout of grants as it was before migrations (what it needs to run)."""
    folder = tmp_path_factory.mktemp("grants-before-migrations")
    paths = ["grants", "models", "flows", "templates", "config", "samples", "locale"]
    archive = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "archive", PRE_MIGRATION_COMMIT, *paths],
        capture_output=True,
    )
    if archive.returncode != 0:
        pytest.fail(f"needs the repository's history: git archive said {archive.stderr!r}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def run_old_grants(checkout: Path, prefect_api: str, *args: str) -> str:
    """A command of grants before migrations, on this test's database (the environment's)."""
    env = os.environ | {"PYTHONPATH": str(checkout), "PREFECT_API_URL": prefect_api}
    result = subprocess.run(
        [sys.executable, "-m", "grants", *args],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def our_columns(url: str) -> dict[str, list[str]]:
    """The columns of each of grants' tables in the database (Prefect's are not ours)."""
    grants_tables = PRE_MIGRATION_TABLES | set(SQLModel.metadata.tables)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            ours = sorted(grants_tables & set(inspector.get_table_names()))
            return {t: [c["name"] for c in inspector.get_columns(t)] for t in ours}
    finally:
        engine.dispose()


def table_rows(url: str, columns: dict[str, list[str]]) -> dict[str, list[tuple]]:
    """Every row of these tables, these columns only, in primary-key order."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            rows = {}
            for table, names in columns.items():
                keys = inspector.get_pk_constraint(table)["constrained_columns"]
                listed = ", ".join(f'"{n}"' for n in names)
                order = ", ".join(f'"{k}"' for k in keys)
                query = text(f'SELECT {listed} FROM "{table}" ORDER BY {order}')
                rows[table] = [tuple(row) for row in connection.execute(query)]
            return rows
    finally:
        engine.dispose()


def versions(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(
                connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
            )
    finally:
        engine.dispose()


def alembic(*args: str) -> subprocess.CompletedProcess:
    """`alembic ...` as a developer runs it, from the repository, on the environment's
    database (GRANTS_DATABASE_URL, or the SQLite file in GRANTS_HOME)."""
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=PROJECT_ROOT,
        env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> str:
    """This test's database URL: a fresh SQLite file in its home, or a fresh PostgreSQL one."""
    if request.param == "postgresql":
        return request.getfixturevalue("on_postgres")
    return load().db_url


def test_a_database_from_before_migrations_keeps_every_row(
    database: str, grants_before_migrations: Path, prefect_server: str
) -> None:
    """Cases, letters with their PDFs, the audit trail and the sign-in log, registered by
    grants before migrations; today's grants opens the database and every row is as it was."""
    old = grants_before_migrations
    assert "create_all" in (old / "models" / "db.py").read_text()
    run_old_grants(old, prefect_server, "intake", str(SAMPLES / "applications.json"))
    run_old_grants(old, prefect_server, "sign-in-link", OFFICER)
    columns = our_columns(database)
    assert set(columns) == PRE_MIGRATION_TABLES  # every table, and no version table
    before = table_rows(database, columns)
    assert len(before["cases"]) == 8 and len(before["audit_events"]) == 24
    pdfs = [row[columns["letters"].index("pdf")] for row in before["letters"]]
    assert len(pdfs) == 8 and all(pdf.startswith(b"%PDF") for pdf in pdfs)
    assert len(before["sign_in_links"]) == 1 and len(before["security_events"]) == 1

    listing = grants("status", "--as", OFFICER)

    assert listing.exit_code == 0, listing.output
    assert "8 case(s)" in listing.output and "Skatekollektivet Askersund" in listing.output
    after = table_rows(database, columns)
    # Every row as it was; and the person today's configuration names that the old one did
    # not (the finance department's), seeded by the first start after the upgrade.
    kept = len(before["people"])
    email = columns["people"].index("email")
    assert [row[email] for row in after["people"][kept:]] == [SHIPPED_FINANCE]
    assert after | {"people": after["people"][:kept]} == before
    assert versions(database) == HEADS
    check = alembic("check")
    assert check.returncode == 0 and "No new upgrade operations detected" in check.stdout, (
        check.stdout + check.stderr
    )
    # Before people were kept in the database they were the file's; the first start after
    # the upgrade seeded the advisory group and its quorum from it, and every person is active.
    people = grants("people", "list", "--as", OFFICER).text
    assert "5 person(s)" in people and " no " not in people  # the four and the finance person
    assert "Advisory group: 2 member(s) and the case's officer; 2 review(s)" in people


def test_models_and_migrations_agree(database: str) -> None:
    """A fresh database upgraded by hand, then `alembic check`: a model changed without a
    revision to go with it fails here. Alembic does not compare the values of an
    enumeration, which PostgreSQL holds as a type of its own: they are compared here."""
    upgraded = alembic("upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    assert versions(database) == HEADS
    check = alembic("check")
    assert check.returncode == 0 and "No new upgrade operations detected" in check.stdout, (
        check.stdout + check.stderr
    )
    if database.startswith("postgresql"):
        assert enumeration_types(database) == {
            column.type.name: list(column.type.enums)
            for table in SQLModel.metadata.tables.values()
            for column in table.columns
            if isinstance(column.type, Enum)
        }


def enumeration_types(url: str) -> dict[str, list[str]]:
    """PostgreSQL's enumeration types in the database, with their values in order."""
    query = text(
        "SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid"
        " ORDER BY t.typname, e.enumsortorder"
    )
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            types: dict[str, list[str]] = {}
            for name, label in connection.execute(query):
                types.setdefault(name, []).append(label)
            return types
    finally:
        engine.dispose()


def test_grants_and_prefect_share_a_postgresql_database(on_postgres: str, tmp_path: Path) -> None:
    """Prefect's server on the same database: each keeps its own tables and version."""
    prefect = subprocess.run(
        [sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
        env=os.environ
        | {
            "PREFECT_HOME": str(tmp_path / "prefect-home"),
            "PREFECT_API_DATABASE_CONNECTION_URL": on_postgres.replace("+psycopg", "+asyncpg"),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert prefect.returncode == 0, prefect.stdout + prefect.stderr
    prefects_version = table_rows(on_postgres, {"alembic_version": ["version_num"]})

    listing = grants("status", "--as", OFFICER)

    assert listing.exit_code == 0, listing.output
    assert versions(on_postgres) == HEADS
    assert table_rows(on_postgres, {"alembic_version": ["version_num"]}) == prefects_version
    check = alembic("check")  # Prefect's tables are none of its business
    assert check.returncode == 0 and "No new upgrade operations detected" in check.stdout, (
        check.stdout + check.stderr
    )


def test_every_revision_can_be_undone_and_done_again(database: str) -> None:
    """`alembic downgrade` works, for a release taken back."""
    assert alembic("upgrade", "head").returncode == 0
    undone = alembic("downgrade", "base")
    assert undone.returncode == 0, undone.stderr
    assert our_columns(database) == {}
    again = alembic("upgrade", "head")  # on PostgreSQL: the enumeration types went too
    assert again.returncode == 0, again.stderr
    assert set(our_columns(database)) == set(SQLModel.metadata.tables)


def test_processes_starting_at_once_on_a_fresh_database_all_succeed(database: str) -> None:
    """The first to start migrates under the schema lock; the others wait, then find it done."""
    commands = [
        subprocess.Popen(
            [sys.executable, "-m", "grants", "status", "--as", OFFICER],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [command.communicate(timeout=120)[0] for command in commands]
    assert [command.returncode for command in commands] == [0, 0, 0], outputs
    assert not any("Traceback" in output for output in outputs), outputs
    assert versions(database) == HEADS
    assert set(our_columns(database)) == set(SQLModel.metadata.tables)


def test_a_database_of_a_newer_grants_is_refused_and_left_alone(grants_home: Path) -> None:
    url = load().db_url
    assert alembic("upgrade", "head").returncode == 0
    with sqlite3.connect(grants_home / "grants.db") as connection:
        connection.execute(f"UPDATE {VERSION_TABLE} SET version_num = 'f00d1e5'")

    result = grants("status", "--as", OFFICER, ok=False)

    assert result.exit_code == 2
    assert f"GRANTS_DATABASE_URL {url!r}: cannot open it: cannot upgrade its schema:" in (
        result.output
    )
    assert "Can't locate revision identified by 'f00d1e5'" in result.output
    assert versions(url) == {"f00d1e5"}


def test_a_database_older_than_the_first_migration_is_refused_and_left_alone(
    grants_home: Path,
) -> None:
    grants_home.mkdir(exist_ok=True)  # it holds the generated seal already
    with sqlite3.connect(grants_home / "grants.db") as connection:
        connection.execute("CREATE TABLE cases (id INTEGER PRIMARY KEY, case_reference TEXT)")
        connection.execute("INSERT INTO cases VALUES (1, '24RS1')")
    before = database_dump(grants_home)

    result = grants("status", "--as", OFFICER, ok=False)

    assert result.exit_code == 2
    assert "cannot open it: older than the first migration, it cannot be upgraded: " in (
        result.output
    )
    assert f"no {VERSION_TABLE}, and of grants' tables it lacks audit_events, calls," in (
        result.output
    )
    assert database_dump(grants_home) == before


def test_the_quick_look_at_revisions_agrees_with_alembic() -> None:
    """At start a database at head is recognised without loading Alembic (models.schema)."""
    assert heads_on_disk() == HEADS
