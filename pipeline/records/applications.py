"""Queries on applications and what is kept about them: their pages, check runs and
findings, review decisions and audit entries. The stages ask these; none builds SQL."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pipeline.records.audit import record_event
from pipeline.records.models import (
    Application,
    ApplicationFile,
    AuditEntry,
    CheckRun,
    Finding,
    Page,
    ReviewDecision,
    StoredFile,
)

EARLIER_ROUND = re.compile(r"^(?P<name>.*)（第 (?P<round>\d+) 轮）$")
"""How a file's name reads when a later round sent another file under the same name
(``usecases.intake.application_files``)."""


def page_image_sha(db: Session, app_id: str, source: str, index: int) -> str | None:
    """The stored rendering of page ``index`` (0-based) of the file the application
    received as ``source``: in its newest round, or in round N for ``NAME（第 N 轮）``."""
    query = (
        select(Page.image_sha256)
        .join(StoredFile, StoredFile.id == Page.file_id)
        .join(ApplicationFile, ApplicationFile.file_id == StoredFile.id)
        .where(ApplicationFile.application_id == app_id, Page.index == index)
        .order_by(ApplicationFile.round.desc())
    )
    row = db.execute(query.where(ApplicationFile.original_name == source)).first()
    earlier = EARLIER_ROUND.match(source)
    if row is None and earlier:
        row = db.execute(
            query.where(
                ApplicationFile.original_name == earlier["name"],
                ApplicationFile.round == int(earlier["round"]),
            )
        ).first()
    return None if row is None else row[0]


def new_status_token(db: Session, app: Application, actor: str) -> str:
    """A new unguessable token for the applicant's status link (the old link stops
    working); only its sha256 is kept. Audited, without the token."""
    token = secrets.token_urlsafe(24)
    app.status_token_sha256 = hashlib.sha256(token.encode()).hexdigest()
    record_event(db, actor, "application.status_link", ("application", app.id), {})
    return token


def by_status_token(db: Session, token: str) -> Application | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    found: Application | None = db.scalars(
        select(Application).where(Application.status_token_sha256 == digest)
    ).first()
    return found


def in_statuses(db: Session, statuses: Iterable[str]) -> list[Application]:
    return list(db.scalars(select(Application).where(Application.status.in_(list(statuses)))))


def last_decision_at(db: Session, app: Application, stage: str) -> datetime | None:
    """When the application's current round last had ``stage`` decided."""
    found: datetime | None = db.scalars(
        select(ReviewDecision.decided_at)
        .where(
            ReviewDecision.application_id == app.id,
            ReviewDecision.round == app.round,
            ReviewDecision.stage == stage,
        )
        .order_by(ReviewDecision.decided_at.desc())
    ).first()
    return found


def decisions_of(db: Session, app_id: str) -> list[ReviewDecision]:
    """Every review decision on the application, oldest first."""
    return list(
        db.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.application_id == app_id)
            .order_by(ReviewDecision.decided_at)
        )
    )


def last_event_at(db: Session, app_id: str, action: str) -> datetime | None:
    """When the audit trail last recorded ``action`` on the application."""
    found: datetime | None = db.scalars(
        select(AuditEntry.at)
        .where(
            AuditEntry.subject_type == "application",
            AuditEntry.subject_id == app_id,
            AuditEntry.action == action,
        )
        .order_by(AuditEntry.seq.desc())
    ).first()
    return found


def history_of(db: Session, app_id: str) -> list[AuditEntry]:
    """The application's audit entries, oldest first."""
    return list(
        db.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject_type == "application", AuditEntry.subject_id == app_id)
            .order_by(AuditEntry.seq)
        )
    )


def finding_severities(db: Session, app: Application) -> list[str]:
    """The severity of each finding of the application's current round."""
    return list(
        db.scalars(
            select(Finding.severity).where(
                Finding.application_id == app.id, Finding.round == app.round
            )
        )
    )


def forget_findings(db: Session, app: Application) -> None:
    """Drop the findings of the application's current round (a new check replaces them)."""
    db.execute(delete(Finding).where(Finding.application_id == app.id, Finding.round == app.round))


def latest_check(db: Session, app: Application) -> CheckRun | None:
    """The newest check run of the application's current round."""
    found: CheckRun | None = db.scalars(
        select(CheckRun)
        .where(CheckRun.application_id == app.id, CheckRun.round == app.round)
        .order_by(CheckRun.id.desc())
    ).first()
    return found


def newest_check(db: Session, app_id: str) -> CheckRun | None:
    """The newest check run of the application in any round."""
    found: CheckRun | None = db.scalars(
        select(CheckRun)
        .where(CheckRun.application_id == app_id)
        .order_by(CheckRun.round.desc(), CheckRun.id.desc())
    ).first()
    return found


def listed(db: Session, status: str | None = None) -> list[Application]:
    """Applications oldest first, all or those in ``status``."""
    query = select(Application).order_by(Application.created_at)
    if status:
        query = query.where(Application.status == status)
    return list(db.scalars(query))


def audit_entries(db: Session, subject: str | None = None, limit: int = 50) -> list[AuditEntry]:
    """The newest ``limit`` audit entries, oldest of them first; of one subject if given."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if subject:
        query = query.where(AuditEntry.subject_id == subject)
    return list(reversed(db.scalars(query).all()))
