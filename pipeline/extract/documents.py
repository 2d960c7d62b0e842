"""Pages into documents, and files into pages, for ``sealdesk extract`` and the check.

A mailed envelope in one PDF becomes several documents; the blank back of a duplex-scanned
sheet joins the document before it; the two sides of an ID card scanned on two pages
become one document.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from pipeline.config import IngestLimits
from pipeline.extract.engines import make_engine
from pipeline.extract.ocr import OcrEngine
from pipeline.extract.page import PageExtraction, extract_page
from pipeline.extract.seals.impression import cut_like
from pipeline.extract.seals.read import (
    SameSeal,
    SameSealFit,
    Seal,
    place_name,
    plain_form,
    weigh_cut,
)
from pipeline.extract.stored import load_page
from pipeline.ingest import InvalidFile
from pipeline.ingest.isolate import Opened, open_into
from pipeline.model.names import fits_where_clear, judge, open_to_a_twin
from pipeline.model.progress import PAGES, Progress, silent
from pipeline.model.report import DocumentEntry

log = logging.getLogger(__name__)

ID_FRONT = {"name", "id_number", "birth_date"}
ID_BACK = {"valid_from", "valid_to", "issuing_authority"}


@dataclass(frozen=True, slots=True)
class PageRef:
    source: str
    index: int
    """0-based page within ``source``."""
    result: PageExtraction | None
    problem: str | None = None
    rendered: bool = True
    """False when the page could not even be rendered (intake has reported that already)."""


def group_documents(pages: list[PageRef]) -> list[list[PageRef]]:
    groups: list[list[PageRef]] = []
    for page in pages:
        result = page.result
        previous = groups[-1] if groups else None
        same_file = previous is not None and previous[-1].source == page.source
        if result is not None and same_file and previous is not None:
            last = previous[-1].result
            if result.blank or (last is not None and _other_side(last, result)):
                previous.append(page)
                continue
        groups.append([page])
    return groups


READ_SURELY = 0.9
"""A seal read as the name at this confidence or above can show where a faint impression of
it has the name."""


READERS = 3
"""At most this many of the application's clear impressions (the surest reads first) are
laid beside a seal not read as the name, until one fits it: each costs the recogniser
0.5 s to place and weigh (1.4 s for a name with brackets)."""


def compare_impressions(
    pages: list[PageRef],
    engine_name: str = "rapidocr",
    engine_here: Callable[[str], OcrEngine] | None = None,
) -> list[PageRef]:
    """The pages (of one application), each company seal whose read leaves a name it was
    weighed against in doubt (see :func:`_in_doubt`) weighed again where the application's
    seals read as that name (surely) have it
    (see pipeline.extract.seals.impression): one seal pressed on every page, a dry press on
    one of them is read at the places a clear one shows. Recorded on it (``Seal.same_seal``):
    the first weighing that fits (see pipeline.model.names.fits_where_clear), else the
    nearest. The engine is loaded only when there is such a seal to weigh: this process's
    page engine if it reads pages, else ``engine_here(engine_name)`` (a pool worker's own),
    else a new one."""
    readers: dict[str, list[tuple[PageRef, Seal]]] = {}
    for page in pages:
        for seal in page.result.seals if page.result is not None else ():
            for name, _ in seal.checks:
                clear = plain_form(seal.text) == plain_form(name)
                if clear and seal.owner == "company" and seal.confidence >= READ_SURELY:
                    readers.setdefault(name, []).append((page, seal))
    if not readers:
        return pages
    engine: list[OcrEngine] = []
    placed: dict[tuple[int, str], tuple[float, ...] | None] = {}

    def loaded() -> OcrEngine:
        if not engine:
            here = _WORKER_ENGINE  # pages read in this process: its engine is loaded
            if here is None and engine_here is not None:
                here = engine_here(engine_name)
            engine.append(here if here is not None else make_engine(engine_name, threads=1))
        return engine[0]

    def weigh(reader: Seal, name: str, seal: Seal) -> SameSealFit | None:
        if reader.impression is None or seal.impression is None:
            return None
        key = (id(reader), name)
        if key not in placed:
            placed[key] = place_name(loaded(), reader.impression, name)
        edges = placed[key]
        cut = cut_like(reader.impression, edges, seal.impression) if edges else None
        return weigh_cut(loaded(), cut, name) if cut is not None else None

    def weigh_safely(reader: Seal, name: str, seal: Seal) -> SameSealFit | None:
        # a second look that only ever settles doubt: if it fails, the seal keeps its
        # doubt (a warning) and the application's report is still made
        try:
            return weigh(reader, name, seal)
        except Exception:
            log.warning("seal impressions not compared: the seal stays in doubt", exc_info=True)
            return None

    compared = []
    for page in pages:
        result = page.result
        if result is None or not result.seals:
            compared.append(page)
            continue
        seals = tuple(_compared(seal, readers, weigh_safely) for seal in result.seals)
        compared.append(replace(page, result=replace(result, seals=seals)))
    return compared


def _compared(
    seal: Seal,
    readers: dict[str, list[tuple[PageRef, Seal]]],
    weigh: Callable[[Seal, str, Seal], SameSealFit | None],
) -> Seal:
    found = []
    for name in _doubted(seal):
        best: SameSeal | None = None
        surest = sorted(readers.get(name, []), key=lambda r: -r[1].confidence)[:READERS]
        for page, reader in surest:
            fit = weigh(reader, name, seal)
            if fit is None or fit[0] is None:
                continue
            weighed = SameSeal(page.source, page.index + 1, fit[0], fit[1])
            if fits_where_clear(name, *fit):
                best = weighed
                break  # settled: the next impressions could only say so again
            if best is None or best.disagreement is None or fit[0] < best.disagreement:
                best = weighed
        if best is not None:
            found.append((name, best))
    return replace(seal, same_seal=tuple(found)) if found else seal


def _doubted(seal: Seal) -> list[str]:
    """The names a company seal with an impression was weighed against, not read as them,
    that its read leaves in doubt (see :func:`_in_doubt`): what a clear impression may
    settle."""
    if seal.owner != "company" or seal.impression is None:
        return []
    return [
        name
        for name, _ in seal.checks
        if plain_form(seal.text) != plain_form(name) and _in_doubt(seal, name)
    ]


def _worth_comparing(pages: list[PageRef]) -> bool:
    """Whether any seal of the pages is left in doubt (see :func:`_doubted`)."""
    return any(
        _doubted(seal) for page in pages for seal in (page.result.seals if page.result else ())
    )


def _in_doubt(seal: Seal, name: str) -> bool:
    """Whether the seal's own read leaves ``name`` in doubt that a clear impression may
    settle, as validation judges it (see pipeline.validate.rules.seals); a read that fits,
    or surely differs, or holds characters the name lacks, stands as it is."""
    verdict = judge(
        name,
        seal.text or None,
        seal.confidence,
        dict(seal.checks).get(name),
        rim=True,
        worn=seal.worn,
        by_character=dict(seal.by_character).get(name),
    )
    return open_to_a_twin(verdict, name)


def _other_side(first: PageExtraction, second: PageExtraction) -> bool:
    if first.kind != "id_card_copy" or second.kind != "id_card_copy":
        return False
    a, b = set(first.fields), set(second.fields)
    return (a >= ID_FRONT and not b & ID_FRONT) or (b >= ID_FRONT and not a & ID_FRONT)


def document_entry(group: list[PageRef]) -> DocumentEntry:
    results = [p.result for p in group if p.result is not None]
    main = max(results, key=lambda r: (not r.blank, len(r.fields)), default=None)
    fields: dict[str, Any] = {}
    notes: dict[str, Any] = {}
    for result in results:
        for key, value in result.fields.items():
            fields.setdefault(key, value)
        for key, value in result.notes.items():
            notes.setdefault(key, {**value, "page": group[0].index + 1 + results.index(result)})
    seals = tuple(
        {**s.to_json(), "page": group[0].index + 1 + i}
        for i, r in enumerate(results)
        for s in r.seals
    )
    return DocumentEntry(
        source=group[0].source,
        page=group[0].index + 1,
        kind=main.kind if main else "other",
        confidence=main.confidence if main else 0.0,
        fields=fields,
        seals=seals,
        pages=len(group),
        field_notes=notes,
        rotation=[r.rotation for r in results],
    )


_WORKER_ENGINE: OcrEngine | None = None


MMAP_THRESHOLD = 4 * 1024 * 1024
"""Measured on 4 pages in one worker and on the 50-page scan with 2 workers: 128 kB (glibc's
fixed value once the trim threshold is set): 13.5 s, 888 MB at peak; 4 MB: 7.6 s, 980-992 MB;
16 MB: 6.6 s, 1119 MB (over the 1 GB target); no tuning at all: 6.6 s, more still."""


def return_memory_early() -> None:
    """Have glibc keep two malloc arenas, not one per thread, and hand freed memory back
    once 1 MB is free: page after page of 26 MB images and ONNX Runtime's variable-sized
    buffers left a worker at 400 MB resident and 520 MB at peak; with this, 195 and 385.

    Setting the trim threshold also freezes glibc's mmap threshold at 128 kB, and then
    every ONNX Runtime buffer over that was a fresh mmap, zeroed page by page: a worker's
    first page took 5.1 s instead of 2.0, and the next ones 20-60 % longer. Buffers up to
    ``MMAP_THRESHOLD`` come from the heap again."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8
    libc.mallopt(m_arena_max, 2)
    libc.mallopt(m_trim_threshold, 1024 * 1024)
    libc.mallopt(m_mmap_threshold, MMAP_THRESHOLD)


WORKER_MEMORY = 4 * 2**30
"""Address space a page-reading worker may take: one reads a page in 400 MB resident, about
1.1 GB of address space with ONNX Runtime's reservations; a page that would need more than
this fails alone (the pages are our own 300-dpi renderings, so none should)."""


def limit_worker_memory() -> None:
    """Hold this (worker) process to ``WORKER_MEMORY``: a runaway read fails with a
    MemoryError for its page instead of taking the machine's memory from the others."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft > WORKER_MEMORY:
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, hard))


def leave_with_parent() -> None:
    """End this (worker) process when its parent is gone. A worker left behind by a parent
    that was killed (a flow run cancelled, a runner stopped) would otherwise wait on its task
    queue for ever, holding its engine's memory and whatever its parent's stdio were."""
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="leave-with-parent", daemon=True).start()


def prepare_worker_process() -> None:
    """One page at a time per process, each library single-threaded (the processes are the
    parallelism: Tesseract with OpenMP threads ran 6x slower on 2 cores), memory handed
    back between pages."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    return_memory_early()
    import cv2

    cv2.setNumThreads(1)


def _init_worker(engine_name: str, own_process: bool = True) -> None:
    global _WORKER_ENGINE
    prepare_worker_process()
    if own_process:
        limit_worker_memory()
        leave_with_parent()
    _WORKER_ENGINE = make_engine(engine_name, threads=1)


@dataclass(frozen=True, slots=True)
class Job:
    """One page to read: a worker loads only the page it reads."""

    source: str
    """The file's name."""
    index: int
    """0-based page."""
    png: Path | None
    """The page as the isolated reader rendered it; None: see ``problem``."""
    problem: str | None
    expect: tuple[str, ...] = ()
    """Company names to weigh seals and name lines against."""
    people: tuple[str, ...] = ()
    """People to weigh ID card and letter names against."""


def _extract_in_worker(job: Job) -> PageRef:
    assert _WORKER_ENGINE is not None
    if job.png is None:
        return PageRef(job.source, job.index, None, job.problem, rendered=False)
    try:
        page = extract_page(load_page(job.png), _WORKER_ENGINE, job.expect, people=job.people)
        return PageRef(job.source, job.index, page)
    except Exception as exc:  # one page's failure is that page's problem
        log.exception("extraction failed on %s page %d", job.source, job.index + 1)
        return PageRef(job.source, job.index, None, f"extraction failed: {exc!r}")


def extract_paths(
    files: Iterable[tuple[str, Path]],
    limits: IngestLimits,
    engine_name: str = "rapidocr",
    workers: int = 1,
    expect: tuple[str, ...] | Mapping[str, tuple[str, ...]] = (),
    people: tuple[str, ...] | Mapping[str, tuple[str, ...]] = (),
) -> tuple[list[PageRef], dict[str, str]]:
    """Every page of every (name, path) file, read, pages in parallel over ``workers``
    processes; files that cannot be opened come back as problems, by name. ``expect``:
    the names each page's seals and name lines are weighed against, ``people`` the people
    its ID card and letter names are (each for all files, or by file name). Files are
    opened and rendered by the isolated reader (see ``pipeline.ingest.isolate``),
    ``workers`` at a time."""
    files = list(files)
    problems: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="sealdesk-extract-") as scratch:

        def open_one(numbered: tuple[int, tuple[str, Path]]) -> Opened | InvalidFile:
            number, (_, path) = numbered
            try:
                return open_into(path, limits, Path(scratch) / str(number))
            except InvalidFile as bad:
                return bad

        def jobs_of(name: str, opened: Opened | InvalidFile) -> list[Job]:
            if isinstance(opened, InvalidFile):
                problems[name] = opened.message
                return []
            names = expect.get(name, ()) if isinstance(expect, Mapping) else expect
            who = people.get(name, ()) if isinstance(people, Mapping) else people
            return [Job(name, p.index, p.png, p.problem, names, who) for p in opened.pages]

        numbered = list(enumerate(files))
        if workers <= 1:
            jobs = [job for item in numbered for job in jobs_of(item[1][0], open_one(item))]
            return read_pages(jobs, engine_name, 1), problems
        # a file's pages are read as soon as it is rendered, while the next ones render
        with ThreadPoolExecutor(workers) as openers, _page_workers(engine_name, workers) as pool:
            pending = [
                pool.submit(_extract_in_worker, job)
                for (_, (name, _)), opened in zip(
                    numbered, openers.map(open_one, numbered), strict=True
                )
                for job in jobs_of(name, opened)
            ]
            refs = [future.result() for future in pending]
    return refs, problems


