"""Record an application and the files that arrived for it.

Each file is committed on its own, so one bad or huge file, or a crash halfway through a
batch, never loses the files before it. A file whose content (sha256) is already known is
linked, not processed again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline.errors import LifecycleError
from pipeline.ingest import InvalidFile
from pipeline.ingest.isolate import IsolatedPage, Opened, open_isolated
from pipeline.ingest.problems import FileProblem
from pipeline.ingest.read import check_file
from pipeline.model.application import ApplicationRecord
from pipeline.model.progress import FILES, Progress, silent
from pipeline.records import lifecycle
from pipeline.records.audit import record_event
from pipeline.records.database import Session
from pipeline.records.files import (
    first_receiver,
    link_of,
    pages_of,
    received_digests,
    received_files,
    stored_file,
)
from pipeline.records.lifecycle import OPEN_FOR_FILES, REJECTED, Status
from pipeline.records.models import Application, ApplicationFile, Page, StoredFile
from pipeline.store import sha256_of
from pipeline.workspace import Workspace

log = logging.getLogger(__name__)

NEW, DUPLICATE, KNOWN, REJECTED_FILE = "new", "duplicate", "known", "rejected"


@dataclass(frozen=True, slots=True)
class PageOutcome:
    index: int
    width: int
    height: int
    dpi: int | None
    has_text: bool
    problem: str | None


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What happened to one file. ``outcome``: new, duplicate, known (sent for another
    application before) or rejected (``problem_code`` and ``problem`` say why)."""

    name: str
    outcome: str
    size: int
    sha256: str | None = None
    media_type: str | None = None
    pages: tuple[PageOutcome, ...] = ()
    problem_code: str | None = None
    problem: str | None = None
    warnings: tuple[str, ...] = ()
    round: int = 1
    """The round in which the application received this file."""
    seconds: float = 0.0
    """How long taking it in took (hashing, the isolated reader, storing)."""


@dataclass(frozen=True, slots=True)
class IntakeResult:
    application_id: str
    status: str
    round: int
    created: bool
    files: tuple[FileOutcome, ...] = field(default_factory=tuple)


def application_files(session: Session, app_id: str) -> tuple[FileOutcome, ...]:
    """Every file the application has received, all rounds, in the order they came. A name
    sent again in a later round with other content is told apart: the earlier one is
    called ``NAME（第 N 轮）`` (a report's documents name their file)."""
    rows = received_files(session, app_id)
    newest = {link.original_name: link.round for link, _ in rows}
    for link, _ in rows:
        newest[link.original_name] = max(newest[link.original_name], link.round)
    return tuple(
        FileOutcome(
            link.original_name
            if link.round == newest[link.original_name]
            else f"{link.original_name}（第 {link.round} 轮）",
            REJECTED_FILE if stored.problem_code else NEW,
            stored.size,
            stored.sha256,
            stored.media_type,
            _pages_of(session, stored),
            stored.problem_code,
            stored.problem,
            round=link.round,
        )
        for link, stored in rows
    )


@dataclass(frozen=True, slots=True)
class StoredPage:
    """A rendered page of a file, as the later stages read it."""

    file: str
    """The file's name as received."""
    index: int
    """0-based page within the file."""
    image_sha256: str | None
    """The stored PNG; None when the page could not be rendered (``problem`` says why)."""
    problem: str | None


def readable_pages(session: Session, files: Sequence[FileOutcome]) -> list[StoredPage]:
    """The pages of the readable ``files``, in order: what extraction reads."""
    pages: list[StoredPage] = []
    for outcome in files:
        if outcome.outcome == REJECTED_FILE or not outcome.sha256 or not outcome.pages:
            continue
        stored = stored_file(session, outcome.sha256)
        if stored is None:
            continue
        rows = pages_of(session, stored.id)
        pages.extend(StoredPage(outcome.name, p.index, p.image_sha256, p.problem) for p in rows)
    return pages


def _pages_of(session: Session, stored: StoredFile) -> tuple[PageOutcome, ...]:
    pages = pages_of(session, stored.id)
    return tuple(
        PageOutcome(p.index, p.width, p.height, p.dpi, bool(p.text), p.problem) for p in pages
    )


