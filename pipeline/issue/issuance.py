"""Issuing one approved application, and the nightly batch of them.

Every approval gets one ``Issuance`` row (unique per application and round) *before* any
key is made, and moves through its states in committed steps:

    started ──token initialised, PIN letter written, key pair made on it──▶ key_made
    key_made ──certificate signed by the issuing CA, recorded──▶ certified
    certified ──certificate onto the token, e-seal, certificate PDF, sealed form──▶ done

A rerun after a crash anywhere resumes from the last committed state: a token whose key was
made but not recorded is initialised again (wiped, with a new PIN letter), a certificate is
recorded before it leaves the process, and an application is issued at most once. Only the
newest certificate of a company stays valid: the ones before are revoked as superseded.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from pipeline.errors import HsmError, IssuanceError, SealdeskError
from pipeline.issue import certs
from pipeline.issue.authorities import issuing_authority
from pipeline.issue.ca import (
    CA_KEY_TYPE,
    ISSUING_KEY_LABEL,
    CertificateAuthority,
    normalise_serial,
    publish_crl,
    revoke,
)
from pipeline.issue.documents import (
    CertificateFacts,
    certificate_pdf,
    images_pdf,
    pin_letter_pdf,
    summary_form_pdf,
)
from pipeline.issue.eseal import eseal_design, eseal_png, stamp_image
from pipeline.issue.hsm import (
    Token,
    TokenSession,
    find_key,
    generate_key,
    key_id,
    key_without_certificate,
    pdf_signer,
    random_pin,
    replace_certificate,
    so_pin_for,
    token_serial,
)
from pipeline.issue.signing import Stamp, sign_pdf
from pipeline.records import lifecycle
from pipeline.records.audit import record_event
from pipeline.records.models import (
    Application,
    CheckRun,
    Credential,
    Issuance,
    IssueBatch,
    utcnow,
)
from pipeline.store import write_atomic
from pipeline.workspace import Workspace

log = logging.getLogger(__name__)

KEY_LABEL = "e-seal"
"""The label of the customer's key pair and certificate on their token."""
FORM_STAMP_MM = 42.0
MM = 72 / 25.4
TRANSIENT_TRIES = 3

Crash = Callable[[str], None]
"""Called at each step boundary with its name; tests raise there to simulate a crash."""


def _no_crash(point: str) -> None:
    return None


@dataclass
class Issued:
    application_id: str
    serial: str
    version: int
    key_serial: str
    token_label: str
    outputs: dict[str, str]
    resumed_from: str


def token_label(prefix: str, app: Application) -> str:
    label = f"{prefix}-{app.id}-r{app.round}"
    if len(label.encode()) > 32:
        raise IssuanceError(
            f"token label {label!r} is over 32 bytes: shorten [hsm] customer_prefix"
        )
    return label


def _next_version(session: Session, uscc: str) -> int:
    latest = session.scalar(
        select(func.max(Issuance.version))
        .join(Application, Application.id == Issuance.application_id)
        .where(Application.company_uscc == uscc)
    )
    return (latest or 0) + 1


def plan(
    session: Session, app: Application, batch_id: str, key_type: str, prefix: str, actor: str
) -> Issuance:
    """The issuance record of this approval, made if new (before any key exists)."""
    existing = session.scalar(
        select(Issuance).where(Issuance.application_id == app.id, Issuance.round == app.round)
    )
    if existing is not None:
        return existing
    if app.status != lifecycle.Status.REREVIEW_PASSED:
        raise IssuanceError(f"{app.id} is {app.status}, not approved in both review stages")
    issuance = Issuance(
        application_id=app.id,
        round=app.round,
        batch_id=batch_id,
        state="started",
        serial=format(certs.random_serial(), "x"),
        version=_next_version(session, app.company_uscc),
        key_type=key_type,
        token_label=token_label(prefix, app),
        outputs={},
        attempts=0,
    )
    session.add(issuance)
    session.flush()
    record_event(
        session,
        actor,
        "issuance.start",
        ("application", app.id),
        {"serial": issuance.serial, "version": issuance.version, "token": issuance.token_label},
    )
    return issuance


