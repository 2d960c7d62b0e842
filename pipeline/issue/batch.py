"""The nightly batch: every application approved in both review stages and not yet
issued, each through ``pipeline.issue.issuance.Issuer``; one application's failure is
recorded and never blocks the rest, transient faults (a busy token, a locked database) are
tried again. The batch's summary, its courier manifest, and the tokens an interrupted
issuance left holding a key without a certificate (orphans)."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.errors import HsmError, NotFound, SealdeskError
from pipeline.issue.ca import CertificateAuthority, ensure_services, publish_crl
from pipeline.issue.hsm import key_without_certificate, token_serial
from pipeline.issue.issuance import Crash, Issued, Issuer, no_crash
from pipeline.issue.signing import add_long_term
from pipeline.model.authorities import issuing_authority
from pipeline.records.audit import record_event
from pipeline.records.database import database_locked
from pipeline.records.issuances import (
    approved_not_issued,
    issuance_states,
    latest_issuance,
    long_term_pending,
    newest_crl,
    open_batches,
    revoked_credentials,
    unshipped,
)
from pipeline.records.lifecycle import mark_shipped
from pipeline.records.models import Application, Issuance, IssueBatch, utcnow
from pipeline.store import write_atomic
from pipeline.workspace import Workspace

log = logging.getLogger(__name__)

TRANSIENT_TRIES = 3


# -- orphans ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Orphan:
    token_label: str
    token_serial: str
    why: str


def find_orphans(workspace: Workspace, ca: CertificateAuthority) -> list[Orphan]:
    """Customer tokens holding a key without a certificate, or unknown to the records.

    An interrupted issuance leaves one; the next run resumes it (wiping and re-initialising
    the token when the key was never recorded). Anything else is for a person to look at."""
    prefix = workspace.settings.hsm.customer_prefix + "-"
    with workspace.session() as db:
        known = issuance_states(db)
    found = []
    ca_tokens = {workspace.settings.hsm.root_token, workspace.settings.hsm.ca_token}
    for token in ca.hsm.tokens(prefix):
        if token.label in ca_tokens:
            continue
        serial = token_serial(token)
        state = known.get(token.label)
        if state is None:
            found.append(Orphan(token.label, serial, "no issuance record names this token"))
            continue
        if state not in ("started", "key_made"):  # done or certified: its certificate exists
            continue
        if key_without_certificate(token):
            found.append(
                Orphan(token.label, serial, f"a key without a certificate (issuance {state})")
            )
    return found


# -- the nightly batch ----------------------------------------------------------------------


@dataclass
class BatchSummary:
    batch_id: str
    issued: list[Issued] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    manifest: str = ""
    crl_number: int | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch_id,
            "issued": [
                {
                    "application": i.application_id,
                    "serial": i.serial,
                    "version": i.version,
                    "key_serial": i.key_serial,
                    "resumed_from": i.resumed_from,
                    "outputs": dict(i.outputs),
                }
                for i in self.issued
            ],
            "failed": self.failed,
            "orphans": [_orphan(o) for o in self.orphans],
            "manifest": self.manifest,
            "crl_number": self.crl_number,
            "seconds": round(self.seconds, 2),
        }


def _orphan(o: Orphan) -> dict[str, str]:
    return {"token": o.token_label, "key_serial": o.token_serial, "why": o.why}


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, HsmError):
        return exc.transient
    return database_locked(exc)


def pending(workspace: Workspace) -> list[str]:
    """Applications approved in both stages and not issued: oldest approval first."""
    with workspace.session() as db:
        return approved_not_issued(db)


@dataclass
class Batch:
    """A nightly batch under way: its summary so far and the issuer it uses."""

    summary: BatchSummary
    issuer: Issuer
    started: float


@dataclass
class Recovery:
    """What :func:`recover` finished."""

    crl_number: int | None = None
    crl_file_restored: bool = False
    batches_closed: list[str] = field(default_factory=list)
    shipped: list[str] = field(default_factory=list)


def recover(workspace: Workspace, ca: CertificateAuthority, actor: str) -> Recovery:
    """Finish what a crash left half done, before anything new: a CRL listing every
    certificate the database says is revoked (a renewal killed after revoking its old
    certificate left it off the published CRL, and verify against the CRL accepted it), the
    published file equal to the newest CRL record, and every batch that never closed closed,
    the keys issued but on no courier manifest put on its manifest (else they never ship)."""
    done = Recovery()
    done.crl_number = complete_long_term(workspace, ca, actor)
    with workspace.session() as db:
        newest = newest_crl(db)
        revoked = len(revoked_credentials(db))
        if revoked and (newest is None or newest.revoked_count != revoked):
            done.crl_number = publish_crl(db, ca, actor).number  # after long_term's: it lists all
        elif newest is not None and (
            not ca.files.crl.is_file() or ca.files.crl.read_bytes() != newest.der
        ):
            write_atomic(ca.files.crl, newest.der)
            done.crl_file_restored = True
        left = [b.id for b in open_batches(db)]
        lost = [
            Issued(
                i.application_id,
                i.serial,
                i.version,
                i.token_serial or "",
                i.token_label,
                {k: str(v) for k, v in i.outputs.items() if k != "public_key"},
                "recovered",
            )
            for i in unshipped(db)
        ]
    if lost and not left:  # keys on no manifest, yet no batch left open: one of their own
        left = [_batch_id()]
        with workspace.session() as db:
            db.add(IssueBatch(id=left[0], summary={}))
    for position, batch_id in enumerate(left):
        summary = BatchSummary(batch_id, issued=lost if position == 0 else [])
        summary.manifest = write_manifest(workspace, summary)
        with workspace.session() as db:
            record = db.get_one(IssueBatch, batch_id)
            record.finished_at = utcnow()
            record.summary = {**summary.to_json(), "recovered": True}
            shipped = {"shipped": len(summary.issued)}
            record_event(db, actor, "issuance.batch_recovered", ("batch", batch_id), shipped)
        done.batches_closed.append(batch_id)
        done.shipped += [i.application_id for i in summary.issued]
    if done.crl_number or done.crl_file_restored or done.batches_closed:
        log.warning("recovered: %s", done)
    return done


def _batch_id() -> str:
    now = datetime.now(UTC)
    return now.strftime("B%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z"


def open_batch(
    workspace: Workspace,
    ca: CertificateAuthority,
    *,
    crash: Crash = no_crash,
    actor: str = "nightly",
) -> Batch:
    """Start a batch: what an earlier one left half done finished first (:func:`recover`),
    then its id and record, and the orphan tokens found before it begins."""
    recover(workspace, ca, actor)
    try:  # a CA made before its service keys gets them here
        ensure_services(workspace, ca, actor)
    except HsmError as exc:  # the token is away or its PIN wrong: each issuance says so
        log.warning("the CA's service keys could not be checked: %s", exc)
    batch_id = _batch_id()
    summary = BatchSummary(batch_id)
    summary.orphans = find_orphans(workspace, ca)
    for orphan in summary.orphans:
        log.warning("token %s (%s): %s", orphan.token_label, orphan.token_serial, orphan.why)
    with workspace.session() as db:
        db.add(IssueBatch(id=batch_id, summary={}))
    return Batch(summary, Issuer(workspace, ca, crash=crash), time.perf_counter())


def issue_in_batch(batch: Batch, app_id: str, actor: str, *, tries: int = TRANSIENT_TRIES) -> str:
    """Issue one application of the batch; its failure is recorded, never raised, except a
    transient one on the last of ``tries`` when ``tries`` is 1 (the caller retries it).
    Returns what happened: issued, skipped or failed."""
    summary, issuer = batch.summary, batch.issuer
    for attempt in range(1, tries + 1):
        try:
            result = issuer.issue(app_id, summary.batch_id, actor)
        except Exception as exc:  # one application never stops the batch
            if _transient(exc) and attempt < tries:
                time.sleep(0.2 * attempt)
                continue
            if _transient(exc) and tries == 1:
                raise
            if not isinstance(exc, SealdeskError):
                log.exception("issuing %s failed", app_id)
            why = str(exc) if isinstance(exc, SealdeskError) else f"{type(exc).__name__}: {exc}"
            _failed(issuer.workspace, summary, app_id, why, actor)
            return "failed"
        if result is None:
            summary.skipped.append(app_id)
            return "skipped"
        summary.issued.append(result)
        return "issued"
    return "failed"  # not reached: the last attempt returns or raises


def complete_long_term(workspace: Workspace, ca: CertificateAuthority, actor: str) -> int | None:
    """Bring every issued PDF still at B-T to B-LT: publish a CRL signed after their
    signatures' time-stamps (a second later at least: CRL times are whole seconds), then
    add it with the chain to each one's DSS. Run at every batch's close and by recovery, so
    a crash in between only delays it. Returns the CRL's number, if one was needed."""
    with workspace.session() as db:
        todo = [(i.id, dict(i.outputs), i.updated_at) for i in long_term_pending(db)]
    if not todo:
        return None
    signed = max(_utc(when) for _, _, when in todo)
    wait = (signed.replace(microsecond=0) + timedelta(seconds=1) - utcnow()).total_seconds()
    if wait > 0:
        time.sleep(wait)
    with workspace.session() as db:
        crl = publish_crl(db, ca, actor)
        number, der = crl.number, crl.der
    context = ca.long_term_context(der)
    for issuance_id, outputs, _ in todo:
        try:
            for key in ("certificate_pdf", "sealed_form"):
                path = Path(outputs[key])
                write_atomic(path, add_long_term(path.read_bytes(), context))
            mark = str(number)
        except Exception as exc:  # e.g. an outside time-stamp service we hold no chain of
            log.warning("issuance %s: no long-term data added: %s", issuance_id, exc)
            mark = f"failed: {type(exc).__name__}: {exc}"  # the PDFs stay at B-T
        with workspace.session() as db:
            issuance = db.get_one(Issuance, issuance_id)
            issuance.outputs = {**issuance.outputs, "long_term": mark}
    return number


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes: ours are all UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def close_batch(batch: Batch, actor: str) -> BatchSummary:
    """Finish a batch: the CRL (for what was revoked, and to complete the issued PDFs'
    long-term validation data), the manifest, the batch's record."""
    summary, issuer = batch.summary, batch.issuer
    workspace = issuer.workspace
    summary.crl_number = complete_long_term(workspace, issuer.ca, actor)
    if issuer.revoked_any and summary.crl_number is None:
        with workspace.session() as db:
            summary.crl_number = publish_crl(db, issuer.ca, actor).number
    summary.manifest = write_manifest(workspace, summary)
    summary.seconds = time.perf_counter() - batch.started
    with workspace.session() as db:
        record = db.get_one(IssueBatch, summary.batch_id)
        record.finished_at = utcnow()
        record.summary = summary.to_json()
        record_event(
            db,
            actor,
            "issuance.batch",
            ("batch", summary.batch_id),
            {"issued": len(summary.issued), "failed": len(summary.failed)},
        )
    return summary


