"""Material from others than the applicant, registered with its source (FL 25 §)

Revision ID: material_from_others
Revises: terms_state_aid
Create Date: 2026-12-07 14:00:00

A statement or a document from others that a draft rests on is kept as
such, with the communication that gave it to the applicant (none yet: NULL), so that no
decision is signed on material the applicant has not seen. Cases already in the database
have none registered, which is what they had.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "material_from_others"
down_revision: str | Sequence[str] | None = "terms_state_aid"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_material",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("added_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("added_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("communication_number", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_case_material_case_id"), "case_material", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_case_material_case_id"), table_name="case_material")
    op.drop_table("case_material")
