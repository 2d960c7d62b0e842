"""After the batch: the key's way to the company. CQC keys go by courier to the applicant
(shipped is the end). MOFCOM keys go to the issuing authority of the company's region,
where the company collects them in person, bringing the stamped paper originals for the
final on-site check (现场盖章终审, seed 003): shipped → at the authority → collected, each
step audited with who did it. Keys waiting too long on the way are listed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pipeline.errors import NotFound
from pipeline.model.authorities import issuing_authority
from pipeline.records.applications import in_statuses
from pipeline.records.database import Session
from pipeline.records.lifecycle import STATUS_LABELS, Status, mark_at_authority, mark_collected
from pipeline.records.models import Application
from pipeline.review.calendar import working_days_between
from pipeline.workspace import Workspace

WAITING_DAYS = 10
"""Working days a MOFCOM key may be on its way, or waiting at the authority, before it is
listed."""
ON_THE_WAY = (Status.SHIPPED, Status.AT_AUTHORITY)


def arrived(workspace: Workspace, app_id: str, actor: str) -> str:
    """The key reached the issuing authority (MOFCOM); returns the authority's name."""
    with workspace.session() as db:
        app = _app(db, app_id)
        authority = issuing_authority(app.company_uscc)
        mark_at_authority(db, app, actor, authority)
    return authority


def collected(
    workspace: Workspace,
    app_id: str,
    actor: str,
    *,
    originals: list[str],
    collector: str,
    collector_id_last4: str,
) -> None:
    """Handed over at the authority after the final check of the paper originals."""
    with workspace.session() as db:
        mark_collected(
            db,
            _app(db, app_id),
            actor,
            originals=[o.strip() for o in originals if o.strip()],
            collector=collector,
            collector_id_last4=collector_id_last4.strip(),
        )


@dataclass(frozen=True, slots=True)
class Waiting:
    application_id: str
    company: str
    status: str
    since: datetime
    working_days: int


def waiting(
    workspace: Workspace, days: int = WAITING_DAYS, now: datetime | None = None
) -> list[Waiting]:
    """MOFCOM keys on their way to the authority or waiting there for more than ``days``
    working days, longest first (a CQC key's journey ends with the courier)."""
    now = now or datetime.now(UTC)
    found = []
    with workspace.session() as db:
        for app in in_statuses(db, [s.value for s in ON_THE_WAY]):
            if app.scheme != "mofcom":
                continue
            since = app.updated_at if app.updated_at.tzinfo else app.updated_at.replace(tzinfo=UTC)
            age = working_days_between(since, now)
            if age > days:
                label = STATUS_LABELS[Status(app.status)]
                found.append(Waiting(app.id, app.company_name, label, since, age))
    return sorted(found, key=lambda w: -w.working_days)


def _app(db: Session, app_id: str) -> Application:
    app = db.get(Application, app_id)
    if app is None:
        raise NotFound(f"no application {app_id}")
    return app