class Issuer:
    """Issues approved applications with one CA; reuse it for a whole batch."""

    def __init__(
        self, workspace: Workspace, ca: CertificateAuthority, *, crash: Crash = _no_crash
    ) -> None:
        self.workspace = workspace
        self.settings = workspace.settings
        self.ca = ca
        self.crash = crash
        self.revoked_any = False

    # -- one application ---------------------------------------------------------------

    def issue(self, app_id: str, batch_id: str, actor: str = "nightly") -> Issued | None:
        """Issue ``app_id``'s current approval; None if it was already issued."""
        hsm_settings = self.settings.hsm
        with self.workspace.session() as session:
            app = session.get(Application, app_id)
            if app is None:
                raise IssuanceError(f"no application {app_id}")
            issuance = plan(
                session,
                app,
                batch_id,
                self.settings.profile.key_type,
                hsm_settings.customer_prefix,
                actor,
            )
            if issuance.state == "done":
                return None
            issuance.attempts += 1
            resumed_from = issuance.state if issuance.attempts > 1 else ""
            if issuance.state == "started" and app.kind == "replacement":
                self._revoke_lost(session, app, actor)
            record = dict(app.record)
            snapshot = _Snapshot.of(app, issuance)
            snapshot.first_attempt = issuance.attempts == 1
            snapshot.actor = actor
        self.crash("planned")
        if snapshot.state == "started":
            self._make_key(snapshot, record)
        self.crash("key_recorded")
        if snapshot.state == "key_made":
            self._certify(snapshot)
        self.crash("certified")
        outputs = self._finish(snapshot, record, actor)
        return Issued(
            app_id,
            snapshot.serial,
            snapshot.version,
            snapshot.token_serial,
            snapshot.token_label,
            outputs,
            resumed_from,
        )

    def _revoke_lost(self, session: Session, app: Application, actor: str) -> None:
        """补办: the lost key's certificate is revoked before the new one is made."""
        lost = app.record.get("previous_certificate_serial")
        query = select(Credential).where(
            Credential.company_uscc == app.company_uscc, Credential.status == "valid"
        )
        if lost:
            query = query.where(Credential.serial == normalise_serial(str(lost)))
        for cred in session.scalars(query).all():
            revoke(session, cred.serial, "keyCompromise", actor)
            self.revoked_any = True

    def _make_key(self, s: _Snapshot, record: dict[str, Any]) -> None:
        hsm = self.ca.hsm
        pin = random_pin()
        so_pin = so_pin_for(s.token_label, self.settings.hsm.ca_pin or "")
        token = hsm.init_token(s.token_label, so_pin, pin, fresh=s.first_attempt)
        s.token_serial = token_serial(token)
        s.token = token
        letter = pin_letter_pdf(
            company_name=s.company_name,
            application_id=s.application_id,
            contact=record.get("contact") or {},
            key_serial=s.token_serial,
            token_label=s.token_label,
            pin=pin,
            issuer=self._issuer_name(),
        )
        letter_path = write_atomic(
            s.directory(self.settings) / "pin-letter.pdf", letter, mode=0o600
        )
        self.crash("pin_letter")
        with hsm.session(token, pin, rw=True) as session:
            key = generate_key(session, s.key_type, KEY_LABEL)
        self.crash("key_made")
        public_pem = key.public_key.public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
        ).decode()
        with self.workspace.session() as db:
            issuance = db.get_one(Issuance, s.issuance_id)
            issuance.state = "key_made"
            issuance.token_serial = s.token_serial
            issuance.outputs = {
                **issuance.outputs,
                "pin_letter": str(letter_path),
                "public_key": public_pem,
            }
            record_event(
                db,
                s.actor,
                "issuance.key_made",
                ("application", s.application_id),
                {"token": s.token_label, "key_serial": s.token_serial, "key_type": s.key_type},
            )
        s.state = "key_made"
        s.pin = pin
        s.public_pem = public_pem

    def _customer_key(self, s: _Snapshot, session: TokenSession) -> Any:
        key = find_key(session, KEY_LABEL)
        if key is None:
            raise IssuanceError(
                f"token {s.token_label} holds no key {KEY_LABEL!r} though the record says it "
                "was made: the token was replaced or wiped; reset the issuance to start over"
            )
        return key

    def _certify(self, s: _Snapshot) -> None:
        with self.workspace.session() as db:
            issuance = db.get_one(Issuance, s.issuance_id)
            public = load_pem_public_key(issuance.outputs["public_key"].encode())
        now = utcnow().replace(microsecond=0)
        with self.ca.issuing_key() as ca_key:
            cert = certs.subscriber_certificate(
                self.settings.profile,
                certs.Subject(s.company_name, s.uscc),
                public,  # type: ignore[arg-type]
                self.ca.issuing,
                ca_key,
                int(s.serial, 16),
                now,
            )
        pem = cert.public_bytes(Encoding.PEM).decode()
        with self.workspace.session() as db:
            issuance = db.get_one(Issuance, s.issuance_id)
            issuance.state = "certified"
            db.add(
                Credential(
                    application_id=s.application_id,
                    issuance_id=s.issuance_id,
                    company_uscc=s.uscc,
                    serial=s.serial,
                    version=s.version,
                    status="valid",
                    not_before=cert.not_valid_before_utc,
                    not_after=cert.not_valid_after_utc,
                    key_type=s.key_type,
                    token_label=s.token_label,
                    token_serial=s.token_serial,
                    certificate_pem=pem,
                )
            )
            record_event(
                db,
                s.actor,
                "certificate.issue",
                ("certificate", s.serial),
                {"application": s.application_id, "version": s.version, "uscc": s.uscc},
            )
        s.state = "certified"

    def _finish(self, s: _Snapshot, record: dict[str, Any], actor: str) -> dict[str, str]:
        with self.workspace.session() as db:
            cred = db.scalar(select(Credential).where(Credential.serial == s.serial))
            assert cred is not None
            cert = x509.load_pem_x509_certificate(cred.certificate_pem.encode())
            form_pages, paper_seal = _form_pages(db, self.workspace, s.application_id)
        directory = s.directory(self.settings)
        design = eseal_design(s.company_name, record.get("seal_style"))
        paths = {
            "eseal": write_atomic(directory / "e-seal.png", eseal_png(design)),
            "certificate": write_atomic(
                directory / "certificate.pem", cert.public_bytes(Encoding.PEM)
            ),
        }
        facts = CertificateFacts(
            company_name=s.company_name,
            uscc=s.uscc,
            serial=s.serial,
            version=s.version,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            application_id=s.application_id,
            issuer=self._issuer_name(),
            key_type=s.key_type,
            key_serial=s.token_serial,
            verify_url=f"{self.settings.profile.verify_url.rstrip('/')}/{s.serial}",
        )
        unsigned = certificate_pdf(
            facts, stamp_image(design), self.settings.profile.ca_organization
        )
        with self.ca.issuing_session() as ca_session:
            signer = pdf_signer(
                ca_session, ISSUING_KEY_LABEL, self.ca.issuing, [self.ca.root], CA_KEY_TYPE
            )
            signed = sign_pdf(
                unsigned,
                signer,
                field_name="CA",
                reason=f"电子签章证书 第{s.version}版",
                location=self.settings.profile.verify_url,
                tsa_url=self.settings.profile.tsa_url,
            )
        paths["certificate_pdf"] = write_atomic(directory / "certificate.pdf", signed)
        form = (
            images_pdf(form_pages, f"申请书 {s.application_id}")
            if form_pages
            else summary_form_pdf(record, facts)
        )
        token = s.token or self.ca.hsm.require(s.token_label, "customer")
        with self.ca.hsm.session(token, s.pin or self._pin_from_letter(s), rw=True) as cs:
            self._customer_key(s, cs)  # a clear error, not pyHanko's, if the key is gone
            self._put_certificate(cs, cert)
            signer = pdf_signer(cs, KEY_LABEL, cert, [self.ca.issuing, self.ca.root], s.key_type)
            sealed = sign_pdf(
                form,
                signer,
                field_name="ApplicantSeal",
                reason="申请单位电子签章（认证申请书）",
                stamp=Stamp(stamp_image(design), _stamp_box(paper_seal if form_pages else None)),
            )
        paths["sealed_form"] = write_atomic(directory / "application-form.sealed.pdf", sealed)
        self.crash("documents")
        outputs = {k: str(v) for k, v in paths.items()}
        with self.workspace.session() as db:
            issuance = db.get_one(Issuance, s.issuance_id)
            app = db.get_one(Application, s.application_id)
            superseded = db.scalars(
                select(Credential).where(
                    Credential.company_uscc == s.uscc,
                    Credential.status == "valid",
                    Credential.serial != s.serial,
                )
            ).all()
            for old in superseded:
                revoke(db, old.serial, "superseded", actor, superseded_by=s.serial)
                self.revoked_any = True
            issuance.outputs = {**issuance.outputs, **outputs}
            outputs = {k: v for k, v in issuance.outputs.items() if k != "public_key"}
            issuance.state = "done"
            issuance.error = None
            lifecycle.mark_issued(db, app, actor, s.serial)
        return outputs

    def _put_certificate(self, session: TokenSession, cert: x509.Certificate) -> None:
        der = cert.public_bytes(Encoding.DER)
        replace_certificate(session, KEY_LABEL, key_id(cert.public_key()), der)  # type: ignore[arg-type]

    def _pin_from_letter(self, s: _Snapshot) -> str:
        """A resumed issuance needs the PIN it set: read back from its own PIN letter (the
        one copy, which goes to the courier)."""
        from pypdf import PdfReader

        path = s.directory(self.settings) / "pin-letter.pdf"
        text = "".join(page.extract_text() or "" for page in PdfReader(path).pages)
        marker = "PIN："
        after = text.split(marker, 1)[1] if marker in text else ""
        pin = after.split()[0] if after.split() else ""
        if not pin:
            raise IssuanceError(f"cannot read the PIN back from {path}; reset the issuance")
        return pin

    def _issuer_name(self) -> str:
        return self.ca.issuing.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value  # type: ignore[return-value]


