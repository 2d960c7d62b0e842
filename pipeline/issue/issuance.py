"""Issuing one approved application: the state machine. The nightly batch of them is
``pipeline.issue.batch``; what is drawn (the e-seal, the PDFs) is ``eseal`` and ``documents``.

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

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

from pipeline.errors import IssuanceError
from pipeline.issue import certs
from pipeline.issue.ca import (
    CertificateAuthority,
    normalise_serial,
    revoke,
)
from pipeline.issue.documents import (
    CertificateFacts,
    certificate_pdf,
    images_pdf,
    pin_letter_pdf,
    stamp_box,
    summary_form_pdf,
)
from pipeline.issue.eseal import eseal_design, eseal_png, stamp_image
from pipeline.issue.hsm import (
    Token,
    TokenSession,
    find_key,
    generate_key,
    key_id,
    pdf_signer,
    random_pin,
    replace_certificate,
    so_pin_for,
    token_serial,
)
from pipeline.issue.signing import Stamp, sign_pdf
from pipeline.records import lifecycle
from pipeline.records.applications import newest_check
from pipeline.records.audit import record_event
from pipeline.records.database import Session
from pipeline.records.issuances import (
    credential,
    issuance_of_round,
    next_certificate_version,
    valid_credentials,
)
from pipeline.records.models import (
    Application,
    Credential,
    Issuance,
    utcnow,
)
from pipeline.store import write_atomic
from pipeline.workspace import Workspace

log = logging.getLogger(__name__)

KEY_LABEL = "e-seal"
"""The label of the customer's key pair and certificate on their token."""

Crash = Callable[[str], None]
"""Called at each step boundary with its name; tests raise there to simulate a crash."""


def no_crash(point: str) -> None:
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


def plan(
    session: Session, app: Application, batch_id: str, key_type: str, prefix: str, actor: str
) -> Issuance:
    """The issuance record of this approval, made if new (before any key exists)."""
    existing = issuance_of_round(session, app)
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
        version=next_certificate_version(session, app.company_uscc),
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
        self, workspace: Workspace, ca: CertificateAuthority, *, crash: Crash = no_crash
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
        serial = normalise_serial(str(lost)) if lost else None
        for cred in valid_credentials(session, app.company_uscc, serial=serial):
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
            cred = credential(db, s.serial)
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
        form = (
            images_pdf(form_pages, f"申请书 {s.application_id}")
            if form_pages
            else summary_form_pdf(record, facts)
        )
        token = s.token or self.ca.hsm.require(s.token_label, "customer")
        tsa_url = self.settings.profile.tsa_url
        with (
            self.ca.signing_services() as ca,
            self.ca.hsm.session(token, s.pin or self._pin_from_letter(s), rw=True) as cs,
        ):
            timestamper = None if tsa_url else ca.stamps
            signed = sign_pdf(
                unsigned,
                ca.documents,
                field_name="CA",
                reason=f"电子签章证书 第{s.version}版",
                location=self.settings.profile.verify_url,
                timestamper=timestamper,
                tsa_url=tsa_url,
            )
            self._customer_key(s, cs)  # a clear error, not pyHanko's, if the key is gone
            self._put_certificate(cs, cert)
            signer = pdf_signer(cs, KEY_LABEL, cert, [self.ca.issuing, self.ca.root], s.key_type)
            sealed = sign_pdf(
                form,
                signer,
                field_name="ApplicantSeal",
                reason="申请单位电子签章（认证申请书）",
                stamp=Stamp(stamp_image(design), _placed(form_pages, paper_seal)),
                timestamper=timestamper,
                tsa_url=tsa_url,
            )
        paths["certificate_pdf"] = write_atomic(directory / "certificate.pdf", signed)
        paths["sealed_form"] = write_atomic(directory / "application-form.sealed.pdf", sealed)
        self.crash("documents")
        outputs = {k: str(v) for k, v in paths.items()}
        outputs["long_term"] = "pending"  # its DSS follows a CRL signed after it (batch close)
        with self.workspace.session() as db:
            issuance = db.get_one(Issuance, s.issuance_id)
            app = db.get_one(Application, s.application_id)
            superseded = valid_credentials(db, s.uscc, besides=s.serial)
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


def _placed(pages: list[Any], paper_seal: list[int] | None) -> tuple[float, float, float, float]:
    """The e-seal's box on the form's last page: clear of its print when there is a scan."""
    if not pages:
        return stamp_box(None)
    return stamp_box(paper_seal, pages[-1])


def _form_pages(
    db: Session, workspace: Workspace, app_id: str
) -> tuple[list[Any], list[int] | None]:
    """The application form's pages, upright, as the newest check found them (a
    resubmission re-checks every file of the application, so its report has the form), and
    the box of the company's paper seal on it, if one was found."""
    from pipeline.review.evidence import page_image

    run = newest_check(db, app_id)
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
