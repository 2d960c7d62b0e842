"""JPEG, PNG and TIFF (multi-page) through Pillow: EXIF orientation, resolution, limits."""

from __future__ import annotations

import struct
import warnings
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.config import IngestLimits
from pipeline.ingest.problems import FileProblem, InvalidFile

ImagePageResult = tuple[int, Image.Image | None, int | None, str | None]

PLAUSIBLE_DPI = (100, 1200)
"""Resolutions outside this are camera defaults (72, 96) or nonsense, not a scan's."""
BOMB_BYTES_PER_PIXEL = 0.002
"""Real scans and photos carry far more than this; a decompression bomb far less."""

_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    UnidentifiedImageError,
    # what Pillow's plugins let escape on damaged headers (found by fuzzing; see
    # tests/fuzz/regressions/): a TIFF without dimensions raised TypeError
    TypeError,
    KeyError,
    IndexError,
    ZeroDivisionError,
    struct.error,
)


def _open(path: Path) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(path)
    except Image.DecompressionBombError as exc:
        raise InvalidFile(
            FileProblem.DECOMPRESSION_BOMB,
            "the image claims far more pixels than any scan or photo has (a decompression "
            "bomb); it was not decoded: ask the sender for a new scan",
        ) from exc
    except UnidentifiedImageError as exc:  # its message names our path: not for the sender
        raise InvalidFile(
            FileProblem.CORRUPT,
            "the image is damaged: its header cannot be read; ask for the file again",
        ) from exc
    except _DECODE_ERRORS as exc:
        raise InvalidFile(
            FileProblem.CORRUPT, f"the image is damaged and cannot be opened ({exc}); ask again"
        ) from exc


def _check_dimensions(width: int, height: int, size: int, limits: IngestLimits, where: str) -> None:
    pixels = width * height
    if pixels > limits.max_image_pixels:
        if size / pixels < BOMB_BYTES_PER_PIXEL:
            raise InvalidFile(
                FileProblem.DECOMPRESSION_BOMB,
                f"{where} claims {width} × {height} pixels from only {size} bytes: a "
                "decompression bomb; it was not decoded",
            )
        raise InvalidFile(
            FileProblem.IMAGE_TOO_LARGE,
            f"{where} is {width} × {height} pixels ({pixels / 1e6:.0f} MP), over the "
            f"{limits.max_image_pixels / 1e6:.0f} MP limit; send it at a lower resolution",
        )
    if min(width, height) < limits.min_side_px:
        raise InvalidFile(
            FileProblem.IMAGE_TOO_SMALL,
            f"{where} is only {width} × {height} pixels; a readable page needs at least "
            f"{limits.min_side_px} on its shorter side: scan at 300 dpi",
        )


def probe_image(path: Path, size: int, limits: IngestLimits) -> tuple[int, tuple[str, ...]]:
    with _open(path) as image:
        try:
            frames = getattr(image, "n_frames", 1)
        except _DECODE_ERRORS as exc:
            raise InvalidFile(
                FileProblem.CORRUPT, f"the image's page list is damaged ({exc})"
            ) from exc
        if frames > limits.max_pages:
            raise InvalidFile(
                FileProblem.TOO_MANY_PAGES,
                f"the image file has {frames} pages, over the limit of {limits.max_pages}",
            )
        for index in range(frames):
            _seek(image, index)
            where = "the image" if frames == 1 else f"page {index + 1}"
            _check_dimensions(image.width, image.height, size, limits, where)
    return frames, ()


def _seek(image: Image.Image, index: int) -> None:
    try:
        image.seek(index)
    except _DECODE_ERRORS as exc:
        raise InvalidFile(FileProblem.CORRUPT, f"page {index + 1} cannot be found ({exc})") from exc


def render_image(
    path: Path, limits: IngestLimits, only: int | None = None
) -> Iterator[ImagePageResult]:
    with _open(path) as image:
        frames = getattr(image, "n_frames", 1)
        for index in range(frames) if only is None else (only,):
            _seek(image, index)
            try:
                page, dpi = _normalise(image, limits)
            except _DECODE_ERRORS as exc:
                if frames == 1:
                    raise _decode_failure(exc) from exc
                yield index, None, None, f"page {index + 1} cannot be decoded ({exc})"
                continue
            yield index, page, dpi, None


def _decode_failure(exc: BaseException) -> InvalidFile:
    text = str(exc)
    if "truncated" in text or isinstance(exc, EOFError):
        return InvalidFile(
            FileProblem.TRUNCATED, "the image is cut short (truncated); ask for the file again"
        )
    return InvalidFile(FileProblem.CORRUPT, f"the image cannot be decoded ({text}); ask again")


def _source_dpi(image: Image.Image) -> float | None:
    dpi = image.info.get("dpi")
    if not dpi:
        return None
    try:
        value = float(dpi[0])
    except (TypeError, ValueError, IndexError):
        return None
    low, high = PLAUSIBLE_DPI
    return value if low <= value <= high else None


def _normalise(image: Image.Image, limits: IngestLimits) -> tuple[Image.Image, int | None]:
    """Decode one frame: upright (EXIF), 8-bit RGB or L, at ``render_dpi`` when known."""
    source_dpi = _source_dpi(image)
    image.load()
    page = ImageOps.exif_transpose(image) or image
    page = _to_8bit(page)
    if source_dpi is not None:
        scale = limits.render_dpi / source_dpi
        if abs(scale - 1) > 0.01:
            size = (max(1, round(page.width * scale)), max(1, round(page.height * scale)))
            page = page.resize(size, Image.Resampling.LANCZOS)
        return page, limits.render_dpi
    long_side = max(page.size)
    if long_side > limits.max_photo_side_px:
        scale = limits.max_photo_side_px / long_side
        page = page.resize(
            (round(page.width * scale), round(page.height * scale)), Image.Resampling.LANCZOS
        )
    return page, None


def _to_8bit(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "L"):
        return image.copy()
    if image.mode == "1":
        return image.convert("L")
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        import numpy as np  # here only: the file-opening child starts 0.05 s sooner without it

        array = np.asarray(image, dtype=np.float64)
        top = float(array.max()) or 1.0
        return Image.fromarray((array * (255.0 / top)).clip(0, 255).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
