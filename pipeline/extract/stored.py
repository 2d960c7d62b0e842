"""Reading the page images intake stored, one page at a time: what the flows run per page.

A page is known by the sha256 of its stored PNG, so its reading can be cached by content:
the same page sent again (a resubmission, the mailroom's split of a batch scan, a rerun)
is not read again unless the extraction code or the names it is weighed against changed
(``reading_key``).

Pages are read in worker processes that keep their OCR engine between pages
(``PagePool``): loading RapidOCR's models costs a second or more, a page about as much.
On a Dask worker the page is read in that worker's own process (``read_here``), with the
engine kept the same way.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image

from pipeline.extract.ocr import OcrEngine
from pipeline.extract.page import PageExtraction, extract_page

T = TypeVar("T")
_ENGINES: dict[str, OcrEngine] = {}
_ENGINE_LOCK = threading.Lock()


@cache
def code_version() -> str:
    """A digest of the extraction code and its engines' settings: a cached reading made by
    other code is not used."""
    digest = hashlib.sha256()
    root = resources.files("pipeline.extract")
    for path in sorted(Path(str(root)).rglob("*.py")):
        digest.update(path.relative_to(Path(str(root))).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def reading_key(
    purpose: str,
    image_sha256: str,
    engine: str,
    expect: tuple[str, ...],
    people: tuple[str, ...] = (),
) -> str:
    """The cache key of a page's reading: what it is read for (``page``: everything;
    ``route``: the mailroom's read), its pixels (the stored PNG's sha256), the engine, the
    names and people it is weighed against, and the code."""
    weighed = "\x1f".join(expect) + ("\x1e" + "\x1f".join(people) if people else "")
    names = hashlib.sha256(weighed.encode("utf-8")).hexdigest()[:16]
    return f"{purpose}-{image_sha256}-{engine}-{names}-{code_version()}"


def engine_here(name: str) -> OcrEngine:
    """This process's engine of that name, made once: single-threaded OCR (processes give
    the parallelism), glibc told to hand memory back (see documents.return_memory_early)."""
    with _ENGINE_LOCK:
        if name not in _ENGINES:
            from pipeline.extract.documents import prepare_worker_process

            prepare_worker_process()
            from pipeline.extract.engines import make_engine

            _ENGINES[name] = make_engine(name, threads=1)
        return _ENGINES[name]


def compare_here(refs: list[Any], engine: str) -> list[Any]:
    """An application's read pages, its seal impressions compared (see
    documents.compare_impressions) with this process's engine; the engine's name last, as a
    PagePool hands it."""
    from pipeline.extract.documents import compare_impressions

    return compare_impressions(refs, engine, engine_here)


def load_page(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def read_here(
    path: str, expect: tuple[str, ...], people: tuple[str, ...], engine: str
) -> PageExtraction:
    """Read one stored page image in this process (see extract_page for ``expect`` and
    ``people``); the engine's name last, as a PagePool hands it."""
    return extract_page(
        load_page(Path(path)), engine_here(engine), tuple(expect), people=tuple(people)
    )


def _pool_worker() -> None:
    from pipeline.extract.documents import leave_with_parent, limit_worker_memory

    limit_worker_memory()
    leave_with_parent()
    _own_stdio()


def _own_stdio() -> None:
    """Standard input, output and error on /dev/null: the worker's results and errors go
    back through its futures, and the stdio it inherited are the flow run's, whose reader
    (Prefect's runner) waits for every holder to close them before it counts the run
    finished."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


_POOLS: dict[tuple[str, int], PagePool] = {}
_POOLS_LOCK = threading.Lock()


class PagePool:
    """Worker processes that read pages and keep their engines between them; one per
    (engine, size), shared by every flow run in this process (``shared``)."""

    def __init__(self, engine: str, workers: int) -> None:
        self.engine = engine
        self.workers = workers
        # spawn, not fork: a parent that already ran ONNX Runtime has threads whose locks a
        # forked child inherits held, and the child waits on them forever
        self._executor = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=_pool_worker
        )

    @staticmethod
    def shared(engine: str, workers: int) -> PagePool:
        with _POOLS_LOCK:
            pool = _POOLS.get((engine, workers))
            if pool is None or pool.broken:  # a worker died (killed, out of memory): afresh
                pool = _POOLS[(engine, workers)] = PagePool(engine, workers)
            return pool

    @property
    def broken(self) -> bool:
        return bool(getattr(self._executor, "_broken", False))

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """``fn(*args)`` in a worker; ``fn`` takes the engine's name as its last argument."""
        return self._executor.submit(fn, *args, self.engine)

    @staticmethod
    def shutdown_all() -> None:
        with _POOLS_LOCK:
            for pool in _POOLS.values():
                pool._executor.shutdown(cancel_futures=True)
            _POOLS.clear()
