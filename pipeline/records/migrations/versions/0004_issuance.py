"""Issuance: the issuance records written before a key is made, the nightly batches, the
CRLs, and the credentials table as issuance fills it (it was empty until now: nothing
issued before this revision, so it is made anew).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from pipeline.records.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _application_id() -> sa.Column[str]:
    return sa.Column(
        "application_id", sa.String(32), sa.ForeignKey("applications.id"), nullable=False
    )


def upgrade() -> None:
    rows = op.get_bind().execute(sa.text("SELECT count(*) FROM credentials")).scalar()
    if rows:
        raise RuntimeError("credentials already holds rows; this revision expects none")
    op.drop_index("ix_credentials_application_id", "credentials")
    op.drop_table("credentials")
    op.create_table(
        "issuances",
        sa.Column("id", sa.Integer, primary_key=True),
        _application_id(),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("batch_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("serial", sa.String(64), nullable=False, unique=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("key_type", sa.String(16), nullable=False),
        sa.Column("token_label", sa.String(64), nullable=False, unique=True),
        sa.Column("token_serial", sa.String(64)),
        sa.Column("outputs", sa.JSON, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("application_id", "round"),
    )
    op.create_index("ix_issuances_application_id", "issuances", ["application_id"])
    op.create_index("ix_issuances_batch_id", "issuances", ["batch_id"])
    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer, primary_key=True),
        _application_id(),
        sa.Column(
            "issuance_id", sa.Integer, sa.ForeignKey("issuances.id"), nullable=False, unique=True
        ),
        sa.Column("company_uscc", sa.String(64), nullable=False),
        sa.Column("serial", sa.String(64), nullable=False, unique=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("not_before", UTCDateTime(), nullable=False),
        sa.Column("not_after", UTCDateTime(), nullable=False),
        sa.Column("key_type", sa.String(16), nullable=False),
        sa.Column("token_label", sa.String(64), nullable=False),
        sa.Column("token_serial", sa.String(64), nullable=False),
        sa.Column("certificate_pem", sa.Text, nullable=False),
        sa.Column("revoked_at", UTCDateTime()),
        sa.Column("revocation_reason", sa.String(32)),
        sa.Column("superseded_by", sa.String(64)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_credentials_application_id", "credentials", ["application_id"])
    op.create_index("ix_credentials_company_uscc", "credentials", ["company_uscc"])
    op.create_table(
        "issue_batches",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime()),
        sa.Column("summary", sa.JSON, nullable=False),
    )
    op.create_table(
        "crls",
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("this_update", UTCDateTime(), nullable=False),
        sa.Column("next_update", UTCDateTime(), nullable=False),
        sa.Column("revoked_count", sa.Integer, nullable=False),
        sa.Column("der", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("crls")
    op.drop_table("issue_batches")
    op.drop_index("ix_credentials_company_uscc", "credentials")
    op.drop_index("ix_credentials_application_id", "credentials")
    op.drop_table("credentials")
    op.drop_index("ix_issuances_batch_id", "issuances")
    op.drop_index("ix_issuances_application_id", "issuances")
    op.drop_table("issuances")
    op.create_table(  # as revision 0002 made it
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
    op.create_index("ix_credentials_application_id", "credentials", ["application_id"])
