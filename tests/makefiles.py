"""Files made on the spot for intake tests: good ones of every container, and broken ones."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from PIL import Image, ImageDraw
from pypdf import PdfWriter

from fixtures.make_samples import born_digital_pdf

A4_150 = (1240, 1754)


def page_image(
    label: str = "page", size: tuple[int, int] = A4_150, mode: str = "RGB"
) -> Image.Image:
    image = Image.new(mode, size, "white")
    if min(size) < 300:
        return image
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 60, size[0] - 60, 200), outline="black", width=4)
    draw.text((100, 100), label, fill="black")
    return image


def scanned_pdf(path: Path, pages: int = 1, dpi: int = 150) -> Path:
    images = [page_image(f"page {i + 1}") for i in range(pages)]
    images[0].save(path, save_all=True, append_images=images[1:], resolution=dpi)
    return path


def blank_pdf(path: Path, pages: int = 1, size_pt: tuple[float, float] = (595, 842)) -> Path:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(*size_pt)
    with path.open("wb") as out:
        writer.write(out)
    return path


def encrypted_pdf(path: Path, user_password: str = "secret", owner_password: str = "") -> Path:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt(user_password, owner_password=owner_password or None)
    with path.open("wb") as out:
        writer.write(out)
    return path


def text_pdf(path: Path, text: str) -> Path:
    """A born-digital one-page PDF whose text layer holds ``text`` (Latin only)."""
    path.write_bytes(born_digital_pdf([text]))
    return path


def jpeg(
    path: Path,
    size: tuple[int, int] = A4_150,
    dpi: int | None = 150,
    orientation: int | None = None,
    mode: str = "RGB",
) -> Path:
    image = page_image("jpeg", size, "RGB")
    if mode != "RGB":
        image = image.convert(mode)
    options: dict[str, object] = {"quality": 80}
    if dpi:
        options["dpi"] = (dpi, dpi)
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif
    image.save(path, format="JPEG", **options)
    return path


def png(
    path: Path, size: tuple[int, int] = A4_150, mode: str = "RGB", dpi: int | None = 150
) -> Path:
    image = page_image("png", size, "RGB")
    if mode == "RGBA":
        image = image.convert("RGBA")
        image.putalpha(128)
    elif mode == "I;16":
        image = image.convert("L").point(lambda v: v * 200).convert("I;16")  # type: ignore[operator]
    elif mode != "RGB":
        image = image.convert(mode)
    image.save(path, format="PNG", **({"dpi": (dpi, dpi)} if dpi else {}))
    return path


def tiff(path: Path, pages: int = 3, dpi: int = 150) -> Path:
    images = [page_image(f"tiff {i}").convert("L") for i in range(pages)]
    images[0].save(
        path, save_all=True, append_images=images[1:], compression="tiff_lzw", dpi=(dpi, dpi)
    )
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels: a decompression bomb."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * 1024)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", body)
        + _png_chunk(b"IEND", b"")
    )
    return path


def truncated(source: Path, path: Path, fraction: float = 0.5) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path
