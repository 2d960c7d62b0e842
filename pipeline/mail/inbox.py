"""The hot folder: what the scanner leaves in the workspace's ``inbox/``.

Each file there is one batch; each folder is one batch of the images in it (in name
order). An entry is taken only once it has settled (nothing in it changed for a while, no
name a copy in progress uses); it leaves the inbox only after the mailroom has stored it:
a file in the store (under its sha256, recorded in its batch) is removed from the inbox; one
that could not be stored (over the size limit, unreadable) is moved to ``inbox/refused/``
with a note saying why. Anything else stays, to be taken by the next run.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.mail.mailroom import ReceivedBatch, scan_files
from pipeline.workspace import Workspace

log = logging.getLogger(__name__)

REFUSED = "refused"
IN_PROGRESS = (".part", ".tmp", ".crdownload", ".partial", "~")


def inbox_of(workspace: Workspace) -> Path:
    folder = workspace.settings.home / "inbox"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def inbox_lock(workspace: Workspace) -> Iterator[bool]:
    """True when this run holds the inbox; False when another pickup is under way (two
    scheduled runs overlapping must not take the same files)."""
    with (workspace.settings.home / "inbox.lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _settled(path: Path, settle_seconds: float, now: float) -> bool:
    if path.name.startswith(".") or path.name.endswith(IN_PROGRESS):
        return False
    stat = path.stat()
    if now - stat.st_mtime < settle_seconds:
        return False
    if path.is_dir():
        return all(_settled(p, settle_seconds, now) for p in path.iterdir())
    return True


def ready_entries(inbox: Path, settle_seconds: float, now: float | None = None) -> list[Path]:
    """The inbox's files and folders that have settled, oldest first."""
    now = time.time() if now is None else now
    entries = []
    for entry in inbox.iterdir():
        if entry.name == REFUSED:
            continue
        try:
            if _settled(entry, settle_seconds, now):
                entries.append(entry)
        except OSError:  # removed while we looked: the next run sees what is there
            continue
    return sorted(entries, key=lambda p: (p.stat().st_mtime, p.name))


def clear_taken(workspace: Workspace, entry: Path, batch: ReceivedBatch) -> dict[str, str]:
    """Take the batch's files out of the inbox now that the mailroom has them: removed
    when stored, moved to ``refused/`` when they could not be. By file name, what happened."""
    stored = {
        f["name"]: f["sha256"]
        for f in batch.files
        if f.get("sha256") and workspace.store.has(str(f["sha256"]))
    }
    why = {f["name"]: f.get("problem") or "not stored" for f in batch.files}
    done: dict[str, str] = {}
    for path in scan_files([entry]):
        if path.name in stored:
            path.unlink()
            done[path.name] = "stored"
        else:
            refused = entry.parent / REFUSED
            refused.mkdir(exist_ok=True)
            target = refused / path.name
            shutil.move(str(path), target)
            note = target.with_name(target.name + ".why.txt")
            note.write_text(f"{why.get(path.name, 'not stored')}\n", encoding="utf-8")
            done[path.name] = f"refused: {why.get(path.name)}"
            log.warning("inbox: %s refused: %s", path.name, why.get(path.name))
    if entry.is_dir():
        with contextlib.suppress(OSError):
            entry.rmdir()  # only when empty: anything left is the next run's
    return done
