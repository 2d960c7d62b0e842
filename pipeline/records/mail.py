"""Queries on the mailroom's batches and pages."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.records.models import MailBatch, MailPage


def batch_of_each_file(db: Session) -> dict[str, str]:
    """For every file that came by mail, the batch it first came in (by the file's sha256)."""
    return {
        sha: batch for sha, batch in db.execute(select(MailPage.file_sha256, MailPage.batch_id))
    }


def batch_pages(
    db: Session, batch_id: str, positions: Iterable[int] | None = None
) -> list[MailPage]:
    """A batch's pages in scan order: all, or those at ``positions``."""
    query = select(MailPage).where(MailPage.batch_id == batch_id)
    if positions is not None:
        query = query.where(MailPage.position.in_(list(positions)))
    return list(db.scalars(query.order_by(MailPage.position)))


def pages_in_state(db: Session, state: str) -> list[MailPage]:
    """Pages of every batch in ``state`` (the exception queue: unrouted), oldest first."""
    return list(db.scalars(select(MailPage).where(MailPage.state == state).order_by(MailPage.id)))


def newest_batches(db: Session, limit: int) -> list[MailBatch]:
    return list(db.scalars(select(MailBatch).order_by(MailBatch.received_at.desc()).limit(limit)))


def page_states(db: Session, batch_id: str) -> dict[str, int]:
    """How many of the batch's pages are in each state."""
    rows = db.execute(
        select(MailPage.state, func.count())
        .where(MailPage.batch_id == batch_id)
        .group_by(MailPage.state)
    )
    return dict(rows.tuples().all())


def batch_applications(db: Session, batch_id: str) -> list[str]:
    """The applications the batch's pages went to, sorted."""
    found = db.scalars(
        select(MailPage.application_id)
        .where(MailPage.batch_id == batch_id, MailPage.application_id.is_not(None))
        .distinct()
    )
    return sorted(a for a in found if a)
