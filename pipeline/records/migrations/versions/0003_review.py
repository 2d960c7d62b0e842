"""Review: users with roles and hashed passwords; each check's full report kept per round
(the documents and boxes the packet and the web app show).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from pipeline.records.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("username", sa.String(32), primary_key=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("roles", sa.String(128), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "check_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "application_id", sa.String(32), sa.ForeignKey("applications.id"), nullable=False
        ),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_check_runs_application_id", "check_runs", ["application_id"])


def downgrade() -> None:
    op.drop_index("ix_check_runs_application_id", "check_runs")
    op.drop_table("check_runs")
    op.drop_table("users")
