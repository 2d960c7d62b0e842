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
HSM_PINS_FILE = "hsm-pins.toml"


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
class HsmSettings:
    """Where the keys live. SoftHSM2 by default; a vendor's PKCS#11 module works by changing
    ``module`` and the token labels. PINs come from ``[hsm]`` in the configuration, the
    environment (``SEALDESK_ROOT_PIN``, ``SEALDESK_CA_PIN``) or the workspace's
    ``hsm-pins.toml`` that ``sealdesk ca init`` writes when none was given; never from the
    database, never into a log."""

    module: str = "/usr/lib/softhsm/libsofthsm2.so"
    root_token: str = "sealdesk-root"
    """The root CA's token (offline in a real site; here a token of its own)."""
    ca_token: str = "sealdesk-ca"
    """The issuing CA's token."""
    customer_prefix: str = "sealdesk"
    """Customer tokens are labelled ``{prefix}-{issuance id}`` when initialised."""
    root_pin: str | None = field(default=None, repr=False)
    ca_pin: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class WebSettings:
    """The web app (``[web]``)."""

    secure_cookies: bool = False
    """Mark the session cookies Secure: set it where the site is served over HTTPS."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses of reverse proxies whose X-Forwarded-For names the real client (sign-in
    is limited per client address); from anyone else the header is ignored."""


KEY_TYPES = ("ec-p256", "rsa-2048")


@dataclass(frozen=True, slots=True)
class CertificateProfile:
    """What an issued certificate says (docs/certificate-profile.md explains each part)."""

    key_type: str = "ec-p256"
    """The customer's key pair: ec-p256 (default) or rsa-2048."""
    validity_days: int = 365
    """One year: the annual fee."""
    crl_url: str = "http://ca.sealdesk.example/crl/issuing.crl"
    root_crl_url: str = "http://ca.sealdesk.example/crl/root.crl"
    """Where the root's CRL (of CA certificates) is published; named in the issuing CA's
    certificate."""
    ca_issuers_url: str = "http://ca.sealdesk.example/ca/issuing.crt"
    verify_url: str = "https://ca.sealdesk.example/verify"
    """Printed and put in the QR code of every electronic certificate (``/verify/SERIAL``)."""
    extended_key_usages: tuple[str, ...] = ("1.3.6.1.5.5.7.3.36", "1.3.6.1.5.5.7.3.4")
    """id-kp-documentSigning (RFC 9336), and id-kp-emailProtection, without which NSS (so
    poppler's pdfsig, Firefox, Thunderbird) refuses a certificate for signing documents."""
    tsa_url: str = ""
    """An outside RFC 3161 time-stamp service; empty (the default): the CA's own, whose
    key is on the issuing CA's token."""
    tsa_policy: str = "2.25.238344287617232410843412771398227376411"
    """The time-stamp policy our own service names in each token (RFC 3161 §2.4.2): an
    OID from a UUID (ITU-T X.667), unique without a registration; a CA with its own arc
    sets its policy here."""
    ca_organization: str = "sealdesk CA"
    """O of the CA certificates."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, resolved. Build it with :func:`load_settings`."""

    home: Path
    """The workspace: database, file store, tokens, inbox and logs."""
    database_url: str
    """Any SQLAlchemy URL; SQLite in the workspace by default."""
    database_busy_seconds: float = 30.0
    """How long a writer waits for SQLite's lock before it fails, writing nothing
    (``[database] busy_seconds``, ``SEALDESK_DB_BUSY_SECONDS``)."""
    field_key: str | None = field(default=None, repr=False)
    """The key that seals ID numbers, base64, when given as ``SEALDESK_FIELD_KEY`` (machines
    sharing one database); else the workspace's ``field-key`` file is used."""
    limits: IngestLimits = field(default_factory=IngestLimits)
    extract: ExtractSettings = field(default_factory=ExtractSettings)
    hsm: HsmSettings = field(default_factory=HsmSettings)
    profile: CertificateProfile = field(default_factory=CertificateProfile)
    web: WebSettings = field(default_factory=WebSettings)
    audit_key_file: Path | None = None
    """Where the audit key is (``[audit] key_file``): best on a mount the database's backups
    and administrators do not share; ``audit-key`` in the workspace by default."""

    @property
    def ca_dir(self) -> Path:
        """CA certificates and published CRLs."""
        return self.home / "ca"

    @property
    def issued_dir(self) -> Path:
        """Per application and version: the e-seal, the certificate PDF, the sealed form."""
        return self.home / "issued"

    @property
    def batches_dir(self) -> Path:
        """Per nightly batch: the courier manifest and the PIN letters."""
        return self.home / "batches"

    @property
    def hsm_pins_path(self) -> Path:
        return self.home / HSM_PINS_FILE

    @property
    def softhsm_conf(self) -> Path:
        return self.home / "softhsm2.conf"

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
    def audit_key_path(self) -> Path:
        return self.audit_key_file or self.home / "audit-key"

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
    if env.get("SEALDESK_DB_BUSY_SECONDS"):
        busy = _positive_seconds(env["SEALDESK_DB_BUSY_SECONDS"], "SEALDESK_DB_BUSY_SECONDS")
        settings = replace(settings, database_busy_seconds=busy)
    if env.get("SEALDESK_FIELD_KEY"):
        settings = replace(settings, field_key=env["SEALDESK_FIELD_KEY"])
    return replace(settings, hsm=_pins(settings, env))


