from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.application import ApplicationRecord, parse_record
from pipeline.config import IngestLimits, Settings, load_settings
from pipeline.workspace import Workspace, open_workspace

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "fixtures" / "samples"
SAMPLE_RECORD = SAMPLES / "CQC-2026-000101.json"


@pytest.fixture
def record_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE_RECORD.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


@pytest.fixture
def record(record_data: dict[str, Any]) -> ApplicationRecord:
    return parse_record(record_data)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(tmp_path / "home", environ={})


@pytest.fixture
def limits() -> IngestLimits:
    return IngestLimits()


@pytest.fixture
def workspace(settings: Settings) -> Iterator[Workspace]:
    ws = open_workspace(settings)
    yield ws
    ws.db.engine.dispose()
