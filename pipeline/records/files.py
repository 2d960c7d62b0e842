"""Queries on stored files and their pages, and on which application received which."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.records.models import Application, ApplicationFile, Page, StoredFile


def stored_file(db: Session, sha256: str) -> StoredFile | None:
    found: StoredFile | None = db.scalar(select(StoredFile).where(StoredFile.sha256 == sha256))
    return found


def pages_of(db: Session, file_id: int) -> list[Page]:
    """A stored file's pages, in order."""
    return list(db.scalars(select(Page).where(Page.file_id == file_id).order_by(Page.index)))


def page_images(db: Session, shas: set[str]) -> dict[tuple[str, int], str | None]:
    """The rendered image of each page of the files of ``shas``: (file sha, index) → image."""
    if not shas:
        return {}
    rows = db.execute(
        select(StoredFile.sha256, Page.index, Page.image_sha256)
        .join(Page, Page.file_id == StoredFile.id)
        .where(StoredFile.sha256.in_(shas))
    )
    return {(sha, index): image for sha, index, image in rows}


def received_files(db: Session, app_id: str) -> list[tuple[ApplicationFile, StoredFile]]:
    """Every file the application received, in the order received."""
    rows = db.execute(
        select(ApplicationFile, StoredFile)
        .join(StoredFile, StoredFile.id == ApplicationFile.file_id)
        .where(ApplicationFile.application_id == app_id)
        .order_by(ApplicationFile.id)
    )
    return [(a, s) for a, s in rows.tuples()]


def received_digests(db: Session, app_id: str) -> set[str]:
    """The sha256 of every file the application received."""
    return set(
        db.scalars(
            select(StoredFile.sha256)
            .join(ApplicationFile, ApplicationFile.file_id == StoredFile.id)
            .where(ApplicationFile.application_id == app_id)
        )
    )


def application_codes(db: Session) -> list[tuple[str, str, str]]:
    """(id, credit code, status) of every application."""
    rows = db.execute(select(Application.id, Application.company_uscc, Application.status))
    return [(i, c, s) for i, c, s in rows.tuples()]


def link_of(db: Session, app_id: str, file_id: int) -> ApplicationFile | None:
    """How the application received the stored file, if it did."""
    found: ApplicationFile | None = db.scalar(
        select(ApplicationFile).where(
            ApplicationFile.application_id == app_id, ApplicationFile.file_id == file_id
        )
    )
    return found


def first_receiver(db: Session, file_id: int) -> str | None:
    """An application that received the stored file, if any did."""
    found: str | None = db.scalar(
        select(ApplicationFile.application_id).where(ApplicationFile.file_id == file_id).limit(1)
    )
    return found


def page_count(db: Session, file_id: int) -> int:
    """How many pages of the stored file were kept."""
    return db.scalar(select(func.count()).where(Page.file_id == file_id)) or 0
