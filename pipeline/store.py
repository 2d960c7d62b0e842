"""Content-addressed file store: every file and page image kept once, under its sha256.

Writes go to a temporary name in the same directory, are flushed to disk, then renamed,
so a crash or a full disk never leaves a half-written file under a real address.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO

from pipeline.errors import NotFound

CHUNK = 1024 * 1024


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise NotFound(f"{sha256!r} is not a sha256 address")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def read_bytes(self, sha256: str) -> bytes:
        path = self.path_of(sha256)
        if not path.is_file():
            raise NotFound(f"no file {sha256[:12]}… in the store")
        return path.read_bytes()

    def put_bytes(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.has(sha256):
            with self._writer(sha256) as out:
                out.write(data)
        return sha256

    def put_path(self, source: Path, sha256: str | None = None) -> str:
        """Copy ``source`` in, hashing as it streams (``sha256`` if already known)."""
        if sha256 is not None and self.has(sha256):
            return sha256
        digest = hashlib.sha256()
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            final = self.path_of(digest.hexdigest())
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp.replace(final)
        finally:
            tmp.unlink(missing_ok=True)
        return digest.hexdigest()

    def _writer(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        return atomic_writer(self.path_of(sha256))


@contextmanager
def atomic_writer(final: Path, mode: int | None = None) -> Iterator[BinaryIO]:
    """Write ``final`` through a temporary name beside it, fsync, then rename: a reader sees
    the whole old file or the whole new one, never half of either (a crash or a full disk
    leaves only the temporary name, removed here when it can be)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.tmp-")
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        Path(tmp_name).replace(final)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def write_atomic(final: Path, data: bytes, mode: int = 0o644) -> Path:
    """``final`` holds ``data``, whole or not at all; readable by all unless ``mode`` says
    otherwise (0o600 for PINs)."""
    with atomic_writer(final, mode) as out:
        out.write(data)
    return final


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
