"""The schema as it was before migrations

Revision ID: baseline
Revises:
Create Date: 2026-11-29 20:56:25.985743

Every table as `SQLModel.metadata.create_all` made it (main at bafadb8): a database made
then has exactly these tables and is stamped here instead (models.schema), so this
revision must never change. No server defaults (the models' defaults are Python's); the
audit trail, signed decisions and rendered letters are guarded in the ORM (models.tables),
not by triggers. On PostgreSQL each enumeration is a named type, made once by the first
table that uses it; dropping the tables leaves the types, so the downgrade drops them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate writes sqlmodel.sql.sqltypes.AutoString() for str fields
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "baseline"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUM_TYPES = (
    "answer",
    "casestate",
    "conflictground",
    "criterion",
    "decisionstatus",
    "deliverystate",
    "language",
    "meetingstatus",
    "onexpiry",
    "outcome",
    "recommendation",
    "role",
    "securityeventkind",
    "taskstatus",
)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("budget", sa.Integer(), nullable=False),
        sa.Column("minimum_grant", sa.Integer(), nullable=False),
        sa.Column("maximum_grant", sa.Integer(), nullable=False),
        sa.Column("closed_months", sa.JSON(), nullable=False),
        sa.Column("guidelines_version", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("guidelines_version_en", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("co_financing_hourly_rate", sa.Integer(), nullable=False),
        sa.Column("max_project_months", sa.Integer(), nullable=False),
        sa.Column("handling_weeks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_calls_code"), "calls", ["code"], unique=True)
    op.create_table(
        "case_reference_counters",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("last_serial", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", "prefix"),
    )
    op.create_table(
        "community_talks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("starts_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("theme", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("theme_en", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("venue", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("registered_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("registered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_community_talks_held_on"), "community_talks", ["held_on"], unique=False
    )
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("organisation_number", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("legal_form", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("municipality", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("contact_person", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("postal_address", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("postcode", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("bankgiro", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("plusgiro", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_organisations_organisation_number"),
        "organisations",
        ["organisation_number"],
        unique=True,
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "case_officer", "advisor", "decision_maker", "system", "applicant", name="role"
            ),
            nullable=False,
        ),
        sa.Column("organisation", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("title_en", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_people_email"), "people", ["email"], unique=True)
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_reference", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("intake_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("case_officer_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "received",
                "awaiting_supplement",
                "in_review",
                "applicant_meeting",
                "drafting_decision",
                "communication",
                "awaiting_decision",
                "decided",
                "reporting",
                "closed",
                name="casestate",
            ),
            nullable=False,
        ),
        sa.Column("submission_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("date_received", sa.Date(), nullable=False),
        sa.Column("registered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("language", sa.Enum("sv", "en", name="language"), nullable=False),
        sa.Column("project_title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("requested_amount", sa.Integer(), nullable=False),
        sa.Column("co_financing_cash", sa.Integer(), nullable=False),
        sa.Column("co_financing_hours", sa.Integer(), nullable=False),
        sa.Column("project_start", sa.Date(), nullable=False),
        sa.Column("project_end", sa.Date(), nullable=False),
        sa.Column("societal_challenge", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("innovation", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("long_term_effects", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("target_group", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("partners", sa.JSON(), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=True),
        sa.Column("expected_decision_on", sa.Date(), nullable=True),
        sa.Column("delay_notified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column(
            "proposed_outcome",
            sa.Enum("granted", "partly_granted", "refused", "dismissed", "closed", name="outcome"),
            nullable=True,
        ),
        sa.Column("proposal_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
        ),
        sa.ForeignKeyConstraint(
            ["case_officer_id"],
            ["people.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_cases_call_id"), "cases", ["call_id"], unique=False)
    op.create_index(op.f("ix_cases_case_reference"), "cases", ["case_reference"], unique=True)
    op.create_index(op.f("ix_cases_intake_key"), "cases", ["intake_key"], unique=True)
    op.create_index(op.f("ix_cases_organisation_id"), "cases", ["organisation_id"], unique=False)
    op.create_index(op.f("ix_cases_state"), "cases", ["state"], unique=False)
    op.create_table(
        "office_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_office_sessions_person_id"), "office_sessions", ["person_id"], unique=False
    )
    op.create_index(
        op.f("ix_office_sessions_session_hash"), "office_sessions", ["session_hash"], unique=True
    )
    op.create_table(
        "security_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "link_requested",
                "link_refused",
                "sign_in",
                "sign_in_failed",
                "sign_out",
                "session_expired",
                name="securityeventkind",
            ),
            nullable=False,
        ),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("client", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_security_events_at"), "security_events", ["at"], unique=False)
    op.create_index(op.f("ix_security_events_email"), "security_events", ["email"], unique=False)
    op.create_index(op.f("ix_security_events_kind"), "security_events", ["kind"], unique=False)
    op.create_table(
        "sign_in_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_sign_in_links_person_id"), "sign_in_links", ["person_id"], unique=False
    )
    op.create_index(
        op.f("ix_sign_in_links_token_hash"), "sign_in_links", ["token_hash"], unique=True
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "case_officer", "advisor", "decision_maker", "system", "applicant", name="role"
            ),
            nullable=False,
        ),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "state_before",
            sa.Enum(
                "received",
                "awaiting_supplement",
                "in_review",
                "applicant_meeting",
                "drafting_decision",
                "communication",
                "awaiting_decision",
                "decided",
                "reporting",
                "closed",
                name="casestate",
            ),
            nullable=True,
        ),
        sa.Column(
            "state_after",
            sa.Enum(
                "received",
                "awaiting_supplement",
                "in_review",
                "applicant_meeting",
                "drafting_decision",
                "communication",
                "awaiting_decision",
                "decided",
                "reporting",
                "closed",
                name="casestate",
            ),
            nullable=True,
        ),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_events_case_id"), "audit_events", ["case_id"], unique=False)
    op.create_table(
        "checklist_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column(
            "criterion",
            sa.Enum(
                "benefit_to_society",
                "innovative",
                "new_locally",
                "anchored_with_partners",
                name="criterion",
            ),
            nullable=False,
        ),
        sa.Column("answer", sa.Enum("met", "not_met", "unclear", name="answer"), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("answered_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("answered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_checklist_answers_case_id"), "checklist_answers", ["case_id"], unique=False
    )
    op.create_table(
        "communications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("draft_version", sa.Integer(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("sent_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("replied_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reply_has_comments", sa.Boolean(), nullable=True),
        sa.Column("expired_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_communications_case_id"), "communications", ["case_id"], unique=False)
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "sent_back", "superseded", "signed", name="decisionstatus"),
            nullable=False,
        ),
        sa.Column(
            "outcome",
            sa.Enum("granted", "partly_granted", "refused", "dismissed", "closed", name="outcome"),
            nullable=False,
        ),
        sa.Column("amount", sa.Integer(), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=True),
        sa.Column("decisive", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reply_assessment", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("other_funding", sa.JSON(), nullable=True),
        sa.Column("final_report_due", sa.Date(), nullable=True),
        sa.Column("presenting_officer", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=True),
        sa.Column("prepared_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("prepared_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "version"),
    )
    op.create_index(op.f("ix_decisions_case_id"), "decisions", ["case_id"], unique=False)
    op.create_index(op.f("ix_decisions_status"), "decisions", ["status"], unique=False)
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("registered_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_documents_case_id"), "documents", ["case_id"], unique=False)
    op.create_table(
        "file_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("written_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_file_notes_case_id"), "file_notes", ["case_id"], unique=False)
    op.create_table(
        "letters",
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("delivered_via", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("retry_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("first_failed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("letter_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("language", sa.Enum("sv", "en", name="language"), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column(
            "delivery_state",
            sa.Enum("to_render", "queued", "sending", "sent", "failed", name="deliverystate"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_letters_case_id"), "letters", ["case_id"], unique=False)
    op.create_index(op.f("ix_letters_delivery_state"), "letters", ["delivery_state"], unique=False)
    op.create_index(op.f("ix_letters_letter_key"), "letters", ["letter_key"], unique=True)
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("booked", "rebooked", "held", "skipped", name="meetingstatus"),
            nullable=False,
        ),
        sa.Column("starts_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ends_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("place", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=True),
        sa.Column("booked_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("booked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_meetings_case_id"), "meetings", ["case_id"], unique=False)
    op.create_table(
        "notices",
        sa.Column(
            "delivery_state",
            sa.Enum("to_render", "queued", "sending", "sent", "failed", name="deliverystate"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("delivered_via", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("retry_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("first_failed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_notices_case_id"), "notices", ["case_id"], unique=False)
    op.create_index(op.f("ix_notices_delivery_state"), "notices", ["delivery_state"], unique=False)
    op.create_index(op.f("ix_notices_notice_key"), "notices", ["notice_key"], unique=True)
    op.create_table(
        "reporting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("community_talk_id", sa.Integer(), nullable=False),
        sa.Column("invited_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("final_report_due", sa.Date(), nullable=True),
        sa.Column("presented_on", sa.Date(), nullable=True),
        sa.Column("final_report_received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["community_talk_id"],
            ["community_talks.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    op.create_table(
        "review_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column(
            "status", sa.Enum("open", "conflicted", "submitted", name="taskstatus"), nullable=False
        ),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reminded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column(
            "conflict",
            sa.Enum(
                "none",
                "own_organisation",
                "close_relative",
                "earlier_involvement",
                "other",
                name="conflictground",
            ),
            nullable=True,
        ),
        sa.Column("conflict_note", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("declared_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column(
            "recommendation",
            sa.Enum(
                "granted", "partly_granted", "refused", "needs_supplement", name="recommendation"
            ),
            nullable=True,
        ),
        sa.Column("proposed_amount", sa.Integer(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("other_funding", sa.JSON(), nullable=True),
        sa.Column("comments", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("submitted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["people.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "reviewer_id"),
    )
    op.create_index(op.f("ix_review_tasks_case_id"), "review_tasks", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_review_tasks_reviewer_id"), "review_tasks", ["reviewer_id"], unique=False
    )
    op.create_index(op.f("ix_review_tasks_status"), "review_tasks", ["status"], unique=False)
    op.create_table(
        "supplement_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("on_expiry", sa.Enum("examine", "dismiss", name="onexpiry"), nullable=False),
        sa.Column("dismiss_because", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("requested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reminded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("expired_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_supplement_requests_case_id"), "supplement_requests", ["case_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_supplement_requests_case_id"), table_name="supplement_requests")
    op.drop_table("supplement_requests")
    op.drop_index(op.f("ix_review_tasks_status"), table_name="review_tasks")
    op.drop_index(op.f("ix_review_tasks_reviewer_id"), table_name="review_tasks")
    op.drop_index(op.f("ix_review_tasks_case_id"), table_name="review_tasks")
    op.drop_table("review_tasks")
    op.drop_table("reporting")
    op.drop_index(op.f("ix_notices_notice_key"), table_name="notices")
    op.drop_index(op.f("ix_notices_delivery_state"), table_name="notices")
    op.drop_index(op.f("ix_notices_case_id"), table_name="notices")
    op.drop_table("notices")
    op.drop_index(op.f("ix_meetings_case_id"), table_name="meetings")
    op.drop_table("meetings")
    op.drop_index(op.f("ix_letters_letter_key"), table_name="letters")
    op.drop_index(op.f("ix_letters_delivery_state"), table_name="letters")
    op.drop_index(op.f("ix_letters_case_id"), table_name="letters")
    op.drop_table("letters")
    op.drop_index(op.f("ix_file_notes_case_id"), table_name="file_notes")
    op.drop_table("file_notes")
    op.drop_index(op.f("ix_documents_case_id"), table_name="documents")
    op.drop_table("documents")
    op.drop_index(op.f("ix_decisions_status"), table_name="decisions")
    op.drop_index(op.f("ix_decisions_case_id"), table_name="decisions")
    op.drop_table("decisions")
    op.drop_index(op.f("ix_communications_case_id"), table_name="communications")
    op.drop_table("communications")
    op.drop_index(op.f("ix_checklist_answers_case_id"), table_name="checklist_answers")
    op.drop_table("checklist_answers")
    op.drop_index(op.f("ix_audit_events_case_id"), table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index(op.f("ix_sign_in_links_token_hash"), table_name="sign_in_links")
    op.drop_index(op.f("ix_sign_in_links_person_id"), table_name="sign_in_links")
    op.drop_table("sign_in_links")
    op.drop_index(op.f("ix_security_events_kind"), table_name="security_events")
    op.drop_index(op.f("ix_security_events_email"), table_name="security_events")
    op.drop_index(op.f("ix_security_events_at"), table_name="security_events")
    op.drop_table("security_events")
    op.drop_index(op.f("ix_office_sessions_session_hash"), table_name="office_sessions")
    op.drop_index(op.f("ix_office_sessions_person_id"), table_name="office_sessions")
    op.drop_table("office_sessions")
    op.drop_index(op.f("ix_cases_state"), table_name="cases")
    op.drop_index(op.f("ix_cases_organisation_id"), table_name="cases")
    op.drop_index(op.f("ix_cases_intake_key"), table_name="cases")
    op.drop_index(op.f("ix_cases_case_reference"), table_name="cases")
    op.drop_index(op.f("ix_cases_call_id"), table_name="cases")
    op.drop_table("cases")
    op.drop_index(op.f("ix_people_email"), table_name="people")
    op.drop_table("people")
    op.drop_index(op.f("ix_organisations_organisation_number"), table_name="organisations")
    op.drop_table("organisations")
    op.drop_index(op.f("ix_community_talks_held_on"), table_name="community_talks")
    op.drop_table("community_talks")
    op.drop_table("case_reference_counters")
    op.drop_index(op.f("ix_calls_code"), table_name="calls")
    op.drop_table("calls")
    for name in ENUM_TYPES:
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)  # PostgreSQL only
