"""Tables of the workspace database. Schema changes go through ``migrations/``.

``tests/test_migrations.py`` checks that these models and the migrated schema agree, so a
column added here without a migration fails the tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pipeline.records.protect import ProtectedJSON, ProtectedText, SealedText


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, also on SQLite (which keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        # ID numbers sealed at rest in every JSON column (see records.protect)
        dict[str, Any]: ProtectedJSON,
        list[Any]: ProtectedJSON,
    }


class Application(Base):
    """One application (申请 / 更新 / 补办) and where it stands in its life cycle."""

    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scheme: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    company_name: Mapped[str] = mapped_column(Text)
    company_uscc: Mapped[str] = mapped_column(String(64))
    record: Mapped[dict[str, Any]]
    record_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), index=True)
    verdict: Mapped[str | None] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer, default=1)
    received_by: Mapped[str] = mapped_column(String(64))
    status_token_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    """The applicant's status link (``/status/TOKEN``): only the token's sha256; a new link
    ends the old one."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StoredFile(Base):
    """A file's content, once per sha256, whatever its name or how often it was sent."""

    __tablename__ = "files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int]
    media_type: Mapped[str | None] = mapped_column(String(64))
    stored: Mapped[bool] = mapped_column(default=True)
    page_count: Mapped[int] = mapped_column(default=0)
    problem_code: Mapped[str | None] = mapped_column(String(32))
    problem: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApplicationFile(Base):
    """A file as received for an application: under which name, in which round."""

    __tablename__ = "application_files"
    __table_args__ = (UniqueConstraint("application_id", "file_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id"))
    original_name: Mapped[str] = mapped_column(Text)
    round: Mapped[int]
    received_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Page(Base):
    """A page of a file rendered for the later stages (an image in the store)."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("file_id", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id"), index=True)
    index: Mapped[int]
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    dpi: Mapped[int | None]
    text: Mapped[str | None] = mapped_column(Text)
    problem: Mapped[str | None] = mapped_column(Text)


class Document(Base):
    """A logical document found among an application's pages (extraction fills these)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    round: Mapped[int]
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float]
    first_page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"))
    page_ids: Mapped[list[Any]]
    fields: Mapped[dict[str, Any]]
    seals: Mapped[list[Any]]


class Finding(Base):
    """One finding of a check report (code and severity as in check-report.md)."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    round: Mapped[int]
    code: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(ProtectedText)
    document: Mapped[int | None]
    page: Mapped[int | None]
    evidence: Mapped[dict[str, Any]]
    wording: Mapped[dict[str, Any] | None] = mapped_column(ProtectedJSON, nullable=True)
    """The message as a sentence (pipeline.model.messages.Say) to be told in the reader's
    language; none on findings recorded before catalogues."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewDecision(Base):
    """A person's decision at pre-review (核验) or re-review (复核)."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    round: Mapped[int]
    stage: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16))
    remarks: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    overrides: Mapped[list[Any]] = mapped_column(ProtectedJSON, default=list)
    """Each error finding approved over: its place in the check report, code, message and
    the reviewer's remark saying why it does not stand in the way."""


