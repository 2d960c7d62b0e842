"""Intake: applications, stored files, which application received which file, audit trail.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from pipeline.records.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("scheme", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("company_name", sa.Text, nullable=False),
        sa.Column("company_uscc", sa.String(64), nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("record_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("received_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_applications_status", "applications", ["status"])
    op.create_table(
        "files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("media_type", sa.String(64), nullable=True),
        sa.Column("stored", sa.Boolean, nullable=False),
        sa.Column("page_count", sa.Integer, nullable=False),
        sa.Column("problem_code", sa.String(32), nullable=True),
        sa.Column("problem", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "application_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "application_id", sa.String(32), sa.ForeignKey("applications.id"), nullable=False
        ),
        sa.Column("file_id", sa.Integer, sa.ForeignKey("files.id"), nullable=False),
        sa.Column("original_name", sa.Text, nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("received_by", sa.String(64), nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("application_id", "file_id"),
    )
    op.create_index("ix_application_files_application_id", "application_files", ["application_id"])
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject_type", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(128), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_audit_entries_subject_id", "audit_entries", ["subject_id"])


def downgrade() -> None:
    for table in ("audit_entries", "application_files", "files", "applications"):
        op.drop_table(table)
