"""Opening the database, bringing its schema up to date, and handing out sessions."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session as Session  # the type every query function takes
from sqlalchemy.orm import sessionmaker

from pipeline.errors import WorkspaceError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@dataclass(frozen=True, slots=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        with self.sessions.begin() as session:
            yield session

    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)


def create_db_engine(url: str, busy_seconds: float = 30.0) -> Engine:
    try:
        engine = create_engine(url)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise WorkspaceError(f"cannot use database URL {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, busy_seconds)
    return engine


def _configure_sqlite(engine: Engine, busy_seconds: float) -> None:
    """Foreign keys on, WAL, a busy timeout, and write transactions that lock at BEGIN.

    ``BEGIN IMMEDIATE`` makes concurrent writers (CLI, web app, flows) wait their turn
    instead of failing halfway with "database is locked" on their first write. They wait up
    to ``busy_seconds`` (Settings.database_busy_seconds), then fail before writing anything.
    """

    busy_ms = int(busy_seconds * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision``; a no-op when it is there already."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def open_database(url: str, *, upgrade: bool = True, busy_seconds: float = 30.0) -> Database:
    """Connect, and bring an older workspace's schema up to the current one."""
    engine = create_db_engine(url, busy_seconds)
    try:
        before = current_revision(engine)
        if upgrade and before != head_revision():
            migrate(engine)
            log.info("database schema upgraded from %s to %s", before or "empty", head_revision())
    except OperationalError as exc:
        safe = engine.url.render_as_string(hide_password=True)
        hint = (
            "; another sealdesk process is writing to it: run again when it is done"
            if "locked" in str(exc.orig)
            else ""
        )
        raise WorkspaceError(f"cannot open the database {safe}: {exc.orig}{hint}") from exc
    return Database(engine, sessionmaker(engine, expire_on_commit=False))


def database_locked(exc: BaseException) -> bool:
    """Whether ``exc`` is the database being locked by another writer (worth trying again)."""
    return isinstance(exc, OperationalError) and "locked" in str(exc).lower()


DatabaseUnavailable = OperationalError
"""What a command meets when the database is locked by another writer or gone: nothing
was half-saved (every unit of work is one transaction), so it can be run again."""
