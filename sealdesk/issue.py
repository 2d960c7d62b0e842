"""``sealdesk ca``, ``issue``, ``revoke``, ``crl`` and ``verify``: the CA, the nightly
issuance, revocation, and verification of what we signed.

The CA and issuance commands act as the user named by ``--as`` (an issuer or an admin);
``verify`` needs nobody: anyone may check a certificate PDF.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from cryptography import x509

from pipeline.records.issuances import credentials
from pipeline.records.users import Role
from pipeline.review.calendar import MINUTE, beijing
from sealdesk.context import SPOKEN
from sealdesk.context import acting_as as _as
from sealdesk.context import current as _ctx

if TYPE_CHECKING:
    from pipeline.issue.verify import Verification

INVALID_EXIT = 3
VERIFY_EXITS = {"unsigned": 4, "not_pdf": 65, "no_such_file": 66, "unreadable": 66}
"""verify's exit status by what was wrong, apart from a signature that is not valid (3)."""


@click.group()
def ca() -> None:
    """The certificate authority: root and issuing CA keys on HSM tokens."""


@ca.command("init")
def ca_init() -> None:
    """Make the root and issuing CA keys on their tokens, their certificates, the first CRL."""
    from pipeline.issue.ca import init_ca

    workspace = _ctx().workspace()
    actor = _as(workspace, Role.ADMIN)
    authority = init_ca(workspace, actor)
    files = authority.files
    click.echo(f"root CA     {authority.root.subject.rfc4514_string()}  → {files.root}")
    click.echo(f"issuing CA  {authority.issuing.subject.rfc4514_string()}  → {files.issuing}")
    click.echo(f"chain       {files.chain}")
    click.echo(f"CRL         {files.crl}")
    settings = authority.settings
    click.echo(
        f"keys on tokens {settings.hsm.root_token!r} and {settings.hsm.ca_token!r} "
        f"({settings.hsm.module})"
    )
    if settings.hsm_pins_path.exists():
        click.echo(f"token PINs  {settings.hsm_pins_path} (mode 0600; move them to a safe place)")


@ca.command("show")
def ca_show() -> None:
    """The CA certificates (root, issuing, its document-signing and time-stamping keys')
    and the newest CRL."""
    from pipeline.issue.ca import load_ca
    from pipeline.issue.certs import SERVICES
    from pipeline.issue.verify import load_crl

    settings = _ctx().settings
    authority = load_ca(settings)
    shown = [("root", authority.root), ("issuing", authority.issuing)]
    for name in SERVICES:
        if authority.files.service(name).exists():
            shown.append((name, authority.service_certificate(name)))
        else:
            click.echo(f"{name:<16} not made yet: the next 'sealdesk issue run' makes it")
    for label, cert in shown:
        click.echo(
            f"{label:<16} {cert.subject.rfc4514_string()}  serial {cert.serial_number:x}  "
            f"until {cert.not_valid_after_utc:%Y-%m-%d}"
        )
    crl, problem = load_crl(authority.files.crl, authority.issuing)
    if crl is None:
        click.echo(f"{'CRL':<16} {problem.told(SPOKEN) if problem else ''}")
    else:
        click.echo(
            f"{'CRL':<16} {len(list(crl))} revoked, "
            f"this update {beijing(crl.last_update_utc, MINUTE)}, "
            f"next {beijing(crl.next_update_utc, MINUTE)}"
        )


@click.group()
def issue() -> None:
    """Issuance: the nightly batch of approved applications."""


@issue.command("run")
@click.option("--limit", type=int, default=None, help="Issue at most this many.")
@click.option("--only", multiple=True, help="Issue only this application (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the batch summary as JSON.")
def issue_run(limit: int | None, only: tuple[str, ...], as_json: bool) -> None:
    """Issue every application approved in both review stages and not yet issued."""
    from pipeline.issue.batch import run_batch
    from pipeline.issue.ca import load_ca

    workspace = _ctx().workspace()
    actor = _as(workspace, Role.ISSUER, Role.ADMIN)
    summary = run_batch(
        workspace, load_ca(workspace.settings), actor=actor, limit=limit, only=list(only) or None
    )
    if as_json:
        click.echo(json.dumps(summary.to_json(), ensure_ascii=False, indent=2))
    else:
        for orphan in summary.orphans:
            click.secho(
                f"orphan   {orphan.token_label} ({orphan.token_serial}): {orphan.why}", fg="yellow"
            )
        for issued in summary.issued:
            resumed = f"  (resumed after {issued.resumed_from})" if issued.resumed_from else ""
            click.echo(
                f"issued   {issued.application_id}  v{issued.version}  serial {issued.serial}  "
                f"key {issued.key_serial}{resumed}"
            )
            for kind, path in issued.outputs.items():
                click.echo(f"           {kind:<16} {path}")
        for app_id, why in summary.failed.items():
            click.secho(f"failed   {app_id}: {why}", fg="red")
        if summary.crl_number:
            click.echo(f"CRL      number {summary.crl_number} published")
        click.echo(
            f"batch {summary.batch_id}: {len(summary.issued)} issued, {len(summary.failed)} "
            f"failed, {len(summary.skipped)} already issued, in {summary.seconds:.1f} s; "
            f"manifest {summary.manifest}"
        )
    if summary.failed:
        sys.exit(1)


