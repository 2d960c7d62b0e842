"""Queries on issuances, the applications waiting for them and the certificates issued:
what the nightly batch and public verification ask the database, so that they build no SQL
of their own."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pipeline.records.lifecycle import Status
from pipeline.records.models import Application, Credential, CrlRecord, Issuance, IssueBatch


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


def valid_credentials(
    db: Session, uscc: str, *, serial: str | None = None, besides: str | None = None
) -> list[Credential]:
    """The company's valid certificates: only the one of ``serial`` when given, all but
    the one of ``besides`` when given."""
    query = select(Credential).where(Credential.company_uscc == uscc, Credential.status == "valid")
    if serial is not None:
        query = query.where(Credential.serial == serial)
    if besides is not None:
        query = query.where(Credential.serial != besides)
    return list(db.scalars(query))


def revoked_credentials(db: Session) -> list[Credential]:
    """Every revoked certificate, in the order they were issued (a CRL lists them all)."""
    return list(
        db.scalars(select(Credential).where(Credential.status == "revoked").order_by(Credential.id))
    )


def newest_credential(db: Session, uscc: str) -> Credential | None:
    """The company's certificate of the highest version."""
    found: Credential | None = db.scalars(
        select(Credential)
        .where(Credential.company_uscc == uscc)
        .order_by(Credential.version.desc())
    ).first()
    return found


def next_crl_number(db: Session) -> int:
    return (db.scalar(select(func.max(CrlRecord.number))) or 0) + 1


def next_certificate_version(db: Session, uscc: str) -> int:
    """The version the company's next certificate gets: one above any issued to it."""
    latest = db.scalar(
        select(func.max(Issuance.version))
        .join(Application, Application.id == Issuance.application_id)
        .where(Application.company_uscc == uscc)
    )
    return (latest or 0) + 1


def issuance_of_round(db: Session, app: Application) -> Issuance | None:
    """The issuance of the application's current round, if one was planned."""
    found: Issuance | None = db.scalar(
        select(Issuance).where(Issuance.application_id == app.id, Issuance.round == app.round)
    )
    return found


def credentials(db: Session, uscc: str | None = None) -> list[Credential]:
    """Issued certificates, newest first; of one company if ``uscc`` is given."""
    query = select(Credential).order_by(Credential.id.desc())
    if uscc:
        query = query.where(Credential.company_uscc == uscc)
    return list(db.scalars(query))


def search_credentials(db: Session, query: str, limit: int = 100) -> list[Credential]:
    """Certificates whose serial begins with ``query`` (hex, separators ignored), whose
    credit code begins with it, or whose company's name contains it; newest first."""
    text = query.strip()
    if not text:
        return list(
            db.scalars(select(Credential).order_by(Credential.created_at.desc()).limit(limit))
        )
    serial = text.lower().replace(":", "").replace(" ", "").removeprefix("0x")
    conditions = [
        Credential.company_uscc.startswith(text.upper(), autoescape=True),
        Credential.application_id.in_(
            select(Application.id).where(Application.company_name.contains(text, autoescape=True))
        ),
    ]
    if serial and all(c in "0123456789abcdef" for c in serial):
        conditions.append(Credential.serial.startswith(serial, autoescape=True))
    query_ = select(Credential).where(or_(*conditions)).order_by(Credential.created_at.desc())
    return list(db.scalars(query_.limit(limit)))


def applications_of(db: Session, uscc: str) -> list[Application]:
    """Every application of the company with credit code ``uscc`` (new, renewal,
    replacement), oldest first."""
    query = select(Application).where(Application.company_uscc == uscc)
    return list(db.scalars(query.order_by(Application.created_at)))


def newest_crl(db: Session) -> CrlRecord | None:
    found: CrlRecord | None = db.scalars(
        select(CrlRecord).order_by(CrlRecord.number.desc())
    ).first()
    return found


def open_batches(db: Session) -> list[IssueBatch]:
    """Batches that began and never finished (a crash), oldest first."""
    query = select(IssueBatch).where(IssueBatch.finished_at.is_(None))
    return list(db.scalars(query.order_by(IssueBatch.started_at)))


def long_term_pending(db: Session) -> list[Issuance]:
    """Issuances done whose PDFs still wait for their long-term validation data."""
    done = db.scalars(select(Issuance).where(Issuance.state == "done").order_by(Issuance.id))
    return [i for i in done if i.outputs.get("long_term") == "pending"]


def unshipped(db: Session) -> list[Issuance]:
    """Issuances done whose key is on no finished batch's courier manifest, oldest first."""
    shipped = {
        (item.get("application"), item.get("serial"))
        for summary in db.scalars(
            select(IssueBatch.summary).where(IssueBatch.finished_at.is_not(None))
        )
        for item in (summary or {}).get("issued", [])
    }
    done = db.scalars(select(Issuance).where(Issuance.state == "done").order_by(Issuance.id))
    return [i for i in done if (i.application_id, i.serial) not in shipped]


def revoked_of(db: Session, app_ids: list[str]) -> dict[str, Credential]:
    """Of these applications, those whose certificate is revoked: its credential."""
    if not app_ids:
        return {}
    found = db.scalars(
        select(Credential).where(
            Credential.application_id.in_(app_ids), Credential.status == "revoked"
        )
    )
    return {c.application_id: c for c in found}
