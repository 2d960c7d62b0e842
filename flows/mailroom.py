"""The mailroom as a Prefect flow: a batch scan of mailed envelopes (one PDF, or a folder of
the scanner's images) split into applications, each routed application then taken in by
the intake flow.

Each page gets a routing read (its task run, cached by content; the form's QR code first,
so most forms need no OCR). ``pipeline.mail.route`` decides where each page goes; pages no
rule can route wait in the exception queue (``sealdesk mail unrouted``) for intake staff
(``sealdesk mail assign``). One application's intake failing does not stop the others.

    sealdesk run mailroom SCAN.pdf|FOLDER... [--batch ID]
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.intake import intake, side_by_side
from flows.pages import ROUTE, read_all
from flows.runtime import (
    LOCAL,
    check_paths,
    dask_cluster,
    page_cache,
    reads_here,
    task_runner,
)
from pipeline.config import load_settings
from pipeline.mail.mailroom import (
    Delivery,
    ReceivedBatch,
    known_applications,
    load_batch,
    receive_batch,
    route_batch,
)
from pipeline.mail.route import UNROUTED, Route, plan_routes
from pipeline.workspace import Workspace, open_workspace


@task(name="receive-batch", cache_policy=NO_CACHE)
def receive(
    workspace: Workspace, paths: list[Path], actor: str, source: str | None
) -> ReceivedBatch:
    return receive_batch(workspace, paths, actor, source)


@task(name="route-batch", cache_policy=NO_CACHE)
def route(
    workspace: Workspace, batch: ReceivedBatch, reads: list[Any], actor: str
) -> tuple[list[Route], list[Delivery]]:
    routes = plan_routes(reads, known_applications(workspace))
    return routes, route_batch(workspace, batch, reads, routes, actor)


@flow(name="mailroom")
def mailroom(
    paths: list[str] | None = None,
    batch_id: str | None = None,
    home: str | None = None,
    actor: str = "mailroom",
    source: str | None = None,
    today: str | None = None,
    runner: str = LOCAL,
    workers: int | None = None,
) -> dict[str, Any]:
    """``paths``: the batch's files or folder; or ``batch_id``: a batch already received
    (the hot folder's, or one whose routing was cut short) whose unrouted pages are routed."""
    started = time.perf_counter()
    logger = get_run_logger()
    settings = load_settings(Path(home) if home else None)
    workspace = open_workspace(settings)
    if batch_id is not None:
        batch = load_batch(workspace, batch_id)
    elif paths:
        batch = receive(workspace, check_paths(paths), actor, source)
    else:
        raise ValueError("the mailroom needs the batch's files or a received batch's id")
    for entry in batch.files:
        if entry.get("problem"):
            logger.warning("%s: %s", entry["name"], entry["problem"])
    readable = [(p.file_name, p.page_index, p.image_sha256) for p in batch.pages if p.image_sha256]
    page_workers = workers or settings.extract.workers
    readings = read_all(
        readable,
        workspace.store,
        ROUTE,
        settings.extract.engine,
        (),
        0 if reads_here(runner) else page_workers,
        page_cache(workspace),
    )
    by_position = dict(
        zip((p.position for p in batch.pages if p.image_sha256), readings, strict=True)
    )
    reads = [
        by_position[p.position].result if p.position in by_position else None for p in batch.pages
    ]
    routes, deliveries = route(workspace, batch, reads, actor)
    unrouted = [r for r in routes if r.state == UNROUTED]
    for page, why in (
        (p, r.how) for p, r in zip(batch.pages, routes, strict=True) if r.state == UNROUTED
    ):
        logger.warning(
            "%s p.%d to the exception queue: %s", page.file_name, page.page_index + 1, why
        )
    runner_of_intake = intake.with_options(task_runner=task_runner(runner, page_workers))
    states = side_by_side(
        runner_of_intake,
        [
            {
                "files": [str(f) for f in delivery.files],
                "application_id": delivery.application_id,
                "home": str(settings.home),
                "actor": actor,
                "today": today,
                "runner": runner,
                "workers": workers,
            }
            for delivery in deliveries
        ],
        concurrency=page_workers,
    )
    intakes: dict[str, Any] = {}
    for delivery, state in zip(deliveries, states, strict=True):
        if state.is_completed():
            intakes[delivery.application_id] = state.result()
        else:
            why = state.message or "intake failed"
            logger.error("%s: intake failed: %s", delivery.application_id, why)
            intakes[delivery.application_id] = {"failed": why}
    summary = {
        "batch_id": batch.batch_id,
        "files": list(batch.files),
        "pages": len(batch.pages),
        "applications": {d.application_id: d.pages for d in deliveries},
        "unrouted": len(unrouted),
        "intake": intakes,
        "seconds": round(time.perf_counter() - started, 3),
    }
    logger.info(
        "batch %s: %d page(s) to %d application(s), %d in the exception queue",
        batch.batch_id,
        len(batch.pages) - len(unrouted),
        len(deliveries),
        len(unrouted),
    )
    workspace.db.engine.dispose()
    return summary


def run_mailroom(
    paths: list[str] | None = None,
    batch_id: str | None = None,
    *,
    runner: str = LOCAL,
    workers: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    home = options.get("home")
    size = workers or load_settings(Path(home) if home else None).extract.workers
    with dask_cluster(runner, size) as address:
        chosen = mailroom.with_options(task_runner=task_runner(address, size))
        result: dict[str, Any] = chosen(paths, batch_id, runner=address, workers=workers, **options)
    return result
