"""What every flow needs around it: the Prefect API (a server's, or a temporary one that
this process and its workers share), where page readings are cached, and where pages are
read (this machine's worker processes, or a Dask cluster).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prefect.settings import PREFECT_API_URL, temporary_settings

from pipeline.errors import ConfigError
from pipeline.workspace import Workspace

LOCAL = "local"
DASK = "dask"


@contextmanager
def prefect_api() -> Iterator[str]:
    """The Prefect API the flows report to: ``PREFECT_API_URL`` when set (``sealdesk
    serve``, a site's server, the test harness); otherwise a temporary local server for as
    long as this runs (Prefect's ephemeral mode). Its address is put in the environment,
    so that worker processes report to the same server instead of each starting one."""
    url = PREFECT_API_URL.value()
    if url:
        before = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = url
        try:
            yield url
        finally:
            if before is None:
                os.environ.pop("PREFECT_API_URL", None)
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        _flush_to(server.api_url)
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


def _flush_to(url: str) -> None:
    """Send the logs and events still queued before the temporary server goes away."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    with temporary_settings({PREFECT_API_URL: url}):
        for service in (APILogWorker, EventsWorker):
            service.drain_all(timeout=10)


_SAVED: set[tuple[str, str]] = set()
_SAVED_LOCK = threading.Lock()


def results_storage(workspace: Workspace) -> str:
    """The Prefect storage block that keeps this workspace's cached page readings in its
    ``cache/`` folder (saved to the Prefect server once per process and server)."""
    from prefect.filesystems import LocalFileSystem

    folder = workspace.settings.home / "cache" / "flows"
    name = "sealdesk-" + hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    with _SAVED_LOCK:
        if (name, str(PREFECT_API_URL.value())) not in _SAVED:
            folder.mkdir(parents=True, exist_ok=True)
            LocalFileSystem(basepath=str(folder)).save(name, overwrite=True)
            _SAVED.add((name, str(PREFECT_API_URL.value())))
    return f"local-file-system/{name}"


def task_runner(spec: str, workers: int) -> Any:
    """``local``: threads that hand pages to this machine's page workers (``workers``
    processes); ``dask``: a temporary local Dask cluster of ``workers`` processes;
    ``tcp://HOST:PORT``: an existing Dask scheduler (its workers need this package, the
    workspace's store and database at the same paths)."""
    from prefect.task_runners import ThreadPoolTaskRunner

    if spec == LOCAL:
        return ThreadPoolTaskRunner(max_workers=max(4, 2 * workers))
    from prefect_dask.task_runners import DaskTaskRunner

    if spec == DASK:
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True}
        )
    if spec.startswith(("tcp://", "tls://")):
        return DaskTaskRunner(address=spec)
    raise ConfigError(
        f"unknown task runner {spec!r}: local, dask, or a Dask scheduler address (tcp://…)"
    )


@contextmanager
def dask_cluster(spec: str, workers: int) -> Iterator[str]:
    """``dask``: a local Dask cluster of ``workers`` single-threaded processes for as long
    as this runs, made once for a flow and its subflows (yields its scheduler's address);
    any other runner as it is."""
    if spec != DASK:
        yield spec
        return
    from distributed import LocalCluster

    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield str(cluster.scheduler_address)


def reads_here(spec: str) -> bool:
    """Whether a page task reads its page in its own process (on a Dask worker) rather
    than handing it to this machine's page workers."""
    return spec != LOCAL


def check_paths(paths: list[str]) -> list[Path]:
    return [Path(p).expanduser().resolve() for p in paths]
