"""The ``sealdesk`` command. Configuration is read here, once, and handed down."""

from __future__ import annotations

import getpass
import importlib.util
import json
import logging
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline import __version__
from pipeline.config import Settings, load_settings, sqlite_url
from pipeline.errors import NotFound, SealdeskError
from pipeline.model.application import APPLICATION_ID, load_record
from pipeline.model.progress import Progress, silent
from pipeline.model.report import CheckReport, Severity
from pipeline.records.applications import audit_entries, history_of, listed
from pipeline.records.database import DatabaseUnavailable
from pipeline.records.files import page_count, received_files
from pipeline.records.issuances import revoked_of
from pipeline.records.lifecycle import Status
from pipeline.records.models import Application
from pipeline.review.calendar import MINUTE, SECOND, beijing
from pipeline.review.wording import action_label
from pipeline.usecases.checking import check_and_save, check_intake
from pipeline.usecases.intake import IntakeResult, intake_application
from pipeline.workspace import Workspace, configure_logging, open_workspace
from sealdesk import issue as cli_issue
from sealdesk import review as cli_review
from sealdesk import run as cli_flows
from sealdesk.context import SPOKEN
from sealdesk.progress import progress_bars

if TYPE_CHECKING:
    from pipeline.extract.documents import PageReaders

SEVERITY_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


class Context:
    def __init__(
        self,
        settings: Settings,
        actor: str,
        session_token: str | None = None,
        actor_given: bool = True,
    ) -> None:
        self.settings = settings
        self.actor = actor
        self.session_token = session_token
        """The command-line sign-in (SEALDESK_SESSION) that proves who acts."""
        self.actor_given = actor_given
        """Whether --as or SEALDESK_USER named the actor (else the login name)."""

    def workspace(self) -> Workspace:
        return open_workspace(self.settings)


