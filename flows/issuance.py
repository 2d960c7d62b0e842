"""The nightly issuance as a Prefect flow: every application approved in both review stages
and not yet issued, each as a task run of its own.

One application's failure is recorded (its issuance stays unfinished and is resumed next
night) and never blocks the rest. Only transient faults (a busy token, a locked database)
are retried, by Prefect, with a delay; ``issue_in_batch`` records every other failure
itself. The night's summary (issued, failed and why, orphan tokens, manifest) goes to the
flow's log and to the database (``issue_batches``).

    sealdesk run issuance
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipeline.config import load_settings
from pipeline.issue.batch import (
    Batch,
    close_batch,
    issue_in_batch,
    open_batch,
    pending,
    record_failure,
)
from pipeline.issue.ca import load_ca
from pipeline.workspace import open_workspace

RETRIES = 2


@task(name="issue-application", task_run_name="issue {app_id}", cache_policy=NO_CACHE)
def issue_application(batch: Batch, app_id: str, actor: str) -> str:
    """issued, skipped or failed; raises only a transient fault, for Prefect to retry."""
    return issue_in_batch(batch, app_id, actor, tries=1)


@flow(name="nightly-issuance")
def nightly_issuance(
    home: str | None = None,
    actor: str = "nightly",
    limit: int | None = None,
    retry_delay_seconds: float = 60.0,
) -> dict[str, Any]:
    logger = get_run_logger()
    settings = load_settings(Path(home) if home else None)
    workspace = open_workspace(settings)
    ca = load_ca(settings)
    batch = open_batch(workspace, ca, actor=actor)
    for orphan in batch.summary.orphans:
        logger.warning(
            "orphan token %s (%s): %s", orphan.token_label, orphan.token_serial, orphan.why
        )
    todo = pending(workspace)
    issue = issue_application.with_options(retries=RETRIES, retry_delay_seconds=retry_delay_seconds)
    for app_id in todo[:limit] if limit else todo:
        state = issue(batch, app_id, actor, return_state=True)
        if state.is_failed():
            why = state.message or "failed after retries"
            record_failure(
                batch, app_id, f"transient fault outlasted {RETRIES} retries: {why}", actor
            )
    summary = close_batch(batch, actor)
    logger.info(
        "batch %s: %d issued, %d failed, %d already issued, manifest %s",
        summary.batch_id,
        len(summary.issued),
        len(summary.failed),
        len(summary.skipped),
        summary.manifest,
    )
    for app_id, why in summary.failed.items():
        logger.error("%s not issued: %s", app_id, why)
    workspace.db.engine.dispose()
    return summary.to_json()
