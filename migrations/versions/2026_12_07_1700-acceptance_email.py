"""The organisation's e-mail when it accepted the conditions

Revision ID: acceptance_email
Revises: payments
Create Date: 2026-12-07 17:00:00

A change of the account to pay to is told at the organisation's e-mail and, if that was
changed after the acceptance, at the e-mail it had then: someone who had the case's e-mail
changed cannot then change the account unseen. An acceptance made before has none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate writes sqlmodel.sql.sqltypes.AutoString() for str fields
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "acceptance_email"
down_revision: str | Sequence[str] | None = "payments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("acceptances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("acceptances", schema=None) as batch_op:
        batch_op.drop_column("email")
