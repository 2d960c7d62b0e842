"""Probe a file (cheap: type, size, page count, limits) and render its pages (expensive)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from pipeline.config import IngestLimits
from pipeline.ingest import images, pdf
from pipeline.ingest.problems import FileProblem, InvalidFile
from pipeline.ingest.sniff import HEAD_BYTES, PDF, describe_unsupported, sniff_media_type


@dataclass(frozen=True, slots=True)
class FileProbe:
    """What a file is, known before any page is decoded."""

    media_type: str
    size: int
    page_count: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """One page as the later stages see it.

    ``image`` is RGB (or L for bilevel and grey scans), resampled to ``dpi`` when the source
    said its resolution; ``dpi`` is None for photos that carry no usable resolution.
    ``problem`` is set, and ``image`` None, when this page alone could not be read.
    """

    index: int
    image: Image.Image | None
    dpi: int | None
    text: str | None = None
    problem: str | None = None


def check_file(path: Path, limits: IngestLimits) -> int:
    """The size of ``path`` if it is a regular file within the size limit. Refused unread:
    a folder, a named pipe or device (opening one waits forever or never ends), and a
    symbolic link (dropped into an inbox, it would bring in whatever file it names)."""
    try:
        info = path.lstat()
    except OSError as exc:
        raise InvalidFile(
            FileProblem.UNREADABLE, f"cannot read the file: {exc.strerror or exc}"
        ) from exc
    what = (
        "a symbolic link"
        if stat.S_ISLNK(info.st_mode)
        else "a folder"
        if stat.S_ISDIR(info.st_mode)
        else "a named pipe"
        if stat.S_ISFIFO(info.st_mode)
        else "a device"
        if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
        else "a socket"
        if stat.S_ISSOCK(info.st_mode)
        else None
    )
    if what is not None:
        raise InvalidFile(
            FileProblem.UNREADABLE,
            f"this is {what}, not a file; it was not opened: send the file itself",
        )
    check_size(info.st_size, limits)
    return info.st_size


def check_size(size: int, limits: IngestLimits) -> None:
    if size == 0:
        raise InvalidFile(FileProblem.EMPTY, "the file is empty (0 bytes); ask for it again")
    if size > limits.max_file_bytes:
        raise InvalidFile(
            FileProblem.TOO_LARGE,
            f"the file is {size / 2**20:.1f} MiB, over the {limits.max_file_bytes / 2**20:.0f} "
            "MiB limit; split it, or scan at 300 dpi instead of higher",
        )


def probe_file(path: Path, limits: IngestLimits) -> FileProbe:
    """Everything that can be refused without decoding a page is refused here."""
    size = check_file(path, limits)
    try:
        with path.open("rb") as src:
            head = src.read(HEAD_BYTES)
    except OSError as exc:
        raise InvalidFile(FileProblem.UNREADABLE, f"cannot read the file: {exc.strerror}") from exc
    media_type = sniff_media_type(head)
    if media_type is None:
        raise InvalidFile(FileProblem.UNSUPPORTED_TYPE, describe_unsupported(head, path))
    if media_type == PDF:
        pages, warnings = pdf.probe_pdf(path, size, limits)
    else:
        pages, warnings = images.probe_image(path, size, limits)
    return FileProbe(media_type=media_type, size=size, page_count=pages, warnings=warnings)


def render_pages(
    path: Path, probe: FileProbe, limits: IngestLimits, only: int | None = None
) -> Iterator[RenderedPage]:
    """Yield the pages one at a time, so a 200-page scan never sits in memory at once
    (``only``: just that 0-based page)."""
    if probe.media_type == PDF:
        for index, image, text, problem in pdf.render_pdf(path, limits, only):
            yield RenderedPage(index, image, limits.render_dpi if image else None, text, problem)
    else:
        for index, image, dpi, problem in images.render_image(path, limits, only):
            yield RenderedPage(index, image, dpi, None, problem)
