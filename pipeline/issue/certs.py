"""X.509 certificates and CRLs signed by a key that never leaves its token.

``cryptography`` builds and encodes, but cannot sign with a key it does not hold. So each
certificate is first signed with a throwaway key of the same kind (which fixes every byte
of the to-be-signed part, the signature algorithm included), and that signature is then
replaced with the token's own over the same bytes (asn1crypto re-assembles the DER).

The certificate profile (what an issued certificate says, and why) is in
docs/certificate-profile.md.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from asn1crypto import core
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID, ObjectIdentifier

from pipeline.config import CertificateProfile
from pipeline.issue.hsm import PublicKey, TokenKey

ROOT_YEARS = 20
ISSUING_YEARS = 10
CRL_DAYS = 7
"""An issuing CA CRL's nextUpdate: the nightly batch re-signs it long before."""
ROOT_CRL_DAYS = 365
"""The root's CRL (of CA certificates): the root key is used rarely, offline."""

ETSI_QCS_SEMANTICS_LEGAL = "0.4.0.194121.1.2"
"""id-etsi-qcs-semanticsId-Legal: organizationIdentifier follows ETSI EN 319 412-1
(NTRCN- + the unified social credit code)."""
QC_STATEMENTS = ObjectIdentifier("1.3.6.1.5.5.7.1.3")
PKIX_QC_SYNTAX_V2 = "1.3.6.1.5.5.7.11.2"
"""id-qcs-pkixQCSyntax-v2 (RFC 3739): its statementInfo names the semantics."""


@cache
def _throwaway(key_type: str) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    if key_type.startswith("ec"):
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


_DER = Encoding.DER


def _kind(signer: TokenKey) -> str:
    return "ec" if isinstance(signer.public_key, ec.EllipticCurvePublicKey) else "rsa"


def sign_certificate(builder: x509.CertificateBuilder, signer: TokenKey) -> x509.Certificate:
    draft = builder.sign(_throwaway(_kind(signer)), hashes.SHA256())
    parsed = asn1_x509.Certificate.load(draft.public_bytes(_DER))
    signed = asn1_x509.Certificate(
        {
            "tbs_certificate": parsed["tbs_certificate"],
            "signature_algorithm": parsed["signature_algorithm"],
            "signature_value": signer.sign(draft.tbs_certificate_bytes),
        }
    )
    return x509.load_der_x509_certificate(signed.dump())


def sign_crl(
    builder: x509.CertificateRevocationListBuilder, signer: TokenKey
) -> x509.CertificateRevocationList:
    draft = builder.sign(_throwaway(_kind(signer)), hashes.SHA256())
    parsed = asn1_crl.CertificateList.load(draft.public_bytes(_DER))
    signed = asn1_crl.CertificateList(
        {
            "tbs_cert_list": parsed["tbs_cert_list"],
            "signature_algorithm": parsed["signature_algorithm"],
            "signature": signer.sign(draft.tbs_certlist_bytes),
        }
    )
    return x509.load_der_x509_crl(signed.dump())


def random_serial() -> int:
    """A positive serial with 127 bits of randomness (RFC 5280: at most 20 octets)."""
    return secrets.randbits(127) | (1 << 126)


def _name(*parts: tuple[ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in parts])


def ca_name(profile: CertificateProfile, common_name: str) -> x509.Name:
    return _name(
        (NameOID.COUNTRY_NAME, "CN"),
        (NameOID.ORGANIZATION_NAME, profile.ca_organization),
        (NameOID.COMMON_NAME, common_name),
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: PublicKey,
    not_before: datetime,
    not_after: datetime,
    serial: int | None = None,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(serial if serial is not None else random_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )


def root_certificate(profile: CertificateProfile, key: TokenKey, now: datetime) -> x509.Certificate:
    name = ca_name(profile, f"{profile.ca_organization} Root CA")
    builder = (
        _builder(name, name, key.public_key, now, now.replace(year=now.year + ROOT_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(documents=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key), critical=False)
    )
    return sign_certificate(builder, key)


def issuing_certificate(
    profile: CertificateProfile,
    key_public: PublicKey,
    root: x509.Certificate,
    root_key: TokenKey,
    now: datetime,
) -> x509.Certificate:
    """The issuing CA: it signs certificates and CRLs, nothing else (documents and
    time-stamps have keys of their own, :func:`service_certificate`)."""
    builder = (
        _builder(
            ca_name(profile, f"{profile.ca_organization} Issuing CA"),
            root.subject,
            key_public,
            now,
            now.replace(year=now.year + ISSUING_YEARS),
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(documents=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key_public), critical=False)
        .add_extension(_aki(root), critical=False)
        .add_extension(_crl_points(profile.root_crl_url), critical=False)
    )
    return sign_certificate(builder, root_key)


SERVICE_YEARS = 3
"""A document-signing or time-stamping key's certificate: renewed (a new key) before it
ends, never beyond the issuing CA's own."""
DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"
EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4"
TIME_STAMPING = "1.3.6.1.5.5.7.3.8"

SERVICES = {
    "document-signing": ("Document Signing", (DOCUMENT_SIGNING, EMAIL_PROTECTION), False),
    "time-stamping": ("Time Stamping", (TIME_STAMPING,), True),
}
"""The CA's two service keys: the common name's suffix, the extended key usages and
whether they are critical (RFC 3161 §2.3 requires a TSA's timeStamping, alone, critical;
NSS accepts a document signer only with emailProtection, as for the companies' keys)."""


def service_certificate(
    profile: CertificateProfile,
    service: str,
    key_public: PublicKey,
    issuer: x509.Certificate,
    issuer_key: TokenKey,
    now: datetime,
) -> x509.Certificate:
    """The certificate of one of the CA's own service keys (``SERVICES``): the electronic
    certificate PDFs are signed by the document-signing key, time-stamps by the
    time-stamping key, so the issuing CA's key signs only certificates and CRLs. The
    subject carries no organizationIdentifier: that is how a verifier tells the CA's own
    document signature from a company's e-seal."""
    suffix, usages, critical = SERVICES[service]
    not_after = min(now.replace(year=now.year + SERVICE_YEARS), issuer.not_valid_after_utc)
    builder = (
        _builder(
            ca_name(profile, f"{profile.ca_organization} {suffix}"),
            issuer.subject,
            key_public,
            now,
            not_after,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(documents=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ObjectIdentifier(o) for o in usages]), critical=critical
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key_public), critical=False)
        .add_extension(_aki(issuer), critical=False)
        .add_extension(_crl_points(profile.crl_url), critical=False)
        .add_extension(_ca_issuers(profile), critical=False)
    )
    return sign_certificate(builder, issuer_key)


