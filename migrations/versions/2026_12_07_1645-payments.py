"""After the decision: acceptance, the account, payment orders, bank files, repayment

Revision ID: payments
Revises: talk_end_and_address
Create Date: 2026-12-07 16:45:47

A grant is paid after the grantee accepts its conditions, to an account given then (a change
holds the money until a second person confirms it), in instalments from the call's payment
plan, each a payment order that one person prepares and another attests, sent to the bank in
a pain.001 file kept as made, with the bank's reports kept as imported; money not used is
claimed back by a repayment claim. A call in the database before pays the whole grant after
acceptance; nobody is an attestant until made one; the role `finance` is new.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate writes sqlmodel.sql.sqltypes.AutoString() for str fields
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "payments"
down_revision: str | Sequence[str] | None = "talk_end_and_address"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # a native enum there (PostgreSQL ≥ 12)
        op.execute("ALTER TYPE role ADD VALUE IF NOT EXISTS 'finance'")
    op.create_table(
        "bank_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("imported_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("imported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_table(
        "payment_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("payment_count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_table(
        "payee_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("bankgiro", "plusgiro", "bank_account", name="accountkind"),
            nullable=False,
        ),
        sa.Column("clearing", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("given_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("given_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("needs_confirmation", sa.Boolean(), nullable=False),
        sa.Column("confirmed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("confirmed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("verification", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payee_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payee_accounts_case_id"), ["case_id"], unique=False)

    op.create_table(
        "repayment_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "drafted", "communicated", "decided", "settled", "withdrawn", name="repaymentstatus"
            ),
            nullable=False,
        ),
        sa.Column("ocr_reference", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("drafted_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("drafted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("communication_deadline", sa.Date(), nullable=True),
        sa.Column("communicated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reply", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("reminded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("settled_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ocr_reference"),
    )
    with op.batch_alter_table("repayment_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_repayment_claims_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_repayment_claims_status"), ["status"], unique=False)

    op.create_table(
        "acceptances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("signatory_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("signatory_role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("accepted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("registered_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    op.create_table(
        "payment_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("instalment", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "prepared",
                "attested",
                "exported",
                "paid",
                "rejected",
                "cancelled",
                name="paymentstatus",
            ),
            nullable=False,
        ),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("end_to_end_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("prepared_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("prepared_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("attested_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("attested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("payment_file_id", sa.Integer(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("registered_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("bank_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["payee_accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payment_file_id"],
            ["payment_files.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "instalment"),
        sa.UniqueConstraint("end_to_end_id"),
    )
    with op.batch_alter_table("payment_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_orders_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_orders_status"), ["status"], unique=False)

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "payment_plan",
                sa.JSON(),
                nullable=False,
                server_default='[{"percent": 100, "after": "acceptance"}]',
            )
        )

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attestant", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("attestant")

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("payment_plan")

    with op.batch_alter_table("payment_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_orders_status"))
        batch_op.drop_index(batch_op.f("ix_payment_orders_case_id"))

    op.drop_table("payment_orders")
    op.drop_table("acceptances")
    with op.batch_alter_table("repayment_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repayment_claims_status"))
        batch_op.drop_index(batch_op.f("ix_repayment_claims_case_id"))

    op.drop_table("repayment_claims")
    with op.batch_alter_table("payee_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payee_accounts_case_id"))

    op.drop_table("payee_accounts")
    op.drop_table("payment_files")
    op.drop_table("bank_reports")
    for enum in ("paymentstatus", "repaymentstatus", "accountkind"):
        sa.Enum(name=enum).drop(op.get_bind(), checkfirst=True)
