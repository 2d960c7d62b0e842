"""Faults from outside: a full disk under a packet, a locked database, a token that is
absent or whose PIN is wrong. Each gives a clear error, leaves nothing half-written as if
complete, and the work goes on once the fault clears."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pipeline.issue.batch import run_batch
from pipeline.issue.ca import load_ca
from pipeline.model.application import ApplicationRecord
from pipeline.review.service import write_packet
from pipeline.usecases.intake import intake_application
from pipeline.workspace import Workspace
from tests.conftest import SAMPLE_RECORD
from tests.processes import kill_all, survivors
from tests.test_cli import run
from tests.test_issue import Env

REPO = Path(__file__).resolve().parents[1]

FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from pipeline.config import load_settings
from pipeline.errors import SealdeskError
from pipeline.review.service import write_packet
from pipeline.workspace import open_workspace
workspace = open_workspace(load_settings(Path(sys.argv[1])))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (5_000, 5_000))
try:
    write_packet(workspace, sys.argv[2])
except SealdeskError as exc:
    print(exc)
    sys.exit(3)
"""


def test_a_packet_on_a_full_disk_leaves_nothing_and_is_made_when_space_returns(
    workspace: Workspace, record: ApplicationRecord
) -> None:
    intake_application(workspace, record, [], "clerk")
    packets = workspace.settings.home / "packets"
    child = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(workspace.settings.home), record.application_id],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 3, child.stderr[-2000:]
    assert "cannot write the review packet" in child.stdout
    assert "File too large" in child.stdout and "nothing was left half-written" in child.stdout
    assert not any(packets.rglob("*.pdf")) and not any(packets.rglob(".*"))  # no partial
    made = write_packet(workspace, record.application_id)  # the fault cleared
    assert made.read_bytes().startswith(b"%PDF") and made.stat().st_size > 5_000


def test_the_database_locked_for_a_moment_is_waited_for(
    workspace: Workspace, record: ApplicationRecord
) -> None:
    path = workspace.settings.database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(1.5, lambda: holder.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    result = intake_application(workspace, record, [], "clerk")
    assert time.monotonic() - started >= 1.4
    assert result.created
    release.join()
    holder.close()


def test_the_database_locked_too_long_is_a_clear_error_and_the_rerun_works(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    assert run(home, "init").returncode == 0
    holder = sqlite3.connect(home / "sealdesk.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    os.environ["SEALDESK_DB_BUSY_SECONDS"] = "1"
    try:
        locked = run(home, "intake", str(SAMPLE_RECORD))
    finally:
        del os.environ["SEALDESK_DB_BUSY_SECONDS"]
        holder.execute("ROLLBACK")
        holder.close()
    assert locked.returncode in (74, 75), locked.stderr  # locked at opening, or at writing
    assert "database is locked" in locked.stderr and "run again" in locked.stderr.lower()
    assert "Traceback" not in locked.stderr and "internal error" not in locked.stderr
    again = run(home, "intake", str(SAMPLE_RECORD))
    assert again.returncode == 0, again.stderr


@pytest.mark.usefixtures("softhsm_dir")
def test_a_wrong_pin_or_an_absent_token_fails_clearly_and_the_rerun_issues(
    tmp_path: Path, record_data: dict[str, Any]
) -> None:
    env = Env(tmp_path / "home")
    app_id = env.approve(json.loads(json.dumps(record_data)))
    settings = env.settings
    faults = {  # what the failure must say
        f"the PIN for token '{settings.hsm.ca_token}' is wrong": dataclasses.replace(
            settings.hsm, ca_pin="000000"
        ),
        "the issuing CA token 'unplugged' is not present": dataclasses.replace(
            settings.hsm, ca_token="unplugged"
        ),
    }
    for says, hsm in faults.items():
        broken = dataclasses.replace(settings, hsm=hsm)
        summary = run_batch(dataclasses.replace(env.workspace, settings=broken), load_ca(broken))
        why = summary.failed[app_id]
        assert summary.issued == [], says
        assert says in why, why
    summary = run_batch(env.workspace, env.ca)  # the token back, the PIN right
    assert [i.application_id for i in summary.issued] == [app_id] and summary.failed == {}
    env.workspace.db.engine.dispose()


def test_a_database_that_is_gone_is_not_replaced_by_an_empty_one(
    workspace: Workspace, record: ApplicationRecord, settings: Any
) -> None:
    from pipeline.errors import WorkspaceError
    from pipeline.workspace import open_workspace

    intake_application(workspace, record, [], "clerk")
    workspace.db.engine.dispose()
    database = Path(workspace.settings.database_url.removeprefix("sqlite:///"))
    for path in database.parent.glob(database.name + "*"):
        path.unlink()  # deleted, WAL and all
    with pytest.raises(WorkspaceError, match=r"lost or replaced\. Restore it from the backup"):
        open_workspace(settings)


_POOL_THEN_DIE = """
import os, time
from pipeline.extract.stored import PagePool

pool = PagePool.shared("rapidocr", 2)
assert pool.submit(str).result() == "rapidocr"
print(" ".join(str(pid) for pid in pool._executor._processes), flush=True)
time.sleep(600)
"""


def test_page_workers_keep_off_the_runs_stdio_and_leave_with_it() -> None:
    """A flow run killed (cancelled from the UI, its runner stopped) must not leave its page
    workers behind: each holds an OCR engine's memory, and, were it on the run's stdio, the
    runner would wait for ever for the run's output to end."""
    run = subprocess.Popen(
        [sys.executable, "-c", _POOL_THEN_DIE],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    workers: list[int] = []
    try:
        assert run.stdout is not None
        workers = [int(pid) for pid in run.stdout.readline().split()]
        assert workers, run.stderr.read() if run.stderr else ""
        for pid in workers:
            for fd in (0, 1, 2):
                assert str(Path(f"/proc/{pid}/fd/{fd}").readlink()) == "/dev/null"
        run.send_signal(signal.SIGKILL)
        run.wait(10)
        left = survivors(workers, 15)
        assert not left, f"page workers {left} outlived their killed parent"
    finally:
        if run.poll() is None:
            run.kill()
        kill_all(workers)
