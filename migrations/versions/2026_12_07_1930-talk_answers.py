"""The Community Talk's answers and attendance; the role `organiser`

Revision ID: talk_answers
Revises: closing
Create Date: 2026-12-07 19:30:00

A funded project answers its Talk invitation through its link (which Talk, who presents, how
many come); after the Talk the case officer registers how many came and who presented. The
role `organiser` (who arranges the Talks) is new. A database from before has no answers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate writes sqlmodel.sql.sqltypes.AutoString() for str fields
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "talk_answers"
down_revision: str | Sequence[str] | None = "closing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString()
WHEN = sqlmodel.sql.sqltypes.UTCDateTime()


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # a native enum there (PostgreSQL ≥ 12)
        op.execute("ALTER TYPE role ADD VALUE IF NOT EXISTS 'organiser'")
    op.create_table(
        "talk_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("community_talk_id", sa.Integer(), nullable=False),
        sa.Column("presenters", TEXT, nullable=False),
        sa.Column("attendees", sa.Integer(), nullable=False),
        sa.Column("answered_at", WHEN, nullable=False),
        sa.Column("changed_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["community_talk_id"], ["community_talks.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    op.create_index(
        op.f("ix_talk_answers_community_talk_id"), "talk_answers", ["community_talk_id"]
    )
    op.create_table(
        "talk_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("community_talk_id", sa.Integer(), nullable=False),
        sa.Column("came", sa.Integer(), nullable=False),
        sa.Column("presented_by", TEXT, nullable=False),
        sa.Column("registered_by", TEXT, nullable=False),
        sa.Column("registered_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["community_talk_id"], ["community_talks.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    op.create_index(
        op.f("ix_talk_attendance_community_talk_id"), "talk_attendance", ["community_talk_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_talk_attendance_community_talk_id"), table_name="talk_attendance")
    op.drop_table("talk_attendance")
    op.drop_index(op.f("ix_talk_answers_community_talk_id"), table_name="talk_answers")
    op.drop_table("talk_answers")
    # PostgreSQL cannot drop an enum value: `organiser` stays in the type, unused.
