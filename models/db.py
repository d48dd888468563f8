"""Engine and sessions: the same code for SQLite (default) and PostgreSQL.

SQLite gets two adjustments so that concurrent intakes are safe: WAL, a busy timeout,
and `BEGIN IMMEDIATE`, so a transaction takes the write lock when it starts instead of
failing half-way when it first writes.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import Engine, event, text
from sqlmodel import Session, SQLModel, create_engine

import models.sign_in
import models.tables  # noqa: F401

SCHEMA_LOCK = 0x6772616E7473_01  # a PostgreSQL advisory lock: creating the schema


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@cache
def engine_for(url: str) -> Engine:
    """One engine per database URL and process; tables are created on first use."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two first commands at once on a fresh database would both CREATE TYPE; DDL is
            # transactional here, so the second waits for the first and then finds it all.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        SQLModel.metadata.create_all(connection)
    return engine


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
