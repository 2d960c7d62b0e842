"""The certificate authority: a root and an issuing CA whose keys live on HSM tokens.

``sealdesk ca init`` makes both keys on their own tokens (sensitive, not extractable), the
root's self-signed certificate, the issuing CA's certificate signed by the root, and the
first CRL. Certificates and CRLs are files in the workspace's ``ca/`` (what is published);
the CRLs are also kept in the database, by number.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.sign.signers import Signer
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko_certvalidator import ValidationContext

from pipeline.config import Settings
from pipeline.errors import HsmError, IssuanceError, NotFound
from pipeline.issue import certs
from pipeline.issue.hsm import (
    Hsm,
    TokenKey,
    TokenSession,
    asn1_certificate,
    destroy_key,
    find_key,
    generate_key,
    key_id,
    random_pin,
)
from pipeline.records.audit import record_event
from pipeline.records.database import Session
from pipeline.records.issuances import credential, next_crl_number, revoked_credentials
from pipeline.records.models import Credential, CrlRecord, utcnow
from pipeline.store import write_atomic
from pipeline.workspace import Workspace

log = logging.getLogger(__name__)

ROOT_KEY_LABEL = "root-ca"
ISSUING_KEY_LABEL = "issuing-ca"
CA_KEY_TYPE = "ec-p256"
SERVICE_RENEWAL = timedelta(days=90)
"""A service key whose certificate ends sooner than this is replaced by a new one."""

REASONS = {
    flag.value: flag for flag in x509.ReasonFlags if flag not in (x509.ReasonFlags.remove_from_crl,)
}
"""RFC 5280 revocation reasons, by their RFC names (keyCompromise, superseded, …)."""


@dataclass(frozen=True, slots=True)
class CaFiles:
    root: Path
    issuing: Path
    chain: Path
    crl: Path
    crl_pem: Path
    root_crl: Path

    def service(self, name: str) -> Path:
        """The certificate of the CA's service key ``name`` (``certs.SERVICES``)."""
        return self.root.parent / f"{name}.pem"

    @classmethod
    def of(cls, settings: Settings) -> CaFiles:
        d = settings.ca_dir
        return cls(
            d / "root.pem",
            d / "issuing.pem",
            d / "chain.pem",
            d / "issuing.crl",
            d / "issuing.crl.pem",
            d / "root.crl",
        )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.PEM)


@dataclass
class CertificateAuthority:
    settings: Settings
    hsm: Hsm
    root: x509.Certificate
    issuing: x509.Certificate

    @property
    def files(self) -> CaFiles:
        return CaFiles.of(self.settings)

    @contextmanager
    def issuing_session(self, *, rw: bool = False) -> Iterator[TokenSession]:
        """A logged-in session on the issuing CA's token."""
        token = self.hsm.require(self.settings.hsm.ca_token, "issuing CA")
        with self.hsm.session(token, self.settings.hsm.ca_pin, rw=rw) as session:
            yield session

    @contextmanager
    def issuing_key(self) -> Iterator[TokenKey]:
        """The issuing CA's key, on its token, for as long as the block runs."""
        with self.issuing_session() as session:
            key = find_key(session, ISSUING_KEY_LABEL)
            if key is None:
                raise HsmError(
                    f"token {self.settings.hsm.ca_token!r} holds no key {ISSUING_KEY_LABEL!r}"
                )
            yield key

    def service_certificate(self, name: str) -> x509.Certificate:
        path = self.files.service(name)
        if not path.exists():
            raise IssuanceError(f"no {name} certificate in {path.parent}: run `sealdesk ca init`")
        return x509.load_pem_x509_certificate(path.read_bytes())

    @contextmanager
    def signing_services(self) -> Iterator[Services]:
        """The CA's document signer and time-stamping authority, keys on the issuing CA's
        token."""
        from pipeline.issue.hsm import pdf_signer
        from pipeline.issue.signing import TokenTimeStamper

        chain = [self.issuing, self.root]
        with self.issuing_session() as session:
            documents = pdf_signer(
                session,
                "document-signing",
                self.service_certificate("document-signing"),
                chain,
                CA_KEY_TYPE,
            )
            stamps = pdf_signer(
                session,
                "time-stamping",
                self.service_certificate("time-stamping"),
                chain,
                CA_KEY_TYPE,
            )
            yield Services(
                documents,
                TokenTimeStamper(stamps, self.settings.profile.tsa_policy),
            )

    def long_term_context(self, crl: bytes) -> ValidationContext:
        """What a signed PDF's DSS receives: the chain to our root, the issuing CA's CRL
        ``crl`` (signed after the signatures it vouches for) and the root's CRL."""
        from pipeline.issue.signing import long_term_context

        return long_term_context(
            [asn1_certificate(self.root)],
            [asn1_certificate(self.issuing)],
            [crl, self.files.root_crl.read_bytes()],
        )


