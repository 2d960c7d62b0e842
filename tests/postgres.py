"""A throwaway PostgreSQL server for tests: its own cluster, on a Unix socket, no TCP port.

The server binaries come from Debian's ``postgresql`` package, which scripts/setup.sh
installs. As root the cluster runs as the ``postgres`` user (PostgreSQL refuses root).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text


def _bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run scripts/setup.sh")
    return found[-1].parent


def _as_owner(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _run(*args: object) -> None:
    subprocess.run(_as_owner([str(a) for a in args]), check=True, capture_output=True, timeout=120)


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server; yields the SQLAlchemy URL of its ``postgres`` database."""
    bindir = _bindir()
    base = Path(tempfile.mkdtemp(prefix="sealdesk-pg-", dir="/tmp"))
    base.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data = base / "data"
    _run(bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
    options = f"-k {base} -c listen_addresses='' -c fsync=off"
    _run(bindir / "pg_ctl", "-D", data, "-o", options, "-w", "-l", base / "log", "start")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={base}"
    finally:
        _run(bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """Create an empty database on the server; returns its URL."""
    name = "t" + uuid.uuid4().hex[:12]
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.replace("/postgres?", f"/{name}?")