def display_name(path: Path) -> str:
    """The file's name as a person can read it, even when it is not valid UTF-8.

    Names from Windows machines in China often arrive as GBK bytes: shown decoded as such.
    """
    raw = path.name.encode("utf-8", "surrogateescape")
    for encoding in ("utf-8", "gb18030"):
        try:
            return _printable(raw.decode(encoding))
        except UnicodeDecodeError:
            continue
    return _printable(raw.decode("utf-8", "backslashreplace"))


def _printable(name: str) -> str:
    """Control characters escaped: a name is shown in terminals and pages, where a newline
    or an escape sequence would forge lines or colours."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in name)


def intake_application(
    workspace: Workspace,
    record: ApplicationRecord,
    paths: Sequence[Path],
    actor: str,
    progress: Progress = silent,
) -> IntakeResult:
    """Take in an application (new, updated before review, or resubmitted) and its files;
    ``progress`` hears of each file taken."""
    digests = {path: _digest_if_acceptable(path, workspace) for path in paths}
    with workspace.session() as session:
        app, created = _admit_application(session, record, set(digests.values()) - {None}, actor)
        app_id, round_ = app.id, app.round
        was_checked = app.status == Status.CHECKED
    outcomes = []
    progress(FILES, 0, len(paths))
    for done, path in enumerate(paths, 1):
        outcomes.append(_timed(_take_file, workspace, app_id, round_, path, digests[path], actor))
        progress(FILES, done, len(paths))
    added = sum(o.outcome in (NEW, KNOWN, REJECTED_FILE) for o in outcomes)
    with workspace.session() as session:
        app = session.get_one(Application, app_id)
        if was_checked and added:
            lifecycle.mark_files_added(session, app, actor, added)
        status = app.status
    return IntakeResult(app_id, status, round_, created, tuple(outcomes))


def _timed(take: Callable[..., FileOutcome], *args: Any) -> FileOutcome:
    started = time.perf_counter()
    outcome = take(*args)
    return replace(outcome, seconds=round(time.perf_counter() - started, 3))


def _digest_if_acceptable(path: Path, workspace: Workspace) -> str | None:
    try:
        check_file(path, workspace.settings.limits)
        return sha256_of(path)
    except (InvalidFile, OSError):
        return None  # refused in _take_file, with the reason


def _admit_application(
    session: Session, record: ApplicationRecord, digests: set[str | None], actor: str
) -> tuple[Application, bool]:
    app = session.get(Application, record.application_id)
    if app is None:
        app = Application(
            id=record.application_id,
            scheme=record.scheme,
            kind=record.kind,
            company_name=record.company_name,
            company_uscc=record.company_uscc,
            record=record.data,
            record_sha256=record.digest(),
            status=Status.RECEIVED.value,
            round=1,
            received_by=actor,
        )
        session.add(app)
        session.flush()
        record_event(
            session,
            actor,
            "application.received",
            ("application", app.id),
            {"kind": record.kind, "scheme": record.scheme, "round": 1},
        )
        return app, True
    status = Status(app.status)
    if status not in OPEN_FOR_FILES | REJECTED:
        raise LifecycleError(
            f"{app.id} is {status.value} ({lifecycle.STATUS_LABELS[status]}): it takes new files "
            "only before review starts or after a rejection"
        )
    changed = app.record_sha256 != record.digest()
    known: set[str | None] = set(received_digests(session, app.id))
    has_new_files = bool(digests - known) or None in digests
    if status in REJECTED:
        if not (changed or has_new_files):
            raise LifecycleError(
                f"{app.id} was sent back ({lifecycle.STATUS_LABELS[status]}); a resubmission "
                "needs changed details or new files, and these were all received before"
            )
        lifecycle.resubmit(session, app, actor)
    if changed:
        _update_record(session, app, record, actor)
    return app, False


def _update_record(
    session: Session, app: Application, record: ApplicationRecord, actor: str
) -> None:
    if record.kind != app.kind or record.scheme != app.scheme:
        raise LifecycleError(
            f"{app.id} is a {app.scheme}/{app.kind} application; a {record.scheme}/{record.kind} "
            "one needs an application id of its own"
        )
    app.company_name, app.company_uscc = record.company_name, record.company_uscc
    app.record, app.record_sha256 = record.data, record.digest()
    record_event(
        session,
        actor,
        "application.record_updated",
        ("application", app.id),
        {"record_sha256": app.record_sha256, "round": app.round},
    )


def _take_file(
    workspace: Workspace, app_id: str, round_: int, path: Path, digest: str | None, actor: str
) -> FileOutcome:
    name = display_name(path)
    if digest is None:
        return _refuse_unread(workspace, app_id, round_, path, name, actor)
    with workspace.session() as session:
        existing = stored_file(session, digest)
        if existing is not None:
            return _link_known(session, existing, app_id, round_, name, actor)
    try:
        return _process_new(workspace, app_id, round_, path, name, digest, actor)
    except InvalidFile as bad:
        return _keep_rejected(workspace, app_id, round_, path, name, digest, bad, actor)
    except Exception as exc:  # the batch boundary: one file's surprise is its own problem
        log.exception("unexpected failure reading %s", name)
        failure = InvalidFile(FileProblem.UNREADABLE, f"the file could not be read ({exc!r})")
        return _keep_rejected(workspace, app_id, round_, path, name, digest, failure, actor)


def _process_new(
    workspace: Workspace, app_id: str, round_: int, path: Path, name: str, digest: str, actor: str
) -> FileOutcome:
    with open_isolated(path, workspace.settings.limits) as opened, workspace.session() as session:
        stored, pages = _store_new(workspace, session, path, digest, opened)
        _link(session, stored, app_id, round_, name, actor, NEW)
    probe = opened.probe
    return FileOutcome(
        name, NEW, probe.size, digest, probe.media_type, pages, warnings=probe.warnings
    )


def _store_new(
    workspace: Workspace, session: Session, path: Path, digest: str, opened: Opened
) -> tuple[StoredFile, tuple[PageOutcome, ...]]:
    """The file and each of its pages (rendered by the isolated reader), into the store
    and the database."""
    probe = opened.probe
    workspace.store.put_path(path, digest)
    stored = StoredFile(
        sha256=digest,
        size=probe.size,
        media_type=probe.media_type,
        stored=True,
        page_count=probe.page_count,
    )
    session.add(stored)
    session.flush()
    pages = [_store_page(workspace, session, stored.id, page) for page in opened.pages]
    return stored, tuple(pages)


def keep_file(workspace: Workspace, path: Path, name: str) -> FileOutcome:
    """Store a file and its rendered pages without giving it to an application (the
    mailroom's batch scans); a file already known is not read again. A file refused within
    the size limit is still kept (``sha256`` set), so staff can see what was sent. Never
    raises for a bad file: the outcome says what was wrong."""
    digest = _digest_if_acceptable(path, workspace)
    if digest is None:
        try:
            check_file(path, workspace.settings.limits)
            code, message = "unreadable", "the file could not be read"
        except InvalidFile as bad:
            code, message = bad.problem.value, bad.message
        return FileOutcome(name, REJECTED_FILE, _size(path), problem_code=code, problem=message)
    with workspace.session() as session:
        known = stored_file(session, digest)
        if known is not None:
            return FileOutcome(
                name,
                KNOWN,
                known.size,
                digest,
                known.media_type,
                _pages_of(session, known),
                known.problem_code,
                known.problem,
            )
    try:
        with (
            open_isolated(path, workspace.settings.limits) as opened,
            workspace.session() as session,
        ):
            _, pages = _store_new(workspace, session, path, digest, opened)
        return FileOutcome(name, NEW, opened.probe.size, digest, opened.probe.media_type, pages)
    except Exception as exc:  # one file's surprise is its own problem
        refused = (
            exc
            if isinstance(exc, InvalidFile)
            else InvalidFile(FileProblem.UNREADABLE, f"the file could not be read ({exc!r})")
        )
        return _keep_refused(workspace, path, name, digest, refused)


def _keep_refused(
    workspace: Workspace, path: Path, name: str, digest: str, bad: InvalidFile
) -> FileOutcome:
    workspace.store.put_path(path, digest)
    with workspace.session() as session:
        session.add(
            StoredFile(
                sha256=digest,
                size=_size(path),
                media_type=None,
                stored=True,
                page_count=0,
                problem_code=bad.problem.value,
                problem=bad.message,
            )
        )
    return FileOutcome(
        name,
        REJECTED_FILE,
        _size(path),
        digest,
        problem_code=bad.problem.value,
        problem=bad.message,
    )


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def _store_page(
    workspace: Workspace, session: Session, file_id: int, page: IsolatedPage
) -> PageOutcome:
    image_sha = None
    width = height = 0
    if page.png is not None:
        image_sha = workspace.store.put_bytes(page.png.read_bytes())
        width, height = page.width, page.height
    session.add(
        Page(
            file_id=file_id,
            index=page.index,
            image_sha256=image_sha,
            width=width,
            height=height,
            dpi=page.dpi,
            text=page.text,
            problem=page.problem,
        )
    )
    return PageOutcome(page.index, width, height, page.dpi, bool(page.text), page.problem)


def _link(
    session: Session,
    stored: StoredFile,
    app_id: str,
    round_: int,
    name: str,
    actor: str,
    outcome: str,
) -> None:
    session.add(
        ApplicationFile(
            application_id=app_id,
            file_id=stored.id,
            original_name=name,
            round=round_,
            received_by=actor,
        )
    )
    record_event(
        session,
        actor,
        "file.received",
        ("application", app_id),
        {
            "file": stored.sha256,
            "name": name,
            "round": round_,
            "outcome": outcome,
            "problem": stored.problem_code,
        },
    )


def _link_known(
    session: Session, stored: StoredFile, app_id: str, round_: int, name: str, actor: str
) -> FileOutcome:
    link = link_of(session, app_id, stored.id)
    pages = _pages_of(session, stored)
    if link is not None:
        note = (
            f"already received as {link.original_name!r} (round {link.round}); not processed again"
        )
        return FileOutcome(
            name,
            DUPLICATE,
            stored.size,
            stored.sha256,
            stored.media_type,
            pages,
            stored.problem_code,
            stored.problem,
            (note,),
            link.round,
        )
    elsewhere = first_receiver(session, stored.id)
    _link(session, stored, app_id, round_, name, actor, KNOWN)
    note = (
        f"the same file was received before for {elsewhere}"
        if elsewhere
        else "the file was already in the store (a mail batch); its pages are not rendered again"
    )
    return FileOutcome(
        name,
        KNOWN,
        stored.size,
        stored.sha256,
        stored.media_type,
        pages,
        stored.problem_code,
        stored.problem,
        (note,),
        round_,
    )


def _keep_rejected(
    workspace: Workspace,
    app_id: str,
    round_: int,
    path: Path,
    name: str,
    digest: str,
    bad: InvalidFile,
    actor: str,
) -> FileOutcome:
    """A refused file within the size limit is still kept, so staff can see what was sent."""
    workspace.store.put_path(path, digest)
    size = path.stat().st_size
    with workspace.session() as session:
        stored = StoredFile(
            sha256=digest,
            size=size,
            media_type=None,
            stored=True,
            page_count=0,
            problem_code=bad.problem.value,
            problem=bad.message,
        )
        session.add(stored)
        session.flush()
        _link(session, stored, app_id, round_, name, actor, REJECTED_FILE)
    log.info("%s refused: %s", name, bad.message)
    return FileOutcome(
        name,
        REJECTED_FILE,
        size,
        digest,
        problem_code=bad.problem.value,
        problem=bad.message,
        round=round_,
    )


def _refuse_unread(
    workspace: Workspace, app_id: str, round_: int, path: Path, name: str, actor: str
) -> FileOutcome:
    """Empty, over the size limit or unreadable: refused without being read or stored."""
    size = _size(path)
    try:
        check_file(path, workspace.settings.limits)
        code, message = "unreadable", "the file could not be read"
    except InvalidFile as bad:
        code, message = bad.problem.value, bad.message
    with workspace.session() as session:
        record_event(
            session,
            actor,
            "file.refused",
            ("application", app_id),
            {"name": name, "size": size, "problem": code},
        )
    log.info("%s refused: %s", name, message)
    return FileOutcome(name, REJECTED_FILE, size, problem_code=code, problem=message, round=round_)