@dataclass
class _Snapshot:
    """What one issuance needs between its transactions (no ORM objects kept open)."""

    issuance_id: int
    application_id: str
    company_name: str
    uscc: str
    scheme: str
    serial: str
    version: int
    key_type: str
    token_label: str
    token_serial: str
    state: str
    pin: str | None = None
    public_pem: str | None = None
    actor: str = "nightly"
    """Who runs the issuance, for the audit trail."""
    first_attempt: bool = False
    """No earlier attempt ran: no token can carry this issuance's label yet."""
    token: Token | None = None
    """The customer's token once this run has it (finding it again scans every slot)."""

    @classmethod
    def of(cls, app: Application, issuance: Issuance) -> _Snapshot:
        return cls(
            issuance.id,
            app.id,
            app.company_name,
            app.company_uscc,
            app.scheme,
            issuance.serial,
            issuance.version,
            issuance.key_type,
            issuance.token_label,
            issuance.token_serial or "",
            issuance.state,
        )

    def directory(self, settings: Any) -> Any:
        return settings.issued_dir / self.application_id / f"v{self.version}"


A4_POINTS = (595.0, 842.0)
SCAN_DPI = 300


def _stamp_box(paper_seal: list[int] | None) -> tuple[float, float, float, float]:
    """Where the e-seal goes on the form's last page (points, A4): beside the company's
    paper seal when the check found one (left of it, else above), not over it; else in the
    lower right, where the form asks for the seal."""
    side = FORM_STAMP_MM * MM
    width, height = A4_POINTS
    if paper_seal:
        x0, y0, _, y1 = (v * 72 / SCAN_DPI for v in paper_seal)
        middle = height - (y0 + y1) / 2
        bottom = min(max(middle - side / 2, 15 * MM), height - 15 * MM - side)
        if x0 - 8 * MM - side >= 15 * MM:
            return (x0 - 8 * MM - side, bottom, x0 - 8 * MM, bottom + side)
        top_of_seal = height - y0
        if top_of_seal + 5 * MM + side <= height - 15 * MM:
            left = min(max(x0, 15 * MM), width - 15 * MM - side)
            return (left, top_of_seal + 5 * MM, left + side, top_of_seal + 5 * MM + side)
    return (width - 25 * MM - side, 60 * MM, width - 25 * MM, 60 * MM + side)


