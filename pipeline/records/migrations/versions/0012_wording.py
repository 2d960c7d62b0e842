"""A finding's message kept as a sentence to be told in the reader's language.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("findings") as table:
        table.add_column(sa.Column("wording", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("findings") as table:
        table.drop_column("wording")
