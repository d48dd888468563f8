"""How Alembic reaches the case database (alembic.ini; models.schema does the rest).

`grants` runs the migrations itself when it starts, and hands over its connection already
inside a transaction that holds the schema lock. Run by hand (`alembic upgrade head`,
`alembic revision --autogenerate`, `alembic check`), this opens the database `grants`
would open, GRANTS_DATABASE_URL or else the SQLite file in GRANTS_HOME, under the same lock.
"""

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

from grants.settings import load
from models.db import new_engine
from models.schema import VERSION_TABLE, adopt_pre_migration, locked


def ours(name: str | None, kind: str, _parents: dict[str, str | None]) -> bool:
    """Only grants' tables are compared: Prefect's may share the database. (So a table
    dropped from the models is not noticed: its revision drops it by hand.)"""
    return kind != "table" or name in SQLModel.metadata.tables


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        version_table=VERSION_TABLE,
        include_name=ours,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite's ALTER is too weak
    )
    with context.begin_transaction():
        adopt_pre_migration(context.get_context(), context.script)
        context.run_migrations()


def run_by_hand() -> None:
    if context.config.config_file_name is not None:
        fileConfig(context.config.config_file_name)
    engine = new_engine(load().db_url, migrating=True)
    try:
        with locked(engine) as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("grants' migrations run against the database: --sql is not supported")
if "connection" in context.config.attributes:
    run_migrations(context.config.attributes["connection"])
else:
    run_by_hand()
