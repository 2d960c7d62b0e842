"""What a file is, from its first bytes, whatever its name says."""

from __future__ import annotations

import zipfile
from pathlib import Path

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
TIFF = "image/tiff"
ACCEPTED = (PDF, JPEG, PNG, TIFF)

HEAD_BYTES = 1024

_ASK_FOR = "send it as PDF, JPEG, PNG or TIFF"


def sniff_media_type(head: bytes) -> str | None:
    """The accepted media type the bytes start with, or None."""
    if b"%PDF-" in head[:HEAD_BYTES]:  # the spec allows junk before the header
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return TIFF
    return None


def describe_unsupported(head: bytes, path: Path) -> str:
    """A sentence naming what the file seems to be and what to ask the sender for."""
    what = _guess(head, path)
    return f"{what} is not accepted; {_ASK_FOR}"


def _guess(head: bytes, path: Path) -> str:
    signatures = (
        (b"GIF8", "a GIF image"),
        (b"BM", "a BMP image"),
        (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
        (b"{\\rtf", "an RTF document"),
        (b"Rar!", "a RAR archive (unpack it and send the scans inside)"),
        (b"7z\xbc\xaf", "a 7-Zip archive (unpack it and send the scans inside)"),
        (b"\x1f\x8b", "a gzip archive (unpack it and send the scans inside)"),
    )
    for magic, name in signatures:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif"):
        return "a HEIC/AVIF photo (set the phone to save JPEG, or export it as JPEG)"
    if head.startswith(b"PK\x03\x04"):
        return _guess_zip(path)
    if head.lstrip().startswith((b"<!DOCTYPE html", b"<html", b"<HTML")):
        return "a web page (HTML)"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "this file (its type is not recognised)"
    return "a text file"


def _guess_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()[:200]
    except (zipfile.BadZipFile, OSError, ValueError):
        return "a damaged ZIP archive"
    if "OFD.xml" in names:
        return "an OFD document (print it to PDF)"
    if any(n.startswith("word/") for n in names):
        return "a Word document (print it to PDF)"
    if any(n.startswith("xl/") for n in names):
        return "an Excel workbook (print it to PDF)"
    return "a ZIP archive (unpack it and send the scans inside)"
