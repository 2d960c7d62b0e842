"""``sealdesk demo``: the main path on the committed samples, in a fresh workspace, through
the Prefect flows on a temporary local Prefect server.

1. the people: an admin, an intake clerk, two reviewers, an issuer (demo passwords)
2. the intake flow: an application and its mailed scans (one file broken, one of another
   type in disguise): files kept, pages read in parallel, checked, packet made
3. the same scans again: recognised, every page from the cache
4. 核验 rejects it; the applicant resubmits; the intake flow checks round 2
5. the mailroom flow: a batch scan of four envelopes split into applications (a misfiled
   licence finds its own application, unroutable pages wait in the exception queue), then
   the clerk assigns the queued pages once their application is recorded
6. 核验 and 复核 by the two reviewers
7. the CA on SoftHSM tokens, and the nightly issuance flow
8. verification of what was issued, and of a tampered copy; the audit trail
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import click

from pipeline.config import Settings, load_settings
from pipeline.errors import WorkspaceError
from pipeline.model.application import load_record
from pipeline.records.models import Application, User
from pipeline.records.users import add_user
from pipeline.usecases.intake import intake_application
from pipeline.workspace import Workspace, open_workspace
from sealdesk.context import SPOKEN

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
RESENT = SAMPLES / "resent"
MARKER = ".sealdesk-demo"
TODAY = "2026-11-21"
"""The day the committed samples were made for (their licences and ID cards are valid then)."""

PEOPLE = {
    "admin01": ["admin"],
    "intake01": ["intake"],
    "reviewer01": ["reviewer"],
    "reviewer02": ["re-reviewer"],
    "issuer01": ["issuer"],
}


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


def _people(workspace: Workspace) -> None:
    with workspace.session() as session:
        for name, roles in PEOPLE.items():
            add_user(session, name, f"demo-{name}", roles, "admin01" if name != "admin01" else name)
    click.echo("    " + ", ".join(f"{n} ({'/'.join(r)})" for n, r in PEOPLE.items()))
    click.echo("    password of each: demo-NAME (for `sealdesk web`; a demo, not a practice)")


def _intake_summary(summary: dict[str, Any]) -> None:
    for f in summary["files"]:
        problem = f"  ({f['problem']})" if f["problem"] else ""
        click.echo(f"    {f['outcome']:<9} {f['pages']} page(s)  {f['name']}{problem}")
    click.echo(
        f"    pages: {summary['pages_read']} read, {summary['pages_cached']} from the cache, "
        f"{summary['pages_failed']} unreadable; {summary['seconds']:.1f} s"
    )
    findings = ", ".join(summary["findings"]) or "none"
    click.echo(f"    {summary['application_id']}: {summary['verdict']}; findings: {findings}")


def _decide(workspace: Workspace, app_id: str, who: str, approve: bool, remarks: str) -> None:
    """A reviewer's decision; an approval over error findings says, for each, that the
    reviewer looked at the original (as a real one must write what they saw)."""
    from pipeline.records.lifecycle import Status
    from pipeline.review.service import decide, error_findings

    with workspace.session() as session:
        user = session.get_one(User, who)
        app = session.get_one(Application, app_id)
        errors = error_findings(session, app) if approve else []
        overrides = {n: f"已对照原件核对 {f['code']}：不影响通过" for n, f in errors}
        decide(session, user, app_id, approve, remarks, overrides)
        status = Status(app.status)
    click.echo(f"    {who}: {app_id} {status.value}  remarks: {remarks}")
    for number, remark in overrides.items():
        click.echo(f"      over finding {number}: {remark}")


def _mailroom(workspace: Workspace, settings: Settings) -> list[str]:
    from fixtures import mail_batch
    from flows.intake import run_intake
    from flows.mailroom import run_mailroom
    from pipeline.mail.mailroom import assign_pages, unrouted_pages

    for app_id in mail_batch.RECORDED:
        record = load_record(mail_batch.PACKETS / app_id / "application.json")
        intake_application(workspace, record, [], "intake01")
    click.echo(f"    recorded online: {', '.join(mail_batch.RECORDED)}")
    scan = mail_batch.write_batch_scan(settings.home / "batch-scan.pdf")
    summary = run_mailroom([str(scan)], home=str(settings.home), actor="intake01", today=TODAY)
    click.echo(f"    batch {summary['batch_id']}: {summary['pages']} pages")
    for app_id, pages in summary["applications"].items():
        taken = summary["intake"][app_id]
        click.echo(
            f"    pages {pages} → {app_id}: {taken.get('verdict')}; "
            f"{', '.join(taken.get('findings', [])) or 'no findings'}"
        )
    queue = unrouted_pages(workspace)
    for page in queue:
        click.echo(f"    queued  p.{page['page']} {page['kind']}: {page['why']}")
    late = mail_batch.UNRECORDED
    intake_application(
        workspace, load_record(mail_batch.PACKETS / late / "application.json"), [], "intake01"
    )
    files = assign_pages(workspace, [p["page_id"] for p in queue], late, "intake01")
    click.echo(f"    {late} recorded online; intake01 assigns the {len(queue)} queued pages to it")
    taken = run_intake(
        [str(f) for f in files],
        application_id=late,
        home=str(settings.home),
        actor="intake01",
        today=TODAY,
    )
    _intake_summary(taken)
    return [a for a, s in summary["intake"].items() if s.get("verdict") == "clear"]


def _issue(workspace: Workspace, settings: Settings) -> dict[str, Any]:
    from flows.issuance import nightly_issuance
    from pipeline.issue.ca import init_ca
    from pipeline.issue.hsm import softhsm_config

    # the demo's tokens live in its own workspace, whatever SOFTHSM2_CONF says elsewhere
    os.environ["SOFTHSM2_CONF"] = str(softhsm_config(settings))
    ca = init_ca(workspace, "admin01")
    click.echo(
        f"    root CA {ca.root.subject.rfc4514_string()}, issuing CA on token "
        f"{settings.hsm.ca_token!r}"
    )
    summary = nightly_issuance(str(settings.home), actor="issuer01")
    for app_id, why in summary["failed"].items():
        click.secho(f"    failed {app_id}: {why}", fg="red")
    if not summary["issued"]:
        raise click.ClickException("the demo's applications were not issued")
    for issued in summary["issued"]:
        click.echo(
            f"    issued {issued['application']}: certificate {issued['serial']} version "
            f"{issued['version']} on USB key {issued['key_serial']}"
        )
    return summary


def _verify(settings: Settings, outputs: dict[str, str]) -> None:
    from pipeline.issue.verify import registry_for, verify_pdf

    registry = registry_for(settings, [])
    for kind in ("certificate_pdf", "sealed_form"):
        result = verify_pdf(Path(outputs[kind]), registry)
        failed = [n for s in result.signatures for n, c in s.checks.items() if not c.ok]
        click.echo(
            f"    {Path(outputs[kind]).name}: "
            + ("VALID" if result.valid else f"NOT VALID ({', '.join(failed)})")
        )
    tampered = settings.home / "tampered-certificate.pdf"
    tampered.write_bytes(
        Path(outputs["certificate_pdf"]).read_bytes() + b"\n% changed after signing\n"
    )
    result = verify_pdf(tampered, registry)
    failed = [
        f"{n}: {c.detail.told(SPOKEN)}"
        for s in result.signatures
        for n, c in s.checks.items()
        if not c.ok
    ]
    click.echo(
        f"    {tampered.name}: {'VALID' if result.valid else 'NOT VALID'} ({'; '.join(failed)})"
    )


def _write_report(workspace: Workspace, app_id: str, path: Path) -> None:
    """The newest check report, exactly as the contract (shared/spec/check-report.md)."""
    import json

    from pipeline.review.service import latest_report

    with workspace.session() as session:
        run = latest_report(session, session.get_one(Application, app_id))
        assert run is not None
        path.write_text(json.dumps(run.report, ensure_ascii=False, indent=2) + "\n")


OUTPUT_LABELS = {
    "pin_letter": "PIN letter",
    "eseal": "e-seal",
    "certificate": "certificate",
    "certificate_pdf": "cert. PDF",
    "sealed_form": "sealed form",
}


def run_demo(directory: Path) -> None:
    home = _fresh(directory)
    settings = load_settings(home, environ={})
    from flows.serve import prefect_environment

    # flow runs recorded in the workspace's Prefect home: `sealdesk serve` shows them later
    os.environ.update(prefect_environment(settings))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from flows.intake import run_intake
    from flows.runtime import prefect_api

    workspace = open_workspace(settings)
    record_path = next(SAMPLES.glob("CQC-*.json"))
    app_id = load_record(record_path).application_id
    files = [str(p) for p in sorted(SAMPLES.iterdir()) if p.is_file() and p.suffix != ".json"]
    click.secho("1. the people", bold=True)
    _people(workspace)
    click.echo("    starting a temporary local Prefect server for the flows …")
    with prefect_api():
        click.secho(
            "2. intake flow: an application and its mailed scans (clerk intake01)", bold=True
        )
        first = run_intake(files, str(record_path), home=str(home), actor="intake01", today=TODAY)
        _intake_summary(first)
        click.echo(f"    review packet {first['packet']}")
        click.secho("3. the same scans arrive again, by upload", bold=True)
        _intake_summary(
            run_intake(files, str(record_path), home=str(home), actor="intake01", today=TODAY)
        )
        click.secho("4. 核验 (reviewer01): rejected, back to the applicant; resubmitted", bold=True)
        _decide(
            workspace,
            app_id,
            "reviewer01",
            False,
            "组织机构代码证复印件文件损坏无法打开，请重新上传完整文件",
        )
        resent = [str(p) for p in sorted(RESENT.iterdir())]
        second = run_intake(resent, str(record_path), home=str(home), actor="intake01", today=TODAY)
        click.echo(f"    round {second['round']}")
        _intake_summary(second)
        report_path = home / f"{app_id}.check.json"
        _write_report(workspace, app_id, report_path)
        click.secho("5. mailroom flow: a batch scan of four envelopes", bold=True)
        clear = _mailroom(workspace, settings)
        click.secho("6. 核验 (reviewer01) and 复核 (reviewer02)", bold=True)
        for approved in [app_id, *clear]:
            _decide(workspace, approved, "reviewer01", True, "已人工核对：名称、公章、信用代码一致")
            _decide(workspace, approved, "reviewer02", True, "复核通过")
        click.secho("7. the CA (keys on SoftHSM tokens) and the nightly issuance flow", bold=True)
        night = _issue(workspace, settings)
    issued = next(i for i in night["issued"] if i["application"] == app_id)
    click.secho("8. verification of what was issued", bold=True)
    _verify(settings, issued["outputs"])
    chain = workspace.verify_audit()
    click.echo(f"    audit trail: {chain.entries} entries, intact: {chain.intact}")
    click.secho("\nWhere things are", bold=True)
    click.echo(f"  workspace     {home}")
    click.echo(f"  database      {settings.database_url}")
    click.echo(f"  file store    {settings.store_dir}")
    click.echo(f"  check report  {report_path}")
    click.echo(f"  packets       {home / 'packets'}")
    click.echo(f"  mail          {home / 'mail'} (what each application received from the batch)")
    click.echo(f"  CA            {settings.ca_dir}")
    for kind, path in issued["outputs"].items():
        click.echo(f"  {OUTPUT_LABELS.get(kind, kind):<13} {path}")
    click.echo(f"  manifest      {night['manifest']}")
    click.echo(
        f"  flow runs     {home / 'prefect'} (see them: sealdesk serve, then the Prefect UI)"
    )
    click.echo(f"  log           {settings.logs_dir / 'sealdesk.log'}")
    click.echo(f"\nTry: SEALDESK_HOME={home} .venv/bin/sealdesk show {app_id}")
    click.echo(f"     SEALDESK_HOME={home} .venv/bin/sealdesk serve   (Ctrl-C stops it)")
    workspace.db.engine.dispose()