def run_batch(
    workspace: Workspace,
    ca: CertificateAuthority,
    *,
    actor: str = "nightly",
    limit: int | None = None,
    only: list[str] | None = None,
    crash: Crash = no_crash,
) -> BatchSummary:
    """Issue every pending approval; one application's failure is recorded and the rest go
    on. Transient faults (a busy token, a locked database) are retried a few times."""
    batch = open_batch(workspace, ca, crash=crash, actor=actor)
    todo = only if only is not None else pending(workspace)
    for app_id in todo[:limit] if limit else todo:
        issue_in_batch(batch, app_id, actor)
    return close_batch(batch, actor)


def record_failure(batch: Batch, app_id: str, why: str, actor: str) -> None:
    """An application of the batch failed in a way its caller saw (a transient fault that
    outlasted the flow's retries): recorded like any other failure, retried next night."""
    _failed(batch.issuer.workspace, batch.summary, app_id, why, actor)


def _failed(workspace: Workspace, summary: BatchSummary, app_id: str, why: str, actor: str) -> None:
    summary.failed[app_id] = why
    log.error("issuing %s failed: %s", app_id, why)
    with workspace.session() as db:
        issuance = latest_issuance(db, app_id)
        if issuance is not None and issuance.state != "done":
            issuance.error = why
        record_event(db, actor, "issuance.failed", ("application", app_id), {"error": why})


