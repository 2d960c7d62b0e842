"""Check a recorded application as it stands, keep the report, mark it ``checked``."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from pipeline.model.application import ApplicationRecord
from pipeline.model.messages import say
from pipeline.model.names import fold
from pipeline.model.progress import Progress, silent
from pipeline.model.report import CheckReport, Code, DocumentEntry, Severity
from pipeline.model.report import Finding as ReportFinding
from pipeline.records import lifecycle
from pipeline.records.applications import forget_findings
from pipeline.records.database import Session
from pipeline.records.issuances import valid_credentials
from pipeline.records.models import Application, CheckRun, Finding
from pipeline.usecases.intake import (
    FileOutcome,
    IntakeResult,
    application_files,
    readable_pages,
)
from pipeline.usecases.report import build_report
from pipeline.workspace import Workspace

if TYPE_CHECKING:
    from pipeline.extract.documents import PageReaders


def extract_stored(
    workspace: Workspace,
    files: tuple[FileOutcome, ...],
    expect: tuple[str, ...] = (),
    progress: Progress = silent,
    people: tuple[str, ...] = (),
    pool: PageReaders | None = None,
) -> tuple[list[DocumentEntry], list[tuple[str, int, str]]]:
    """Read the documents in the pages intake rendered and stored of the readable files,
    under their names, and the pages that could not be read (file, page, why); ``expect``:
    names the seals and name lines are weighed against, ``people``: the people ID cards
    and letters name; ``progress`` hears of each page; ``pool``: page workers already
    started (see PageReaders), else the workspace's number of them are started here."""
    from pipeline.extract.documents import Job, documents_of, read_pages

    with workspace.session() as session:
        pages = readable_pages(session, files)
    jobs = [
        Job(
            page.file,
            page.index,
            workspace.store.path_of(page.image_sha256) if page.image_sha256 else None,
            page.problem,
            expect,
            people,
        )
        for page in pages
    ]
    settings = workspace.settings
    refs = read_pages(jobs, settings.extract.engine, settings.extract.workers, progress, pool)
    return documents_of(refs, settings.extract.engine, pool)


def held_by_other_names(session: Session, record: ApplicationRecord) -> list[ReportFinding]:
    """An error for each valid certificate of the record's credit code issued to a company
    of another name: issuing this application would revoke it as superseded, so a person
    must confirm the company was renamed (名称变更) or reject, never the batch alone."""
    out = []
    for cred in valid_credentials(session, record.company_uscc):
        holder = session.get_one(Application, cred.application_id)
        if fold(holder.company_name) == fold(record.company_name):
            continue
        out.append(
            ReportFinding.told(
                Code.USCC_HELD_BY_OTHER_NAME,
                Severity.ERROR,
                say(
                    "统一社会信用代码 {uscc} 已有有效证书（序列号 {serial}，申请 {application}），"
                    "单位名称为“{holder}”，与本申请的“{company}”不同；签发本申请将吊销该证书"
                    "（被替代）。请核实单位名称变更（名称变更通知书）后说明，或退回。",
                    uscc=record.company_uscc,
                    serial=cred.serial,
                    application=holder.id,
                    holder=holder.company_name,
                    company=record.company_name,
                ),
                evidence={
                    "expected": holder.company_name,
                    "found": record.company_name,
                    "serial": cred.serial,
                    "application": holder.id,
                },
            )
        )
    return out


def expected_names(record: ApplicationRecord) -> tuple[str, ...]:
    return (record.company_name,)


def expected_people(record: ApplicationRecord) -> tuple[str, ...]:
    """The people an application names (its contact, and its agent if one applies): their
    ID cards' and the authorization letter's name lines are weighed against them."""
    names = [record.contact.get("name"), (record.agent or {}).get("name")]
    return tuple(dict.fromkeys(str(n) for n in names if n))


def check_intake(
    workspace: Workspace,
    intake: IntakeResult,
    record: ApplicationRecord,
    today: date | None = None,
    extract: bool = True,
    progress: Progress = silent,
    pool: PageReaders | None = None,
) -> CheckReport:
    """The report for the files of this intake (a dry run's whole world); ``pool``: see
    extract_stored."""
    if not extract:
        return build_report(intake)
    documents, failures = extract_stored(
        workspace, intake.files, expected_names(record), progress, expected_people(record), pool
    )
    return build_report(intake, documents, record, today, failures)


def check_and_save(
    workspace: Workspace,
    intake: IntakeResult,
    actor: str,
    today: date | None = None,
    extract: bool = True,
    progress: Progress = silent,
    pool: PageReaders | None = None,
) -> CheckReport:
    """The report over every file the application has (all rounds), validated against the
    stored record and saved with it; ``pool``: see extract_stored."""
    with workspace.session() as session:
        everything = replace(intake, files=application_files(session, intake.application_id))
        record = ApplicationRecord(dict(session.get_one(Application, intake.application_id).record))
        register = held_by_other_names(session, record)
    if extract:
        documents, failures = extract_stored(
            workspace,
            everything.files,
            expected_names(record),
            progress,
            expected_people(record),
            pool,
        )
        report = build_report(everything, documents, record, today, failures, register)
    else:
        report = build_report(everything, register=register)
    with workspace.session() as session:
        save_report(session, report, actor)
    return report


def save_report(session: Session, report: CheckReport, actor: str) -> Application:
    """Replace the round's findings with the report's; the application becomes checked."""
    app = session.get_one(Application, report.application_id)
    forget_findings(session, app)
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
                wording=finding.wording.to_json() if finding.wording else None,
            )
        )
    session.add(
        CheckRun(
            application_id=app.id,
            round=app.round,
            verdict=report.verdict,
            report=report.to_json(),
            actor=actor,
        )
    )
    lifecycle.mark_checked(session, app, report.verdict, actor)
    return app
