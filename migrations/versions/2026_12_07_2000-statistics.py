"""The role `committee`: reads the statistics and the annual report, no case

Revision ID: statistics
Revises: impact
Create Date: 2026-12-07 20:00:00

The Cultural Affairs Committee's members read the committee's statistics in the office. A
role is a value of the `role` enum: PostgreSQL's native type needs it added; SQLite stores
the role as text and needs nothing.
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "statistics"
down_revision: str | Sequence[str] | None = "impact"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # a native enum there (PostgreSQL ≥ 12)
        op.execute("ALTER TYPE role ADD VALUE IF NOT EXISTS 'committee'")


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value: `committee` stays in the type, unused.
    pass
