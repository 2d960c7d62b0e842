"""A user's organisation: none (the CA's service company) or a MOFCOM issuing authority.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("organisation", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.drop_column("organisation")
