"""How long work tells its caller how far it got, without knowing who shows it.

A stage calls ``progress(stage, done, total)`` after each unit (a file taken in, a page
read); the command line draws a bar on stderr, a flow or the web app may log it, and
everything else passes :func:`silent`.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, stage: str, done: int, total: int) -> None: ...


def silent(stage: str, done: int, total: int) -> None:
    """A Progress that shows nothing."""


FILES = "files"
"""Stage name: files taken in (hashed, read in isolation, rendered, stored)."""
PAGES = "pages"
"""Stage name: pages read (OCR, seals)."""