@issue.command("orphans")
def issue_orphans() -> None:
    """Customer tokens holding a key without a certificate, or unknown to the records."""
    from pipeline.issue.batch import find_orphans
    from pipeline.issue.ca import load_ca

    workspace = _ctx().workspace()
    _as(workspace, Role.ISSUER, Role.ADMIN)
    orphans = find_orphans(workspace, load_ca(workspace.settings))
    for orphan in orphans:
        click.echo(f"{orphan.token_label}  {orphan.token_serial}  {orphan.why}")
    click.echo(f"{len(orphans)} orphan token(s)")


@issue.command("ship")
@click.argument("application_id")
@click.option("--tracking", default="", help="The courier's tracking number (EMS).")
def issue_ship(application_id: str, tracking: str) -> None:
    """APPLICATION_ID's key handed to the courier: shipped, and its PIN letter destroyed
    (the printed copy with the key is then the only one)."""
    from pipeline.issue.batch import ship

    workspace = _ctx().workspace()
    actor = _as(workspace, Role.ISSUER, Role.ADMIN)
    gone = ship(workspace, application_id, actor, tracking)
    click.echo(f"{application_id}: shipped; {len(gone)} PIN letter(s) destroyed")


@issue.command("arrived")
@click.argument("application_id")
def issue_arrived(application_id: str) -> None:
    """MOFCOM: APPLICATION_ID's key reached the issuing authority, where the company will
    collect it (staff at the authority's desk, or an admin)."""
    from pipeline.issue.shipping import arrived

    workspace = _ctx().workspace()
    actor = _as(workspace, Role.INTAKE, Role.ADMIN)
    authority = arrived(workspace, application_id, actor)
    click.echo(f"{application_id}: at {authority}, waiting to be collected")


@issue.command("collect")
@click.argument("application_id")
@click.option(
    "--original",
    "originals",
    multiple=True,
    required=True,
    help="A stamped paper original checked on site (终审), e.g. 申请表 (repeat the option).",
)
@click.option("--collector", required=True, help="Who collected the key (the name on the ID card).")
@click.option("--id-last4", required=True, help="The last four characters of their ID card.")
def issue_collect(
    application_id: str, originals: tuple[str, ...], collector: str, id_last4: str
) -> None:
    """MOFCOM: the key handed over at the authority after the final on-site check of the
    paper originals (现场盖章终审), to a person whose ID card was checked."""
    from pipeline.issue.shipping import collected

    workspace = _ctx().workspace()
    actor = _as(workspace, Role.INTAKE, Role.ADMIN)
    collected(
        workspace,
        application_id,
        actor,
        originals=list(originals),
        collector=collector,
        collector_id_last4=id_last4,
    )
    click.echo(f"{application_id}: collected by {collector} ({len(originals)} original(s) checked)")


@issue.command("waiting")
@click.option("--days", type=int, default=10, show_default=True, help="Working days.")
def issue_waiting(days: int) -> None:
    """Keys on their way or waiting at the authority for more than DAYS working days."""
    from pipeline.issue.shipping import waiting

    late = waiting(_ctx().workspace(), days)
    for w in late:
        click.echo(
            f"{w.application_id}  {w.status:<8} {w.working_days:>3} working days  {w.company}"
        )
    click.echo(f"{len(late)} key(s) waiting more than {days} working days", err=True)


@issue.command("recover")
def issue_recover() -> None:
    """Finish what a crash left half done: the CRL of every revoked certificate, every
    batch that never closed closed with its courier manifest (each nightly run does this
    first as well)."""
    from pipeline.issue.batch import recover
    from pipeline.issue.ca import load_ca

    workspace = _ctx().workspace()
    actor = _as(workspace, Role.ISSUER, Role.ADMIN)
    done = recover(workspace, load_ca(workspace.settings), actor)
    if done.crl_number:
        click.echo(f"published CRL number {done.crl_number}")
    if done.crl_file_restored:
        click.echo("restored the published CRL file from the database")
    for batch_id in done.batches_closed:
        click.echo(f"closed batch {batch_id}")
    if done.shipped:
        click.echo(f"put on a courier manifest: {', '.join(done.shipped)}")
    if not (done.crl_number or done.crl_file_restored or done.batches_closed):
        click.echo("nothing was left half done")


