"""Repayment claims: serial, unused or misused, reply, assessment, withdrawal, amount paid

Revision ID: repayment
Revises: acceptance_email
Create Date: 2026-12-07 17:00:00

A claim is named by its serial on the case (its letters and the command line), says whether
the money was unused or misused, records when
the grantee's comments came and what the decision maker made of them, why it was withdrawn,
and how much of it has been paid back: a partial payment leaves the rest owed. A claim in the
database before is its case's first, with nothing paid.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate writes sqlmodel.sql.sqltypes.AutoString() for str fields
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "repayment"
down_revision: str | Sequence[str] | None = "acceptance_email"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString()
WHEN = sqlmodel.sql.sqltypes.UTCDateTime()
COLUMNS = ("number", "reason_kind", "replied_at", "reply_assessment", "withdrawal_reason")


def upgrade() -> None:
    with op.batch_alter_table("repayment_claims") as table:
        table.add_column(sa.Column("number", sa.Integer(), nullable=False, server_default="1"))
        table.add_column(sa.Column("reason_kind", TEXT, nullable=False, server_default="unused"))
        table.add_column(sa.Column("replied_at", WHEN, nullable=True))
        table.add_column(sa.Column("reply_assessment", TEXT, nullable=False, server_default=""))
        table.add_column(sa.Column("withdrawal_reason", TEXT, nullable=False, server_default=""))
        table.add_column(sa.Column("paid_amount", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("repayment_claims") as table:
        for name in (
            "paid_amount",
            "withdrawal_reason",
            "reply_assessment",
            "replied_at",
            "reason_kind",
            "number",
        ):
            table.drop_column(name)