pass_context = click.make_pass_decorator(Context)


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sealdesk")
@click.option(
    "--home",
    type=click.Path(path_type=Path),
    envvar="SEALDESK_HOME",
    help="Workspace directory (default: $SEALDESK_HOME or ~/.local/share/sealdesk).",
)
@click.option(
    "--as",
    "actor",
    envvar="SEALDESK_USER",
    default=_default_actor,
    help="Who is acting, for the audit trail (default: $SEALDESK_USER or login name).",
)
@click.option(
    "--session",
    "session_token",
    envvar="SEALDESK_SESSION",
    default=None,
    hidden=True,
    help="The sign-in token from 'sealdesk login' (normally in $SEALDESK_SESSION).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.pass_context
def cli(
    ctx: click.Context,
    home: Path | None,
    actor: str,
    session_token: str | None,
    verbose: bool,
) -> None:
    """sealdesk: the back office for enterprise e-seal applications.

    Intake staff take applications and their scans in; reviewers work through what the
    checks flagged; the nightly batch issues the approved ones.
    """
    settings = load_settings(home)
    configure_logging(settings, verbose)
    given = ctx.get_parameter_source("actor") != click.core.ParameterSource.DEFAULT
    ctx.obj = Context(settings, actor, session_token or None, given)


@cli.command()
@pass_context
def init(ctx: Context) -> None:
    """Create the workspace, or upgrade an older one's database."""
    workspace = ctx.workspace()
    click.echo(f"workspace  {workspace.settings.home}")
    click.echo(f"database   {workspace.db.safe_url()}")
    click.echo(f"file store {workspace.settings.store_dir}")
    click.echo(f"tokens     {workspace.settings.tokens_dir}")
    click.echo(f"inbox      {workspace.settings.inbox_dir}")
    click.echo(f"logs       {workspace.settings.logs_dir}")


@cli.command()
@click.argument("application", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--no-check", is_flag=True, help="Only record; check later with 'sealdesk check ID'.")
@pass_context
def intake(ctx: Context, application: Path, files: tuple[Path, ...], no_check: bool) -> None:
    """Record APPLICATION (a JSON record) and the FILES that arrived for it, then check it,
    so that it waits in the review queue with its findings.

    Files may be PDF, JPEG, PNG or TIFF in any mix, recognised by content. A broken file is
    refused with its reason and the others go on; a file sent twice is kept once.
    """
    record = load_record(application)
    _all_there(files)
    workspace = ctx.workspace()
    with ExitStack() as stack:
        # the page workers' models load while the files are taken in
        pool = None if no_check else stack.enter_context(_page_readers(ctx.settings))
        with progress_bars() as progress:
            result = intake_application(workspace, record, list(files), ctx.actor, progress)
        _print_intake(result)
        if any(f.outcome == "rejected" for f in result.files):
            click.echo("\nRefused files are listed above with what to ask the sender for.")
        if pool is not None:
            click.echo("")
            with progress_bars() as progress:
                report = check_and_save(workspace, result, ctx.actor, progress=progress, pool=pool)
            _print_report(report)


def _all_there(files: tuple[Path, ...]) -> None:
    """Every path names a file: a mistyped path is the operator's mistake, said as such
    (exit 66), not a broken file of the application's (a finding in a flagged report)."""
    for path in files:
        if not path.exists():
            raise NotFound(f"{path}: no such file; nothing was checked or recorded")
        if path.is_dir():
            raise NotFound(f"{path} is a folder: name the files in it ({path}/*)")


def _print_intake(result: IntakeResult) -> None:
    status = Status(result.status)
    state = "new application" if result.created else f"round {result.round}"
    click.echo(f"{result.application_id}: {state}, {status.value}")
    for f in result.files:
        sha = (f.sha256 or "-")[:12]
        pages = f"{len(f.pages)} p." if f.pages else "-"
        colour = {"rejected": "red", "duplicate": "yellow"}.get(f.outcome)
        outcome = click.style(f"{f.outcome:<9}", fg=colour)
        click.echo(f"  {outcome} {f.media_type or '?':<16} {pages:>6}  {sha}  {f.name}")
        for line in ([f.problem] if f.problem else []) + list(f.warnings):
            click.echo(f"            {line}")
        for page in f.pages:
            if page.problem:
                click.echo(f"            {page.problem}")


@cli.command()
@click.argument("application", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Judge expiry against this date (YYYY-MM-DD; default: today).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (the contract).")
@click.option(
    "--save",
    is_flag=True,
    help="Record the application and files in the workspace (default: a dry run).",
)
@pass_context
def check(
    ctx: Context, application: Path, files: tuple[Path, ...], today: Any, as_json: bool, save: bool
) -> None:
    """Check APPLICATION and its FILES and print the check report.

    Without --save this is a dry run in a throwaway workspace: nothing is recorded. Given
    an application id instead (sealdesk check CQC-2026-000123), the recorded application is
    checked again with every file it has.
    """
    if not application.exists() and APPLICATION_ID.fullmatch(str(application)):
        if files:
            raise click.UsageError(
                "a recorded application is checked with the files it has; take new ones in "
                "with 'sealdesk intake'"
            )
        with progress_bars(not as_json) as progress:
            report = _recheck(ctx, str(application), today.date() if today else None, progress)
        if as_json:
            click.echo(report.dumps())
        else:
            _print_report(report)
        return
    record = load_record(application)
    _all_there(files)
    day = today.date() if today is not None else None
    with (
        _check_workspace(ctx.settings, save) as workspace,
        progress_bars(not as_json) as progress,
        _page_readers(ctx.settings) as pool,  # their models load while the files go in
    ):
        result = intake_application(workspace, record, list(files), ctx.actor, progress)
        if save:
            report = check_and_save(workspace, result, ctx.actor, day, progress=progress, pool=pool)
        else:
            report = check_intake(workspace, result, record, day, progress=progress, pool=pool)
    if as_json:
        click.echo(report.dumps())
    else:
        _print_report(report)


def _recheck(
    ctx: Context, app_id: str, day: date | None, progress: Progress = silent
) -> CheckReport:
    """The recorded application ``app_id`` checked again (received or checked only: once
    review has begun its files are fixed), its report saved."""
    workspace = ctx.workspace()
    with workspace.session() as session:
        app = session.get(Application, app_id)
        if app is None:
            raise NotFound(f"no application {app_id} (sealdesk list shows them)")
        taken = IntakeResult(app.id, app.status, app.round, False)
    return check_and_save(workspace, taken, ctx.actor, day, progress=progress)


def _page_readers(settings: Settings) -> PageReaders:
    from pipeline.extract.documents import PageReaders

    return PageReaders(settings.extract.engine, settings.extract.workers)


@contextmanager
def _check_workspace(settings: Settings, save: bool) -> Iterator[Workspace]:
    if save:
        yield open_workspace(settings)
        return
    scratch = Path(tempfile.mkdtemp(prefix="sealdesk-check-"))
    try:
        home = scratch / "workspace"
        yield open_workspace(
            replace(settings, home=home, database_url=sqlite_url(home / "sealdesk.db"))
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _print_report(report: CheckReport) -> None:
    colour = "green" if report.verdict == "clear" else "red"
    click.echo(f"{report.application_id}: " + click.style(report.verdict, fg=colour, bold=True))
    click.echo(f"\nFindings ({len(report.findings)})")
    for finding in report.findings:
        severity = click.style(
            f"{finding.severity.value:<7}", fg=SEVERITY_COLOURS[finding.severity]
        )
        where = f"doc {finding.document}" if finding.document is not None else ""
        message = finding.wording.told(SPOKEN) if finding.wording else finding.message
        click.echo(f"  {severity} {finding.code.value:<18} {where:<6} {message}")
    click.echo(f"\nDocuments ({len(report.documents)})")
    for index, doc in enumerate(report.documents):
        click.echo(f"  {index:>2}  {doc.kind:<20} {doc.pages:>3} p.  {doc.source}")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the documents as JSON.")
@click.option(
    "--engine",
    type=click.Choice(["rapidocr", "tesseract"]),
    default=None,
    help="OCR engine (default: the workspace setting, rapidocr).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes reading pages in parallel (default: 2).",
)
@pass_context
def extract(
    ctx: Context, files: tuple[Path, ...], as_json: bool, engine: str | None, workers: int | None
) -> None:
    """Read FILES: the documents in them, their kinds, fields and seals.

    Nothing is recorded; this is what the check sees.
    """
    from pipeline.extract.documents import extract_documents

    settings = ctx.settings.extract
    documents, problems = extract_documents(
        [(p.name, p) for p in files],
        ctx.settings.limits,
        engine or settings.engine,
        workers or settings.workers,
    )
    if as_json:
        payload = {"documents": [d.to_json() for d in documents], "problems": problems}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    for name, problem in problems.items():
        click.echo(click.style(f"{name}: cannot be read: {problem}", fg="red"))
    for index, doc in enumerate(documents):
        click.echo(
            click.style(
                f"[{index}] {doc.source} p.{doc.page}"
                f"{'-' + str(doc.page + doc.pages - 1) if doc.pages > 1 else ''}"
                f"  {doc.kind} ({doc.confidence:.2f})",
                bold=True,
            )
        )
        for key, value in doc.fields.items():
            note = doc.field_notes.get(key, {})
            extra = (
                f"  (read {note['read']}, corrected {', '.join(note['corrections'])})"
                if note.get("corrections")
                else ""
            )
            click.echo(f"    {key:<22} {value}{extra}")
        for seal in doc.seals:
            colour = "red" if seal["owner"] == "company" else "blue"
            click.echo(
                "    "
                + click.style(f"seal {seal['owner']:<9}", fg=colour)
                + f" {seal['text'] or '(unread)'}"
                + (f" · {seal['inscription']}" if seal["inscription"] else "")
                + (f" · {seal['code']}" if seal["code"] else "")
                + f"  ({seal['confidence']:.2f}, {seal['shape']}, {seal['bbox']})"
            )


@cli.command(name="list")
@click.option("--status", type=click.Choice([s.value for s in Status]), default=None)
@pass_context
def list_applications(ctx: Context, status: str | None) -> None:
    """List applications, oldest first; one whose certificate was revoked says so."""
    with ctx.workspace().session() as session:
        rows = listed(session, status)
        revoked = revoked_of(session, [app.id for app in rows])
        for app in rows:
            state = app.status
            if app.id in revoked:
                state = f"revoked ({revoked[app.id].revocation_reason})"
            click.echo(
                f"{app.id:<18} {app.kind:<11} {state:<28} {app.verdict or '':<8} {app.company_name}"
            )
        if not rows:
            click.echo("no applications")


@cli.command("status-link")
@click.argument("application_id")
@pass_context
def status_link(ctx: Context, application_id: str) -> None:
    """A new link for the applicant's status page (the old one stops working): they open it
    and give their credit code to see where the application stands, read a rejection's
    remarks and upload corrected materials. Signed in as intake staff or an admin."""
    from pipeline.records.applications import new_status_token
    from pipeline.records.users import Role
    from sealdesk.context import proven

    workspace = ctx.workspace()
    with workspace.session() as session:
        actor = proven(session, Role.INTAKE, Role.ADMIN).username
        app = session.get(Application, application_id)
        if app is None:
            raise NotFound(f"no application {application_id} (sealdesk list shows them)")
        token = new_status_token(session, app, actor)
    site = ctx.settings.profile.verify_url.rsplit("/verify", 1)[0].rstrip("/")
    click.echo(f"{site}/status/{token}")
    click.echo("give it to the applicant once; only its hash is kept", err=True)


@cli.command()
@click.argument("application_id")
@pass_context
def show(ctx: Context, application_id: str) -> None:
    """Show an application: its record, files, pages and history."""
    with ctx.workspace().session() as session:
        app = session.get(Application, application_id)
        if app is None:
            raise NotFound(f"no application {application_id}")
        click.echo(f"{app.id}  {app.scheme}/{app.kind}  {app.status}  round {app.round}")
        click.echo(f"company  {app.company_name}  {app.company_uscc}")
        click.echo(f"taken in by {app.received_by} at {beijing(app.created_at, MINUTE)}")
        click.echo("\nfiles")
        for link, stored in received_files(session, app.id):
            pages = page_count(session, stored.id)
            state = stored.problem_code or f"{pages} p."
            click.echo(
                f"  round {link.round}  {stored.sha256[:12]}  {state:<18} {link.original_name}"
            )
        click.echo("\nhistory")
        for entry in history_of(session, app.id):
            detail = json.dumps(entry.detail, ensure_ascii=False)
            click.echo(
                f"  {beijing(entry.at, SECOND)}  {entry.actor:<12} "
                f"{action_label(entry.action, SPOKEN):<28} {detail}"
            )


@cli.group()
def audit() -> None:
    """The audit trail: who did what, when."""


@audit.command("verify")
@click.option(
    "--checkpoints",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    multiple=True,
    help="A file of checkpoints ('sealdesk audit checkpoint') kept apart from the workspace.",
)
@pass_context
def audit_verify(ctx: Context, checkpoints: tuple[Path, ...]) -> None:
    """Check that no audit entry was edited, deleted, reordered, inserted or forged, and
    that the trail still holds every checkpoint given."""
    from pipeline.records.audit import Checkpoint

    points = []
    for path in checkpoints:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    points.append(Checkpoint.loads(line))
                except (ValueError, KeyError) as exc:
                    raise click.BadParameter(
                        f"{path}, line {number}: not a checkpoint ({exc})",
                        param_hint="--checkpoints",
                    ) from None
    report = ctx.workspace().verify_audit(tuple(points))
    if report.intact:
        head = f", newest {report.head.hash[:16]}…" if report.head else ""
        click.echo(f"audit trail intact: {report.entries} entries{head}")
        return
    click.echo(click.style("audit trail BROKEN", fg="red", bold=True), err=True)
    for problem in report.problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(3)


@audit.command("checkpoint")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Append the checkpoint to this file (keep it where the workspace's owner cannot "
    "write: another machine, write-once media); else print it.",
)
@pass_context
def audit_checkpoint(ctx: Context, out: Path | None) -> None:
    """The trail's length and newest hash now, sealed with the audit key: 'audit verify
    --checkpoints FILE' later shows entries deleted or rewritten since, even with audit-head
    gone too."""
    from pipeline.records.audit import checkpoint

    with ctx.workspace().session() as session:
        point = checkpoint(session)
    if out is None:
        click.echo(point.dumps())
        return
    with out.open("a", encoding="utf-8") as kept:
        kept.write(point.dumps() + "\n")
    click.echo(f"checkpoint of entry {point.entries} appended to {out}")


@audit.command("log")
@click.argument("subject", required=False)
@click.option("--limit", default=50, show_default=True)
@pass_context
def audit_log(ctx: Context, subject: str | None, limit: int) -> None:
    """The newest audit entries (of one application if SUBJECT is given)."""
    with ctx.workspace().session() as session:
        for entry in audit_entries(session, subject, limit):
            detail = json.dumps(entry.detail, ensure_ascii=False)
            click.echo(
                f"{entry.seq:>6} {beijing(entry.at, SECOND)} {entry.actor:<12} "
                f"{entry.action:<28} {entry.subject_id:<18} {detail}"
            )


@cli.command()
@click.option(
    "--dir",
    "demo_dir",
    type=click.Path(path_type=Path),
    default=Path("demo-workspace"),
    show_default=True,
    help="Where the demo workspace goes (made afresh).",
)
def demo(demo_dir: Path) -> None:
    """Run the main path on the sample applications in a fresh demo workspace."""
    from sealdesk.demo import run_demo

    run_demo(demo_dir)


cli.add_command(cli_review.login)
cli.add_command(cli_review.logout)
cli.add_command(cli_review.user)
cli.add_command(cli_review.review)
cli.add_command(cli_review.web)
for command in (cli_issue.ca, cli_issue.issue, cli_issue.revoke, cli_issue.crl, cli_issue.verify):
    cli.add_command(command)
for command in (cli_flows.run, cli_flows.mail, cli_flows.serve):
    cli.add_command(command)


def run_as_package_main() -> None:
    """Name the running script as the package's ``__main__``, as ``python -m sealdesk``
    does. Spawned page workers import their parent's main module; the console script's
    imports this whole command line (a second a worker, a fifth of a small check's CPU),
    while a package's ``__main__`` is skipped (multiprocessing's own rule)."""
    running = sys.modules.get("__main__")
    if running is not None and getattr(running, "__spec__", None) is None:
        running.__spec__ = importlib.util.find_spec("sealdesk.__main__")


def main() -> None:
    run_as_package_main()
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SealdeskError as exc:
        click.echo(f"sealdesk: {exc}", err=True)
        sys.exit(exc.exit_status)
    except DatabaseUnavailable as exc:  # locked or gone: nothing was half-saved
        logging.getLogger("pipeline").warning("database unavailable: %s", exc.orig)
        click.echo(
            f"sealdesk: the database is unavailable ({exc.orig}): another sealdesk process "
            "may hold it, or it was moved. Nothing was half-saved; run the command again "
            "when it is free",
            err=True,
        )
        sys.exit(75)  # EX_TEMPFAIL
    except Exception as exc:  # the last line of defence: say so, keep the details in the log
        logging.getLogger("pipeline").exception("internal error")
        click.echo(
            f"sealdesk: internal error: {exc!r}; the traceback is in the log "
            "(logs/sealdesk.log in the workspace)",
            err=True,
        )
        sys.exit(70)  # EX_SOFTWARE