@issue.command("list")
@click.option("--company", help="Only this credit code.")
def issue_list(company: str | None) -> None:
    """Issued certificates, newest first."""
    workspace = _ctx().workspace()
    with workspace.session() as session:
        for cred in credentials(session, company):
            state = cred.status if cred.status == "valid" else f"revoked ({cred.revocation_reason})"
            click.echo(
                f"{cred.serial}  {cred.application_id}  v{cred.version}  {cred.company_uscc}  "
                f"{cred.not_after:%Y-%m-%d}  {state}"
            )


@click.command()
@click.argument("serial")
@click.option(
    "--reason",
    required=True,
    help="RFC 5280 reason: keyCompromise, affiliationChanged, superseded, "
    "cessationOfOperation, certificateHold, privilegeWithdrawn, unspecified, ….",
)
def revoke(serial: str, reason: str) -> None:
    """Revoke a certificate and publish a new CRL."""
    from pipeline.issue.ca import load_ca, publish_crl
    from pipeline.issue.ca import revoke as revoke_certificate

    workspace = _ctx().workspace()
    actor = _as(workspace, Role.ISSUER, Role.ADMIN)
    authority = load_ca(workspace.settings)
    with workspace.session() as session:
        cred = revoke_certificate(session, serial, reason, actor)
        number = publish_crl(session, authority, actor).number
        click.echo(f"revoked {cred.serial} ({reason}); CRL number {number} → {authority.files.crl}")


@click.command()
def crl() -> None:
    """Sign and publish a new CRL (the nightly batch does after any revocation)."""
    from pipeline.issue.ca import load_ca, publish_crl

    workspace = _ctx().workspace()
    actor = _as(workspace, Role.ISSUER, Role.ADMIN)
    authority = load_ca(workspace.settings)
    with workspace.session() as session:
        record = publish_crl(session, authority, actor)
        click.echo(
            f"CRL number {record.number}: {record.revoked_count} revoked, next update "
            f"{beijing(record.next_update, MINUTE)} → {authority.files.crl}"
        )


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Also trust this root certificate (PEM or DER; repeatable).",
)
@click.option(
    "--crl",
    "crl_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Check revocation against this CRL (default: the workspace's).",
)
def verify(file: Path, as_json: bool, trust: tuple[Path, ...], crl_path: Path | None) -> None:
    """Is this signed PDF intact, covering the whole file, chained to our root, not revoked,
    and the newest version? Exit status 0 if so, 3 if a signature is not valid, 4 if the
    PDF carries no signature, 65 if the file is not a PDF, 66 if there is no such file."""
    from pipeline.issue.verify import registry_for, verify_pdf

    registry = registry_for(_ctx().settings, [_load_cert(p) for p in trust], crl_path)
    result = verify_pdf(file, registry)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_verification(result)
    if not result.valid:
        sys.exit(VERIFY_EXITS.get(result.kind, INVALID_EXIT))


def _load_cert(path: Path) -> x509.Certificate:
    data = path.read_bytes()
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise click.BadParameter(f"{path} is not a certificate", param_hint="--trust") from None


def _print_verification(result: Verification) -> None:
    problem = result.problem.told(SPOKEN) if result.problem else ""
    if result.kind in ("no_such_file", "unreadable", "not_pdf"):
        click.secho(f"{result.file}: cannot verify: {problem}", fg="yellow", err=True)
        return
    if result.kind == "unsigned":
        click.secho(f"{result.file}: NOT SIGNED: {problem}", fg="red", bold=True)
        return
    if result.problem:
        click.secho(f"{result.file}: NOT VALID: {problem}", fg="red", bold=True)
        return
    verdict = (
        click.style("VALID", fg="green", bold=True)
        if result.valid
        else click.style("NOT VALID", fg="red", bold=True)
    )
    click.echo(f"{result.file}: {verdict}")
    if result.certificate:
        c = result.certificate
        click.echo(
            f"  about certificate {c.get('serial')} version {c.get('version')} "
            f"({c.get('uscc')}, {c.get('application')})"
        )
    for sig in result.signatures:
        level = f", PAdES {sig.level}" if sig.level else ""
        click.echo(
            f"  signature {sig.field_name}: {sig.signer} (serial {sig.signer_serial}{level})"
        )
        for name, check in sig.checks.items():
            if check.ok is None:
                mark = click.style("??  ", fg="yellow")
            else:
                mark = (
                    click.style("ok  ", fg="green") if check.ok else click.style("FAIL", fg="red")
                )
            click.echo(f"    {mark} {name:<15} {check.detail.told(SPOKEN)}")
