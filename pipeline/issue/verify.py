"""``sealdesk verify``: is this signed PDF what we issued, untouched, and still valid?

For every signature: intact (the bytes it covers hash to what was signed), covering the
whole file (nothing appended after signing; pyHanko's coverage), a chain to a trusted root
(ours, plus any ``--trust`` roots), the signer's certificate not revoked (the issuing CA's
CRL, its own signature checked), and the newest version (only the newest certificate of a
company is valid; the electronic certificate PDF names its certificate and version in its
signed keywords). Each check says exactly what failed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from pipeline.issue.documents import parse_keywords
from pipeline.issue.hsm import asn1_certificate
from pipeline.issue.signing import run_sync
from pipeline.model.messages import Say, say
from pipeline.records.issuances import credential, newest_credential
from pipeline.review.calendar import SECOND, beijing
from pipeline.workspace import Workspace

MACHINE = "en"
"""The language of the JSON a script reads (as it always was: English)."""


@dataclass
class Check:
    ok: bool | None
    """None: could not be checked (said in ``detail``)."""
    detail: Say
    """What was found, as a sentence for the reader's language (the JSON gives English)."""

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail.told(MACHINE)}


@dataclass
class SignatureReport:
    field_name: str
    signer: str
    signer_serial: str
    checks: dict[str, Check] = field(default_factory=dict)
    timestamp: str = ""
    """When a time-stamp authority vouched for the signature's time (PAdES B-T), if any."""
    level: str = ""
    """The PAdES baseline level found (ETSI EN 319 142-1): B-B a signature; B-T with a
    trusted signature time-stamp; B-LT with the CRLs of its chains in the document's DSS,
    so it can be judged offline for years; B-LTA with a document time-stamp after that."""

    @property
    def valid(self) -> bool:
        return all(c.ok is True for c in self.checks.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field_name,
            "signer": self.signer,
            "signer_serial": self.signer_serial,
            "timestamp": self.timestamp or None,
            "level": self.level or None,
            "valid": self.valid,
            "checks": {k: v.to_json() for k, v in self.checks.items()},
        }


@dataclass
class Verification:
    file: str
    problem: Say | None = None
    signatures: list[SignatureReport] = field(default_factory=list)
    certificate: dict[str, Any] = field(default_factory=dict)
    """What an electronic certificate PDF says it is about (serial, version, uscc)."""

    kind: str = ""
    """Why not valid, when not for its signatures: no_such_file, unreadable, not_pdf,
    unsigned (a caller tells these from a signature that failed)."""

    @property
    def valid(self) -> bool:
        return not self.problem and bool(self.signatures) and all(s.valid for s in self.signatures)

    @property
    def outcome(self) -> str:
        """valid, invalid (a signature failed a check), or the ``kind`` of problem."""
        return "valid" if self.valid else (self.kind or "invalid")

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "valid": self.valid,
            "outcome": self.outcome,
            "problem": self.problem.told(MACHINE) if self.problem else None,
            "certificate": self.certificate or None,
            "signatures": [s.to_json() for s in self.signatures],
        }