class PageReaders:
    """Page-reading worker processes started ahead of the pages, their engines loading
    while the command does other work (taking the files in, rendering them): a check of a
    few pages otherwise waited a second or two for each worker's models before its first
    page. The comparison of impressions runs in one of them too, where the engine is
    already loaded. A context manager; the workers end with it."""

    def __init__(self, engine_name: str, workers: int) -> None:
        self.engine_name = engine_name
        self.workers = max(1, workers)
        self._pool = _page_workers(engine_name, self.workers)
        # one task per worker makes the executor start them all now, each loading its
        # engine in its initializer; nothing waits for these
        for _ in range(self.workers):
            self._pool.submit(_ready)

    def __enter__(self) -> PageReaders:
        return self

    def __exit__(self, *_: object) -> None:
        self._pool.shutdown(cancel_futures=True)

    def read(self, jobs: list[Job], progress: Progress = silent) -> list[PageRef]:
        futures = {self._pool.submit(_extract_in_worker, job): i for i, job in enumerate(jobs)}
        done: dict[int, PageRef] = {}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            progress(PAGES, len(done), len(jobs))
        return [done[i] for i in range(len(jobs))]

    def compare(self, refs: list[PageRef]) -> list[PageRef]:
        return self._pool.submit(compare_impressions, refs, self.engine_name).result()


