"""The append-only audit trail: who did what, when, to what, hash-chained.

Each entry's hash covers its content and the previous entry's hash, so editing, deleting,
reordering or inserting an entry breaks the chain at that point. A forger who knows the
scheme could recompute every hash after an edit, or append an entry with a correct hash:
each entry also carries an HMAC of its hash under the audit key (``audit-key``, or
``[audit] key_file`` kept apart from the database), which the database does not give.
Deleting the newest entries leaves a shorter chain that is still consistent, so the newest
hash is also kept outside the database (``audit-head``) and, for an operator to keep where
the workspace's owner cannot reach, in signed checkpoints (:func:`checkpoint`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
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
_KEY_ATTRIBUTE = "sealdesk_audit_key"


@dataclass(frozen=True, slots=True)
class AuditKey:
    key: bytes
    sealed_from: int
    """The first entry written under the key: every entry from it on must carry a seal
    (a forger who blanks the seals does not make the trail look older than the key)."""


def attach_audit_key(db: Database, path: Path) -> None:
    """Load the audit key in ``path`` into ``db``'s sessions, making it (32 random bytes,
    mode 0600, with the number of the next entry) if missing."""
    if not path.exists():
        with db.sessions() as session:
            newest = session.scalar(select(func.max(AuditEntry.seq))) or 0
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"{secrets.token_hex(32)} from {newest + 1}\n")
    try:
        text, _, first = path.read_text().strip().partition(" from ")
        key = AuditKey(bytes.fromhex(text), int(first))
    except (OSError, ValueError) as exc:
        raise WorkspaceError(
            f"{path}: not an audit key (64 hexadecimal digits, 'from', an entry number): {exc}"
        ) from exc
    setattr(db.engine, _KEY_ATTRIBUTE, key)


def _audit_key(session: Session) -> AuditKey | None:
    found: AuditKey | None = getattr(session.get_bind(), _KEY_ATTRIBUTE, None)
    return found


def _key(session: Session) -> bytes | None:
    found = _audit_key(session)
    return found.key if found else None


def seal(key: bytes, digest: str) -> str:
    return hmac.new(key, digest.encode("ascii"), hashlib.sha256).hexdigest()


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
        mac=seal(key, digest) if (key := _key(session)) else None,
    )
    session.add(entry)
    session.flush()
    session.info[HEAD_KEY] = ChainHead(seq, digest)
    return entry


def verify_chain(
    session: Session, head: ChainHead | None, checkpoints: tuple[Checkpoint, ...] = ()
) -> ChainReport:
    """Walk the whole trail; every break is named by the entry where it shows. Entries
    written before the trail was keyed carry no seal; from the first sealed one on, every
    entry must carry a seal that fits. Each checkpoint must name an entry the trail still
    has, with the same hash."""
    problems: list[str] = []
    audit_key = _audit_key(session)
    key = audit_key.key if audit_key else None
    sealed_from = audit_key.sealed_from if audit_key else None
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
        if key is not None and sealed_from is not None and entry.seq >= sealed_from:
            if entry.mac is None:
                problems.append(
                    f"entry {entry.seq} carries no seal of the audit key: written by "
                    "something other than sealdesk (a forged entry)"
                )
            elif not hmac.compare_digest(entry.mac, seal(key, entry.hash)):
                problems.append(
                    f"entry {entry.seq}'s seal does not fit its hash: the trail was rewritten "
                    "from here (or the audit key is not the one it was written with)"
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
    for point in checkpoints:
        if key is not None and not point.fits(key):
            problems.append(f"checkpoint of entry {point.entries} is not sealed with the audit key")
        elif point.entries and point.entries not in hashes:
            problems.append(
                f"the trail ends at entry {expected_seq - 1} but a checkpoint records entry "
                f"{point.entries} ({point.at}): entries were deleted"
            )
        elif point.entries and hashes[point.entries] != point.hash:
            problems.append(
                f"entry {point.entries} differs from the checkpoint of {point.at}: the trail "
                "was rewritten"
            )
    last = session.scalar(select(func.max(AuditEntry.seq)))
    newest = ChainHead(last, hashes[last]) if last is not None and last in hashes else None
    return ChainReport(entries=count, head=newest, problems=tuple(problems))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The trail's length and newest hash at a moment, sealed with the audit key: written
    where the workspace's owner cannot reach (another machine, write-once media), it shows
    truncation and rewriting even when ``audit-head`` went with them."""

    entries: int
    hash: str
    at: str
    mac: str

    @staticmethod
    def seal(key: bytes, entries: int, digest: str, at: str) -> str:
        return hmac.new(key, f"{entries} {digest} {at}".encode(), "sha256").hexdigest()

    def fits(self, key: bytes) -> bool:
        return hmac.compare_digest(self.mac, self.seal(key, self.entries, self.hash, self.at))

    def dumps(self) -> str:
        return json.dumps(
            {"entries": self.entries, "hash": self.hash, "at": self.at, "mac": self.mac}
        )

    @classmethod
    def loads(cls, text: str) -> Checkpoint:
        data = json.loads(text)
        return cls(int(data["entries"]), str(data["hash"]), str(data["at"]), str(data["mac"]))


def checkpoint(session: Session) -> Checkpoint:
    """A checkpoint of the trail as it stands (sealed with the audit key)."""
    key = _key(session)
    if key is None:
        raise WorkspaceError("the audit key is not loaded: open the workspace first")
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    entries, digest = (last[0], last[1]) if last else (0, GENESIS)
    at = utcnow().isoformat(timespec="seconds")
    return Checkpoint(entries, digest, at, Checkpoint.seal(key, entries, digest, at))


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
