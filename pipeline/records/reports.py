"""Keep a check report's findings and move the application to ``checked``."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from pipeline.records import lifecycle
from pipeline.records.models import Application, Finding
from pipeline.validate.report import CheckReport


def save_report(session: Session, report: CheckReport, actor: str) -> Application:
    """Replace the round's findings with the report's; the application becomes checked."""
    app = session.get_one(Application, report.application_id)
    session.execute(
        delete(Finding).where(Finding.application_id == app.id, Finding.round == app.round)
    )
    for finding in report.findings:
        session.add(
            Finding(
                application_id=app.id,
                round=app.round,
                code=finding.code.value,
                severity=finding.severity.value,
                message=finding.message,
                document=finding.document,
                page=finding.page,
                evidence=finding.evidence,
            )
        )
    lifecycle.mark_checked(session, app, report.verdict, actor)
    return app
