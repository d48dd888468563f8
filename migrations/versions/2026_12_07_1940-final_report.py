"""The final report through the grantee's link, and the call's participant groups

Revision ID: final_report
Revises: talk_answers
Create Date: 2026-12-07 19:00:00

A funded project's final report is kept as the grantee saves it, with every submission and
every request for more; the case officer approves it. The call names the groups whose
participants a final report counts (none for a call in the database before).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate writes sqlmodel.sql.sqltypes.AutoString() for str fields
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "final_report"
down_revision: str | Sequence[str] | None = "talk_answers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString()
WHEN = sqlmodel.sql.sqltypes.UTCDateTime()
STATUS = sa.Enum("draft", "submitted", "more_requested", "approved", name="finalreportstatus")


def upgrade() -> None:
    op.create_table(
        "final_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("saved_at", WHEN, nullable=False),
        sa.Column("submitted_at", WHEN, nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("more_reason", TEXT, nullable=False),
        sa.Column("more_requested_at", WHEN, nullable=True),
        sa.Column("approved_by", TEXT, nullable=True),
        sa.Column("approved_at", WHEN, nullable=True),
        sa.Column("rounds", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    with op.batch_alter_table("final_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_final_reports_status"), ["status"], unique=False)
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("participant_groups", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("participant_groups")
    with op.batch_alter_table("final_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_final_reports_status"))
    op.drop_table("final_reports")
    STATUS.drop(op.get_bind(), checkfirst=True)
