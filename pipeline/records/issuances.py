"""Queries on issuances and the applications waiting for them: what the nightly batch asks
the database, so that it builds no SQL of its own."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.records.lifecycle import Status
from pipeline.records.models import Application, Issuance


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
