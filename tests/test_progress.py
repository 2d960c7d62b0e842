"""Progress of long commands: drawn on a terminal, silent under --json or in a pipe, and
told by the stages themselves (a file taken in, a page read)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from pipeline.model.application import ApplicationRecord
from pipeline.model.progress import FILES, PAGES
from pipeline.usecases.intake import intake_application
from pipeline.workspace import Workspace
from sealdesk.progress import progress_bars
from tests import makefiles


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bars_are_drawn_on_a_terminal_only() -> None:
    screen = Terminal()
    with progress_bars(stream=screen) as tick:
        for done in range(3):
            tick(PAGES, done + 1, 3)
    drawn = screen.getvalue()
    assert "reading pages" in drawn and "3/3" in drawn and "/min pages" in drawn
    for stream, wanted in ((io.StringIO(), True), (Terminal(), False)):  # a pipe; --json
        with progress_bars(wanted, stream=stream) as tick:
            tick(PAGES, 1, 1)
        assert stream.getvalue() == ""


def test_intake_tells_each_file(
    tmp_path: Path, workspace: Workspace, record: ApplicationRecord
) -> None:
    heard: list[tuple[str, int, int]] = []

    def tick(stage: str, done: int, total: int) -> Any:
        heard.append((stage, done, total))

    files = [makefiles.jpeg(tmp_path / "a.jpg"), tmp_path / "missing.pdf"]
    intake_application(workspace, record, files, "clerk", tick)
    assert heard == [(FILES, 0, 2), (FILES, 1, 2), (FILES, 2, 2)]
