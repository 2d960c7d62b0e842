"""Look for secrets where they must not be: a workspace's database dumps, its logs, its
review packets and check reports, the flow runs' database.

Secrets: a full citizen ID number (18 characters with a valid check character), any PIN
of the CA's tokens (``hsm-pins.toml``) or of a customer's token (its PIN letter), and a
private key in PEM. Their two deliberate homes (``hsm-pins.toml``, mode 0600, and the PIN
letters in ``issued/``) are read for the PINs, not scanned.
"""

from __future__ import annotations

import re
import sqlite3
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
from stdnum.cn import ric

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9X](?![0-9A-Za-z])")
LETTER_PIN = re.compile(r"用户\s*PIN[：:]\s*([A-Za-z0-9]{6,})")


def pins_of(home: Path) -> set[str]:
    pins: set[str] = set()
    pin_file = home / "hsm-pins.toml"
    if pin_file.exists():
        pins |= {str(v) for v in tomllib.loads(pin_file.read_text()).values() if v}
    for letter in (home / "issued").rglob("pin-letter.pdf"):
        pins |= set(LETTER_PIN.findall(pdf_text(letter)))
    return pins


def pdf_text(path: Path) -> str:
    document = pdfium.PdfDocument(str(path))
    try:
        pages = []
        for page in document:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return "\n".join(pages)
    finally:
        document.close()


def sqlite_dump(path: Path) -> str:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


def texts(home: Path) -> Iterator[tuple[str, str]]:
    """(where, text) for everything scanned."""
    for db in (home / "sealdesk.db", home / "prefect" / "prefect.db"):
        if db.exists():
            yield f"{db.relative_to(home)} (dump)", sqlite_dump(db)
            for raw in (db, db.with_name(db.name + "-wal")):
                if raw.exists():
                    yield str(raw.relative_to(home)), raw.read_bytes().decode("utf-8", "replace")
    for log in sorted((home / "logs").rglob("*")):
        if log.is_file():
            yield str(log.relative_to(home)), log.read_text("utf-8", "replace")
    for packet in sorted((home / "packets").rglob("*")):
        if packet.suffix == ".pdf":
            yield f"{packet.relative_to(home)} (text)", pdf_text(packet)
        if packet.is_file():
            yield str(packet.relative_to(home)), packet.read_bytes().decode("latin-1")
    for report in sorted(home.glob("*.json")):
        yield str(report.relative_to(home)), report.read_text("utf-8", "replace")


def scan(home: Path) -> list[str]:
    """Each secret found, as 'where: what' (the secret itself shown in part)."""
    pins = pins_of(home)
    found = []
    for where, text in texts(home):
        for number in sorted(set(ID_NUMBER.findall(text))):
            if ric.is_valid(number):
                found.append(f"{where}: ID number {number[:4]}…{number[-2:]}")
        for pin in sorted(pins):
            if pin in text:
                found.append(f"{where}: PIN {pin[:2]}…")
        if "PRIVATE KEY-----" in text:
            found.append(f"{where}: a private key")
    return found
