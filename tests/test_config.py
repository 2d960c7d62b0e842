from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import default_home, load_settings
from pipeline.errors import ConfigError


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    assert settings.database_url == f"sqlite:///{tmp_path}/sealdesk.db"
    assert settings.limits.render_dpi == 300
    assert settings.store_dir == tmp_path / "store"


def test_home_from_environment(tmp_path: Path) -> None:
    assert load_settings(environ={"SEALDESK_HOME": str(tmp_path)}).home == tmp_path


def test_default_home_is_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_home() == tmp_path / "sealdesk"


def test_file_then_environment(tmp_path: Path) -> None:
    (tmp_path / "sealdesk.toml").write_text(
        '[database]\nurl = "postgresql+psycopg://u@db/sealdesk"\n[limits]\nmax_pages = 50\n'
    )
    settings = load_settings(tmp_path, environ={})
    assert settings.database_url == "postgresql+psycopg://u@db/sealdesk"
    assert settings.limits.max_pages == 50
    env = {"SEALDESK_DATABASE_URL": "sqlite:////elsewhere.db"}
    assert load_settings(tmp_path, environ=env).database_url == "sqlite:////elsewhere.db"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[limits]\nmax_pagez = 5\n", "limits.max_pagez"),
        ("colour = 'red'\n", "colour"),
        ("[limits]\nmax_pages = -1\n", "positive"),
        ("[limits]\nmax_pages = true\n", "positive"),
        ("[database\n", "cannot read"),
    ],
)
def test_bad_configuration_is_refused(tmp_path: Path, text: str, says: str) -> None:
    (tmp_path / "sealdesk.toml").write_text(text)
    with pytest.raises(ConfigError, match=says):
        load_settings(tmp_path, environ={})
