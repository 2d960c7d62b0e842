"""The append-only audit trail: who did what, when, to what, hash-chained.

Each entry's hash covers its content and the previous entry's hash, so editing, deleting,
reordering or inserting an entry breaks the chain at that point. Deleting the newest
entries leaves a shorter chain that is still consistent, so the newest hash is also kept
outside the database (``audit-head`` in the workspace) and compared by :func:`verify_chain`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from pipeline.errors import WorkspaceError
from pipeline.records.database import Database
from pipeline.records.models import AuditEntry, utcnow

GENESIS = "0" * 64
HEAD_KEY = "sealdesk.audit_head"


@dataclass(frozen=True, slots=True)
class ChainHead:
    seq: int
    hash: str

    def dumps(self) -> str:
        return f"{self.seq} {self.hash}\n"

    @classmethod
    def loads(cls, text: str) -> ChainHead:
        seq, digest = text.split()
        return cls(int(seq), digest)


@dataclass(frozen=True, slots=True)
class ChainReport:
    entries: int
    head: ChainHead | None
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def entry_hash(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    detail: dict[str, Any],
    prev_hash: str,
) -> str:
    content = {
        "seq": seq,
        "at": at.isoformat(),
        "actor": actor,
        "action": action,
        "subject": [subject_type, subject_id],
        "detail": detail,
        "prev": prev_hash,
    }
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record_event(
    session: Session,
    actor: str,
    action: str,
    subject: tuple[str, str],
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction, so it lands with the change it records."""
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = utcnow()
    detail = json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str))
    subject_type, subject_id = subject
    digest = entry_hash(seq, at, actor, action, subject_type, subject_id, detail, prev)
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        detail=detail,
        prev_hash=prev,
        hash=digest,
    )
    session.add(entry)
    session.flush()
    session.info[HEAD_KEY] = ChainHead(seq, digest)
    return entry


def verify_chain(session: Session, head: ChainHead | None) -> ChainReport:
    """Walk the whole trail; every break is named by the entry where it shows."""
    problems: list[str] = []
    expected_seq, prev = 1, GENESIS
    hashes: dict[int, str] = {}
    count = 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        count += 1
        if entry.seq != expected_seq:
            problems.append(
                f"entries {expected_seq}..{entry.seq - 1} are missing (deleted)"
                if entry.seq > expected_seq
                else f"entry {entry.seq} appears out of order"
            )
        recomputed = entry_hash(
            entry.seq,
            entry.at,
            entry.actor,
            entry.action,
            entry.subject_type,
            entry.subject_id,
            entry.detail,
            entry.prev_hash,
        )
        if recomputed != entry.hash:
            problems.append(f"entry {entry.seq} was altered after it was written")
        if entry.prev_hash != prev:
            problems.append(
                f"entry {entry.seq} does not follow the entry before it "
                "(an entry was deleted, inserted or moved here)"
            )
        hashes[entry.seq] = entry.hash
        expected_seq, prev = entry.seq + 1, entry.hash
    if head is not None:
        if head.seq not in hashes:
            problems.append(
                f"the trail ends at entry {expected_seq - 1} but entry {head.seq} was written: "
                "the newest entries were deleted"
            )
        elif hashes[head.seq] != head.hash:
            problems.append(f"entry {head.seq} differs from the one recorded as the newest")
    last = session.scalar(select(func.max(AuditEntry.seq)))
    newest = ChainHead(last, hashes[last]) if last is not None and last in hashes else None
    return ChainReport(entries=count, head=newest, problems=tuple(problems))


def keep_head_on_disk(db: Database, head_path: Path) -> None:
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


def refuse_lost_database(db: Database, head_path: Path) -> None:
    """A database that is gone (deleted, a wrong URL, an empty one restored) must not be
    silently replaced by a new empty one: the audit head beside it remembers the trail."""
    head = _read_head(head_path)
    if head is None or head.seq == 0:
        return
    with db.sessions() as session:
        newest = session.scalar(select(func.max(AuditEntry.seq)))
    if newest is None:
        db.engine.dispose()
        safe = db.engine.url.render_as_string(hide_password=True)
        raise WorkspaceError(
            f"the database {safe} holds no audit trail, but {head_path.name} "
            f"records {head.seq} entries: the database was lost or replaced. Restore it from "
            "the backup; sealdesk does not start a new one over it"
        )


def _read_head(path: Path) -> ChainHead | None:
    try:
        return ChainHead.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