def _positive_seconds(value: object, where: str) -> float:
    try:
        seconds = float(str(value))
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ConfigError(f"{where}: expected a number of seconds above 0, got {value!r}")
    return seconds


def _pins(settings: Settings, env: dict[str, str]) -> HsmSettings:
    hsm = settings.hsm
    pins_path = settings.hsm_pins_path
    if pins_path.is_file() and (hsm.root_pin is None or hsm.ca_pin is None):
        try:
            stored = tomllib.loads(pins_path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{pins_path}: cannot read the HSM PINs: {exc}") from exc
        _refuse_unknown(pins_path, "", stored, {"root_pin", "ca_pin"})
        hsm = replace(
            hsm,
            root_pin=hsm.root_pin or stored.get("root_pin"),
            ca_pin=hsm.ca_pin or stored.get("ca_pin"),
        )
    return replace(
        hsm,
        root_pin=env.get("SEALDESK_ROOT_PIN") or hsm.root_pin,
        ca_pin=env.get("SEALDESK_CA_PIN") or hsm.ca_pin,
    )


def _apply_file(settings: Settings, path: Path) -> Settings:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc}") from exc
    known = {"database", "limits", "extract", "hsm", "profile", "web", "audit"}
    _refuse_unknown(path, "", data, known)
    settings = replace(settings, web=_web(path, data.get("web", {})))
    audit = data.get("audit", {})
    _refuse_unknown(path, "audit.", audit, {"key_file"})
    _all_strings(path, "audit.", audit)
    if "key_file" in audit:
        settings = replace(settings, audit_key_file=Path(audit["key_file"]).expanduser())
    database = data.get("database", {})
    _refuse_unknown(path, "database.", database, {"url", "busy_seconds"})
    if "url" in database:
        settings = replace(settings, database_url=str(database["url"]))
    if "busy_seconds" in database:
        busy = _positive_seconds(database["busy_seconds"], f"{path}: database.busy_seconds")
        settings = replace(settings, database_busy_seconds=busy)
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
    settings = replace(settings, extract=replace(settings.extract, **extract))
    hsm = data.get("hsm", {})
    _refuse_unknown(path, "hsm.", hsm, {f.name for f in fields(HsmSettings)})
    _all_strings(path, "hsm.", hsm)
    profile = dict(data.get("profile", {}))
    _refuse_unknown(path, "profile.", profile, {f.name for f in fields(CertificateProfile)})
    if profile.get("key_type", KEY_TYPES[0]) not in KEY_TYPES:
        raise ConfigError(f"{path}: profile.key_type must be one of {', '.join(KEY_TYPES)}")
    days = profile.get("validity_days", 365)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 825:
        raise ConfigError(f"{path}: profile.validity_days must be a whole number from 1 to 825")
    ekus = profile.pop("extended_key_usages", None)
    if ekus is not None:
        if not isinstance(ekus, list) or not ekus or not all(isinstance(e, str) for e in ekus):
            raise ConfigError(f"{path}: profile.extended_key_usages must be a list of OIDs")
        profile["extended_key_usages"] = tuple(ekus)
    _all_strings(
        path,
        "profile.",
        {k: v for k, v in profile.items() if k not in ("validity_days", "extended_key_usages")},
    )
    return replace(
        settings,
        hsm=replace(settings.hsm, **hsm),
        profile=replace(settings.profile, **profile),
    )


def _web(path: Path, web: Any) -> WebSettings:
    _refuse_unknown(path, "web.", web, {"secure_cookies", "trusted_proxies"})
    secure = web.get("secure_cookies", False)
    if not isinstance(secure, bool):
        raise ConfigError(f"{path}: web.secure_cookies must be true or false")
    proxies = web.get("trusted_proxies", [])
    if not isinstance(proxies, list) or not all(isinstance(p, str) and p for p in proxies):
        raise ConfigError(f"{path}: web.trusted_proxies must be a list of addresses in quotes")
    return WebSettings(secure, tuple(proxies))


def _all_strings(path: Path, prefix: str, table: dict[str, Any]) -> None:
    for key, value in table.items():
        if not isinstance(value, str):
            raise ConfigError(f"{path}: {prefix}{key} must be a string (in quotes)")


def _refuse_unknown(path: Path, prefix: str, table: Any, known: set[str]) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {prefix.rstrip('.') or 'top level'} must be a table")
    unknown = sorted(set(table) - known)
    if unknown:
        names = ", ".join(prefix + k for k in unknown)
        raise ConfigError(f"{path}: unknown setting(s) {names}; known: {', '.join(sorted(known))}")
