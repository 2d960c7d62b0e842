"""Prefect flows over the pipeline's plain functions (issue 8). Each flow is a thin layer:
the work is in ``pipeline``; the flows add retries, task runs an operator can see, and
schedules."""
