"""An applicant's status link: the sha256 of its token, per application.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applications") as table:
        table.add_column(sa.Column("status_token_sha256", sa.String(64)))
        table.create_index("ix_applications_status_token_sha256", ["status_token_sha256"])


def downgrade() -> None:
    with op.batch_alter_table("applications") as table:
        table.drop_index("ix_applications_status_token_sha256")
        table.drop_column("status_token_sha256")
