"""The Prefect flows, run for real under one test server (prefect_test_harness)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pipeline.errors import HsmError
from pipeline.issue import issuance
from pipeline.records.models import Application, IssueBatch
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
