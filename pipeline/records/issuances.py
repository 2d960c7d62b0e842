"""Queries on issuances, the applications waiting for them and the certificates issued:
what the nightly batch and public verification ask the database, so that they build no SQL
of their own."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.records.lifecycle import Status
from pipeline.records.models import Application, Credential, Issuance


def issuance_states(db: Session) -> dict[str, str]:
    """Each issuance's state by its token's label."""
    return {i.token_label: i.state for i in db.scalars(select(Issuance)).all()}


def approved_not_issued(db: Session) -> list[str]:
    """Applications approved in both review stages and not issued, oldest approval first."""
    return list(
        db.scalars(
            select(Application.id)
            .where(Application.status == Status.REREVIEW_PASSED)
            .order_by(Application.updated_at, Application.id)
        ).all()
    )


def latest_issuance(db: Session, application_id: str) -> Issuance | None:
    """The application's issuance of its newest round, if any."""
    found: Issuance | None = db.scalar(
        select(Issuance)
        .where(Issuance.application_id == application_id)
        .order_by(Issuance.round.desc())
    )
    return found


def credential(db: Session, serial: str) -> Credential | None:
    """The certificate of this (normalised) serial, if one was issued."""
    found: Credential | None = db.scalar(select(Credential).where(Credential.serial == serial))
    return found


def newest_version(db: Session, uscc: str) -> int | None:
    """The newest certificate version issued to the company of this credit code."""
    newest: int | None = db.scalar(
        select(func.max(Credential.version)).where(Credential.company_uscc == uscc)
    )
    return newest