@dataclass
class Registry:
    """What verification trusts and knows: the roots, the issuing CA, its CRL, and (in a
    workspace) the register of issued certificates for the newest-version check."""

    roots: list[x509.Certificate]
    intermediates: list[x509.Certificate]
    crls: list[x509.CertificateRevocationList] = field(default_factory=list)
    crl_problem: Say | None = None
    workspace: Workspace | None = None

    def revoked(self, serial: int, issuer: x509.Name) -> Check:
        crl = next((c for c in self.crls if c.issuer == issuer), None)
        if crl is None:
            return Check(
                None,
                self.crl_problem or say("没有 {issuer} 的证书吊销列表可供核对", issuer=_cn(issuer)),
            )
        entry = crl.get_revoked_certificate_by_serial_number(serial)
        if entry is None:
            return Check(
                True,
                say(
                    "未列入 {issuer} 的第 {number} 号证书吊销列表",
                    issuer=_cn(issuer),
                    number=_crl_number(crl),
                ),
            )
        reason = ""
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
        except x509.ExtensionNotFound:
            reason = "unspecified"
        return Check(
            False,
            say(
                "已于 {date} 吊销（{reason}），见第 {number} 号证书吊销列表",
                date=format(entry.revocation_date_utc, "%Y-%m-%d"),
                reason=reason,
                number=_crl_number(crl),
            ),
        )

    def newest(self, serial_hex: str, claimed_version: int | None) -> Check:
        if self.workspace is None:
            return Check(None, say("没有已签发证书的登记可供核对（须在工作区中运行）"))
        with self.workspace.session() as db:
            cred = credential(db, serial_hex)
            if cred is None:
                return Check(False, say("证书 {serial} 不是本机构签发的", serial=serial_hex))
            newest = newest_credential(db, cred.company_uscc)
            assert newest is not None
            if claimed_version is not None and claimed_version != cred.version:
                return Check(
                    False,
                    say(
                        "文件自称第 {claimed} 版，但证书 {serial} 是第 {version} 版",
                        claimed=claimed_version,
                        serial=serial_hex,
                        version=cred.version,
                    ),
                )
            if newest.serial != cred.serial:
                return Check(
                    False,
                    say(
                        "第 {version} 版已被第 {newest} 版替代（证书 {serial}）",
                        version=cred.version,
                        newest=newest.version,
                        serial=newest.serial,
                    ),
                )
            return Check(True, say("第 {version} 版是最新版本", version=cred.version))


