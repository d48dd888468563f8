"""State aid on the case, and a person's direct telephone number

Revision ID: terms_state_aid
Revises: formal_requirements
Create Date: 2026-12-07 15:00:00

Whether the applicant carries on economic activity (its grant
is de minimis aid) and its declaration of other de minimis aid; the case officer's direct
number in the letters. A case already registered for an economic association (ekonomisk
förening) carries on economic activity, as intake now derives it; its declaration is
missing until the applicant gives it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate writes sqlmodel.sql.sqltypes.AutoString() for str fields
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "terms_state_aid"
down_revision: str | Sequence[str] | None = "formal_requirements"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(
            sa.Column("economic_activity", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("other_de_minimis_aid", sa.JSON(), nullable=True))
    with op.batch_alter_table("people") as batch_op:
        batch_op.add_column(sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.execute(
        "UPDATE cases SET economic_activity = true WHERE organisation_id IN "
        "(SELECT id FROM organisations WHERE legal_form = 'ekonomisk förening')"
    )


def downgrade() -> None:
    with op.batch_alter_table("people") as batch_op:
        batch_op.drop_column("phone")
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("other_de_minimis_aid")
        batch_op.drop_column("economic_activity")
