"""The mailroom: a batch scan of mailed envelopes in, each page filed under its application.

    receive_batch  the batch's files stored and rendered (``keep_file``), one row per page
    route_batch    the routing reads → routes (``route.plan_routes``), recorded page by page,
                   and per application the files it receives (a PDF batch is cut into
                   PDFs of that application's pages; an image file goes whole)
    assign_pages   the exception queue, by hand: pages given to an application

The files made for an application are kept under ``mail/BATCH/APPLICATION/`` and taken in
by intake like any upload (the intake flow, or ``intake_application``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.errors import LifecycleError, NotFound
from pipeline.mail.route import ASSIGNED, BLANK, ROUTED, UNROUTED, Known, Route, RouteRead
from pipeline.model.application import ApplicationRecord, parse_record
from pipeline.records import lifecycle
from pipeline.records.audit import record_event
from pipeline.records.database import Session
from pipeline.records.files import application_codes, page_images, stored_file
from pipeline.records.lifecycle import OPEN_FOR_FILES, REJECTED, Status
from pipeline.records.mail import batch_of_each_file, batch_pages, pages_in_state
from pipeline.records.models import Application, MailBatch, MailPage
from pipeline.store import atomic_writer
from pipeline.usecases.intake import REJECTED_FILE, display_name, keep_file
from pipeline.workspace import Workspace

log = logging.getLogger(__name__)

SCAN_SUFFIXES = {".pdf", ".jpg", ".jpeg", ".png", ".tif", ".tiff"}


@dataclass(frozen=True, slots=True)
class BatchPage:
    id: int
    position: int
    file_name: str
    page_index: int
    image_sha256: str | None


@dataclass(frozen=True, slots=True)
class ReceivedBatch:
    batch_id: str
    pages: tuple[BatchPage, ...]
    files: tuple[dict[str, Any], ...]
    """[{name, sha256, pages, outcome, problem}] in scan order."""


@dataclass(slots=True)
class Delivery:
    """What one application receives from a batch."""

    application_id: str
    files: list[Path] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    """Batch positions."""


def scan_files(paths: Iterable[Path]) -> list[Path]:
    """The files of a batch in scan order: each path as given; a folder's files (not hidden,
    not in subfolders) in name order, as a scanner numbers them."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            )
        else:
            files.append(path)
    return files


def new_batch_id() -> str:
    return f"M{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def receive_batch(
    workspace: Workspace, paths: Sequence[Path], actor: str, source: str | None = None
) -> ReceivedBatch:
    """Store the batch's files and their pages and record the batch, page by page. A file
    already received in an earlier batch is recorded but its pages are not routed again; a
    broken file is recorded with its problem, and the others go on."""
    files = scan_files(paths)
    batch_id = new_batch_id()
    listed: list[dict[str, Any]] = []
    rows: list[MailPage] = []
    with workspace.session() as session:
        earlier = batch_of_each_file(session)
    for path in files:
        outcome = keep_file(workspace, path, display_name(path))
        entry: dict[str, Any] = {
            "name": outcome.name,
            "sha256": outcome.sha256,
            "pages": len(outcome.pages),
            "outcome": outcome.outcome,
            "problem": outcome.problem,
        }
        listed.append(entry)
        if outcome.outcome == REJECTED_FILE or not outcome.sha256:
            log.warning("mail batch %s: %s refused: %s", batch_id, outcome.name, outcome.problem)
            continue
        if outcome.sha256 in earlier:
            entry["problem"] = f"already received in mail batch {earlier[outcome.sha256]}"
            continue
        for page in outcome.pages:
            rows.append(
                MailPage(
                    batch_id=batch_id,
                    position=len(rows) + 1,
                    file_sha256=outcome.sha256,
                    file_name=outcome.name,
                    page_index=page.index,
                    image_sha256=None,
                    state=UNROUTED,
                    how="not routed yet",
                    read={"problem": page.problem} if page.problem else {},
                )
            )
    with workspace.session() as session:
        images = page_images(session, {r.file_sha256 for r in rows})
        for row in rows:
            row.image_sha256 = images.get((row.file_sha256, row.page_index))
        session.add(
            MailBatch(
                id=batch_id,
                source=source or ", ".join(str(p) for p in paths),
                received_by=actor,
                files=listed,
                summary={"pages": len(rows)},
            )
        )
        session.add_all(rows)
        session.flush()
        record_event(
            session,
            actor,
            "mail.received",
            ("mail_batch", batch_id),
            {"files": [{k: f[k] for k in ("name", "sha256", "problem")} for f in listed]},
        )
        pages = tuple(
            BatchPage(r.id, r.position, r.file_name, r.page_index, r.image_sha256) for r in rows
        )
    return ReceivedBatch(batch_id, pages, tuple(listed))


