"""Configuration, read once at the edge (CLI, flow entry) into a frozen object.

Sources, later ones winning: built-in defaults, ``sealdesk.toml`` in the workspace,
environment variables (``SEALDESK_HOME``, ``SEALDESK_DATABASE_URL``). Stages never read the
environment themselves; they are handed the parts of ``Settings`` they need.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError

CONFIG_FILE_NAME = "sealdesk.toml"


def default_home() -> Path:
    """Where the workspace lives when ``SEALDESK_HOME`` is not set (XDG data directory)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "sealdesk"


@dataclass(frozen=True, slots=True)
class IngestLimits:
    """Limits checked before any expensive work on an incoming file.

    The defaults admit everything a scanner or phone produces for A4/A3 paperwork, with room
    to spare, and refuse what would cost minutes or gigabytes to open.
    """

    max_file_bytes: int = 100 * 1024 * 1024
    """A file larger than this is refused unread (100 MiB: a 200-page colour scan fits)."""
    max_pages: int = 200
    """Pages in one file (PDF pages or TIFF frames)."""
    max_image_pixels: int = 120_000_000
    """Pixels of one incoming image (a 108-megapixel phone photo fits; bombs do not)."""
    max_page_pixels: int = 40_000_000
    """Pixels of one PDF page rendered at ``render_dpi`` (A2 at 300 dpi is 35 MP)."""
    min_side_px: int = 300
    """The shorter side of a page image must be at least this (a 1x1 image is no scan)."""
    render_dpi: int = 300
    """Resolution every page is rendered or resampled to for the later stages."""
    max_photo_side_px: int = 6000
    """Images without a usable resolution (phone photos) are scaled down to this long side."""


@dataclass(frozen=True, slots=True)
class ExtractSettings:
    engine: str = "rapidocr"
    """OCR engine: rapidocr (default: measured better) or tesseract."""
    workers: int = 2
    """Processes that read pages in parallel (one per core)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, resolved. Build it with :func:`load_settings`."""

    home: Path
    """The workspace: database, file store, tokens, inbox and logs."""
    database_url: str
    """Any SQLAlchemy URL; SQLite in the workspace by default."""
    limits: IngestLimits = field(default_factory=IngestLimits)
    extract: ExtractSettings = field(default_factory=ExtractSettings)

    @property
    def store_dir(self) -> Path:
        return self.home / "store"

    @property
    def tokens_dir(self) -> Path:
        return self.home / "tokens"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def inbox_dir(self) -> Path:
        return self.home / "inbox"

    @property
    def audit_head_path(self) -> Path:
        """The newest audit entry's hash, kept outside the database (detects truncation)."""
        return self.home / "audit-head"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def load_settings(home: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Resolve the settings for the workspace ``home`` (or ``SEALDESK_HOME``, or the default)."""
    env = dict(os.environ if environ is None else environ)
    if home is None:
        home = Path(env["SEALDESK_HOME"]) if env.get("SEALDESK_HOME") else default_home()
    home = home.expanduser().resolve()
    settings = Settings(home=home, database_url=sqlite_url(home / "sealdesk.db"))
    config_path = home / CONFIG_FILE_NAME
    if config_path.is_file():
        settings = _apply_file(settings, config_path)
    if env.get("SEALDESK_DATABASE_URL"):
        settings = replace(settings, database_url=env["SEALDESK_DATABASE_URL"])
    return settings


def _apply_file(settings: Settings, path: Path) -> Settings:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc}") from exc
    _refuse_unknown(path, "", data, {"database", "limits", "extract"})
    database = data.get("database", {})
    _refuse_unknown(path, "database.", database, {"url"})
    if "url" in database:
        settings = replace(settings, database_url=str(database["url"]))
    limits = data.get("limits", {})
    known = {f.name for f in fields(IngestLimits)}
    _refuse_unknown(path, "limits.", limits, known)
    for key, value in limits.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{path}: limits.{key} must be a positive whole number")
    settings = replace(settings, limits=replace(settings.limits, **limits))
    extract = data.get("extract", {})
    _refuse_unknown(path, "extract.", extract, {"engine", "workers"})
    if "workers" in extract and (not isinstance(extract["workers"], int) or extract["workers"] < 1):
        raise ConfigError(f"{path}: extract.workers must be a whole number of at least 1")
    return replace(settings, extract=replace(settings.extract, **extract))


def _refuse_unknown(path: Path, prefix: str, table: Any, known: set[str]) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {prefix.rstrip('.') or 'top level'} must be a table")
    unknown = sorted(set(table) - known)
    if unknown:
        names = ", ".join(prefix + k for k in unknown)
        raise ConfigError(f"{path}: unknown setting(s) {names}; known: {', '.join(sorted(known))}")
