"""Audit entries sealed with a key the database does not hold (an HMAC of each hash).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entries") as table:
        table.add_column(sa.Column("mac", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("audit_entries") as table:
        table.drop_column("mac")
