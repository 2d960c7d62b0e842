"""``sealdesk run``, ``mail`` and ``serve``: the Prefect flows from the command line, the
mailroom's exception queue, and everything a site runs on one machine.

Without ``serve`` (or a site's Prefect server in ``PREFECT_API_URL``), ``run`` starts a
temporary local Prefect server for the run (Prefect's ephemeral mode; about 10-20 s).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline.records.users import Role
from pipeline.review.calendar import MINUTE, beijing
from sealdesk.context import acting_as as _as
from sealdesk.context import current as _ctx

if TYPE_CHECKING:
    pass

RUNNER_HELP = (
    "Where pages are read: local (this machine's page workers), dask (a temporary local "
    "Dask cluster), or a Dask scheduler's address tcp://HOST:PORT."
)


def _in_prefect(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    from flows.runtime import prefect_api

    with prefect_api():
        return run()


def _print(summary: dict[str, Any]) -> None:
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2, default=str))


runner_option = click.option("--task-runner", "runner", default="local", help=RUNNER_HELP)
workers_option = click.option(
    "--workers", type=int, default=None, help="Page workers (default: [extract] workers)."
)


@click.group("run")
def run() -> None:
    """Run a flow now (intake, mailroom, hot-folder, issuance), tracked by Prefect."""


@run.command("intake")
@click.argument("application", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--today", help="Check dates against this day (YYYY-MM-DD).")
@click.option("--reread", is_flag=True, help="Read every page again (ignore the cache).")
@runner_option
@workers_option
def run_intake(
    application: Path,
    files: tuple[Path, ...],
    today: str | None,
    reread: bool,
    runner: str,
    workers: int | None,
) -> None:
    """Take in one application: files, pages read in parallel, check, packet, status."""
    from flows.intake import run_intake as flow

    ctx = _ctx()
    summary = _in_prefect(
        lambda: flow(
            [str(f) for f in files],
            str(application),
            runner=runner,
            workers=workers,
            home=str(ctx.settings.home),
            actor=ctx.actor,
            today=today,
            reread=reread,
        )
    )
    _print(summary)


@run.command("mailroom")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, exists=True))
@click.option("--batch", "batch_id", help="Route a batch already received, by its id.")
@click.option("--today", help="Check dates against this day (YYYY-MM-DD).")
@runner_option
@workers_option
def run_mailroom(
    paths: tuple[Path, ...],
    batch_id: str | None,
    today: str | None,
    runner: str,
    workers: int | None,
) -> None:
    """Split a batch scan (PDF files, or a folder of images) into its applications."""
    from flows.mailroom import run_mailroom as flow

    if not paths and not batch_id:
        raise click.UsageError("give the batch's files or folder, or --batch ID")
    ctx = _ctx()
    summary = _in_prefect(
        lambda: flow(
            [str(p) for p in paths] or None,
            batch_id,
            runner=runner,
            workers=workers,
            home=str(ctx.settings.home),
            actor=ctx.actor,
            today=today,
        )
    )
    _print(summary)


@run.command("hot-folder")
@click.option("--settle", type=float, default=None, help="Seconds an entry must be unchanged.")
@workers_option
def run_hot_folder(settle: float | None, workers: int | None) -> None:
    """Take in what the scanner left in the workspace's inbox/."""
    from flows.hot_folder import SETTLE_SECONDS, hot_folder

    ctx = _ctx()
    summary = _in_prefect(
        lambda: hot_folder(
            str(ctx.settings.home),
            settle_seconds=SETTLE_SECONDS if settle is None else settle,
            workers=workers,
        )
    )
    _print(summary)


@run.command("issuance")
@click.option("--limit", type=int, default=None, help="Issue at most this many.")
def run_issuance(limit: int | None) -> None:
    """The nightly issuance, as the flow (retries for transient faults)."""
    from flows.issuance import nightly_issuance

    ctx = _ctx()
    workspace = ctx.workspace()
    actor = _as(workspace, Role.ISSUER, Role.ADMIN)
    summary = _in_prefect(lambda: nightly_issuance(str(ctx.settings.home), actor, limit))
    _print(summary)
    if summary.get("failed"):
        sys.exit(1)


