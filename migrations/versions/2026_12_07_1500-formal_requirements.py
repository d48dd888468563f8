"""Formal requirements apart from the four basic requirements

Revision ID: formal_requirements
Revises: people_in_database
Create Date: 2026-12-07 15:00:00

Who applies, who signed for the applicant and whether the application is complete
are formal requirements (FL 20 §), recorded in the checklist apart from the four basic
requirements. Cases checked before keep their checklist as it was; they have no formal
findings, which the office and the letters take as met.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "formal_requirements"
down_revision: str | Sequence[str] | None = "people_in_database"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The checklist's answers have their type on PostgreSQL already.
ANSWER = sa.Enum("met", "not_met", "unclear", name="answer").with_variant(
    postgresql.ENUM("met", "not_met", "unclear", name="answer", create_type=False), "postgresql"
)


def upgrade() -> None:
    op.create_table(
        "formal_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column(
            "requirement",
            sa.Enum("identity", "signatory", "complete", name="formalrequirement"),
            nullable=False,
        ),
        sa.Column("answer", ANSWER, nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("answered_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("answered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_formal_answers_case_id"), "formal_answers", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_formal_answers_case_id"), table_name="formal_answers")
    op.drop_table("formal_answers")
    sa.Enum(name="formalrequirement").drop(op.get_bind(), checkfirst=True)
