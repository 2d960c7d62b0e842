"""Pipeline records: rendered pages, documents, findings, review decisions, credentials.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from pipeline.records.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _application_id() -> sa.Column[str]:
    return sa.Column(
        "application_id", sa.String(32), sa.ForeignKey("applications.id"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("file_id", sa.Integer, sa.ForeignKey("files.id"), nullable=False),
        sa.Column("index", sa.Integer, nullable=False),
        sa.Column("image_sha256", sa.String(64), nullable=True),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("dpi", sa.Integer, nullable=True),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("problem", sa.Text, nullable=True),
        sa.UniqueConstraint("file_id", "index"),
    )
    op.create_index("ix_pages_file_id", "pages", ["file_id"])
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, primary_key=True),
        _application_id(),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("first_page_id", sa.Integer, sa.ForeignKey("pages.id"), nullable=False),
        sa.Column("page_ids", sa.JSON, nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("seals", sa.JSON, nullable=False),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True),
        _application_id(),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("document", sa.Integer, nullable=True),
        sa.Column("page", sa.Integer, nullable=True),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        _application_id(),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("remarks", sa.Text, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("decided_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer, primary_key=True),
        _application_id(),
        sa.Column("serial", sa.String(64), nullable=False, unique=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("not_before", UTCDateTime, nullable=False),
        sa.Column("not_after", UTCDateTime, nullable=False),
        sa.Column("token_label", sa.String(64), nullable=False),
        sa.Column("certificate_pem", sa.Text, nullable=False),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
        sa.Column("revocation_reason", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    for table in ("documents", "findings", "review_decisions", "credentials"):
        op.create_index(f"ix_{table}_application_id", table, ["application_id"])


def downgrade() -> None:
    for table in ("credentials", "review_decisions", "findings", "documents", "pages"):
        op.drop_table(table)
