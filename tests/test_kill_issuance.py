"""SIGKILL of the nightly issuance at random moments and at every step boundary, then a
rerun: every approval issued exactly once, no certificate without its record, every key
left without a certificate found, none left after (tests/hostile/kill_issuance.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.hostile.kill_issuance import run_trials
from tests.test_issue import Env

pytestmark = pytest.mark.usefixtures("softhsm_dir")


def _judge(trials: int, tmp_path: Path, record_data: dict[str, Any]) -> None:
    env = Env(tmp_path / "home")
    result = run_trials(env, record_data, count=trials)
    assert [t for t in result.trials if not t.passed] == []
    assert result.total("issued_once") == 2 * trials
    assert sum(t.killed for t in result.trials) >= trials - 2  # nearly all died mid-batch
    key_made = [t for t in result.trials if t.how.startswith("at key_made")]
    assert key_made and all(t.orphans_found for t in key_made)  # the key without a record
    env.workspace.db.engine.dispose()


def test_killed_at_the_first_step_boundaries_then_rerun(
    tmp_path: Path, record_data: dict[str, Any]
) -> None:
    """The key made but not recorded, among them: a short run for the default tests."""
    _judge(5, tmp_path, record_data)


@pytest.mark.slow
def test_twenty_kills_then_reruns(tmp_path: Path, record_data: dict[str, Any]) -> None:
    _judge(20, tmp_path, record_data)
