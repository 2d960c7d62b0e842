"""Prefect flows over the pipeline's plain functions (issue 8). Each flow is a thin layer:
the work is in ``pipeline``; the flows add retries, task runs an operator can see, and
schedules.

Prefect reads its settings when imported, so the two that ../shared/TRAPS.md names are set
here first (unless the environment already says otherwise): analytics off (else "database
is locked" tracebacks) and a longer start-up limit for the ephemeral server (its first
start took about 20 s here, the default limit)."""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
