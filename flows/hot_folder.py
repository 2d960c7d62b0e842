"""The hot folder as a Prefect flow: each settled file or folder in the workspace's
``inbox/`` (the scanner's output folder) is received as a mail batch, taken out of the
inbox once stored, then routed and taken in like any mail (the mailroom flow).

One entry failing (a full disk while storing) leaves it in the inbox for the next run and
does not stop the others. ``sealdesk serve`` runs this every few minutes.

    sealdesk run hot-folder
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.mailroom import mailroom
from flows.runtime import LOCAL, task_runner
from pipeline.config import load_settings
from pipeline.mail.inbox import clear_taken, inbox_lock, inbox_of, ready_entries
from pipeline.mail.mailroom import ReceivedBatch, receive_batch
from pipeline.workspace import Workspace, open_workspace

SETTLE_SECONDS = 30.0
"""How long nothing in an entry may have changed before it is taken: a scanner writing a
long batch over the network pauses between pages."""


@task(name="receive-from-inbox", cache_policy=NO_CACHE)
def receive(workspace: Workspace, entry: Path, actor: str) -> ReceivedBatch:
    return receive_batch(workspace, [entry], actor, source=f"inbox/{entry.name}")


@flow(name="hot-folder")
def hot_folder(
    home: str | None = None,
    actor: str = "scanner",
    settle_seconds: float = SETTLE_SECONDS,
    today: str | None = None,
    runner: str = LOCAL,
    workers: int | None = None,
) -> dict[str, Any]:
    logger = get_run_logger()
    settings = load_settings(Path(home) if home else None)
    workspace = open_workspace(settings)
    inbox = inbox_of(workspace)
    taken: dict[str, Any] = {}
    with inbox_lock(workspace) as mine:
        if not mine:
            logger.info("another pickup holds the inbox; nothing taken by this run")
            return {"taken": {}, "skipped": "inbox busy"}
        entries = ready_entries(inbox, settle_seconds)
        received = []
        for entry in entries:
            state = receive(workspace, entry, actor, return_state=True)
            if not state.is_completed():
                logger.error("%s stays in the inbox: %s", entry.name, state.message)
                taken[entry.name] = {"failed": state.message}
                continue
            batch = state.result()
            taken[entry.name] = {
                "batch": batch.batch_id,
                "files": clear_taken(workspace, entry, batch),
            }
            received.append((entry.name, batch))
    size = workers or settings.extract.workers
    route = mailroom.with_options(task_runner=task_runner(runner, size))
    for name, batch in received:
        if not batch.pages:
            continue
        routed = route(
            batch_id=batch.batch_id,
            home=str(settings.home),
            actor=actor,
            today=today,
            runner=runner,
            workers=workers,
            return_state=True,
        )
        taken[name]["mailroom"] = (
            routed.result() if routed.is_completed() else {"failed": routed.message}
        )
    logger.info("inbox: %d entr%s taken", len(taken), "y" if len(taken) == 1 else "ies")
    workspace.db.engine.dispose()
    return {"taken": taken}
