"""The Prefect flows, run for real under one test server (prefect_test_harness)."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import flows.runtime
from fixtures import mail_batch
from fixtures.mail_batch import CLEAN as CLEAN_MAIL
from fixtures.mail_batch import FOREIGN, OTHER_NAME
from fixtures.mail_batch import UNRECORDED as NO_LETTER
from pipeline.config import load_settings
from pipeline.errors import HsmError, LifecycleError
from pipeline.issue import issuance
from pipeline.mail.mailroom import assign_pages, unrouted_pages
from pipeline.model.application import load_record
from pipeline.records.models import Application, Credential, Issuance, IssueBatch, Page
from pipeline.usecases.intake import intake_application
from pipeline.workspace import Workspace, open_workspace
from tests.test_issue import Env, _record

pytestmark = pytest.mark.usefixtures("softhsm_dir", "prefect_harness")


def test_the_nightly_issuance_flow_retries_transient_faults_only(
    tmp_path: Path, record_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.issuance import nightly_issuance

    env = Env(tmp_path / "home")
    busy = env.approve(_record(record_data, "CQC-2026-000601"))
    broken = env.approve(_record(record_data, "CQC-2026-000602", uscc="91350200MA2XYZ1234"))
    fine = env.approve(_record(record_data, "CQC-2026-000603", uscc="91110108MA01ABCD2H"))
    with env.workspace.session() as db:  # broken after approval: fails for good
        db.get_one(Application, broken).company_name = ""  # no certificate without a name
    real_issue = issuance.Issuer.issue
    calls: dict[str, int] = {}

    def flaky(self: issuance.Issuer, app_id: str, batch_id: str, actor: str = "nightly") -> Any:
        calls[app_id] = calls.get(app_id, 0) + 1
        if app_id == busy and calls[app_id] == 1:
            raise HsmError("token busy (simulated)", transient=True)
        return real_issue(self, app_id, batch_id, actor)

    monkeypatch.setattr(issuance.Issuer, "issue", flaky)
    summary = nightly_issuance(str(env.settings.home), retry_delay_seconds=0)
    issued = {i["application"] for i in summary["issued"]}
    assert issued == {busy, fine}
    assert calls[busy] == 2  # retried once by Prefect
    assert list(summary["failed"]) == [broken] and calls[broken] == 1  # not retried
    with env.workspace.session() as db:
        night = db.scalars(select(IssueBatch)).one()
        assert night.finished_at is not None and night.summary["failed"] == summary["failed"]
        assert db.get_one(Application, broken).status == "rereview_passed"  # next night
    again = nightly_issuance(str(env.settings.home), retry_delay_seconds=0)
    assert again["issued"] == [] and list(again["failed"]) == [broken]


PACKETS = Path(__file__).resolve().parents[1] / "fixtures" / "packets"
TODAY = "2026-11-21"


def _recorded(workspace: Workspace, *app_ids: str) -> None:
    """Applications as the online form records them, before any paper arrives."""
    for app_id in app_ids:
        record = load_record(PACKETS / app_id / "application.json")
        intake_application(workspace, record, [], "intake01")


def test_the_mailroom_splits_a_batch_and_queues_what_it_cannot_route(tmp_path: Path) -> None:
    from flows.intake import run_intake
    from flows.mailroom import run_mailroom

    settings = load_settings(tmp_path / "home", environ={})
    workspace = open_workspace(settings)
    _recorded(workspace, *mail_batch.RECORDED)
    batch = mail_batch.write_batch_scan(tmp_path / "batch.pdf")
    home = str(settings.home)
    summary = run_mailroom([str(batch)], home=home, today=TODAY)
    # OTHER_NAME's misfiled licence (page 4) found it by its credit code
    assert summary["applications"] == mail_batch.ROUTES
    assert summary["unrouted"] == len(mail_batch.UNROUTED)
    intakes = summary["intake"]
    assert intakes[CLEAN_MAIL]["verdict"] == "clear", intakes[CLEAN_MAIL]["findings"]
    assert "error name_mismatch" in intakes[OTHER_NAME]["findings"]  # its defect, found
    with workspace.session() as db:
        assert {a.id: a.status for a in db.scalars(select(Application))} == dict.fromkeys(
            (CLEAN_MAIL, OTHER_NAME, FOREIGN), "checked"
        )
    queue = unrouted_pages(workspace)
    assert [p["position"] for p in queue] == mail_batch.UNROUTED
    assert [p["kind"] for p in queue] == ["id_card_copy", "application_form", "business_licence"]
    assert f"its QR code names {NO_LETTER}, which is not known" in queue[1]["why"]
    ids = [p["page_id"] for p in queue]
    with pytest.raises(LifecycleError, match="is not known"):
        assign_pages(workspace, ids, NO_LETTER, "intake01")
    _recorded(workspace, NO_LETTER)
    files = assign_pages(workspace, ids, NO_LETTER, "intake01")
    assert [f.name for f in files] == ["batch-p1.pdf", "batch-p8-9.pdf"]
    taken = run_intake([str(f) for f in files], application_id=NO_LETTER, home=home, today=TODAY)
    assert "error document_missing" in taken["findings"]  # no authorization letter: its defect
    assert unrouted_pages(workspace) == []
    with pytest.raises(LifecycleError, match="assigned to"):
        assign_pages(workspace, ids[:1], NO_LETTER, "intake01")
    again = run_mailroom([str(batch)], home=home, today=TODAY)  # the same scan once more
    assert again["pages"] == 0 and again["intake"] == {}
    assert again["files"][0]["problem"].startswith("already received in mail batch M")
    workspace.db.engine.dispose()


def test_the_intake_flow_reads_each_page_once_and_a_broken_page_is_a_finding(
    tmp_path: Path,
) -> None:
    from flows.intake import run_intake

    packet = PACKETS / "CQC-2026-606079"
    files = sorted(str(p) for p in packet.iterdir() if p.name[:2].isdigit())
    home = str(tmp_path / "home")
    record = str(packet / "application.json")
    first = run_intake(files, record, home=home, today=TODAY)
    assert (first["pages"], first["pages_read"], first["pages_cached"]) == (3, 3, 0)
    assert first["verdict"] == "clear", first["findings"]
    assert Path(first["packet"]).is_file()
    # the cached readings hold the contact's ID number read off the copy: sealed, not plain
    cache = Path(home) / "cache" / "flows"
    id_number = json.loads(Path(record).read_text())["contact"]["id_number"]
    assert len(list(cache.iterdir())) == 3
    for entry in cache.iterdir():
        stored = json.loads(entry.read_text())
        assert stored["metadata"]["serializer"]["type"] == "sealdesk/sealed-pickle"
        assert id_number.encode() not in base64.decodebytes(stored["result"].encode())
    # one left from before readings were sealed (a plain pickle): dropped, not read
    before = cache / "page-left-from-before"
    before.write_text(json.dumps({"metadata": {"serializer": {"type": "pickle"}}, "result": ""}))
    os.utime(before, (time.time() - 3600,) * 2)
    page_cache_made = flows.runtime._SAVED.copy()
    flows.runtime._SAVED.clear()  # as a fresh process would
    second = run_intake(files, record, home=home, today=TODAY)
    flows.runtime._SAVED.update(page_cache_made)
    assert not before.exists()
    assert (second["pages_read"], second["pages_cached"]) == (0, 3)  # no OCR again
    assert second["findings"] == first["findings"] and second["verdict"] == "clear"
    # a page image damaged in the store: that page is a finding, the rest is read
    workspace = open_workspace(load_settings(Path(home), environ={}))
    with workspace.session() as db:
        image = db.scalars(select(Page.image_sha256).order_by(Page.id)).all()[-1]
    damaged = workspace.store.path_of(str(image))
    damaged.chmod(0o644)
    damaged.write_bytes(b"\x89PNG\r\n\x1a\n but not an image")
    third = run_intake([], application_id="CQC-2026-606079", home=home, today=TODAY, reread=True)
    assert (third["pages_read"], third["pages_failed"]) == (2, 1)
    assert "warning unreadable_page" in third["findings"] and third["verdict"] == "flagged"
    workspace.db.engine.dispose()


def test_the_intake_flow_runs_on_a_local_dask_cluster(tmp_path: Path) -> None:
    from flows.intake import run_intake

    packet = PACKETS / "CQC-2026-606085"  # its defect: the ID card copy is not stamped
    files = sorted(str(p) for p in packet.iterdir() if p.name[:2].isdigit())
    summary = run_intake(
        files,
        str(packet / "application.json"),
        runner="dask",
        workers=2,
        home=str(tmp_path / "home"),
        today=TODAY,
    )
    assert (summary["pages_read"], summary["pages_failed"]) == (3, 0)
    assert "error seal_missing" in summary["findings"]


def test_the_hot_folder_takes_settled_scans_and_leaves_the_rest(tmp_path: Path) -> None:
    import os
    import time

    from flows.hot_folder import hot_folder

    settings = load_settings(tmp_path / "home", environ={})
    workspace = open_workspace(settings)
    _recorded(workspace, FOREIGN)
    inbox = settings.home / "inbox"
    scan = inbox / "scan-0001.pdf"
    scan.write_bytes((PACKETS / FOREIGN / "scan-envelope.pdf").read_bytes())
    empty = inbox / "scan-0002.pdf"
    empty.write_bytes(b"")
    writing = inbox / "scan-0003.pdf.part"
    writing.write_bytes(b"%PDF-1.7 still coming")
    fresh = inbox / "scan-0004.pdf"
    fresh.write_bytes(b"%PDF-1.7 just arrived")
    past = time.time() - 120
    for path in (scan, empty, writing):
        os.utime(path, (past, past))
    summary = hot_folder(str(settings.home), settle_seconds=30, today=TODAY)
    taken = summary["taken"]
    assert sorted(taken) == ["scan-0001.pdf", "scan-0002.pdf"]
    assert taken["scan-0001.pdf"]["files"] == {"scan-0001.pdf": "stored"}
    assert taken["scan-0001.pdf"]["mailroom"]["applications"] == {FOREIGN: [1, 2, 3]}
    assert taken["scan-0002.pdf"]["files"]["scan-0002.pdf"].startswith("refused")
    assert sorted(p.name for p in inbox.iterdir()) == ["refused", writing.name, fresh.name]
    assert (inbox / "refused" / "scan-0002.pdf.why.txt").read_text().startswith("the file is empty")
    with workspace.session() as db:
        assert db.get_one(Application, FOREIGN).status == "checked"
    workspace.db.engine.dispose()


def test_the_nightly_flow_killed_mid_issue_then_rerun_issues_nothing_twice(
    tmp_path: Path, record_data: dict[str, Any]
) -> None:
    import os
    import subprocess
    import sys

    from prefect.settings import PREFECT_API_URL

    from flows.issuance import nightly_issuance

    env = Env(tmp_path / "home")
    first = env.approve(_record(record_data, "CQC-2026-000611"))
    second = env.approve(_record(record_data, "CQC-2026-000612", uscc="91110108MA01ABCD2H"))
    script = tmp_path / "killed.py"
    script.write_text(
        "import os, sys\n"
        "import flows.issuance as nightly\n"
        "from pipeline.issue import batch\n"
        "def die(point):\n"
        "    if point == 'key_made':\n"
        "        os._exit(137)  # as SIGKILL: no cleanup, no exception handler\n"
        "real = batch.open_batch\n"
        "nightly.open_batch = lambda w, ca, **kw: real(w, ca, crash=die, **kw)\n"
        "nightly.nightly_issuance(sys.argv[1])\n"
    )
    run = subprocess.run(
        [sys.executable, str(script), str(env.settings.home)],
        env={**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())},
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        timeout=300,
    )
    assert run.returncode == 137, run.stderr.decode()[-2000:]
    summary = nightly_issuance(str(env.settings.home))
    assert sorted(i["application"] for i in summary["issued"]) == [first, second]
    assert summary["failed"] == {} and summary["orphans"] == []
    with env.workspace.session() as db:
        assert db.scalar(select(func.count()).select_from(Credential)) == 2
        assert db.scalar(select(func.count()).select_from(Issuance)) == 2
    again = nightly_issuance(str(env.settings.home))
    assert again["issued"] == [] and again["failed"] == {}


def test_a_cached_reading_opens_only_with_the_key_that_sealed_it(tmp_path: Path) -> None:
    from flows.runtime import SealedPickle
    from pipeline.errors import WorkspaceError

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    mine, other = SealedPickle(home=str(tmp_path / "a")), SealedPickle(home=str(tmp_path / "b"))
    reading = {"id_number": "370202199405190534"}
    blob = mine.dumps(reading)
    assert b"370202199405190534" not in base64.decodebytes(blob)
    assert mine.loads(blob) == reading
    with pytest.raises(WorkspaceError, match="another field key"):
        other.loads(blob)
