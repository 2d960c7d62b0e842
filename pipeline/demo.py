"""``sealdesk demo``: the main path on the committed samples, in a fresh workspace.

It grows as the stages land; today: intake of an application and its scans (one file
broken, one of another type in disguise), a second delivery of the same files (recognised,
not processed again), the check, a rejection at 核验, the resubmission, the check again,
核验 and 复核 by two people, the CA made on SoftHSM tokens, the nightly issuance (key on the
customer's token, certificate, e-seal, signed certificate PDF, e-sealed form, manifest),
verification of both PDFs and of a tampered copy, and the audit trail.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from pipeline.application import load_record
from pipeline.config import load_settings
from pipeline.errors import WorkspaceError
from pipeline.issue.issuance import Issued
from pipeline.records import lifecycle
from pipeline.records.intake import IntakeResult, intake_application
from pipeline.records.models import Application
from pipeline.records.reports import check_and_save
from pipeline.validate.report import CheckReport
from pipeline.workspace import Workspace, open_workspace

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
RESENT = SAMPLES / "resent"
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


def _check(workspace: Workspace, result: IntakeResult, clerk: str) -> CheckReport:
    report = check_and_save(workspace, result, clerk)
    for doc in report.documents:
        name = doc.fields.get("company_name") or doc.fields.get("name") or ""
        seals = ", ".join(f"{s['owner']} seal “{s['text']}”" for s in doc.seals)
        click.echo(f"    {doc.source} p.{doc.page}: {doc.kind}  {name}  {seals}")
    for finding in report.findings:
        click.echo(f"    {finding.severity.value:<7} {finding.code.value:<16} {finding.message}")
    click.echo(f"    verdict: {report.verdict}")
    return report


def _decide(
    workspace: Workspace, app_id: str, stage: str, approve: bool, actor: str, remarks: str
) -> None:
    with workspace.session() as session:
        app = session.get_one(Application, app_id)
        lifecycle.decide(session, app, stage, approve, actor, remarks)
        status = lifecycle.Status(app.status)
        click.echo(
            f"    {actor}: {status.value} ({lifecycle.STATUS_LABELS[status]})  备注：{remarks}"
        )


OUTPUT_LABELS = {
    "pin_letter": "PIN letter",
    "eseal": "e-seal",
    "certificate": "certificate",
    "certificate_pdf": "cert. PDF",
    "sealed_form": "sealed form",
}


def _issue(workspace: Workspace) -> tuple[Issued, str]:
    import os

    from pipeline.issue.ca import init_ca
    from pipeline.issue.hsm import softhsm_config
    from pipeline.issue.issuance import run_batch

    # the demo's tokens live in its own workspace, whatever SOFTHSM2_CONF says elsewhere
    os.environ["SOFTHSM2_CONF"] = str(softhsm_config(workspace.settings))
    ca = init_ca(workspace, "admin01")
    click.echo(
        f"    root CA {ca.root.subject.rfc4514_string()}, issuing CA on token "
        f"{workspace.settings.hsm.ca_token!r}"
    )
    summary = run_batch(workspace, ca, actor="nightly")
    for app_id, why in summary.failed.items():
        click.secho(f"    failed {app_id}: {why}", fg="red")
    if not summary.issued:
        raise click.ClickException("the demo's application was not issued")
    issued = summary.issued[0]
    click.echo(
        f"    issued {issued.application_id}: certificate {issued.serial} version "
        f"{issued.version} on USB key {issued.key_serial} ({summary.seconds:.1f} s)"
    )
    return issued, summary.manifest


def _verify(workspace: Workspace, issued: Issued) -> None:
    from pipeline.issue.verify import registry_for, verify_pdf

    registry = registry_for(workspace.settings, [])
    for kind in ("certificate_pdf", "sealed_form"):
        result = verify_pdf(Path(issued.outputs[kind]), registry)
        failed = [n for s in result.signatures for n, c in s.checks.items() if not c.ok]
        click.echo(
            f"    {Path(issued.outputs[kind]).name}: "
            + ("VALID" if result.valid else f"NOT VALID ({', '.join(failed)})")
        )
    tampered = workspace.settings.home / "tampered-certificate.pdf"
    tampered.write_bytes(
        Path(issued.outputs["certificate_pdf"]).read_bytes() + b"\n% changed after signing\n"
    )
    result = verify_pdf(tampered, registry)
    failed = [
        f"{n}: {c.detail}" for s in result.signatures for n, c in s.checks.items() if not c.ok
    ]
    click.echo(
        f"    {tampered.name}: {'VALID' if result.valid else 'NOT VALID'} ({'; '.join(failed)})"
    )


def run_demo(directory: Path) -> None:
    home = _fresh(directory)
    settings = load_settings(home, environ={})
    workspace = open_workspace(settings)
    record = load_record(next(SAMPLES.glob("CQC-*.json")))
    app_id = record.application_id
    files = sorted(p for p in SAMPLES.iterdir() if p.is_file() and p.suffix != ".json")

    click.secho(
        "1. intake: the application and its mailed scans arrive (clerk intake01)", bold=True
    )
    result = intake_application(workspace, record, files, "intake01")
    _summary(result)
    click.secho("2. the same scans arrive again, by upload", bold=True)
    _summary(intake_application(workspace, record, files[:3], "intake01"))
    click.secho("3. check", bold=True)
    _check(workspace, result, "intake01")
    click.secho("4. 核验 (reviewer01): rejected, back to the applicant", bold=True)
    _decide(
        workspace,
        app_id,
        "prereview",
        False,
        "reviewer01",
        "组织机构代码证复印件文件损坏无法打开，请重新上传完整文件",
    )
    click.secho("5. the applicant resubmits the document", bold=True)
    result = intake_application(workspace, record, sorted(RESENT.iterdir()), "intake01")
    click.echo(f"    round {result.round}")
    _summary(result)
    click.secho("6. check again", bold=True)
    report = _check(workspace, result, "intake01")
    click.secho("7. 核验 (reviewer01) and 复核 (reviewer02)", bold=True)
    _decide(
        workspace, app_id, "prereview", True, "reviewer01", "已人工核对：名称、公章、信用代码一致"
    )
    _decide(workspace, app_id, "rereview", True, "reviewer02", "复核通过")
    click.secho("8. the CA (keys on SoftHSM tokens) and the nightly issuance", bold=True)
    issued, manifest = _issue(workspace)
    click.secho("9. verification of what was issued", bold=True)
    _verify(workspace, issued)
    click.secho("10. audit trail", bold=True)
    chain = workspace.verify_audit()
    click.echo(f"    {chain.entries} entries, intact: {chain.intact}")
    report_path = home / f"{app_id}.check.json"
    report_path.write_text(report.dumps() + "\n", encoding="utf-8")
    click.secho("\nWhere things are", bold=True)
    click.echo(f"  workspace     {home}")
    click.echo(f"  database      {settings.database_url}")
    click.echo(f"  file store    {settings.store_dir}")
    click.echo(f"  check report  {report_path}")
    click.echo(f"  CA            {settings.ca_dir}")
    for kind, path in issued.outputs.items():
        click.echo(f"  {OUTPUT_LABELS.get(kind, kind):<13} {path}")
    click.echo(f"  manifest      {manifest}")
    click.echo(f"  log           {settings.logs_dir / 'sealdesk.log'}")
    click.echo(f"\nTry: SEALDESK_HOME={home} .venv/bin/sealdesk show {app_id}")