def _crl_number(crl: x509.CertificateRevocationList) -> str:
    try:
        return str(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
    except x509.ExtensionNotFound:
        return "?"


def load_crl(
    path: Path, issuer: x509.Certificate
) -> tuple[x509.CertificateRevocationList | None, Say | None]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, say(
            "无法读取证书吊销列表 {path}：{why}", path=str(path), why=exc.strerror or ""
        )
    try:
        crl = (
            x509.load_pem_x509_crl(data)
            if data.lstrip().startswith(b"-----")
            else x509.load_der_x509_crl(data)
        )
    except ValueError:
        return None, say("{path} 不是证书吊销列表", path=str(path))
    if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
        return None, say(
            "证书吊销列表 {path} 不是由 {issuer} 签名的",
            path=str(path),
            issuer=issuer.subject.rfc4514_string(),
        )
    return crl, None


def _cn(name: x509.Name) -> str:
    cns = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else name.rfc4514_string()


def _name_of(cert: asn1_x509.Certificate) -> str:
    return _cn(x509.load_der_x509_certificate(cert.dump()).subject)


def verify_pdf(path: Path, registry: Registry) -> Verification:
    result = Verification(str(path))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        result.problem, result.kind = say("没有这个文件：{path}", path=str(path)), "no_such_file"
        return result
    except OSError as exc:
        why = exc.strerror or ""
        result.problem = say("无法读取 {path}：{why}", path=str(path), why=why)
        result.kind = "unreadable"
        return result
    if b"%PDF-" not in data[:1024]:  # the header, within the first 1024 bytes (ISO 32000)
        result.problem, result.kind = say("{path} 不是 PDF 文件", path=str(path)), "not_pdf"
        return result
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:  # a hostile or broken file: say so, never crash the caller
        error = f"{type(exc).__name__}: {exc}"
        result.problem = say("无法读取的 PDF：{error}", error=error)
        result.kind = "not_pdf"
        return result
    if not signatures:
        result.problem, result.kind = say("该 PDF 没有签名"), "unsigned"
        return result
    try:
        info = reader.trailer_view.get("/Info")
        info = info.get_object() if info is not None and hasattr(info, "get_object") else info
        keywords = str(info.get("/Keywords", "")) if isinstance(info, dict) else ""
    except (KeyError, TypeError, PdfReadError):
        keywords = ""
    claimed = parse_keywords(keywords)
    if claimed.get("serial"):
        result.certificate = claimed
    context = ValidationContext(
        trust_roots=[asn1_certificate(r) for r in registry.roots],
        other_certs=[asn1_certificate(c) for c in registry.intermediates],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    newest_index = len(signatures) - 1
    for index, embedded in enumerate(signatures):
        report = SignatureReport(embedded.field_name, "", "")
        result.signatures.append(report)
        try:
            status = run_sync(
                async_validate_pdf_signature(
                    embedded,
                    context,
                    key_usage_settings=KeyUsageConstraints(
                        key_usage={"digital_signature", "non_repudiation"},
                        match_all_key_usages=False,
                    ),
                )
            )
        except Exception as exc:  # pyHanko raises many kinds on a mangled signature
            report.checks["intact"] = Check(False, say("无法读取签名：{error}", error=str(exc)))
            continue
        signer = status.signing_cert
        report.signer = _name_of(signer)
        report.signer_serial = format(signer.serial_number, "x")
        report.checks["intact"] = (
            Check(True, say("签名所覆盖的内容未被改动"))
            if status.intact and status.valid
            else Check(False, say("签名所覆盖的内容已被改动，或签名与内容不符"))
        )
        coverage = status.coverage
        if index == newest_index:
            report.checks["whole_file"] = (
                Check(True, say("签名覆盖整个文件"))
                if coverage == SignatureCoverageLevel.ENTIRE_FILE
                else Check(True, say("签名覆盖整个文件（其后仅有验证数据 DSS）"))
                if _only_validation_data_after(status) and data.rstrip().endswith(b"%%EOF")
                else Check(
                    False,
                    say(
                        "签名后文件被改动（签名部分之后有新增内容：{coverage}）",
                        coverage=coverage.name.lower().replace("_", " ") if coverage else "?",
                    ),
                )
            )
        else:
            report.checks["whole_file"] = Check(
                coverage >= SignatureCoverageLevel.ENTIRE_REVISION,
                say("覆盖其所在的版本；之后的签名覆盖整个文件"),
            )
        report.checks["chain"] = (
            Check(True, say("链到 {path}", path=" → ".join(_name_of(c) for c in _path(status))))
            if status.trusted
            else Check(
                False, say("未链到受信任的根证书（{why}）", why=str(status.trust_problem_indic))
            )
        )
        stamped = status.timestamp_validity
        report.level = _level(reader, embedded, status)
        if stamped is not None:
            report.timestamp = beijing(stamped.timestamp, SECOND)
            report.checks["timestamp"] = (
                Check(
                    True,
                    say(
                        "{at} 由 {authority} 加盖时间戳",
                        at=report.timestamp,
                        authority=_name_of(stamped.signing_cert),
                    ),
                )
                if stamped.intact and stamped.valid and stamped.trusted
                else Check(False, say("签名的时间戳已损坏或不受信任"))
            )
        issuer = x509.load_der_x509_certificate(signer.dump()).issuer
        report.checks["not_revoked"] = registry.revoked(signer.serial_number, issuer)
        for_ca = _speaks_for_ca(signer)
        subject_serial = claimed.get("serial") if for_ca else report.signer_serial
        if subject_serial and for_ca:
            # issued by the signer (an old PDF signed by the issuing CA) or by its issuer
            described_issuer = signer_subject(signer) if signer.ca else issuer
            described = registry.revoked(int(subject_serial, 16), described_issuer)
            signer_check = report.checks["not_revoked"]
            if described.ok is False:
                report.checks["not_revoked"] = Check(
                    False,
                    say(
                        "本 PDF 所述的证书（{serial}）：{detail}",
                        serial=subject_serial,
                        detail=described.detail,
                    ),
                )
            elif described.ok is None or signer_check.ok is not True:
                report.checks["not_revoked"] = Check(
                    None if signer_check.ok is not False else False,
                    say(
                        "签名者：{signer}；证书 {serial}：{described}",
                        signer=signer_check.detail,
                        serial=subject_serial,
                        described=described.detail,
                    ),
                )
            else:
                report.checks["not_revoked"] = Check(
                    True,
                    say(
                        "签名者与证书 {serial} 均未被吊销（{described}；{signer}）",
                        serial=subject_serial,
                        described=described.detail,
                        signer=signer_check.detail,
                    ),
                )
        version = int(claimed["version"]) if claimed.get("version", "").isdigit() else None
        report.checks["newest_version"] = (
            registry.newest(subject_serial, version if for_ca else None)
            if subject_serial
            else Check(None, say("该 PDF 未写明证书序列号"))
        )
    return result


def signer_subject(cert: asn1_x509.Certificate) -> x509.Name:
    return x509.load_der_x509_certificate(cert.dump()).subject


def _speaks_for_ca(cert: asn1_x509.Certificate) -> bool:
    """Whether the CA itself signed (an electronic certificate PDF, about the certificate
    its keywords name): its document-signing certificate, O of the CA that issued it and
    no organizationIdentifier (a company's always carries its credit code there), or, in
    PDFs from before the CA had one, the issuing CA's own certificate."""
    if cert.ca:
        return True
    subject, issuer = cert.subject.native, cert.issuer.native
    return (
        "organization_identifier" not in subject
        and subject.get("organization_name") is not None
        and subject.get("organization_name") == issuer.get("organization_name")
    )


def _only_validation_data_after(status: Any) -> bool:
    """After the signed revision, only what pyHanko's difference analysis counts as
    long-term validation updates (DSS, document time-stamps)."""
    from pyhanko.sign.diff_analysis import ModificationLevel

    level = status.modification_level
    return (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and level is not None
        and level <= ModificationLevel.LTA_UPDATES
    )


def _level(reader: PdfFileReader, embedded: Any, status: Any) -> str:
    stamped = status.timestamp_validity
    if stamped is None or not (stamped.intact and stamped.valid and stamped.trusted):
        return "B-B"
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    try:
        dss = DocumentSecurityStore.read_dss(reader)
        crls = [asn1_crl.CertificateList.load(ref.get_object().data) for ref in dss.crls]
    except Exception:  # no DSS (NoDSSFoundError), or one that cannot be read
        return "B-T"
    covered = {c["tbs_cert_list"]["issuer"].dump() for c in crls}
    chain = _path(status) + _path(stamped)
    needed = [c.issuer.dump() for c in chain if c.issuer != c.subject]  # the roots need none
    if not needed or any(issuer not in covered for issuer in needed):
        return "B-T"
    later = [
        ts
        for ts in reader.embedded_timestamp_signatures
        if ts.signed_revision > embedded.signed_revision
    ]
    return "B-LTA" if later else "B-LT"


def _path(status: Any) -> list[asn1_x509.Certificate]:
    path = status.validation_path
    if path is None:
        return []
    return [c for c in path.iter_certs(include_root=True)][::-1]


def registry_for(
    settings: Any,
    extra_roots: list[x509.Certificate],
    crl_path: Path | None = None,
    workspace: Workspace | None = None,
) -> Registry:
    """What ``sealdesk verify`` trusts: the workspace's root and issuing CA (when it has a
    CA), any extra roots, the given CRL or else the workspace's, and the workspace's register
    of issued certificates when it has one."""
    from pipeline.issue.ca import CaFiles
    from pipeline.workspace import open_workspace

    files = CaFiles.of(settings)
    roots = list(extra_roots)
    intermediates: list[x509.Certificate] = []
    issuing = None
    if files.root.exists() and files.issuing.exists():
        roots.append(x509.load_pem_x509_certificate(files.root.read_bytes()))
        issuing = x509.load_pem_x509_certificate(files.issuing.read_bytes())
        intermediates.append(issuing)
    registry = Registry(roots, intermediates)
    if issuing is None:
        registry.crl_problem = say(
            "{folder} 中没有 CA：无法核对吊销状态", folder=str(settings.ca_dir)
        )
    else:
        crl, problem = load_crl(crl_path or files.crl, issuing)
        root_crl, root_problem = load_crl(files.root_crl, roots[-1])
        registry.crls = [c for c in (crl, root_crl) if c is not None]
        registry.crl_problem = problem or root_problem
        if workspace is not None:
            registry.workspace = workspace
        elif settings.home.exists():
            registry.workspace = open_workspace(settings, create=False)
    return registry