def _form_pages(
    db: Session, workspace: Workspace, app_id: str
) -> tuple[list[Any], list[int] | None]:
    """The application form's pages, upright, as the newest check found them (a
    resubmission re-checks every file of the application, so its report has the form), and
    the box of the company's paper seal on it, if one was found."""
    from pipeline.review.evidence import page_image

    run = db.scalars(
        select(CheckRun)
        .where(CheckRun.application_id == app_id)
        .order_by(CheckRun.round.desc(), CheckRun.id.desc())
    ).first()
    if run is None:
        return [], None
    form = next(
        (d for d in run.report.get("documents", []) if d.get("kind") == "application_form"),
        None,
    )
    if form is None:
        return [], None
    pages = []
    turns = form.get("rotation") or []
    for offset in range(int(form.get("pages") or 1)):
        image = page_image(db, workspace.store, app_id, form["source"], form["page"] + offset)
        if image is None:
            continue
        degrees = int(turns[offset]) if offset < len(turns) else 0
        pages.append(image.rotate(-degrees, expand=True) if degrees else image)
    seal = next((x for x in form.get("seals", []) if x.get("owner") == "company"), None)
    single_upright = len(pages) == 1 and not any(turns)
    return pages, (seal["bbox"] if seal and single_upright else None)


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
        known = {i.token_label: i.state for i in db.scalars(select(Issuance)).all()}
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
    return isinstance(exc, OperationalError) and "locked" in str(exc).lower()


