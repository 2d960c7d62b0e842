"""Progress bars on stderr for the long commands (check, intake), drawn by rich: per file
taken in and per page read, with the rate and the time left. Nothing is drawn under
``--json`` or when stderr is not a terminal (a pipe, a log, cron), so machine output and
logs stay clean. rich is already installed for Prefect; one library, no hand-drawn bars."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pipeline.model.progress import FILES, PAGES, Progress, silent

if TYPE_CHECKING:
    from rich.progress import Task
    from rich.text import Text

LABELS = {FILES: "taking in files", PAGES: "reading pages"}
UNITS = {FILES: "files", PAGES: "pages"}


@contextmanager
def progress_bars(wanted: bool = True, stream: Any = None) -> Iterator[Progress]:
    """A Progress drawing one bar per stage while the block runs, or :func:`silent`."""
    stream = stream or sys.stderr
    if not wanted or not stream.isatty():
        yield silent
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bars
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            unit = task.fields.get("unit", "")
            if not speed:
                return Text(f"–/min {unit}")
            return Text(f"{speed * 60:.0f}/min {unit}")

    bars = Bars(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        Rate(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=Console(file=stream),
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def tick(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bars.add_task(
                LABELS.get(stage, stage), total=total, unit=UNITS.get(stage, "")
            )
        bars.update(tasks[stage], completed=done, total=total)

    with bars:
        yield tick