def load_batch(workspace: Workspace, batch_id: str) -> ReceivedBatch:
    """A batch as received, to route it (again): a batch whose routing was cut short."""
    with workspace.session() as session:
        batch = session.get(MailBatch, batch_id)
        if batch is None:
            raise NotFound(f"no mail batch {batch_id}")
        rows = batch_pages(session, batch_id)
        pages = tuple(
            BatchPage(r.id, r.position, r.file_name, r.page_index, r.image_sha256)
            for r in rows
            if r.state == UNROUTED
        )
        return ReceivedBatch(batch_id, pages, tuple(batch.files))


def known_applications(workspace: Workspace) -> Known:
    with workspace.session() as session:
        apps = application_codes(session)
        open_, closed = {}, {}
        for app_id, code, status in apps:
            if Status(status) in OPEN_FOR_FILES | REJECTED:
                open_[app_id] = code
            else:
                closed[app_id] = f"{status} ({lifecycle.STATUS_LABELS[Status(status)]})"
    return Known(open_, closed)


def route_batch(
    workspace: Workspace,
    batch: ReceivedBatch,
    reads: Sequence[RouteRead | None],
    routes: Sequence[Route],
    actor: str,
) -> list[Delivery]:
    """Record each page's route and make the files each application receives."""
    deliveries: dict[str, Delivery] = {}
    with workspace.session() as session:
        for page, read, route in zip(batch.pages, reads, routes, strict=True):
            row = session.get_one(MailPage, page.id)
            row.state, row.application_id, row.how = route.state, route.application_id, route.how
            if read is not None:
                row.read = {**row.read, **read.to_json()}
            if route.application_id and route.state in (ROUTED, BLANK):
                deliveries.setdefault(route.application_id, Delivery(route.application_id))
                deliveries[route.application_id].pages.append(page.position)
        counts = {s: sum(r.state == s for r in routes) for s in (ROUTED, UNROUTED, BLANK)}
        summary = {
            "pages": len(routes),
            **counts,
            "applications": sorted(deliveries),
        }
        session.get_one(MailBatch, batch.batch_id).summary = summary
        record_event(session, actor, "mail.routed", ("mail_batch", batch.batch_id), summary)
    for delivery in deliveries.values():
        delivery.files = deliver(workspace, batch.batch_id, delivery.application_id, delivery.pages)
    return list(deliveries.values())


def deliver(
    workspace: Workspace, batch_id: str, app_id: str, positions: Sequence[int]
) -> list[Path]:
    """The files holding these pages of the batch, for the application: consecutive pages
    of one PDF become one PDF of them; an image file whose pages all go here goes as it is;
    any other page goes as its stored 300-dpi image."""
    folder = workspace.settings.home / "mail" / batch_id / app_id
    folder.mkdir(parents=True, exist_ok=True)
    with workspace.session() as session:
        rows = batch_pages(session, batch_id, positions)
        runs: list[list[MailPage]] = []
        for row in rows:
            last = runs[-1][-1] if runs else None
            if (
                last is not None
                and last.file_sha256 == row.file_sha256
                and last.position + 1 == row.position
            ):
                runs[-1].append(row)
            else:
                runs.append([row])
        files = []
        for run in runs:
            path = _run_file(workspace, session, folder, run)
            for row in run:
                row.delivered_as = path.name
            files.append(path)
    return files


