"""The page task both intake and the mailroom run: one page image read, cached by its
content (``pipeline.extract.stored.reading_key``).

A page that cannot be read fails its task; the flow turns that into the page's finding
(intake) or an exception-queue entry (mailroom) and goes on. Failures are not cached, so
the next run tries the page again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prefect import task
from prefect.context import TaskRunContext

from flows.runtime import PageCache
from pipeline.extract.stored import PagePool, compare_here, read_here, reading_key
from pipeline.mail.route import read_for_routing

PAGE, ROUTE = "page", "route"
"""What a page is read for: everything (intake), or where it goes (the mailroom)."""


def _key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    key = reading_key(
        parameters["purpose"],
        parameters["image_sha256"],
        parameters["engine"],
        tuple(parameters["expect"]),
        tuple(parameters["people"]),
    )
    return f"{key}-{parameters['sealed_with']}"


@task(
    name="read-page",
    task_run_name="{purpose} {file} p.{page}",
    cache_key_fn=_key,
    persist_result=True,
)
def read_page(
    file: str,
    page: int,
    image_sha256: str,
    image_path: str,
    purpose: str,
    engine: str,
    expect: Sequence[str],
    people: Sequence[str],
    workers: int,
    sealed_with: str,
) -> Any:
    """``workers``: hand the page to this machine's pool of that many page workers; 0: read
    it in this process (a Dask worker). ``sealed_with``: the key the cached result is sealed
    with (see ``flows.runtime.SealedPickle``)."""
    if purpose == PAGE:
        if workers:
            return (
                PagePool.shared(engine, workers)
                .submit(read_here, image_path, tuple(expect), tuple(people))
                .result()
            )
        return read_here(image_path, tuple(expect), tuple(people), engine)
    if workers:
        return PagePool.shared(engine, workers).submit(read_for_routing, image_path).result()
    return read_for_routing(image_path, engine)


@dataclass(frozen=True, slots=True)
class PoolCompares:
    """An application's seal impressions compared in this machine's page workers, whose
    engines are loaded (see pipeline.extract.documents.Compares), not in the flow's own
    process, which would load an engine of its own for each application with a seal in
    doubt."""

    engine: str
    workers: int

    def compare(self, refs: list[Any]) -> list[Any]:
        pool = PagePool.shared(self.engine, self.workers)
        compared: list[Any] = pool.submit(compare_here, refs).result()
        return compared


@dataclass(frozen=True, slots=True)
class Reading:
    result: Any
    """The PageExtraction (or RouteRead); None when the page could not be read."""
    problem: str | None
    cached: bool


def read_all(
    pages: Sequence[tuple[str, int, str]],
    store: Any,
    purpose: str,
    engine: str,
    expect: Sequence[str],
    workers: int,
    cache: PageCache,
    refresh: bool = False,
    people: Sequence[str] = (),
) -> list[Reading]:
    """Every (file, 0-based page, image sha256) read as task runs of their own, in parallel;
    in the same order. ``expect`` and ``people``: see pipeline.extract.page.extract_page."""
    reader = read_page.with_options(
        result_storage=cache.storage,
        result_serializer=cache.serializer,
        refresh_cache=refresh,
    )
    futures = [
        reader.submit(
            *(file, index + 1, sha, str(store.path_of(sha)), purpose, engine, list(expect)),
            *(list(people), workers, cache.serializer.key_id),
        )
        for file, index, sha in pages
    ]
    readings = []
    for future in futures:
        future.wait()
        state = future.state
        if state.is_completed():
            readings.append(Reading(future.result(), None, state.name == "Cached"))
        else:
            readings.append(Reading(None, state.message or "the page could not be read", False))
    return readings