MANIFEST_FIELDS = (
    "application",
    "scheme",
    "company",
    "contact",
    "phone",
    "address",
    "postcode",
    "key_serial",
    "token_label",
    "certificate_serial",
    "version",
    "issuing_authority",
    "pin_letter",
)


def write_manifest(workspace: Workspace, summary: BatchSummary) -> str:
    """The courier manifest (EMS) of a batch: CSV for the courier's system, JSON beside it.
    MOFCOM keys go to the issuing authority of the company's region, which hands them out."""
    rows = []
    with workspace.session() as db:
        for issued in summary.issued:
            app = db.get_one(Application, issued.application_id)
            contact = app.record.get("contact") or {}
            rows.append(
                {
                    "application": app.id,
                    "scheme": app.scheme,
                    "company": app.company_name,
                    "contact": contact.get("name", ""),
                    "phone": contact.get("phone", ""),
                    "address": contact.get("address", ""),
                    "postcode": contact.get("postcode", ""),
                    "key_serial": issued.key_serial,
                    "token_label": issued.token_label,
                    "certificate_serial": issued.serial,
                    "version": issued.version,
                    "issuing_authority": issuing_authority(app.company_uscc)
                    if app.scheme == "mofcom"
                    else "",
                    "pin_letter": issued.outputs.get("pin_letter", "")
                    or str(
                        workspace.settings.issued_dir
                        / app.id
                        / f"v{issued.version}"
                        / "pin-letter.pdf"
                    ),
                }
            )
    directory = workspace.settings.batches_dir / summary.batch_id
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=MANIFEST_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    path = write_atomic(directory / "manifest.csv", text.getvalue().encode("utf-8-sig"))
    write_atomic(
        directory / "manifest.json",
        json.dumps(
            {"batch": summary.batch_id, "shipments": rows}, ensure_ascii=False, indent=2
        ).encode(),
    )
    return str(path)


def ship(workspace: Workspace, app_id: str, actor: str, tracking: str = "") -> list[str]:
    """The key handed to the courier (or, MOFCOM, to the issuing authority): the application
    becomes shipped and its PIN letters are destroyed, the printed copy travelling with the
    key being the only one left (a PIN kept in clear on the server for ever is a PIN anyone
    with the disk has). Returns the letters destroyed."""
    gone = []
    with workspace.session() as db:
        app = db.get(Application, app_id)
        if app is None:
            raise NotFound(f"no application {app_id}")
        mark_shipped(db, app, actor, tracking)
        for letter in sorted((workspace.settings.issued_dir / app_id).glob("v*/pin-letter.pdf")):
            size = letter.stat().st_size
            with letter.open("r+b") as out:  # overwritten before unlinking: not on the disk
                out.write(b"\0" * size)
                out.flush()
                os.fsync(out.fileno())
            letter.unlink()
            gone.append(str(letter))
        record_event(
            db,
            actor,
            "issuance.pin_letter_destroyed",
            ("application", app_id),
            {"letters": len(gone)},
        )
    return gone
