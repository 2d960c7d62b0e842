"""The review queue: applications waiting for a person, flagged first, then oldest.

An application waits for pre-review (核验) once checked, for re-review (复核) once
pre-reviewed. Each stage has its due date in working days (see ``calendar``), counted
from when the application entered the stage: the check that made it ``checked``, the
pre-review that passed it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline.model.messages import N_
from pipeline.records.applications import (
    finding_severities,
    history_of,
    in_statuses,
    last_decision_at,
    last_event_at,
)
from pipeline.records.database import Session
from pipeline.records.lifecycle import STATUS_LABELS, Status
from pipeline.records.models import Application, User
from pipeline.review import scope
from pipeline.review.calendar import PREREVIEW_DAYS, REREVIEW_DAYS, add_working_days

STAGES = {
    Status.CHECKED: ("prereview", "核验", PREREVIEW_DAYS),
    Status.PREREVIEW_PASSED: ("rereview", "复核", REREVIEW_DAYS),
}
STAGE_LABELS = {"prereview": N_("核验"), "rereview": N_("复核")}


@dataclass(frozen=True, slots=True)
class QueueItem:
    id: str
    company: str
    scheme: str
    kind: str
    status: str
    verdict: str | None
    round: int
    stage: str
    """``prereview`` or ``rereview``: the decision it waits for."""
    since: datetime
    due: datetime
    errors: int
    warnings: int
    received_by: str

    @property
    def flagged(self) -> bool:
        return self.verdict == "flagged"

    def overdue(self, now: datetime) -> bool:
        return now > self.due

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS[self.stage]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[Status(self.status)]


def _since(session: Session, app: Application) -> datetime:
    """When the application entered the stage it waits in."""
    if app.status == Status.PREREVIEW_PASSED:
        decided = last_decision_at(session, app, "prereview")
        if decided is not None:
            return decided
    checked = last_event_at(session, app.id, "application.checked")
    return checked if checked is not None else app.updated_at


def item_for(session: Session, app: Application) -> QueueItem | None:
    """The queue entry of an application, or None when it waits for nobody."""
    stage = STAGES.get(Status(app.status))
    if stage is None:
        return None
    name, _, days = stage
    since = _since(session, app)
    severities = Counter(finding_severities(session, app))
    return QueueItem(
        id=app.id,
        company=app.company_name,
        scheme=app.scheme,
        kind=app.kind,
        status=app.status,
        verdict=app.verdict,
        round=app.round,
        stage=name,
        since=since,
        due=add_working_days(since, days),
        errors=severities["error"],
        warnings=severities["warning"],
        received_by=app.received_by,
    )


def review_queue(
    session: Session,
    *,
    stage: str | None = None,
    flagged_only: bool = False,
    overdue_only: bool = False,
    search: str = "",
    now: datetime | None = None,
    viewer: User | None = None,
) -> list[QueueItem]:
    """Waiting applications, flagged first, then the longest waiting; for a ``viewer`` of
    an issuing authority, only what waits for its 核验 (see pipeline.review.scope)."""
    now = now or datetime.now(UTC)
    apps = in_statuses(session, [s.value for s in STAGES])
    if viewer is not None and viewer.organisation is not None:
        apps = [a for a in apps if scope.outside(viewer, a, STAGES[Status(a.status)][0]) is None]
    items = [item for app in apps if (item := item_for(session, app)) is not None]
    needle = search.strip().lower()
    items = [
        i
        for i in items
        if (stage is None or i.stage == stage)
        and (not flagged_only or i.flagged)
        and (not overdue_only or i.overdue(now))
        and (not needle or needle in i.id.lower() or needle in i.company.lower())
    ]
    return sorted(items, key=lambda i: (not i.flagged, i.since, i.id))


def history(session: Session, app_id: str) -> list[dict[str, Any]]:
    """The application's audit entries, oldest first, for the reviewer's page."""
    entries = history_of(session, app_id)
    return [
        {"at": e.at, "actor": e.actor, "action": e.action, "detail": dict(e.detail)}
        for e in entries
    ]


def being_checked(session: Session) -> list[dict[str, Any]]:
    """Applications taken in whose check has not finished (a flow is reading them, or they
    were recorded with --no-check): not yet in anyone's queue, but on its way. Oldest
    first."""
    apps = in_statuses(session, [Status.RECEIVED.value])
    return [
        {"id": a.id, "company": a.company_name, "round": a.round, "since": a.updated_at}
        for a in sorted(apps, key=lambda a: (a.updated_at, a.id))
    ]
