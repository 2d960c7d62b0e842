"""Check a recorded application as it stands, keep the report, mark it ``checked``."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import delete
from sqlalchemy.orm import Session

from pipeline.check import build_report
from pipeline.records import lifecycle
from pipeline.records.intake import REJECTED_FILE, FileOutcome, IntakeResult, application_files
from pipeline.records.models import Application, Finding
from pipeline.validate.report import CheckReport, DocumentEntry
from pipeline.workspace import Workspace


def extract_stored(workspace: Workspace, files: tuple[FileOutcome, ...]) -> list[DocumentEntry]:
    """Read the documents in the stored copies of the readable files, under their names."""
    from pipeline.extract.documents import extract_documents

    readable = [
        (f.name, workspace.store.path_of(f.sha256))
        for f in files
        if f.outcome != REJECTED_FILE and f.sha256 and f.pages
    ]
    settings = workspace.settings
    documents, _ = extract_documents(
        readable, settings.limits, settings.extract.engine, settings.extract.workers
    )
    return documents


def check_intake(workspace: Workspace, intake: IntakeResult, extract: bool = True) -> CheckReport:
    """The report for the files of this intake (a dry run's whole world)."""
    documents = extract_stored(workspace, intake.files) if extract else None
    return build_report(intake, documents)


def check_and_save(
    workspace: Workspace, intake: IntakeResult, actor: str, extract: bool = True
) -> CheckReport:
    """The report over every file the application has (all rounds), saved with it."""
    with workspace.session() as session:
        everything = replace(intake, files=application_files(session, intake.application_id))
    documents = extract_stored(workspace, everything.files) if extract else None
    report = build_report(everything, documents)
    with workspace.session() as session:
        save_report(session, report, actor)
    return report


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