@dataclass(frozen=True, slots=True)
class Services:
    """What the CA signs documents with (``signing_services``)."""

    documents: Signer
    """pyHanko's signer for the document-signing key."""
    stamps: TimeStamper
    """The time-stamping authority."""


def ensure_services(
    workspace: Workspace, ca: CertificateAuthority, actor: str, now: datetime | None = None
) -> list[str]:
    """Make the CA's service keys (``certs.SERVICES``) on the issuing CA's token where one
    is missing, its certificate is missing or no longer matches it, or it ends within
    ``SERVICE_RENEWAL``; each new one audited. A crash between the key and its certificate
    leaves a mismatch that the next call repairs. Returns the services made."""
    now = (now or utcnow()).replace(microsecond=0)
    made: list[tuple[str, x509.Certificate]] = []
    with ca.issuing_session(rw=True) as session:
        issuer_key: TokenKey | None = None
        for name in certs.SERVICES:
            path = ca.files.service(name)
            current = x509.load_pem_x509_certificate(path.read_bytes()) if path.exists() else None
            key = find_key(session, name)
            if (
                current is not None
                and key is not None
                and key_id(key.public_key) == key_id(current.public_key())  # type: ignore[arg-type]
                and current.not_valid_after_utc - now > SERVICE_RENEWAL
            ):
                continue
            issuer_key = issuer_key or find_key(session, ISSUING_KEY_LABEL)
            if issuer_key is None:
                raise HsmError(
                    f"token {ca.settings.hsm.ca_token!r} holds no key {ISSUING_KEY_LABEL!r}"
                )
            destroy_key(session, name)
            key = generate_key(session, CA_KEY_TYPE, name)
            cert = certs.service_certificate(
                ca.settings.profile, name, key.public_key, ca.issuing, issuer_key, now
            )
            write_atomic(path, _pem(cert))
            made.append((name, cert))
    if made:
        with workspace.session() as db:
            for name, cert in made:
                record_event(
                    db,
                    actor,
                    "ca.service_key",
                    ("ca", name),
                    {
                        "serial": format(cert.serial_number, "x"),
                        "not_after": cert.not_valid_after_utc.isoformat(),
                        "token": ca.settings.hsm.ca_token,
                    },
                )
    return [name for name, _ in made]


def load_ca(settings: Settings, hsm: Hsm | None = None) -> CertificateAuthority:
    files = CaFiles.of(settings)
    if not files.root.exists() or not files.issuing.exists():
        raise IssuanceError(f"no CA in {settings.ca_dir}: run `sealdesk ca init` once to make it")
    return CertificateAuthority(
        settings,
        hsm or Hsm(settings),
        x509.load_pem_x509_certificate(files.root.read_bytes()),
        x509.load_pem_x509_certificate(files.issuing.read_bytes()),
    )


def _ensure_pins(settings: Settings) -> Settings:
    """PINs from configuration or the environment; else new random ones kept in the
    workspace's hsm-pins.toml (mode 0600), which later runs read."""
    hsm = settings.hsm
    if hsm.root_pin and hsm.ca_pin:
        return settings
    from dataclasses import replace

    root_pin = hsm.root_pin or random_pin(12)
    ca_pin = hsm.ca_pin or random_pin(12)
    write_atomic(
        settings.hsm_pins_path,
        f'root_pin = "{root_pin}"\nca_pin = "{ca_pin}"\n'.encode(),
        mode=0o600,
    )
    log.info("new HSM PINs written to %s (mode 0600)", settings.hsm_pins_path)
    return replace(settings, hsm=replace(hsm, root_pin=root_pin, ca_pin=ca_pin))


