"""``sealdesk demo``: the main path on the committed samples, in a fresh workspace.

It grows as the stages land; today: intake of an application and its scans (one file
broken, one of another type in disguise), a second delivery of the same files (recognised,
not processed again), the check, the two review stages by two people, and the audit trail.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from pipeline.application import load_record
from pipeline.check import build_report
from pipeline.config import load_settings
from pipeline.errors import WorkspaceError
from pipeline.records import lifecycle
from pipeline.records.intake import IntakeResult, intake_application
from pipeline.records.models import Application
from pipeline.records.reports import save_report
from pipeline.workspace import open_workspace

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
MARKER = ".sealdesk-demo"


def _fresh(directory: Path) -> Path:
    if directory.exists():
        if not (directory / MARKER).exists():
            raise WorkspaceError(
                f"{directory} exists and is not a demo workspace; choose another --dir"
            )
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / MARKER).write_text("made by `sealdesk demo`; deleted by the next one\n")
    return directory.resolve()


def _summary(result: IntakeResult) -> None:
    for f in result.files:
        reason = f" ({f.problem_code}: {f.problem})" if f.problem else ""
        click.echo(f"    {f.outcome:<9} {len(f.pages)} page(s)  {f.name}{reason}")


def run_demo(directory: Path) -> None:
    home = _fresh(directory)
    settings = load_settings(home, environ={})
    workspace = open_workspace(settings)
    record = load_record(next(SAMPLES.glob("CQC-*.json")))
    files = sorted(p for p in SAMPLES.iterdir() if p.suffix != ".json")

    click.secho("1. intake: the application and its files arrive (clerk: intake01)", bold=True)
    result = intake_application(workspace, record, files, "intake01")
    _summary(result)
    click.secho("2. the same files arrive again by mail", bold=True)
    _summary(intake_application(workspace, record, files[:3], "intake01"))
    click.secho("3. check", bold=True)
    report = build_report(result)
    with workspace.session() as session:
        save_report(session, report, "intake01")
    for finding in report.findings:
        click.echo(f"    {finding.severity.value:<7} {finding.code.value:<16} {finding.message}")
    click.echo(f"    verdict: {report.verdict}")
    click.secho("4. review: 核验 by reviewer01, 复核 by reviewer02", bold=True)
    with workspace.session() as session:
        app = session.get_one(Application, record.application_id)
        lifecycle.decide(
            session,
            app,
            "prereview",
            True,
            "reviewer01",
            "材料已人工核对：名称、公章、信用代码一致",
        )
        lifecycle.decide(session, app, "rereview", True, "reviewer02", "复核通过")
        click.echo(
            f"    status: {app.status} ({lifecycle.STATUS_LABELS[lifecycle.Status(app.status)]})"
        )
    click.secho("5. audit trail", bold=True)
    chain = workspace.verify_audit()
    click.echo(f"    {chain.entries} entries, intact: {chain.intact}")
    report_path = home / f"{record.application_id}.check.json"
    report_path.write_text(report.dumps() + "\n", encoding="utf-8")
    click.secho("\nWhere things are", bold=True)
    click.echo(f"  workspace     {home}")
    click.echo(f"  database      {settings.database_url}")
    click.echo(f"  file store    {settings.store_dir}")
    click.echo(f"  check report  {report_path}")
    click.echo(f"  log           {settings.logs_dir / 'sealdesk.log'}")
    click.echo(f"\nTry: SEALDESK_HOME={home} .venv/bin/sealdesk show {record.application_id}")
