"""The time step of each user's last accepted one-time code: a code works once.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("totp_last_step", sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.drop_column("totp_last_step")