def _crl_points(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]
    )


def _ca_issuers(profile: CertificateProfile) -> x509.AuthorityInformationAccess:
    return x509.AuthorityInformationAccess(
        [
            x509.AccessDescription(
                x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(profile.ca_issuers_url),
            )
        ]
    )


def _key_usage(*, documents: bool) -> x509.KeyUsage:
    """A signer of documents (digitalSignature, nonRepudiation) or a CA (keyCertSign,
    cRLSign): never both."""
    return x509.KeyUsage(
        digital_signature=documents,
        content_commitment=documents,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not documents,
        crl_sign=not documents,
        encipher_only=False,
        decipher_only=False,
    )


def _aki(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


@dataclass(frozen=True, slots=True)
class Subject:
    company_name: str
    uscc: str


def organization_identifier(uscc: str) -> str:
    """ETSI EN 319 412-1 §5.1.4: NTR (national trade register), country, the number."""
    return f"NTRCN-{uscc}"


def subscriber_certificate(
    profile: CertificateProfile,
    subject: Subject,
    public_key: PublicKey,
    issuer: x509.Certificate,
    issuer_key: TokenKey,
    serial: int,
    not_before: datetime,
) -> x509.Certificate:
    """The company's certificate, as docs/certificate-profile.md describes it."""
    name = _name(
        (NameOID.COUNTRY_NAME, "CN"),
        (NameOID.ORGANIZATION_NAME, subject.company_name),
        (NameOID.ORGANIZATION_IDENTIFIER, organization_identifier(subject.uscc)),
        (NameOID.COMMON_NAME, subject.company_name),
    )
    builder = (
        _builder(
            name,
            issuer.subject,
            public_key,
            not_before,
            not_before + timedelta(days=profile.validity_days),
            serial,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(documents=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ObjectIdentifier(o) for o in profile.extended_key_usages]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_aki(issuer), critical=False)
        .add_extension(_crl_points(profile.crl_url), critical=False)
        .add_extension(_ca_issuers(profile), critical=False)
        .add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(_ANY_POLICY, None)]),
            critical=False,
        )
        .add_extension(x509.UnrecognizedExtension(QC_STATEMENTS, _qc_statements()), critical=False)
    )
    return sign_certificate(builder, issuer_key)


_ANY_POLICY = x509.oid.CertificatePoliciesOID.ANY_POLICY


def _qc_statements() -> bytes:
    """QCStatements (RFC 3739) with one statement: the ETSI legal-person semantics of the
    subject's organizationIdentifier, i.e. the credit code (ETSI EN 319 412-1 §5.1)."""

    class SemanticsInformation(core.Sequence):  # type: ignore[misc]
        _fields = [("semantics_identifier", core.ObjectIdentifier)]  # noqa: RUF012

    class QcStatement(core.Sequence):  # type: ignore[misc]
        _fields = [  # noqa: RUF012
            ("statement_id", core.ObjectIdentifier),
            ("statement_info", SemanticsInformation),
        ]

    class QcStatements(core.SequenceOf):  # type: ignore[misc]
        _child_spec = QcStatement

    statements = QcStatements(
        [
            QcStatement(
                {
                    "statement_id": PKIX_QC_SYNTAX_V2,
                    "statement_info": {"semantics_identifier": ETSI_QCS_SEMANTICS_LEGAL},
                }
            )
        ]
    )
    return bytes(statements.dump())


def crl_builder(
    issuer: x509.Certificate,
    number: int,
    now: datetime,
    revoked: Sequence[tuple[int, datetime, x509.ReasonFlags]],
    days: int = CRL_DAYS,
) -> x509.CertificateRevocationListBuilder:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now)
        .next_update(now + timedelta(days=days))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(_aki(issuer), critical=False)
    )
    for serial, when, reason in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        if reason != x509.ReasonFlags.unspecified:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder
