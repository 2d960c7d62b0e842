"""What fuzzing the ingest path found stays fixed; and the fuzzer itself runs (slow)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.target import take

REGRESSIONS = sorted((Path(__file__).parent / "fuzz" / "regressions").iterdir())
REPO = Path(__file__).resolve().parents[1]


def test_there_are_regression_inputs() -> None:
    assert REGRESSIONS


@pytest.mark.parametrize("found", REGRESSIONS, ids=lambda p: p.name)
def test_an_input_the_fuzzer_found_is_refused_with_a_reason(found: Path, tmp_path: Path) -> None:
    take(found.read_bytes(), tmp_path / "input")  # raised before its fix


@pytest.mark.slow
def test_a_minute_of_fuzzing_finds_nothing(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz.ingest",
            "-max_total_time=60",
            f"-artifact_prefix={tmp_path}/",
            str(tmp_path / "corpus"),
        ],
        cwd=REPO,
        capture_output=True,
        timeout=300,
    )
    tail = run.stderr.decode("utf-8", "replace")[-3000:]
    assert run.returncode == 0, tail
    assert "Done" in tail and not list(tmp_path.glob("crash-*"))