class Compares(Protocol):
    """Where an application's seal impressions are compared (see compare_impressions):
    page workers whose engines are loaded already."""

    def compare(self, refs: list[PageRef]) -> list[PageRef]: ...


def _ready() -> bool:
    return _WORKER_ENGINE is not None


def read_pages(
    jobs: list[Job],
    engine_name: str = "rapidocr",
    workers: int = 1,
    progress: Progress = silent,
    pool: PageReaders | None = None,
) -> list[PageRef]:
    """Read rendered pages (see ``Job``), in parallel over ``workers`` processes (or in
    ``pool``, already started), in their order; ``progress`` hears of each page as it is
    done."""
    total = len(jobs)
    progress(PAGES, 0, total)
    if pool is not None:
        return pool.read(jobs, progress)
    if workers <= 1 or total <= 1:
        _init_worker(engine_name, own_process=False)
        refs = []
        for job in jobs:
            refs.append(_extract_in_worker(job))
            progress(PAGES, len(refs), total)
        return refs
    with PageReaders(engine_name, min(workers, total)) as started:
        return started.read(jobs, progress)


def _page_workers(engine_name: str, workers: int) -> ProcessPoolExecutor:
    # spawn, not fork: a parent that already ran ONNX Runtime has threads whose locks a
    # forked child inherits held, and the child waits on them forever
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(engine_name,),
    )


