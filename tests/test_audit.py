"""The audit chain detects an edited, deleted, reordered or inserted entry."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from pipeline.records.audit import GENESIS, entry_hash, record_event
from pipeline.workspace import Workspace


@pytest.fixture
def trail(workspace: Workspace) -> Workspace:
    for i in range(1, 6):
        with workspace.session() as session:
            record_event(
                session,
                f"user{i}",
                "test.event",
                ("application", f"APP-{i}"),
                {"n": i, "名称": "示例"},
            )
    return workspace


def sql(workspace: Workspace, statement: str, **params: object) -> None:
    with workspace.db.engine.begin() as connection:
        connection.execute(text(statement), params)


def problems(workspace: Workspace) -> str:
    report = workspace.verify_audit()
    assert not report.intact
    return "\n".join(report.problems)


def test_intact_chain(trail: Workspace) -> None:
    report = trail.verify_audit()
    assert report.intact and report.entries == 5
    assert report.head is not None and report.head.seq == 5
    assert trail.read_audit_head() == report.head


def test_edited_entry(trail: Workspace) -> None:
    sql(trail, "UPDATE audit_entries SET actor = 'mallory' WHERE seq = 3")
    assert "entry 3 was altered" in problems(trail)


def test_edited_detail(trail: Workspace) -> None:
    sql(
        trail,
        "UPDATE audit_entries SET detail = :d WHERE seq = 2",
        d=json.dumps({"n": 20, "名称": "示例"}),
    )
    assert "entry 2 was altered" in problems(trail)


def test_deleted_entry(trail: Workspace) -> None:
    sql(trail, "DELETE FROM audit_entries WHERE seq = 3")
    found = problems(trail)
    assert "entries 3..3 are missing" in found and "entry 4 does not follow" in found


def test_deleted_newest_entries(trail: Workspace) -> None:
    sql(trail, "DELETE FROM audit_entries WHERE seq >= 4")
    assert "newest entries were deleted" in problems(trail)


def test_reordered_entries(trail: Workspace) -> None:
    sql(trail, "UPDATE audit_entries SET seq = 100 WHERE seq = 2")
    sql(trail, "UPDATE audit_entries SET seq = 2 WHERE seq = 3")
    sql(trail, "UPDATE audit_entries SET seq = 3 WHERE seq = 100")
    found = problems(trail)
    assert "entry 2 was altered" in found and "entry 3 was altered" in found


def _rewrite(workspace: Workspace, rows: list[dict[str, object]]) -> None:
    """Put ``rows`` back with hashes recomputed, as a forger who knows the scheme would (the
    seals copied as they were: the forger has no audit key to make new ones)."""
    prev = GENESIS
    with workspace.db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entries"))
        for row in rows:
            at = datetime.fromisoformat(str(row["at"])).replace(tzinfo=UTC)
            detail = json.loads(str(row["detail"]))
            digest = entry_hash(
                int(str(row["seq"])),
                at,
                str(row["actor"]),
                str(row["action"]),
                str(row["subject_type"]),
                str(row["subject_id"]),
                detail,
                prev,
            )
            connection.execute(
                text(
                    "INSERT INTO audit_entries (seq, at, actor, action, subject_type, subject_id,"
                    " detail, prev_hash, hash, mac) VALUES (:seq, :at, :actor, :action,"
                    " :subject_type, :subject_id, :detail, :prev_hash, :hash, :mac)"
                ),
                {**row, "prev_hash": prev, "hash": digest},
            )
            prev = digest


def _rows(workspace: Workspace) -> list[dict[str, object]]:
    with workspace.db.engine.begin() as connection:
        result = connection.execute(text("SELECT * FROM audit_entries ORDER BY seq"))
        return [dict(row) for row in result.mappings()]


def test_inserted_entry(trail: Workspace) -> None:
    rows = _rows(trail)
    forged = dict(rows[1], actor="mallory", action="review.prereview.approve")
    with trail.db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET seq = seq + 1000 WHERE seq >= 3"))
        connection.execute(text("UPDATE audit_entries SET seq = seq - 999 WHERE seq >= 1000"))
    # the forger links the new entry 3 properly to entry 2
    prev = rows[1]["hash"]
    at = datetime.fromisoformat(str(forged["at"])).replace(tzinfo=UTC)
    digest = entry_hash(
        3,
        at,
        "mallory",
        str(forged["action"]),
        str(forged["subject_type"]),
        str(forged["subject_id"]),
        json.loads(str(forged["detail"])),
        str(prev),
    )
    # the unique prev_hash refuses a fork, so the forger re-points entry 4 first
    sql(trail, "UPDATE audit_entries SET prev_hash = :h WHERE seq = 4", h=digest)
    sql(
        trail,
        "INSERT INTO audit_entries (seq, at, actor, action, subject_type, subject_id,"
        " detail, prev_hash, hash) VALUES (3, :at, 'mallory', :action, :st, :sid, :detail, :prev,"
        " :hash)",
        at=forged["at"],
        action=forged["action"],
        st=forged["subject_type"],
        sid=forged["subject_id"],
        detail=forged["detail"],
        prev=prev,
        hash=digest,
    )
    found = problems(trail)
    assert "entry 4 was altered" in found


def test_rewritten_chain_is_caught_by_the_head(trail: Workspace) -> None:
    """A forger who edits an entry and recomputes every hash after it is still caught: the
    newest hash kept outside the database no longer matches."""
    rows = _rows(trail)
    rows[2]["actor"] = "mallory"
    _rewrite(trail, rows)
    assert "entry 5 differs from the one recorded as the newest" in problems(trail)


def test_a_rewritten_chain_and_head_are_caught_by_the_seals(trail: Workspace) -> None:
    # the attack: an entry edited, the chain re-hashed and audit-head rewritten to match
    rows = _rows(trail)
    rows[2]["actor"] = "mallory"
    _rewrite(trail, rows)
    newest = _rows(trail)[-1]
    trail.settings.audit_head_path.write_text(f"{newest['seq']} {newest['hash']}\n")
    found = problems(trail)
    assert "entry 3's seal does not fit its hash" in found
    assert "differs from the one recorded" not in found  # the head alone was fooled


def test_a_forged_entry_appended_with_a_correct_hash_is_caught(trail: Workspace) -> None:
    # the attack: a review.rereview.approve appended with a correct hash
    last = _rows(trail)[-1]
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    detail = {"remarks": ""}
    digest = entry_hash(
        6, at, "rev2", "review.rereview.approve", "application", "APP-1", detail, str(last["hash"])
    )
    sql(
        trail,
        "INSERT INTO audit_entries (seq, at, actor, action, subject_type, subject_id, detail,"
        " prev_hash, hash) VALUES (6, :at, 'rev2', 'review.rereview.approve', 'application',"
        " 'APP-1', :detail, :prev, :hash)",
        at=at.replace(tzinfo=None).isoformat(sep=" "),
        detail=json.dumps(detail),
        prev=last["hash"],
        hash=digest,
    )
    trail.settings.audit_head_path.write_text(f"6 {digest}\n")
    assert "entry 6 carries no seal of the audit key" in problems(trail)


def test_blanked_seals_do_not_make_the_trail_look_older_than_its_key(trail: Workspace) -> None:
    sql(trail, "UPDATE audit_entries SET mac = NULL")
    assert "entry 1 carries no seal" in problems(trail)


def test_the_newest_entries_and_the_head_deleted_are_caught_by_a_checkpoint(
    trail: Workspace, tmp_path: Path
) -> None:
    # the attack: the newest entries deleted and audit-head with them (it printed "intact")
    home = str(trail.settings.home)
    kept = tmp_path / "elsewhere" / "checkpoints"
    kept.parent.mkdir()
    base = [sys.executable, "-m", "sealdesk", "--home", home, "audit"]
    made = subprocess.run([*base, "checkpoint", "--out", str(kept)], capture_output=True)
    assert made.returncode == 0 and kept.read_text().count("\n") == 1
    sql(trail, "DELETE FROM audit_entries WHERE seq >= 4")
    trail.settings.audit_head_path.unlink()
    assert trail.verify_audit().intact  # without the checkpoint nothing shows it
    verify = [*base, "verify", "--checkpoints", str(kept)]
    caught = subprocess.run(verify, capture_output=True, text=True, check=False)
    assert caught.returncode == 3
    assert (
        "a checkpoint records entry 5" in caught.stderr and "entries were deleted" in caught.stderr
    )


def test_rewrite_without_change_is_intact(trail: Workspace) -> None:
    """The forger's tool itself is faithful: rewriting the same rows verifies."""
    _rewrite(trail, _rows(trail))
    assert trail.verify_audit().intact


def test_cli_audit_verify_exit_status(trail: Workspace) -> None:
    home = str(trail.settings.home)
    command = [sys.executable, "-m", "sealdesk", "--home", home, "audit", "verify"]
    ok = subprocess.run(command, capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "intact: 5 entries" in ok.stdout
    sql(trail, "UPDATE audit_entries SET action = 'other' WHERE seq = 1")
    broken = subprocess.run(command, capture_output=True, text=True, check=False)
    assert broken.returncode == 3 and "entry 1 was altered" in broken.stderr
