"""Sign-ins on the command line: who acts is proven by a password (and, for admins and
issuers, a one-time code), not claimed by a name.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from pipeline.records.models import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_ins",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(32), sa.ForeignKey("users.username"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime()),
        sa.Column("via", sa.String(8), nullable=False),
    )
    op.create_index("ix_sign_ins_username", "sign_ins", ["username"])
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("totp_secret", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.drop_column("totp_secret")
    op.drop_table("sign_ins")
