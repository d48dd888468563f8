"""Closing: the notice board's days and the appeals (laglighetsprövning) of a decision

Revision ID: closing
Revises: repayment
Create Date: 2026-12-07 19:00:00

A case closes only when the law lets it (models.closing): the day the notice board announced
the minutes reporting the delegated decisions starts their time for appeal, and an appeal
registered on a decision holds its case open until the court's ruling is registered.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate writes sqlmodel.sql.sqltypes.AutoString() for str fields
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "closing"
down_revision: str | Sequence[str] | None = "repayment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString()
WHEN = sqlmodel.sql.sqltypes.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "notice_board_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announced_on", sa.Date(), nullable=False),
        sa.Column("covers_until", sa.Date(), nullable=False),
        sa.Column("registered_by", TEXT, nullable=False),
        sa.Column("registered_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("covers_until"),
    )
    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("appellant", TEXT, nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("court", TEXT, nullable=False),
        sa.Column("court_case_number", TEXT, nullable=False),
        sa.Column("registered_by", TEXT, nullable=False),
        sa.Column("registered_at", WHEN, nullable=False),
        sa.Column("ruling", sa.Enum("upheld", "annulled", name="appealruling"), nullable=True),
        sa.Column("ruled_on", sa.Date(), nullable=True),
        sa.Column("ruling_registered_by", TEXT, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "number"),
    )
    with op.batch_alter_table("appeals") as batch_op:
        batch_op.create_index(batch_op.f("ix_appeals_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("appeals") as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeals_case_id"))
    op.drop_table("appeals")
    op.drop_table("notice_board_days")
    sa.Enum(name="appealruling").drop(op.get_bind(), checkfirst=True)
