"""Intake into a real workspace: files kept once, bad ones refused, the others go on."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pipeline.config import IngestLimits
from pipeline.errors import LifecycleError
from pipeline.model.application import ApplicationRecord
from pipeline.records import lifecycle
from pipeline.records.lifecycle import Status
from pipeline.records.models import Application, ApplicationFile, Page, StoredFile
from pipeline.store import sha256_of
from pipeline.usecases.intake import intake_application
from pipeline.workspace import Workspace, open_workspace
from tests import makefiles


def count(workspace: Workspace, model: type) -> int:
    with workspace.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_batch_with_bad_files_keeps_the_good_ones(
    tmp_path: Path, workspace: Workspace, record: ApplicationRecord
) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    gif = tmp_path / "photo.png"
    gif.write_bytes(b"GIF89a" + b"\x00" * 64)
    files = [
        makefiles.scanned_pdf(tmp_path / "form.pdf", pages=2),
        empty,
        makefiles.encrypted_pdf(tmp_path / "locked.pdf"),
        gif,
        makefiles.tiff(tmp_path / "envelope.tif", pages=3),
        makefiles.png_claiming(tmp_path / "bomb.png", 60_000, 60_000),
        makefiles.jpeg(tmp_path / "licence.jpg"),
    ]
    result = intake_application(workspace, record, files, "clerk")
    outcomes = {f.name: (f.outcome, f.problem_code, len(f.pages)) for f in result.files}
    assert outcomes == {
        "form.pdf": ("new", None, 2),
        "empty.jpg": ("rejected", "empty", 0),
        "locked.pdf": ("rejected", "encrypted", 0),
        "photo.png": ("rejected", "unsupported_type", 0),
        "envelope.tif": ("new", None, 3),
        "bomb.png": ("rejected", "decompression_bomb", 0),
        "licence.jpg": ("new", None, 1),
    }
    assert count(workspace, Page) == 6
    # refused files within the size limit are kept (staff can look at what was sent)...
    assert count(workspace, StoredFile) == 6
    # ...and each stored file, good or bad, is in the content-addressed store
    for path in files:
        if path.stat().st_size:
            assert workspace.store.read_bytes(sha256_of(path)) == path.read_bytes()


def test_page_images_are_in_the_store(
    tmp_path: Path, workspace: Workspace, record: ApplicationRecord
) -> None:
    from PIL import Image

    intake_application(workspace, record, [makefiles.jpeg(tmp_path / "a.jpg")], "clerk")
    with workspace.session() as session:
        page = session.scalars(select(Page)).one()
    stored = Image.open(workspace.store.path_of(page.image_sha256 or ""))
    assert stored.size == (page.width, page.height) == (2480, 3508)
    assert round(stored.info["dpi"][0]) == 300


def test_same_file_twice_is_processed_once(
    tmp_path: Path, workspace: Workspace, record: ApplicationRecord
) -> None:
    scan = makefiles.scanned_pdf(tmp_path / "scan.pdf")
    copy = tmp_path / "scan (1).pdf"
    copy.write_bytes(scan.read_bytes())
    first = intake_application(workspace, record, [scan, copy], "clerk")
    assert [f.outcome for f in first.files] == ["new", "duplicate"]
    assert "already received as 'scan.pdf'" in first.files[1].warnings[0]
    again = intake_application(workspace, record, [scan], "clerk")
    assert [f.outcome for f in again.files] == ["duplicate"]
    assert count(workspace, Page) == 1 and count(workspace, ApplicationFile) == 1


def test_file_known_from_another_application_is_linked_not_redone(
    tmp_path: Path, workspace: Workspace, record: ApplicationRecord
) -> None:
    licence = makefiles.jpeg(tmp_path / "licence.jpg")
    intake_application(workspace, record, [licence], "clerk")
    other = ApplicationRecord({**record.data, "application_id": "CQC-2026-000999"})
    result = intake_application(workspace, other, [licence], "clerk")
    assert result.files[0].outcome == "known" and len(result.files[0].pages) == 1
    assert count(workspace, Page) == 1 and count(workspace, ApplicationFile) == 2


def test_oversized_file_is_refused_unread(
    tmp_path: Path, settings: object, record: ApplicationRecord
) -> None:
    from pipeline.config import Settings

    assert isinstance(settings, Settings)
    small = replace(settings, limits=IngestLimits(max_file_bytes=1024 * 1024))
    workspace = open_workspace(small)
    sparse = tmp_path / "huge.tif"
    with sparse.open("wb") as out:
        out.truncate(2 * 1024**3)  # 2 GiB, sparse
    result = intake_application(workspace, record, [sparse], "clerk")
    (outcome,) = result.files
    assert (outcome.outcome, outcome.problem_code, outcome.sha256) == (
        "rejected",
        "too_large",
        None,
    )
    assert count(workspace, StoredFile) == 0


def test_missing_path_does_not_stop_the_batch(
    tmp_path: Path, workspace: Workspace, record: ApplicationRecord
) -> None:
    good = makefiles.jpeg(tmp_path / "a.jpg")
    result = intake_application(workspace, record, [tmp_path / "gone.pdf", good], "clerk")
    assert [f.outcome for f in result.files] == ["rejected", "new"]
    assert result.files[0].problem_code == "unreadable"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("营业执照.jpg".encode("gbk"), "营业执照.jpg"), (b"scan\xff\xfe.jpg", "scan\\xff\\xfe.jpg")],
)
def test_non_utf8_file_names_are_shown_readably(
    tmp_path: Path, workspace: Workspace, record: ApplicationRecord, raw: bytes, shown: str
) -> None:
    odd = Path(os.fsdecode(os.fsencode(tmp_path) + b"/" + raw))
    makefiles.jpeg(tmp_path / "x.jpg").rename(odd)
    (outcome,) = intake_application(workspace, record, [odd], "clerk").files
    assert outcome.outcome == "new" and outcome.name == shown


def test_new_files_after_the_check_need_a_new_check(
    tmp_path: Path, workspace: Workspace, record: ApplicationRecord
) -> None:
    intake_application(workspace, record, [makefiles.jpeg(tmp_path / "a.jpg")], "clerk")
    with workspace.session() as session:
        lifecycle.mark_checked(
            session, session.get_one(Application, record.application_id), "flagged", "clerk"
        )
    result = intake_application(workspace, record, [makefiles.tiff(tmp_path / "b.tif")], "clerk")
    assert result.status == Status.RECEIVED


def test_no_new_files_during_review(
    tmp_path: Path, workspace: Workspace, record: ApplicationRecord
) -> None:
    intake_application(workspace, record, [], "clerk")
    with workspace.session() as session:
        app = session.get_one(Application, record.application_id)
        lifecycle.mark_checked(session, app, "clear", "clerk")
        lifecycle.decide(session, app, "prereview", True, "alice")
    with pytest.raises(LifecycleError, match="prereview_passed"):
        intake_application(workspace, record, [makefiles.jpeg(tmp_path / "a.jpg")], "clerk")
    assert count(workspace, StoredFile) == 0


def test_resubmission_after_rejection(
    tmp_path: Path, workspace: Workspace, record: ApplicationRecord
) -> None:
    first = makefiles.jpeg(tmp_path / "licence.jpg")
    intake_application(workspace, record, [first], "clerk")
    with workspace.session() as session:
        app = session.get_one(Application, record.application_id)
        lifecycle.mark_checked(session, app, "flagged", "clerk")
        lifecycle.decide(session, app, "prereview", False, "alice", "营业执照复印件未盖章")
    with pytest.raises(LifecycleError, match="needs changed details or new files"):
        intake_application(workspace, record, [first], "clerk")
    stamped = makefiles.scanned_pdf(tmp_path / "licence-stamped.pdf")
    result = intake_application(workspace, record, [stamped], "clerk")
    assert (result.status, result.round) == (Status.RECEIVED, 2)
    with workspace.session() as session:
        rounds = session.scalars(select(ApplicationFile.round).order_by(ApplicationFile.id)).all()
    assert rounds == [1, 2]


def test_corrected_record_before_review_is_kept(
    workspace: Workspace, record: ApplicationRecord
) -> None:
    intake_application(workspace, record, [], "clerk")
    data = {**record.data, "company": {**record.data["company"], "department": "法务部"}}
    intake_application(workspace, ApplicationRecord(data), [], "clerk")
    with workspace.session() as session:
        app = session.get_one(Application, record.application_id)
        assert app.record["company"]["department"] == "法务部"
    other_kind = {**record.data, "kind": "renewal"}
    with pytest.raises(LifecycleError, match="id of its own"):
        intake_application(workspace, ApplicationRecord(other_kind), [], "clerk")
