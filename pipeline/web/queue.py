"""The reviewers' queue: the applications waiting for 核验 or 复核, flagged first, then the
longest waiting, with filters; and the next flagged one (keyboard: n)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pipeline.review import queue as review_queue
from pipeline.web.site import Viewer, site

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def queue_page(
    request: Request,
    who: Viewer,
    stage: str = "",
    flagged: str = "",
    overdue: str = "",
    q: str = "",
) -> Response:
    here = site(request)
    user, signed = who
    with here.db() as session:
        items = review_queue.review_queue(
            session,
            stage=stage or None,
            flagged_only=bool(flagged),
            overdue_only=bool(overdue),
            search=q,
            now=datetime.now(UTC),
            viewer=user,
        )
        checking = review_queue.being_checked(session)
    filters = {"stage": stage, "flagged": flagged, "overdue": overdue, "q": q}
    return here.page(
        request, "queue.html", user, signed, items=items, filters=filters, checking=checking
    )


@router.get("/next")
def next_flagged(request: Request, who: Viewer, after: str = "") -> Response:
    """The next flagged application of the queue after ``after``."""
    with site(request).db() as session:
        items = [i for i in review_queue.review_queue(session, viewer=who[0]) if i.flagged]
    ids = [i.id for i in items]
    if not ids:
        return RedirectResponse("/", status_code=303)
    at = ids.index(after) + 1 if after in ids else 0
    return RedirectResponse(f"/applications/{ids[at % len(ids)]}", status_code=303)
