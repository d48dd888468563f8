"""The case database's schema: Alembic's migrations (migrations/), applied when grants starts.

A database is upgraded, never recreated: it holds a public authority's records. The first use of a
database in a process brings it to the newest revision (models.db.engine_for); one already
there costs a read of its version row. Two processes starting on a fresh database migrate
one after the other, under a lock. A database made before migrations (by `create_all`:
every table, no version row) is taken as it stands: stamped at the baseline, then upgraded.
"""

import ast
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

import models.sign_in
import models.tables  # noqa: F401  every module that defines tables: Alembic compares them all

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
VERSIONS = ALEMBIC_INI.parent / "migrations" / "versions"
# Our own version table: Prefect keeps its `alembic_version`, and may share the database.
VERSION_TABLE = "grants_alembic_version"
BASELINE = "baseline"  # the revision that makes the schema `create_all` made before migrations
# The tables of a database from before migrations (the baseline's, frozen with it).
PRE_MIGRATION_TABLES = frozenset(
    {
        "audit_events",
        "calls",
        "case_reference_counters",
        "cases",
        "checklist_answers",
        "communications",
        "community_talks",
        "decisions",
        "documents",
        "file_notes",
        "letters",
        "meetings",
        "notices",
        "office_sessions",
        "organisations",
        "people",
        "reporting",
        "review_tasks",
        "security_events",
        "sign_in_links",
        "supplement_requests",
    }
)
SCHEMA_LOCK = 0x6772616E7473_01  # a PostgreSQL advisory lock: changing the schema
_REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+)$", re.MULTILINE)


class SchemaError(ValueError):
    """A database whose schema grants cannot bring up to date; the message says why."""


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision. `engine` is one for migrating
    (models.db.new_engine(url, migrating=True)).

    A database already there costs a read of its version row and a glance at the revision
    files; Alembic itself (0.1 s to import) is loaded only to migrate. Raises SchemaError.
    """
    with engine.connect() as connection:
        if _versions(connection) == heads_on_disk():
            return
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    with locked(engine) as connection:
        config = Config(ALEMBIC_INI)
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, "head")
        except CommandError as error:  # e.g. a revision of a newer grants than this one
            raise SchemaError(f"cannot upgrade its schema: {error}") from None


def heads_on_disk() -> set[str] | None:
    """The newest revisions in migrations/versions: those no other revision follows.

    Read from each file's `revision` and `down_revision` lines; None when a file does not
    state them as plain literals on one line each, and then Alembic decides.
    """
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        try:
            revision = ast.literal_eval(found["revision"])
            down = ast.literal_eval(found["down_revision"])
        except (KeyError, ValueError, SyntaxError):
            return None
        revisions.add(revision)
        followed.update([down] if isinstance(down, str) else down or ())
    return revisions - followed


def _versions(connection: Connection) -> set[str]:
    """The revisions the database says it is at (none before its first migration)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return set()
    return set(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


@contextmanager
def locked(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the schema lock; migrations run in it, all or nothing.

    PostgreSQL: an advisory lock, and DDL is transactional, so a second process waits and
    then finds the work done. SQLite: the engine's `BEGIN IMMEDIATE` (models.db) takes the
    database's write lock, which does the same.
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        yield connection


def adopt_pre_migration(context: "MigrationContext", script: "ScriptDirectory") -> None:
    """Stamp a database from before migrations at the baseline, which made the same schema.

    Such a database has our tables and no version table. One that lacks some of them is
    older than the baseline and is refused (nothing changes) rather than half-upgraded.
    """
    connection = context.connection
    assert connection is not None  # migrations run online only (migrations/env.py)
    present = set(inspect(connection).get_table_names())
    if VERSION_TABLE in present or not present & PRE_MIGRATION_TABLES:
        return
    missing = sorted(PRE_MIGRATION_TABLES - present)
    if missing:
        raise SchemaError(
            f"older than the first migration, it cannot be upgraded: no {VERSION_TABLE}, "
            f"and of grants' tables it lacks {', '.join(missing)}"
        )
    context.stamp(script, BASELINE)