def pending(workspace: Workspace) -> list[str]:
    """Applications approved in both stages and not issued: oldest approval first."""
    with workspace.session() as db:
        return list(
            db.scalars(
                select(Application.id)
                .where(Application.status == lifecycle.Status.REREVIEW_PASSED)
                .order_by(Application.updated_at, Application.id)
            ).all()
        )


@dataclass
class Batch:
    """A nightly batch under way: its summary so far and the issuer it uses."""

    summary: BatchSummary
    issuer: Issuer
    started: float


def open_batch(
    workspace: Workspace, ca: CertificateAuthority, *, crash: Crash = _no_crash
) -> Batch:
    """Start a batch: its id and record, and the orphan tokens found before it begins."""
    now = datetime.now(UTC)
    batch_id = now.strftime("B%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z"
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


def close_batch(batch: Batch, actor: str) -> BatchSummary:
    """Finish a batch: the CRL if anything was revoked, the manifest, the batch's record."""
    summary, issuer = batch.summary, batch.issuer
    workspace = issuer.workspace
    if issuer.revoked_any:
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
    crash: Crash = _no_crash,
) -> BatchSummary:
    """Issue every pending approval; one application's failure is recorded and the rest go
    on. Transient faults (a busy token, a locked database) are retried a few times."""
    batch = open_batch(workspace, ca, crash=crash)
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
        issuance = db.scalar(
            select(Issuance)
            .where(Issuance.application_id == app_id)
            .order_by(Issuance.round.desc())
        )
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
