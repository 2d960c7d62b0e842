"""PDF pages through PDFium (pypdfium2), in process: born-digital text kept, pages rendered."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
from PIL import Image

from pipeline.config import IngestLimits
from pipeline.ingest.problems import FileProblem, InvalidFile

log = logging.getLogger(__name__)

MM_PER_POINT = 25.4 / 72
EOF_WINDOW = 2048

PdfPageResult = tuple[int, Image.Image | None, str | None, str | None]


def _has_eof_marker(path: Path, size: int) -> bool:
    with path.open("rb") as src:
        src.seek(max(0, size - EOF_WINDOW))
        return b"%%EOF" in src.read()


def _open(path: Path, size: int) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_raw.FPDF_ERR_PASSWORD:
            raise InvalidFile(
                FileProblem.ENCRYPTED,
                "the PDF is protected by a password; ask for a copy saved without one",
            ) from exc
        if not _has_eof_marker(path, size):
            raise InvalidFile(
                FileProblem.TRUNCATED,
                "the PDF is cut short (no end-of-file marker) and cannot be opened; "
                "ask for the file again",
            ) from exc
        raise InvalidFile(
            FileProblem.CORRUPT, f"the PDF is damaged and cannot be opened ({exc}); ask again"
        ) from exc


def probe_pdf(path: Path, size: int, limits: IngestLimits) -> tuple[int, tuple[str, ...]]:
    warnings: list[str] = []
    document = _open(path, size)
    try:
        pages = len(document)
        warnings += _active_content(document, path)
    finally:
        document.close()
    if pages == 0:
        raise InvalidFile(FileProblem.CORRUPT, "the PDF has no pages")
    if pages > limits.max_pages:
        raise InvalidFile(
            FileProblem.TOO_MANY_PAGES,
            f"the PDF has {pages} pages, over the limit of {limits.max_pages}; "
            "split the batch into smaller files",
        )
    if not _has_eof_marker(path, size):
        warnings.append(
            "the PDF is cut short (no end-of-file marker); the pages that could be read were "
            "kept: check that none is missing, or ask for the file again"
        )
    return pages, tuple(warnings)


LAUNCH = re.compile(rb"/S\s*/Launch\b")


def _active_content(document: pdfium.PdfDocument, path: Path) -> list[str]:
    """What the PDF would do if opened in a viewer: only rendered here, it does none of it,
    but a reviewer who downloads the file should know."""
    found = []
    if pdfium_raw.FPDFDoc_GetJavaScriptActionCount(document) > 0:
        found.append("JavaScript")
    if pdfium_raw.FPDFDoc_GetAttachmentCount(document) > 0:
        found.append("attached files")
    with path.open("rb") as src:  # a launch action in plain view (not in an object stream)
        if any(LAUNCH.search(chunk) for chunk in iter(lambda: src.read(1 << 20), b"")):
            found.append("an action that starts a program")
    if not found:
        return []
    return [
        f"the PDF carries {' and '.join(found)}; only its pages were read here. Do not open "
        "the original in a viewer that runs such content"
    ]


def _page_size_problem(width_pt: float, height_pt: float, limits: IngestLimits) -> str | None:
    scale = limits.render_dpi / 72
    width_px, height_px = width_pt * scale, height_pt * scale
    size_mm = f"{width_pt * MM_PER_POINT:.0f} × {height_pt * MM_PER_POINT:.0f} mm"
    if width_px * height_px > limits.max_page_pixels:
        return f"the page is {size_mm}, too large to render at {limits.render_dpi} dpi"
    if min(width_px, height_px) < limits.min_side_px:
        return f"the page is {size_mm}, too small to hold a readable document"
    return None


def render_pdf(
    path: Path, limits: IngestLimits, only: int | None = None
) -> Iterator[PdfPageResult]:
    document = _open(path, path.stat().st_size)
    try:
        for index in range(len(document)) if only is None else (only,):
            yield _render_page(document, index, limits)
    finally:
        document.close()


def _render_page(document: pdfium.PdfDocument, index: int, limits: IngestLimits) -> PdfPageResult:
    try:
        page = document[index]
    except pdfium.PdfiumError as exc:
        return index, None, None, f"page {index + 1} cannot be loaded ({exc})"
    try:
        width_pt, height_pt = page.get_size()
        problem = _page_size_problem(width_pt, height_pt, limits)
        if problem:
            return index, None, None, f"page {index + 1}: {problem}"
        text = _page_text(page)
        bitmap = page.render(scale=limits.render_dpi / 72)
        image = bitmap.to_pil().convert("RGB")
        return index, image, text, None
    except pdfium.PdfiumError as exc:
        return index, None, None, f"page {index + 1} cannot be rendered ({exc})"
    finally:
        page.close()


def _page_text(page: pdfium.PdfPage) -> str | None:
    """The born-digital text layer, if any (scans have none, or a scanner's own OCR)."""
    try:
        textpage = page.get_textpage()
        try:
            text = str(textpage.get_text_range()).replace("\r\n", "\n").strip()
        finally:
            textpage.close()
    except pdfium.PdfiumError:
        log.info("text layer unreadable; the page will be OCR'd")
        return None
    return text or None
