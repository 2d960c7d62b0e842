"""The workspace: one directory that keeps everything sealdesk knows.

SEALDESK_HOME/
  sealdesk.toml   optional settings (database URL, intake limits)
  sealdesk.db     the SQLite database (unless a database URL says otherwise)
  store/          content-addressed files and page images (sha256)
  tokens/         SoftHSM token directory
  inbox/          the scanner's hot folder
  logs/           sealdesk.log
  audit-head      the newest audit entry's hash, kept apart from the database
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import WorkspaceError
from pipeline.records import protect
from pipeline.records.audit import (
    ChainHead,
    ChainReport,
    Checkpoint,
    attach_audit_key,
    keep_head_on_disk,
    refuse_lost_database,
    verify_chain,
)
from pipeline.records.database import Database, Session, open_database
from pipeline.store import FileStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Workspace:
    settings: Settings
    db: Database
    store: FileStore

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.db.session() as session:
            yield session

    def read_audit_head(self) -> ChainHead | None:
        try:
            return ChainHead.loads(self.settings.audit_head_path.read_text())
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise WorkspaceError(f"{self.settings.audit_head_path} is damaged: {exc}") from exc

    def verify_audit(self, checkpoints: tuple[Checkpoint, ...] = ()) -> ChainReport:
        with self.session() as session:
            return verify_chain(session, self.read_audit_head(), checkpoints)


def open_workspace(settings: Settings, *, create: bool = True) -> Workspace:
    """Open (and, if ``create``, make) the workspace, upgrading an older database schema."""
    home = settings.home
    if not home.exists() and not create:
        raise WorkspaceError(f"no workspace at {home}; run `sealdesk init` first")
    os.umask(0o077)  # whatever sealdesk writes from now on is its owner's alone
    try:
        for directory in (
            home,
            settings.store_dir,
            settings.tokens_dir,
            settings.inbox_dir,
            settings.logs_dir,
        ):
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(0o700)
    except OSError as exc:
        raise WorkspaceError(f"cannot create the workspace at {home}: {exc.strerror}") from exc
    db = open_database(settings.database_url, busy_seconds=settings.database_busy_seconds)
    _private_files(home)
    refuse_lost_database(db, settings.audit_head_path)
    protect.attach(db.engine, protect.load_field_key(home, settings.field_key))
    attach_audit_key(db, settings.audit_key_path)
    keep_head_on_disk(db, settings.audit_head_path)
    return Workspace(settings=settings, db=db, store=FileStore(settings.store_dir))


def _private_files(home: Path) -> None:
    """The workspace's own files readable by their owner alone (a workspace made before
    sealdesk set its umask had the database, with password hashes and personal data, and
    the log readable by everyone)."""
    for path in (*home.glob("sealdesk.db*"), *home.joinpath("logs").glob("*.log")):
        if path.is_file():
            path.chmod(0o600)


def configure_logging(settings: Settings, verbose: bool = False) -> None:
    """Log to stderr (warnings, or info with ``verbose``) and fully to logs/sealdesk.log."""
    root = logging.getLogger()
    if getattr(root, "_sealdesk_configured", False):
        return
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    stderr = logging.StreamHandler()
    stderr.setLevel(logging.INFO if verbose else logging.WARNING)
    stderr.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root.addHandler(stderr)
    try:
        settings.logs_dir.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(settings.logs_dir / "sealdesk.log", encoding="utf-8")
        (settings.logs_dir / "sealdesk.log").chmod(0o600)
        file_handler.setFormatter(fmt)
        root.addHandler(file_handler)
    except OSError as exc:
        log.warning("cannot write the log file in %s: %s", settings.logs_dir, exc)
    root._sealdesk_configured = True  # type: ignore[attr-defined]
