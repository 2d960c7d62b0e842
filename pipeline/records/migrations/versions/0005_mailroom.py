"""The mailroom: batch scans of mailed envelopes and where each of their pages went.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from pipeline.records.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_batches",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("received_by", sa.String(64), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
    )
    op.create_table(
        "mail_pages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("batch_id", sa.String(32), sa.ForeignKey("mail_batches.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("page_index", sa.Integer, nullable=False),
        sa.Column("image_sha256", sa.String(64)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("application_id", sa.String(32)),
        sa.Column("how", sa.Text),
        sa.Column("read", sa.JSON, nullable=False),
        sa.Column("delivered_as", sa.Text),
        sa.Column("assigned_by", sa.String(64)),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("batch_id", "position"),
    )
    op.create_index("ix_mail_pages_batch_id", "mail_pages", ["batch_id"])
    op.create_index("ix_mail_pages_state", "mail_pages", ["state"])
    op.create_index("ix_mail_pages_application_id", "mail_pages", ["application_id"])


def downgrade() -> None:
    op.drop_table("mail_pages")
    op.drop_table("mail_batches")