class Credential(Base):
    """A certificate issued for an application: one per issuance, numbered in versions per
    company (credit code). Only the newest valid one counts; the others are revoked."""

    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    issuance_id: Mapped[int] = mapped_column(ForeignKey("issuances.id"), unique=True)
    company_uscc: Mapped[str] = mapped_column(String(64), index=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    """Lower-case hex, no separators."""
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    """valid or revoked."""
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    key_type: Mapped[str] = mapped_column(String(16))
    token_label: Mapped[str] = mapped_column(String(64))
    token_serial: Mapped[str] = mapped_column(String(64))
    certificate_pem: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(String(32))
    superseded_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Issuance(Base):
    """One approval being issued. Written (unique per application and round) before any key
    is made, so a rerun after a crash at any point resumes it and never issues twice."""

    __tablename__ = "issuances"
    __table_args__ = (UniqueConstraint("application_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    round: Mapped[int]
    batch_id: Mapped[str] = mapped_column(String(32), index=True)
    state: Mapped[str] = mapped_column(String(16))
    """started → key_made → certified → done (or failed, retried next batch)."""
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int]
    key_type: Mapped[str] = mapped_column(String(16))
    token_label: Mapped[str] = mapped_column(String(64), unique=True)
    token_serial: Mapped[str | None] = mapped_column(String(64))
    outputs: Mapped[dict[str, Any]]
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IssueBatch(Base):
    """A run of the nightly issuance and what came of it."""

    __tablename__ = "issue_batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    summary: Mapped[dict[str, Any]]


class CrlRecord(Base):
    """Every CRL the issuing CA signed, by CRL number (the newest is the one published)."""

    __tablename__ = "crls"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    this_update: Mapped[datetime]
    next_update: Mapped[datetime]
    revoked_count: Mapped[int]
    der: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """One entry of the append-only, hash-chained audit trail (see ``audit.py``)."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(128), index=True)
    detail: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    mac: Mapped[str | None] = mapped_column(String(64))
    """HMAC-SHA256 of ``hash`` under the audit key, which the database does not hold: a
    forger who rewrites or appends with correct hashes cannot make these."""


class CheckRun(Base):
    """A check's whole report (the contract's JSON), kept per round: the documents, their
    fields, seals and boxes, which the packet and the web app show beside the findings."""

    __tablename__ = "check_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    round: Mapped[int]
    verdict: Mapped[str] = mapped_column(String(16))
    report: Mapped[dict[str, Any]]
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignIn(Base):
    """A person's sign-in, on the command line (``sealdesk login``: the token in that
    person's shell) or in the web app (in the session cookie): only the token's sha256 is
    kept. Signing out ends it on the server, so a copied token or cookie is worthless."""

    __tablename__ = "sign_ins"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    via: Mapped[str] = mapped_column(String(8), default="cli")


class User(Base):
    """A person who uses sealdesk: roles (comma-separated, see ``users.Role``) and a
    salted scrypt hash of the password (never the password)."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(Text)
    roles: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    totp_secret: Mapped[str | None] = mapped_column(SealedText, default=None)
    """The second factor's secret (RFC 6238), sealed with the field key: admins and
    issuers sign in with a code from it as well as their password."""
    totp_last_step: Mapped[int | None] = mapped_column(default=None)
    """The 30-second step of the last code accepted: a code, once used, is refused (one
    seen over a shoulder or in a proxy's log cannot sign in again)."""
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    organisation: Mapped[str | None] = mapped_column(String(64), default=None)
    """None: the CA's service company (every application, every stage). Else a MOFCOM
    issuing authority (发证机构, pipeline.model.authorities): its people do 核验 of the
    applications of its own region, and nothing else."""

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]

    def has(self, role: str) -> bool:
        return str(role) in self.role_list


class MailBatch(Base):
    """A batch scan of mailed envelopes (one file, or a folder of the scanner's images), as
    the mailroom received it."""

    __tablename__ = "mail_batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    """Where it came from: the path given, or the hot folder's file name."""
    received_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    files: Mapped[list[Any]] = mapped_column(ProtectedJSON)
    """[{name, sha256, pages, problem}] in scan order."""
    summary: Mapped[dict[str, Any]] = mapped_column(ProtectedJSON, default=dict)


class MailPage(Base):
    """One page of a mail batch and where it went: routed to an application (by its form's
    QR code, the printed application id, the credit code, or as a page following a form),
    or held in the exception queue until intake staff assign it by hand."""

    __tablename__ = "mail_pages"
    __table_args__ = (UniqueConstraint("batch_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("mail_batches.id"), index=True)
    position: Mapped[int]
    """1-based place in the batch, across its files."""
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(Text)
    page_index: Mapped[int]
    """0-based page within that file."""
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    """routed, unrouted (the exception queue), assigned (by hand), blank."""
    application_id: Mapped[str | None] = mapped_column(String(32), index=True)
    how: Mapped[str | None] = mapped_column(Text)
    """What routed it, or why it could not be routed."""
    read: Mapped[dict[str, Any]] = mapped_column(ProtectedJSON, default=dict)
    """What the routing read on it: kind, QR and printed application id, credit code."""
    delivered_as: Mapped[str | None] = mapped_column(Text)
    """The file the application received it in."""
    assigned_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
