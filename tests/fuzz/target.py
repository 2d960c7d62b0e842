"""What the fuzzer feeds (``tests/fuzz/ingest.py``) and the regression test replays:
one input through the ingest path, as intake's isolated reader takes a file."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from PIL import Image

from pipeline.config import IngestLimits
from pipeline.ingest import InvalidFile, probe_file, render_pages

LIMITS = IngestLimits(
    max_file_bytes=2 * 2**20,
    max_pages=4,
    max_image_pixels=4_000_000,
    max_page_pixels=2_000_000,
    min_side_px=16,
    render_dpi=72,
    max_photo_side_px=800,
)
"""Small, so each input costs milliseconds."""


def take(data: bytes, path: Path | None = None, limits: IngestLimits = LIMITS) -> None:
    """One input through probe and render; raises only for a bug: refusals
    (:class:`InvalidFile`) and a page's own ``problem`` are the honest outcomes."""
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="sealdesk-fuzz-")) / "input"
    path.write_bytes(data)
    try:
        probe = probe_file(path, limits)
    except InvalidFile:
        return
    try:
        for page in render_pages(path, probe, limits):
            if page.image is not None:
                page.image.close()
    except InvalidFile:
        return


def seeds(folder: Path) -> None:
    """Small valid files of each type, for the fuzzer to start from."""
    from tests.hostile.make import _page_pdf, raw_pdf

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "page.pdf").write_bytes(raw_pdf(_page_pdf()))
    image = Image.new("RGB", (64, 48), "white")
    for fmt, name, options in (
        ("PNG", "page.png", {}),
        ("JPEG", "page.jpg", {"quality": 50}),
        ("TIFF", "page.tif", {"compression": "tiff_lzw"}),
        ("PDF", "image.pdf", {}),
    ):
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, **options)
        (folder / name).write_bytes(buffer.getvalue())
