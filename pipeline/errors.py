"""One hierarchy for every error that stops a piece of work.

A finding (a mismatch, a missing seal, a broken file in a batch) is data in the report,
never one of these. These are raised only when the work asked for cannot go on; each
carries a short stable ``code`` and the process exit status the CLI uses.
"""

from __future__ import annotations


class SealdeskError(Exception):
    """Root of sealdesk's errors. ``str(err)`` is a sentence a person can act on; ``zh``,
    where given, the same in Chinese for the web app's screens (one language a screen)."""

    code = "error"
    exit_status = 1
    zh = ""

    def __init__(self, *args: object, zh: str = "") -> None:
        super().__init__(*args)
        self.zh = zh


class ConfigError(SealdeskError):
    """The configuration (file, environment, flags) is unusable."""

    code = "config"
    exit_status = 78  # EX_CONFIG


class WorkspaceError(SealdeskError):
    """The workspace directory or its database cannot be used."""

    code = "workspace"
    exit_status = 74  # EX_IOERR


class InvalidRecord(SealdeskError):
    """An application record does not follow application.schema.json."""

    code = "invalid_record"
    exit_status = 65  # EX_DATAERR

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: the application record is not valid:\n{listing}")


class LifecycleError(SealdeskError):
    """A state change that the application's life cycle does not allow."""

    code = "lifecycle"
    exit_status = 65


class OverrideNeeded(LifecycleError):
    """An approval that leaves error findings without the reviewer's remark on each."""

    def __init__(self, message: str, missing: list[tuple[int, str]]) -> None:
        super().__init__(message)
        self.missing = missing
        """(number in the check report, code) of each error left without a remark."""


class NotFound(SealdeskError):
    """The application, file or entry asked for does not exist."""

    code = "not_found"
    exit_status = 66  # EX_NOINPUT


class PermissionDenied(SealdeskError):
    """The acting user may not do this (no such user, a missing role, dual control)."""

    code = "permission"
    exit_status = 77  # EX_NOPERM


class HsmError(SealdeskError):
    """A token or the PKCS#11 module cannot be used: absent, wrong PIN, busy, misconfigured.

    ``transient`` is true for what may clear by itself (a busy token); the nightly batch
    retries only those."""

    code = "hsm"
    exit_status = 69  # EX_UNAVAILABLE

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class IssuanceError(SealdeskError):
    """An approved application cannot be issued (not approved, CA not set up, …)."""

    code = "issuance"
    exit_status = 65
