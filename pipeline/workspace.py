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
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from pipeline.config import Settings
from pipeline.errors import WorkspaceError
from pipeline.records import protect
from pipeline.records.audit import HEAD_KEY, ChainHead, ChainReport, verify_chain
from pipeline.records.database import Database, open_database
from pipeline.records.models import AuditEntry
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

    def verify_audit(self) -> ChainReport:
        with self.session() as session:
            return verify_chain(session, self.read_audit_head())


def open_workspace(settings: Settings, *, create: bool = True) -> Workspace:
    """Open (and, if ``create``, make) the workspace, upgrading an older database schema."""
    home = settings.home
    if not home.exists() and not create:
        raise WorkspaceError(f"no workspace at {home}; run `sealdesk init` first")
    try:
        for directory in (
            home,
            settings.store_dir,
            settings.tokens_dir,
            settings.inbox_dir,
            settings.logs_dir,
        ):
            directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkspaceError(f"cannot create the workspace at {home}: {exc.strerror}") from exc
    db = open_database(settings.database_url, busy_seconds=settings.database_busy_seconds)
    _refuse_lost_database(db, settings)
    protect.attach(db.engine, protect.load_field_key(home, settings.field_key))
    _keep_audit_head(db, settings.audit_head_path)
    return Workspace(settings=settings, db=db, store=FileStore(settings.store_dir))


def _keep_audit_head(db: Database, head_path: Path) -> None:
    """After every commit that appended to the trail, record its newest entry on disk."""

    @event.listens_for(db.sessions, "after_commit")
    def _write_head(session: Session) -> None:
        head = session.info.pop(HEAD_KEY, None)
        if head is None:
            return
        current = _read_head(head_path)
        if current is not None and current.seq >= head.seq:
            return
        fd, tmp = tempfile.mkstemp(dir=head_path.parent, prefix=".audit-head-")
        with os.fdopen(fd, "w") as out:
            out.write(head.dumps())
            out.flush()
            os.fsync(out.fileno())
        Path(tmp).replace(head_path)

    @event.listens_for(db.sessions, "after_rollback")
    def _forget_head(session: Session) -> None:
        session.info.pop(HEAD_KEY, None)


def _refuse_lost_database(db: Database, settings: Settings) -> None:
    """A database that is gone (deleted, a wrong URL, an empty one restored) must not be
    silently replaced by a new empty one: the audit head beside it remembers the trail."""
    head = _read_head(settings.audit_head_path)
    if head is None or head.seq == 0:
        return
    with db.sessions() as session:
        newest = session.scalar(select(func.max(AuditEntry.seq)))
    if newest is None:
        db.engine.dispose()
        safe = db.engine.url.render_as_string(hide_password=True)
        raise WorkspaceError(
            f"the database {safe} holds no audit trail, but {settings.audit_head_path.name} "
            f"records {head.seq} entries: the database was lost or replaced. Restore it from "
            "the backup; sealdesk does not start a new one over it"
        )


def _read_head(path: Path) -> ChainHead | None:
    try:
        return ChainHead.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


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
        file_handler.setFormatter(fmt)
        root.addHandler(file_handler)
    except OSError as exc:
        log.warning("cannot write the log file in %s: %s", settings.logs_dir, exc)
    root._sealdesk_configured = True  # type: ignore[attr-defined]
