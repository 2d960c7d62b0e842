from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import IngestLimits, Settings, load_settings
from pipeline.model.application import ApplicationRecord, parse_record
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


@pytest.fixture(scope="session")
def softhsm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SoftHSM token directory for the test session: the module is loaded once per
    process, so every test's tokens live here, told apart by their labels."""
    import os

    directory = tmp_path_factory.mktemp("softhsm")
    tokens = directory / "tokens"
    tokens.mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
        "log.level = ERROR\nslots.removable = false\n"
    )
    os.environ.setdefault("SOFTHSM2_CONF", str(conf))
    return directory


def issuing_settings(home: Path, **profile: str) -> Settings:
    """A workspace with token labels of its own (the tokens of all tests share a directory)."""
    import uuid

    tag = uuid.uuid4().hex[:6]
    home.mkdir(parents=True, exist_ok=True)
    lines = [
        "[hsm]",
        f'root_token = "root-{tag}"',
        f'ca_token = "ca-{tag}"',
        f'customer_prefix = "t{tag}"',
    ]
    if profile:
        lines.append("[profile]")
        lines += [f'{k} = "{v}"' for k, v in profile.items()]
    (home / "sealdesk.toml").write_text("\n".join(lines) + "\n")
    return load_settings(home, environ={})


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One Prefect test server for the session (about 20 s to start), with its own home
    and the settings ../shared/TRAPS.md names."""
    import os

    home = tmp_path_factory.mktemp("prefect")
    os.environ["PREFECT_HOME"] = str(home)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "120"
    os.environ["PREFECT_LOGGING_TO_API_ENABLED"] = "false"
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