def init_ca(workspace: Workspace, actor: str, now: datetime | None = None) -> CertificateAuthority:
    settings = workspace.settings
    files = CaFiles.of(settings)
    if files.root.exists():
        raise IssuanceError(f"a CA already exists in {settings.ca_dir}; it is made only once")
    hsm = Hsm(settings)
    for label in (settings.hsm.root_token, settings.hsm.ca_token):
        if hsm.token(label) is not None:
            raise IssuanceError(
                f"token {label!r} already exists but {files.root} does not: "
                "remove the token or choose other labels in [hsm]"
            )
    settings = _ensure_pins(settings)
    now = (now or utcnow()).replace(microsecond=0)
    root_token = hsm.init_token(
        settings.hsm.root_token, random_pin(16), settings.hsm.root_pin or ""
    )
    ca_token = hsm.init_token(settings.hsm.ca_token, random_pin(16), settings.hsm.ca_pin or "")
    with hsm.session(root_token, settings.hsm.root_pin, rw=True) as rs:
        root_key = generate_key(rs, CA_KEY_TYPE, ROOT_KEY_LABEL)
        root = certs.root_certificate(settings.profile, root_key, now)
        with hsm.session(ca_token, settings.hsm.ca_pin, rw=True) as cs:
            issuing_key = generate_key(cs, CA_KEY_TYPE, ISSUING_KEY_LABEL)
        issuing = certs.issuing_certificate(
            settings.profile, issuing_key.public_key, root, root_key, now
        )
        root_crl = certs.sign_crl(
            certs.crl_builder(root, 1, now, [], days=certs.ROOT_CRL_DAYS), root_key
        )
    settings.ca_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(files.root, _pem(root))
    write_atomic(files.issuing, _pem(issuing))
    write_atomic(files.chain, _pem(issuing) + _pem(root))
    write_atomic(files.root_crl, root_crl.public_bytes(Encoding.DER))
    ca = CertificateAuthority(settings, hsm, root, issuing)
    with workspace.session() as session:
        record_event(
            session,
            actor,
            "ca.init",
            ("ca", settings.hsm.ca_token),
            {
                "root_serial": format(root.serial_number, "x"),
                "issuing_serial": format(issuing.serial_number, "x"),
                "root_token": settings.hsm.root_token,
                "ca_token": settings.hsm.ca_token,
            },
        )
        publish_crl(session, ca, actor, now)
    ensure_services(workspace, ca, actor, now)
    return ca


def publish_crl(
    session: Session, ca: CertificateAuthority, actor: str, now: datetime | None = None
) -> CrlRecord:
    """Sign a new CRL of every revoked certificate and publish it (database and ``ca/``)."""
    now = (now or utcnow()).replace(microsecond=0)
    number = next_crl_number(session)
    revoked = revoked_credentials(session)
    entries = [
        (int(c.serial, 16), c.revoked_at or now, REASONS[c.revocation_reason or "unspecified"])
        for c in revoked
    ]
    with ca.issuing_key() as key:
        crl = certs.sign_crl(certs.crl_builder(ca.issuing, number, now, entries), key)
    der = crl.public_bytes(Encoding.DER)
    record = CrlRecord(
        number=number,
        this_update=now,
        next_update=crl.next_update_utc,
        revoked_count=len(entries),
        der=der,
    )
    session.add(record)
    session.flush()
    write_atomic(ca.files.crl, der)
    write_atomic(ca.files.crl_pem, crl.public_bytes(Encoding.PEM))
    record_event(session, actor, "ca.crl", ("crl", str(number)), {"revoked": len(entries)})
    return record


def normalise_serial(serial: str) -> str:
    cleaned = serial.strip().lower().replace(":", "").replace(" ", "")
    if cleaned.startswith("0x"):
        cleaned = cleaned[2:]
    try:
        return format(int(cleaned, 16), "x")
    except ValueError:
        raise NotFound(f"{serial!r} is not a certificate serial (hexadecimal)") from None


def revoke(
    session: Session,
    serial: str,
    reason: str,
    actor: str,
    *,
    superseded_by: str | None = None,
    now: datetime | None = None,
    remarks: str = "",
) -> Credential:
    """Mark a certificate revoked (the caller publishes the CRL after); ``remarks``: why,
    in the RA officer's words, kept in the audit trail."""
    if reason not in REASONS:
        raise IssuanceError(
            f"unknown revocation reason {reason!r}; one of: {', '.join(sorted(REASONS))}"
        )
    cred = credential(session, normalise_serial(serial))
    if cred is None:
        raise NotFound(f"no certificate with serial {serial} was issued here")
    if cred.status == "revoked":
        raise IssuanceError(
            f"certificate {cred.serial} is already revoked ({cred.revocation_reason}, "
            f"{cred.revoked_at:%Y-%m-%d})"
        )
    cred.status = "revoked"
    cred.revoked_at = (now or utcnow()).replace(microsecond=0)
    cred.revocation_reason = reason
    cred.superseded_by = superseded_by
    record_event(
        session,
        actor,
        "certificate.revoke",
        ("certificate", cred.serial),
        {
            "reason": reason,
            "application": cred.application_id,
            "superseded_by": superseded_by,
            **({"remarks": remarks} if remarks else {}),
        },
    )
    return cred