@click.group()
def mail() -> None:
    """The mailroom's exception queue: pages no rule could route."""


@mail.command("unrouted")
@click.option("--json", "as_json", is_flag=True)
def mail_unrouted(as_json: bool) -> None:
    """Pages waiting for a person to say whose they are."""
    from pipeline.mail.mailroom import unrouted_pages

    pages = unrouted_pages(_ctx().workspace())
    if as_json:
        _print({"unrouted": pages})
        return
    if not pages:
        click.echo("the exception queue is empty")
        return
    for page in pages:
        seen = ", ".join(f"{k} {v}" for k, v in page["read"].items())
        click.echo(
            f"{page['page_id']:>6}  {page['batch']}  {page['file']} p.{page['page']}  "
            f"{page['kind'] or '?'}{'  (' + seen + ')' if seen else ''}"
        )
        click.secho(f"        {page['why']}", fg="yellow")
    click.echo(f"\n{len(pages)} page(s). Assign: sealdesk mail assign PAGE_ID... --to APPLICATION")


@mail.command("assign")
@click.argument("page_ids", nargs=-1, type=int, required=True)
@click.option("--to", "application_id", required=True, help="The application they belong to.")
@click.option("--today", help="Check dates against this day (YYYY-MM-DD).")
@click.option("--no-intake", is_flag=True, help="Only file them; take them in later.")
def mail_assign(
    page_ids: tuple[int, ...], application_id: str, today: str | None, no_intake: bool
) -> None:
    """Give pages from the exception queue to an application, then take them in (intake
    flow: read, checked, packet)."""
    from pipeline.mail.mailroom import assign_pages

    ctx = _ctx()
    workspace = ctx.workspace()
    actor = _as(workspace, Role.INTAKE, Role.ADMIN)
    files = assign_pages(workspace, list(page_ids), application_id, actor)
    for path in files:
        click.echo(f"filed   {path}")
    if no_intake:
        return
    from flows.intake import run_intake as flow

    summary = _in_prefect(
        lambda: flow(
            [str(p) for p in files],
            application_id=application_id,
            home=str(ctx.settings.home),
            actor=actor,
            today=today,
        )
    )
    _print(summary)


@mail.command("batches")
@click.option("--limit", type=int, default=20)
def mail_batches(limit: int) -> None:
    """The newest mail batches and where their pages are now."""
    from pipeline.records.mail import batch_applications, newest_batches, page_states

    with _ctx().workspace().session() as session:
        for batch in newest_batches(session, limit):
            states = page_states(session, batch.id)
            names = ", ".join(batch_applications(session, batch.id)) or "-"
            click.echo(
                f"{batch.id}  {beijing(batch.received_at, MINUTE)}  {batch.received_by:<10} "
                f"{sum(states.values())} p.: {states.get('routed', 0)} routed, "
                f"{states.get('unrouted', 0)} unrouted, {states.get('assigned', 0)} assigned, "
                f"{states.get('blank', 0)} blank  → {names}  "
                f"({batch.source})"
            )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The web app's address.")
@click.option("--port", default=8000, show_default=True, type=int, help="The web app's port.")
@click.option("--prefect-port", default=4200, show_default=True, type=int)
@click.option(
    "--hot-folder-minutes", default=5.0, show_default=True, type=float, help="Inbox pickup."
)
@click.option("--issuance-cron", default="0 2 * * *", show_default=True, help="When issuance runs.")
@click.option("--timezone", default="Asia/Shanghai", show_default=True)
def serve(
    host: str,
    port: int,
    prefect_port: int,
    hot_folder_minutes: float,
    issuance_cron: str,
    timezone: str,
) -> None:
    """Everything a site runs on one machine: a Prefect server, the scheduled deployments
    (hot folder, nightly issuance), a runner for them, and the web app. Ctrl-C stops it."""
    from flows.serve import ServeOptions
    from flows.serve import serve as run_site

    options = ServeOptions(host, port, prefect_port, hot_folder_minutes, issuance_cron, timezone)
    run_site(_ctx().settings, options)
