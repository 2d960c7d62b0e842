"""What every flow needs around it: the Prefect API (a server's, or a temporary one that
this process and its workers share), where page readings are cached, and where pages are
read (this machine's worker processes, or a Dask cluster).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from prefect.serializers import PickleSerializer, Serializer
from prefect.settings import PREFECT_API_URL, temporary_settings
from pydantic import Field

from pipeline.config import load_settings
from pipeline.errors import ConfigError, WorkspaceError
from pipeline.records import protect
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


class SealedPickle(Serializer):  # not Serializer[Any]: a parametrised base has no dispatch key
    """Cached page readings sealed with the workspace's field key (AES-GCM, a fresh nonce
    each), as the database seals ID numbers (``pipeline.records.protect``): a reading of an
    ID card copy holds the number, and the cache is a folder of files anyone with the disk
    can open. Every process that reads the cache needs the same key (the workspace's
    ``field-key`` file, or ``SEALDESK_FIELD_KEY``)."""

    type: str = Field(default="sealdesk/sealed-pickle", frozen=True)
    home: str
    key_id: str = ""
    """Which key sealed it (part of the cache key: another key misses the cache)."""

    def _cipher(self) -> AESGCM:
        home = Path(self.home)
        return AESGCM(protect.load_field_key(home, load_settings(home).field_key))

    def dumps(self, obj: Any) -> bytes:
        nonce = secrets.token_bytes(12)
        pickled = PickleSerializer().dumps(obj)
        sealed = nonce + self._cipher().encrypt(nonce, pickled, None)
        return base64.encodebytes(sealed)

    def loads(self, blob: bytes) -> Any:
        raw = base64.decodebytes(blob)
        try:
            plain = self._cipher().decrypt(raw[:12], raw[12:], None)
        except InvalidTag:
            raise WorkspaceError(
                "a cached page reading was sealed with another field key; run again with "
                "--reread, or clear the workspace's cache/flows folder"
            ) from None
        return PickleSerializer().loads(plain)


@dataclass(frozen=True, slots=True)
class PageCache:
    """Where page readings are cached (a Prefect storage block) and how they are sealed."""

    storage: str
    serializer: SealedPickle


def page_cache(workspace: Workspace) -> PageCache:
    """The Prefect storage block that keeps this workspace's cached page readings in its
    ``cache/`` folder (saved to the Prefect server once per process and server), sealed
    with the workspace's field key. Readings cached before they were sealed are deleted
    the first time (they are only a cache, and they hold ID numbers in the clear)."""
    from prefect.filesystems import LocalFileSystem

    folder = workspace.settings.home / "cache" / "flows"
    name = "sealdesk-" + hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    with _SAVED_LOCK:
        if (name, str(PREFECT_API_URL.value())) not in _SAVED:
            folder.mkdir(parents=True, exist_ok=True)
            _drop_unsealed(folder)
            LocalFileSystem(basepath=str(folder)).save(name, overwrite=True)
            _SAVED.add((name, str(PREFECT_API_URL.value())))
    key = protect.load_field_key(workspace.settings.home, workspace.settings.field_key)
    key_id = hashlib.sha256(b"sealdesk page cache\0" + key).hexdigest()[:16]
    serializer = SealedPickle(home=str(workspace.settings.home), key_id=key_id)
    return PageCache(f"local-file-system/{name}", serializer)


_SEALED_MARK = b'"serializer":{"type":"sealdesk/sealed-pickle"'


def _drop_unsealed(folder: Path) -> None:
    """Delete the readings not sealed; not one written in the last minute (another process
    may be writing it: its head may not be on disk yet)."""
    settled = time.time() - 60
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < settled:
            with path.open("rb") as head:
                if _SEALED_MARK not in head.read(1024):
                    path.unlink(missing_ok=True)


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
