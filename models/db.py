"""Engine and sessions: the same code for SQLite (default) and PostgreSQL.

SQLite gets two adjustments so that concurrent intakes are safe: WAL, a busy timeout,
and `BEGIN IMMEDIATE`, so a transaction takes the write lock when it starts instead of
failing half-way when it first writes.

The schema is Alembic's (models.schema): the first use of a database in a process brings
it to the newest revision.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, partial
from typing import Any

from sqlalchemy import Engine, NullPool, event
from sqlmodel import Session, create_engine

from models.schema import upgrade


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, foreign_keys: bool) -> None:
    dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def new_engine(url: str, *, migrating: bool = False) -> Engine:
    """An engine with the settings above. One for migrating keeps no connection open after
    use and, on SQLite, does not enforce foreign keys: a migration in batch mode recreates a
    table that others refer to, which enforcement refuses (and SQLite cannot switch it off
    inside the migration's transaction)."""
    pool: dict[str, Any] = {"poolclass": NullPool} if migrating else {}
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **pool)
    engine = create_engine(url, connect_args={"timeout": 60}, **pool)
    event.listen(engine, "connect", partial(_sqlite_pragmas, foreign_keys=not migrating))
    event.listen(engine, "begin", _sqlite_begin)
    return engine


@cache
def engine_for(url: str) -> Engine:
    """One engine per database URL and process; the schema is upgraded on first use."""
    migrating = new_engine(url, migrating=True)
    try:
        upgrade(migrating)
    finally:
        migrating.dispose()
    return new_engine(url)


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """A session whose work is committed together at the end, or not at all."""
    with Session(engine_for(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
