"""Citizen ID numbers sealed at rest: a database dump, a backup, a copy on a laptop shows
none of them.

Every 18-character ID number (17 digits and a check character) in the JSON and text
columns that hold people's details (the application record, check reports, findings, mail
routing reads) is stored as ``⟦id1:…⟧``: AES-GCM under the workspace's field key, a fresh
nonce each time. The columns' type does it on the way in and out, so the code above sees
plain values. The key is ``field-key`` in the workspace (mode 0600), or the environment's
``SEALDESK_FIELD_KEY`` (base64, 32 bytes) when several machines share one database.

Rows written before the key existed stay as they were until written again.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import JSON, Text, TypeDecorator
from sqlalchemy.engine import Dialect, Engine

from pipeline.errors import WorkspaceError

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
SEALED = re.compile(r"⟦id1:([A-Za-z0-9_-]+)⟧")
KEY_ENV = "SEALDESK_FIELD_KEY"
_ATTRIBUTE = "sealdesk_field_key"


def load_field_key(home: Path, given: str | None = None) -> bytes:
    """The workspace's field key: the one ``given`` (Settings.field_key, from
    SEALDESK_FIELD_KEY), else its file (made if missing)."""
    if given:
        return _decode_key(given, KEY_ENV)
    path = home / "field-key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return _decode_key(path.read_text().strip(), str(path))


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise WorkspaceError(f"the field key in {where} is not 32 bytes of base64")
    return key


def attach(engine: Engine, key: bytes) -> None:
    """Seal and unseal with ``key`` on this engine's connections."""
    setattr(engine.dialect, _ATTRIBUTE, AESGCM(key))


def _cipher(dialect: Dialect) -> AESGCM | None:
    cipher: AESGCM | None = getattr(dialect, _ATTRIBUTE, None)
    return cipher


def seal_text(text: str, cipher: AESGCM) -> str:
    def one(match: re.Match[str]) -> str:
        nonce = secrets.token_bytes(12)
        sealed = nonce + cipher.encrypt(nonce, match.group(0).encode(), None)
        return f"⟦id1:{base64.urlsafe_b64encode(sealed).decode().rstrip('=')}⟧"

    return ID_NUMBER.sub(one, text)


def _open(cipher: AESGCM, data: str, what: str) -> str:
    """What ``data`` (base64: nonce, then ciphertext) seals; a clear error if another key
    sealed it."""
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    try:
        return cipher.decrypt(raw[:12], raw[12:], None).decode()
    except InvalidTag:
        raise WorkspaceError(
            f"{what} in the database was sealed with another field key: this workspace's "
            "field-key file (or SEALDESK_FIELD_KEY) is not the one it was written with"
        ) from None


def unseal_text(text: str, cipher: AESGCM) -> str:
    def one(match: re.Match[str]) -> str:
        return _open(cipher, match.group(1), "an ID number")

    return SEALED.sub(one, text) if "⟦id1:" in text else text


def _walk(value: Any, change: Any) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {k: _walk(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, change) for v in value]
    return value


class ProtectedJSON(TypeDecorator[Any]):
    """JSON whose ID numbers are sealed in the database."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        cipher = _cipher(dialect)
        return value if cipher is None else _walk(value, lambda s: seal_text(s, cipher))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        cipher = _cipher(dialect)
        return value if cipher is None else _walk(value, lambda s: unseal_text(s, cipher))


class ProtectedText(TypeDecorator[str]):
    """Text whose ID numbers are sealed in the database."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        cipher = _cipher(dialect)
        return value if cipher is None or value is None else seal_text(value, cipher)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        cipher = _cipher(dialect)
        return value if cipher is None or value is None else unseal_text(value, cipher)


class SealedText(TypeDecorator[str]):
    """Text sealed whole with the field key (a second factor's secret): the database alone
    does not give it."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        cipher = _cipher(dialect)
        if cipher is None or value is None:
            return value
        nonce = secrets.token_bytes(12)
        sealed = nonce + cipher.encrypt(nonce, value.encode(), None)
        return "⟦s1:" + base64.urlsafe_b64encode(sealed).decode() + "⟧"

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        cipher = _cipher(dialect)
        if cipher is None or value is None or not value.startswith("⟦s1:"):
            return value
        return _open(cipher, value[4:-1], "a secret")
