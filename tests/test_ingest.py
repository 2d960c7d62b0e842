"""Intake of single files: recognised by content, every page rendered, bad input refused."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.config import IngestLimits
from pipeline.ingest import FileProblem, InvalidFile, RenderedPage, probe_file, render_pages
from tests import makefiles


def read_all(path: Path, limits: IngestLimits) -> list[RenderedPage]:
    probe = probe_file(path, limits)
    pages = list(render_pages(path, probe, limits))
    assert len(pages) == probe.page_count
    return pages


def refused(path: Path, limits: IngestLimits) -> InvalidFile:
    with pytest.raises(InvalidFile) as caught:
        read_all(path, limits)
    return caught.value


# --- good files ---------------------------------------------------------------------------


def test_scanned_pdf_pages_are_rendered_at_300_dpi(tmp_path: Path, limits: IngestLimits) -> None:
    pages = read_all(makefiles.scanned_pdf(tmp_path / "scan.pdf", pages=3), limits)
    assert [p.index for p in pages] == [0, 1, 2]
    for page in pages:
        assert page.image is not None and page.dpi == 300
        assert page.image.size == pytest.approx((2480, 3508), abs=2)  # A4 at 300 dpi
        assert page.text is None


def test_born_digital_pdf_keeps_its_text(tmp_path: Path, limits: IngestLimits) -> None:
    (page,) = read_all(makefiles.text_pdf(tmp_path / "receipt.pdf", "Remittance 1000 CNY"), limits)
    assert page.text == "Remittance 1000 CNY"
    assert page.image is not None


def test_pdf_with_junk_before_header_is_still_a_pdf(tmp_path: Path, limits: IngestLimits) -> None:
    source = makefiles.text_pdf(tmp_path / "a.pdf", "hello")
    path = tmp_path / "junk.pdf"
    path.write_bytes(b"\r\n\x00garbage from a mail gateway\n" + source.read_bytes())
    assert probe_file(path, limits).media_type == "application/pdf"


def test_pdf_protected_only_by_owner_password_is_read(tmp_path: Path, limits: IngestLimits) -> None:
    path = makefiles.encrypted_pdf(tmp_path / "owner.pdf", user_password="", owner_password="own")
    assert len(read_all(path, limits)) == 1


def test_type_comes_from_content_not_name(tmp_path: Path, limits: IngestLimits) -> None:
    jpeg = makefiles.jpeg(tmp_path / "x.jpg")
    disguised = tmp_path / "scan.pdf"
    disguised.write_bytes(jpeg.read_bytes())
    assert probe_file(disguised, limits).media_type == "image/jpeg"
    assert len(read_all(disguised, limits)) == 1


def test_jpeg_with_resolution_is_resampled_to_300_dpi(tmp_path: Path, limits: IngestLimits) -> None:
    (page,) = read_all(makefiles.jpeg(tmp_path / "a.jpg", (1240, 1754), dpi=150), limits)
    assert page.dpi == 300 and page.image is not None
    assert page.image.size == (2480, 3508)


def test_photo_without_resolution_keeps_its_pixels(tmp_path: Path, limits: IngestLimits) -> None:
    (page,) = read_all(makefiles.jpeg(tmp_path / "a.jpg", (1200, 1600), dpi=None), limits)
    assert page.dpi is None and page.image is not None and page.image.size == (1200, 1600)


def test_huge_photo_is_scaled_to_the_photo_limit(tmp_path: Path) -> None:
    limits = IngestLimits(max_photo_side_px=1000)
    (page,) = read_all(makefiles.jpeg(tmp_path / "a.jpg", (1500, 2000), dpi=None), limits)
    assert page.image is not None and page.image.size == (750, 1000)


@pytest.mark.parametrize(
    ("orientation", "expected"),
    [(1, (1200, 900)), (6, (900, 1200)), (8, (900, 1200)), (3, (1200, 900))],
)
def test_exif_orientation_is_honoured(
    tmp_path: Path, limits: IngestLimits, orientation: int, expected: tuple[int, int]
) -> None:
    path = makefiles.jpeg(tmp_path / "p.jpg", (1200, 900), dpi=None, orientation=orientation)
    (page,) = read_all(path, limits)
    assert page.image is not None and page.image.size == expected


def test_exif_rotation_turns_the_content(tmp_path: Path, limits: IngestLimits) -> None:
    """The dark header band drawn at the top of the stored image ends up on the right."""
    path = makefiles.jpeg(tmp_path / "p.jpg", (1754, 1240), dpi=None, orientation=6)
    (page,) = read_all(path, limits)
    assert page.image is not None
    grey = page.image.convert("L")
    right_band = grey.crop((grey.width - 200, 0, grey.width, grey.height))
    left_band = grey.crop((0, 0, 200, grey.height))
    assert right_band.getextrema()[0] < 100 < left_band.getextrema()[0]


@pytest.mark.parametrize("mode", ["RGB", "L", "1", "P", "RGBA", "I;16"])
def test_png_modes_become_8_bit(tmp_path: Path, limits: IngestLimits, mode: str) -> None:
    (page,) = read_all(makefiles.png(tmp_path / "a.png", mode=mode), limits)
    assert page.image is not None and page.image.mode in ("RGB", "L")
    assert page.image.getextrema() != ((255, 255),) * len(page.image.getbands())


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path, limits: IngestLimits) -> None:
    (page,) = read_all(makefiles.jpeg(tmp_path / "cmyk.jpg", mode="CMYK"), limits)
    assert page.image is not None and page.image.mode == "RGB"


def test_multipage_tiff_gives_every_page(tmp_path: Path, limits: IngestLimits) -> None:
    pages = read_all(makefiles.tiff(tmp_path / "batch.tif", pages=4), limits)
    assert [p.index for p in pages] == [0, 1, 2, 3]
    assert all(p.image is not None and p.image.size == (2480, 3508) for p in pages)


# --- bad files ----------------------------------------------------------------------------


def test_empty_file(tmp_path: Path, limits: IngestLimits) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    assert refused(path, limits).problem is FileProblem.EMPTY


def test_file_over_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.pdf"
    with path.open("wb") as out:  # sparse: 50 MiB of nothing, no disk used
        out.truncate(50 * 2**20)
    bad = refused(path, IngestLimits(max_file_bytes=10 * 2**20))
    assert bad.problem is FileProblem.TOO_LARGE and "50.0 MiB" in bad.message


def test_truncated_pdf(tmp_path: Path, limits: IngestLimits) -> None:
    source = makefiles.scanned_pdf(tmp_path / "a.pdf")
    bad = refused(makefiles.truncated(source, tmp_path / "cut.pdf", 0.3), limits)
    assert bad.problem is FileProblem.TRUNCATED


def test_corrupt_pdf(tmp_path: Path, limits: IngestLimits) -> None:
    path = tmp_path / "corrupt.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    assert refused(path, limits).problem is FileProblem.CORRUPT


def test_password_protected_pdf(tmp_path: Path, limits: IngestLimits) -> None:
    bad = refused(makefiles.encrypted_pdf(tmp_path / "locked.pdf"), limits)
    assert bad.problem is FileProblem.ENCRYPTED and "password" in bad.message


def test_too_many_pages(tmp_path: Path) -> None:
    bad = refused(makefiles.blank_pdf(tmp_path / "long.pdf", pages=5), IngestLimits(max_pages=4))
    assert bad.problem is FileProblem.TOO_MANY_PAGES and "5 pages" in bad.message


def test_tiff_with_too_many_pages(tmp_path: Path) -> None:
    bad = refused(makefiles.tiff(tmp_path / "long.tif", pages=3), IngestLimits(max_pages=2))
    assert bad.problem is FileProblem.TOO_MANY_PAGES


def test_absurd_pdf_page_is_that_pages_problem(tmp_path: Path, limits: IngestLimits) -> None:
    path = makefiles.blank_pdf(tmp_path / "poster.pdf", size_pt=(14400, 14400))
    (page,) = read_all(path, limits)
    assert page.image is None and page.problem and "too large" in page.problem


def test_tiny_pdf_page_is_that_pages_problem(tmp_path: Path, limits: IngestLimits) -> None:
    (page,) = read_all(makefiles.blank_pdf(tmp_path / "stamp.pdf", size_pt=(20, 20)), limits)
    assert page.image is None and page.problem and "too small" in page.problem


def test_png_decompression_bomb_is_refused_before_decoding(
    tmp_path: Path, limits: IngestLimits
) -> None:
    bad = refused(makefiles.png_claiming(tmp_path / "bomb.png", 100_000, 100_000), limits)
    assert bad.problem is FileProblem.DECOMPRESSION_BOMB


def test_image_over_pixel_limit(tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    noise = np.random.default_rng(1).integers(0, 255, (1500, 1500), dtype=np.uint8)
    path = tmp_path / "big.png"
    Image.fromarray(noise).save(path)
    bad = refused(path, IngestLimits(max_image_pixels=1_000_000))
    assert bad.problem is FileProblem.IMAGE_TOO_LARGE and "1500 × 1500" in bad.message


@pytest.mark.parametrize("size", [(1, 1), (200, 2000)])
def test_image_too_small(tmp_path: Path, limits: IngestLimits, size: tuple[int, int]) -> None:
    path = makefiles.png(tmp_path / "tiny.png", size=size)
    assert refused(path, limits).problem is FileProblem.IMAGE_TOO_SMALL


@pytest.mark.parametrize("maker", [makefiles.jpeg, makefiles.png])
def test_truncated_image(tmp_path: Path, limits: IngestLimits, maker: object) -> None:
    source = maker(tmp_path / "whole")  # type: ignore[operator]
    bad = refused(makefiles.truncated(source, tmp_path / "cut", 0.5), limits)
    assert bad.problem in (FileProblem.TRUNCATED, FileProblem.CORRUPT)
    assert "ask" in bad.message


@pytest.mark.parametrize(
    ("head", "says"),
    [
        (b"GIF89a" + b"\x00" * 100, "GIF"),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100, "HEIC"),
        (b"hello, this is a note\n", "text"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 100, "WebP"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Office"),
    ],
)
def test_unsupported_types_are_named(
    tmp_path: Path, limits: IngestLimits, head: bytes, says: str
) -> None:
    path = tmp_path / "upload.pdf"
    path.write_bytes(head)
    bad = refused(path, limits)
    assert bad.problem is FileProblem.UNSUPPORTED_TYPE
    assert says in bad.message and "PDF, JPEG, PNG or TIFF" in bad.message


def test_ofd_document_is_named(tmp_path: Path, limits: IngestLimits) -> None:
    import zipfile

    path = tmp_path / "invoice.ofd"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("OFD.xml", "<ofd:OFD/>")
    assert "OFD" in refused(path, limits).message


def test_limits_are_checked_before_rendering(tmp_path: Path) -> None:
    """probe_file alone refuses the too-many-pages PDF: no page was decoded to learn it."""
    path = makefiles.blank_pdf(tmp_path / "long.pdf", pages=3)
    with pytest.raises(InvalidFile):
        probe_file(path, replace(IngestLimits(), max_pages=2))