def documents_of(
    refs: list[PageRef], engine_name: str = "rapidocr", pool: Compares | None = None
) -> tuple[list[DocumentEntry], list[tuple[str, int, str]]]:
    """The documents the read pages (of one application) form, and (file, 1-based page, why)
    for each page that could not be read; ``engine_name``: the engine that read them, in
    ``pool`` if given (the impressions are compared there, when a seal is in doubt)."""
    failures = [
        (r.source, r.index + 1, r.problem)
        for r in refs
        if r.result is None and r.problem and r.rendered
    ]
    return packet_documents(refs, engine_name, pool), failures


def packet_documents(
    refs: list[PageRef], engine_name: str = "rapidocr", pool: Compares | None = None
) -> list[DocumentEntry]:
    """The documents an application's read pages form, its seals compared with each other
    (see :func:`compare_impressions`): in ``pool`` if given, when a seal is in doubt, else
    in this process."""
    if pool is None:
        compared = compare_impressions(refs, engine_name)
    else:
        compared = pool.compare(refs) if _worth_comparing(refs) else refs
    return [document_entry(g) for g in group_documents(compared)]


def extract_documents(
    files: list[tuple[str, Path]],
    limits: IngestLimits,
    engine_name: str = "rapidocr",
    workers: int = 1,
    expect: tuple[str, ...] = (),
    people: tuple[str, ...] = (),
) -> tuple[list[DocumentEntry], dict[str, str]]:
    refs, problems = extract_paths(files, limits, engine_name, workers, expect, people)
    return packet_documents(refs, engine_name), problems
