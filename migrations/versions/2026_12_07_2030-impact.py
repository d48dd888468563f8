"""The follow-up a year after a funded project ended, for the impact register

Revision ID: impact
Revises: final_report
Create Date: 2026-12-07 20:30:00

A funded project answers a short follow-up through its link a year after it ended: the
further funding won since its final report, whether the activity continues and who took it
over. One answer a case, corrected until its deadline.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate writes sqlmodel.sql.sqltypes.AutoString() for str fields
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "impact"
down_revision: str | Sequence[str] | None = "final_report"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString()
WHEN = sqlmodel.sql.sqltypes.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("further_funding", sa.JSON(), nullable=False),
        sa.Column("continues", sa.Boolean(), nullable=False),
        sa.Column("taken_over_by", TEXT, nullable=False),
        sa.Column("text", TEXT, nullable=False),
        sa.Column("answered_at", WHEN, nullable=False),
        sa.Column("changed_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )


def downgrade() -> None:
    op.drop_table("follow_ups")