def _run_file(workspace: Workspace, session: Session, folder: Path, run: list[MailPage]) -> Path:
    """One file for a run of consecutive pages of one scanned file: the file itself when
    the run is all of it (the store knows it: nothing is rendered again), else a PDF of
    those pages (from a PDF) or their stored 300-dpi images (from a multi-page image)."""
    source = workspace.store.path_of(run[0].file_sha256)
    stored = stored_file(session, run[0].file_sha256)
    whole = stored is not None and [r.page_index for r in run] == list(range(stored.page_count))
    if whole:
        out = folder / run[0].file_name
        with atomic_writer(out) as handle:
            handle.write(source.read_bytes())
        return out
    stem = Path(run[0].file_name).stem or "scan"
    first, last = run[0].page_index + 1, run[-1].page_index + 1
    pages = f"p{first}" if first == last else f"p{first}-{last}"
    if source.read_bytes()[:5] == b"%PDF-":
        from pypdf import PdfReader, PdfWriter

        reader = PdfReader(source)
        writer = PdfWriter()
        for row in run:
            writer.add_page(reader.pages[row.page_index])
        out = folder / f"{stem}-{pages}.pdf"
        with atomic_writer(out) as handle:
            writer.write(handle)
        return out
    images = [row.image_sha256 for row in run if row.image_sha256]
    if len(images) != len(run):
        raise NotFound(f"a page of {run[0].file_name} has no stored image")
    if len(run) == 1:
        out = folder / f"{stem}-{pages}.png"
        with atomic_writer(out) as handle:
            handle.write(workspace.store.read_bytes(images[0]))
        return out
    from PIL import Image

    out = folder / f"{stem}-{pages}.tif"
    frames = [Image.open(workspace.store.path_of(sha)) for sha in images]
    with atomic_writer(out) as handle:
        frames[0].save(
            handle, format="TIFF", save_all=True, append_images=frames[1:], dpi=(300, 300)
        )
    return out


def application_record(workspace: Workspace, app_id: str) -> ApplicationRecord:
    with workspace.session() as session:
        app = session.get(Application, app_id)
        if app is None:
            raise NotFound(f"no application {app_id}")
        return parse_record(dict(app.record), f"application {app_id}")


def unrouted_pages(workspace: Workspace) -> list[dict[str, Any]]:
    """The exception queue: pages no rule could route, oldest first."""
    with workspace.session() as session:
        rows = pages_in_state(session, UNROUTED)
        return [
            {
                "page_id": r.id,
                "batch": r.batch_id,
                "position": r.position,
                "file": r.file_name,
                "page": r.page_index + 1,
                "kind": r.read.get("kind"),
                "read": {k: v for k, v in r.read.items() if k != "kind" and v},
                "why": r.how,
            }
            for r in rows
        ]


def assign_pages(
    workspace: Workspace, page_ids: Sequence[int], app_id: str, actor: str
) -> list[Path]:
    """Give pages from the exception queue to an application, by hand; the files it then
    receives (for intake to take in)."""
    known = known_applications(workspace)
    if app_id not in known.open:
        why = known.closed.get(app_id)
        raise LifecycleError(
            f"{app_id} " + (f"is {why}: it takes no files now" if why else "is not known")
        )
    by_batch: dict[str, list[int]] = {}
    with workspace.session() as session:
        for page_id in page_ids:
            row = session.get(MailPage, page_id)
            if row is None:
                raise NotFound(f"no mail page {page_id}")
            if row.state != UNROUTED:
                raise LifecycleError(
                    f"mail page {page_id} is {row.state}"
                    + (f" to {row.application_id}" if row.application_id else "")
                    + "; only pages in the exception queue can be assigned"
                )
            row.state, row.application_id, row.assigned_by = ASSIGNED, app_id, actor
            row.how = f"assigned by hand by {actor} (was: {row.how})"
            by_batch.setdefault(row.batch_id, []).append(row.position)
        record_event(
            session,
            actor,
            "mail.assigned",
            ("application", app_id),
            {"pages": list(page_ids), "batches": sorted(by_batch)},
        )
    files: list[Path] = []
    for batch_id, positions in by_batch.items():
        files.extend(deliver(workspace, batch_id, app_id, sorted(positions)))
    return files
