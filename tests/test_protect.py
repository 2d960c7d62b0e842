"""ID numbers sealed at rest: not in the database file or its dump, whole to the code."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.errors import WorkspaceError
from pipeline.model.application import ApplicationRecord
from pipeline.records import protect
from pipeline.records.models import Application, Finding
from pipeline.usecases.intake import intake_application
from pipeline.workspace import Workspace, open_workspace

NUMBER = "110105198802141235"


def dump(workspace: Workspace) -> str:
    path = Path(workspace.settings.database_url.removeprefix("sqlite:///"))
    workspace.db.engine.dispose()  # the WAL checkpointed into the file
    with sqlite3.connect(path) as db:
        return "\n".join(db.iterdump())


def test_id_numbers_are_sealed_in_the_database_and_whole_to_the_code(
    workspace: Workspace, record: ApplicationRecord
) -> None:
    assert record.data["contact"]["id_number"] == NUMBER
    intake_application(workspace, record, [], "clerk")
    with workspace.session() as db:
        db.add(
            Finding(
                application_id=record.application_id,
                round=1,
                code="id_number_mismatch",
                severity="error",
                message=f"身份证号 {NUMBER} 与申请表不一致",
                evidence={"found": NUMBER, "list": [NUMBER, "not an id"]},
            )
        )
    with workspace.session() as db:
        app = db.get_one(Application, record.application_id)
        assert app.record["contact"]["id_number"] == NUMBER
        finding = db.query(Finding).one()
        assert finding.message == f"身份证号 {NUMBER} 与申请表不一致"
        assert finding.evidence == {"found": NUMBER, "list": [NUMBER, "not an id"]}
    text = dump(workspace)
    assert NUMBER not in text
    assert text.count("id1:") == 4  # the record, the message, the evidence twice (JSON: \u27e6)
    assert "not an id" in text and "北京示例信息科技有限公司" in text  # the rest as it was


def test_the_same_number_seals_differently_each_time() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    cipher = AESGCM(bytes(32))
    first, second = protect.seal_text(NUMBER, cipher), protect.seal_text(NUMBER, cipher)
    assert first != second  # no dictionary of sealed numbers can be built
    assert protect.unseal_text(first, cipher) == protect.unseal_text(second, cipher) == NUMBER


def test_the_field_key_file_is_private(workspace: Workspace) -> None:
    key = workspace.settings.home / "field-key"
    assert key.stat().st_mode & 0o777 == 0o600


def test_another_key_is_refused_with_a_reason(
    workspace: Workspace, record: ApplicationRecord, settings: Settings, tmp_path: Path
) -> None:
    intake_application(workspace, record, [], "clerk")
    workspace.db.engine.dispose()
    (settings.home / "field-key").write_text("A" * 43 + "=\n")  # 32 zero bytes
    other = open_workspace(settings)
    with pytest.raises(WorkspaceError, match="another field key"), other.session() as db:
        db.get_one(Application, record.application_id).record  # noqa: B018
    other.db.engine.dispose()


def test_the_key_can_come_from_the_environment(tmp_path: Path) -> None:
    key = protect.load_field_key(tmp_path, "B" * 43 + "=")
    assert len(key) == 32 and not (tmp_path / "field-key").exists()
    with pytest.raises(WorkspaceError, match="not 32 bytes"):
        protect.load_field_key(tmp_path, "short")


def test_the_workspace_is_its_owners_alone(tmp_path: Path) -> None:
    # the attack: sealdesk.db (password hashes, personal data) and logs/ were world-readable
    import os
    import stat
    import subprocess
    import sys

    home = tmp_path / "home"
    sealdesk = Path(sys.executable).with_name("sealdesk")
    env = {**os.environ, "SEALDESK_HOME": str(home)}

    def run_with_open_umask() -> None:
        done = subprocess.run(
            [str(sealdesk), "init"],
            env=env,
            capture_output=True,
            check=False,
            preexec_fn=lambda: os.umask(0o022),
        )
        assert done.returncode == 0, done.stderr

    def others_may_read(path: Path) -> bool:
        return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))

    run_with_open_umask()
    made = [home, home / "sealdesk.db", home / "logs", home / "logs" / "sealdesk.log"]
    made += [home / "store", home / "field-key", home / "audit-head"]
    assert [p for p in made if p.exists() and others_may_read(p)] == []
    (home / "sealdesk.db").chmod(0o644)  # a workspace from before: opened, made private
    home.chmod(0o755)
    run_with_open_umask()
    assert not others_may_read(home / "sealdesk.db") and not others_may_read(home)
