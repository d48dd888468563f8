"""What each person last looked at in a case

Revision ID: 2126d022e603
Revises: baseline
Create Date: 2026-12-07 06:39:12.860736

"What changed": `case_looks` holds, per person and case, when they last looked
and how far the audit trail went then (models.looks); what came after is marked new in
their lists. A new table, empty at first: every case counts as never looked at. The index
on the trail's action finds the few kinds of event that mark a case without reading the
whole trail.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate writes sqlmodel.sql.sqltypes.AutoString() for str fields
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "2126d022e603"
down_revision: str | Sequence[str] | None = "baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_looks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("looked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "case_id"),
    )
    with op.batch_alter_table("case_looks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_looks_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    with op.batch_alter_table("case_looks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_looks_case_id"))

    op.drop_table("case_looks")
