"""People in the database: active, in the advisory group, and the group's rules

Revision ID: people_in_database
Revises: 2126d022e603
Create Date: 2026-12-07 07:00:00

People, the advisory group and its quorum live in the database, and the office
changes them. Every person already registered stays active and outside the group; the
group's row is left for the first start after the upgrade, which seeds the membership and
the quorum from the configuration file as it stands then (models.people.seed): nothing a
region configured is lost.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "people_in_database"
down_revision: str | Sequence[str] | None = "2126d022e603"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "advisory_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_quorum", sa.Integer(), nullable=False),
        sa.Column("include_case_officer", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("people") as batch_op:
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("in_advisory_group", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("people") as batch_op:
        batch_op.drop_column("in_advisory_group")
        batch_op.drop_column("active")
    op.drop_table("advisory_group")
