"""A Community Talk's end time and street address

Revision ID: talk_end_and_address
Revises: material_from_others
Create Date: 2026-12-07 14:30:00

The invitation gives when the talk ends and where the venue is, and a
calendar file carries both. A talk registered before has neither: empty, and its letters
say what they said before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "talk_end_and_address"
down_revision: str | Sequence[str] | None = "material_from_others"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("community_talks") as batch_op:
        batch_op.add_column(
            sa.Column(
                "ends_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""
            )
        )
        batch_op.add_column(
            sa.Column(
                "address", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("community_talks") as batch_op:
        batch_op.drop_column("address")
        batch_op.drop_column("ends_at")
