"""Issuance on a real SoftHSM token: the CA, a company's key and certificate, the e-seal,
the signed certificate PDF and the e-sealed form, versions, revocation, verification, and
reruns after crashes at every step."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from cryptography import x509
from PIL import Image
from pkcs11 import Attribute, ObjectClass
from sqlalchemy import func, select

from pipeline.config import load_settings
from pipeline.errors import IssuanceError
from pipeline.issue.batch import find_orphans, pending, run_batch
from pipeline.issue.ca import init_ca, load_ca, publish_crl, revoke
from pipeline.issue.issuance import Issuer
from pipeline.issue.verify import registry_for, verify_pdf
from pipeline.model.application import parse_record
from pipeline.model.authorities import issuing_authority
from pipeline.records import lifecycle
from pipeline.records.models import Application, Credential, Issuance
from pipeline.usecases.intake import intake_application
from pipeline.workspace import Workspace, open_workspace
from tests.conftest import REPO, issuing_settings

pytestmark = pytest.mark.usefixtures("softhsm_dir")


def approve(workspace: Workspace, record: dict[str, Any]) -> str:
    """Take the application in and approve it in both stages, by two reviewers."""
    parsed = parse_record(record)
    intake_application(workspace, parsed, [], "intake01")
    with workspace.session() as db:
        app = db.get_one(Application, parsed.application_id)
        lifecycle.mark_checked(db, app, "clear", "intake01")
        lifecycle.decide(db, app, "prereview", True, "reviewer01")
        lifecycle.decide(db, app, "rereview", True, "reviewer02")
    return parsed.application_id


class Env:
    def __init__(self, home: Path, **profile: str) -> None:
        self.settings = issuing_settings(home, **profile)
        self.workspace = open_workspace(self.settings)
        init_ca(self.workspace, "admin")
        self.settings = load_settings(home, environ={})  # now with the PINs ca init wrote
        self.workspace = replace(self.workspace, settings=self.settings)
        self.ca = load_ca(self.settings)

    def approve(self, record: dict[str, Any]) -> str:
        return approve(self.workspace, record)

    def verify(self, path: Path, **kw: Any) -> Any:
        return verify_pdf(path, registry_for(self.settings, kw.get("trust", []), kw.get("crl")))


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = Env(tmp_path / "home")
    yield e
    e.workspace.db.engine.dispose()


def _record(record_data: dict[str, Any], app_id: str, **company: Any) -> dict[str, Any]:
    data = {**record_data, "application_id": app_id}
    data["company"] = {**record_data["company"], **company}
    return data


def test_ca_keys_stay_on_their_tokens(env: Env) -> None:
    hsm = env.ca.hsm
    token = hsm.require(env.settings.hsm.ca_token, "issuing CA")
    with hsm.session(token, env.settings.hsm.ca_pin) as session:
        keys = list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}))
        # the issuing CA's, and its document-signing and time-stamping keys
        assert sorted(k.label for k in keys) == ["document-signing", "issuing-ca", "time-stamping"]
        for key in keys:
            assert key[Attribute.SENSITIVE] is True and key[Attribute.EXTRACTABLE] is False
            with pytest.raises(pkcs11.exceptions.AttributeSensitive):
                key[Attribute.VALUE]
    root = x509.load_pem_x509_certificate(env.ca.files.root.read_bytes())
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert (env.settings.hsm_pins_path.stat().st_mode & 0o777) == 0o600
    pins = [env.settings.hsm.ca_pin, env.settings.hsm.root_pin]
    db_file = Path(env.settings.database_url.removeprefix("sqlite:///"))
    for path in [db_file, *env.settings.logs_dir.glob("*"), *env.settings.ca_dir.glob("*")]:
        for pin in pins:
            assert pin and pin.encode() not in path.read_bytes(), path


def test_an_approved_application_is_issued_once_and_verifies(
    env: Env, record_data: dict[str, Any], tmp_path: Path
) -> None:
    app_id = env.approve(record_data)
    summary = run_batch(env.workspace, env.ca)
    assert not summary.failed and [i.application_id for i in summary.issued] == [app_id]
    (issued,) = summary.issued
    out = {k: Path(v) for k, v in issued.outputs.items()}
    cert = x509.load_pem_x509_certificate(out["certificate"].read_bytes())
    # the profile: C=CN, O and CN the company, the credit code as organizationIdentifier
    subject = {a.oid.dotted_string: a.value for a in cert.subject}
    name, uscc = record_data["company"]["name"], record_data["company"]["uscc"]
    assert subject["2.5.4.6"] == "CN" and subject["2.5.4.10"] == name == subject["2.5.4.3"]
    assert subject["2.5.4.97"] == f"NTRCN-{uscc}"
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert days == 365
    # independent tools: openssl and pkilint on the certificate, pdfsig on the PDFs
    chain = subprocess.run(
        [
            "openssl",
            "verify",
            "-CAfile",
            str(env.ca.files.root),
            "-untrusted",
            str(env.ca.files.issuing),
            "-crl_check",
            "-CRLfile",
            str(env.ca.files.crl_pem),
            str(out["certificate"]),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert chain.returncode == 0, chain.stderr
    files = env.ca.files
    for pem in (
        out["certificate"],
        files.service("document-signing"),
        files.service("time-stamping"),
    ):
        lint = subprocess.run(
            [
                str(Path(sys.executable).parent / "lint_pkix_cert"),
                "lint",
                "-s",
                "WARNING",
                str(pem),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert lint.returncode == 0 and not lint.stdout.strip(), (pem, lint.stdout)
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    subprocess.run(
        [
            "certutil",
            "-A",
            "-d",
            f"sql:{nss}",
            "-n",
            "root",
            "-t",
            "CT,C,C",
            "-i",
            str(env.ca.files.root),
        ],
        check=True,
    )
    for pdf in (out["certificate_pdf"], out["sealed_form"]):
        said = subprocess.run(
            ["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True, text=True
        ).stdout
        assert "Signature is Valid." in said and "Certificate is Trusted." in said, said
        # poppler counts the DSS update after the signature as not signed (it is not meant
        # to be); verify below holds that nothing but validation data follows the signature
        result = env.verify(pdf)
        assert result.valid, result.to_json()
    # the e-seal: transparent, 42 mm at 600 dpi
    seal = Image.open(out["eseal"])
    assert "transparency" in seal.info and abs(seal.width - 992) <= 1
    assert round(seal.info["dpi"][0]) == 600
    assert seal.convert("RGBA").getpixel((2, 2))[3] == 0
    # a rerun issues nothing again
    again = run_batch(env.workspace, env.ca)
    assert not again.issued and not again.failed
    with env.workspace.session() as db:
        assert db.scalar(select(func.count()).select_from(Credential)) == 1
        assert db.get_one(Application, app_id).status == "issued"
    manifest = Path(summary.manifest).read_text(encoding="utf-8-sig")
    assert issued.key_serial in manifest and record_data["contact"]["address"] in manifest


def test_the_pin_is_only_in_the_pin_letter(env: Env, record_data: dict[str, Any]) -> None:
    env.approve(record_data)
    (issued,) = run_batch(env.workspace, env.ca).issued
    from pypdf import PdfReader

    letter = Path(issued.outputs["pin_letter"])
    assert (letter.stat().st_mode & 0o777) == 0o600
    text = PdfReader(letter).pages[0].extract_text()
    pin = text.split("PIN：", 1)[1].split()[0]
    assert len(pin) == 8
    token = env.ca.hsm.require(issued.token_label, "customer")
    with env.ca.hsm.session(token, pin) as session:  # the letter's PIN opens the key
        assert list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}))
    db_file = Path(env.settings.database_url.removeprefix("sqlite:///"))
    for path in [
        db_file,
        *env.settings.logs_dir.glob("*"),
        *Path(issued.outputs["certificate_pdf"]).parent.glob("*"),
    ]:
        if path.name == "pin-letter.pdf" or not path.is_file():
            continue
        assert pin.encode() not in path.read_bytes(), path


def test_tampered_moved_and_foreign_pdfs_are_rejected(
    env: Env, record_data: dict[str, Any], tmp_path: Path
) -> None:
    env.approve(record_data)
    (issued,) = run_batch(env.workspace, env.ca).issued
    signed = Path(issued.outputs["certificate_pdf"]).read_bytes()

    def failing(data: bytes, **kw: Any) -> set[str]:
        path = tmp_path / "t.pdf"
        path.write_bytes(data)
        result = env.verify(path, **kw)
        assert not result.valid
        return {n for s in result.signatures for n, c in s.checks.items() if c.ok is False} | (
            {"problem"} if result.problem else set()
        )

    # a byte of the signed content changed
    at = signed.index(b"/Keywords")
    assert "intact" in failing(signed[:at] + b"/Keywordz" + signed[at + 9 :])
    # an incremental update after signing
    assert failing(signed + b"\n% appended after signing\n") == {"whole_file"}
    # the signature moved onto another document (the sealed form's signature block)
    other = Path(issued.outputs["sealed_form"]).read_bytes()
    start = signed.index(b"/Contents <")
    end = signed.index(b">", start)
    o_start = other.index(b"/Contents <")
    o_end = other.index(b">", o_start)
    swapped = other[:o_start] + signed[start : end + 1] + other[o_end + 1 :]
    assert failing(swapped) & {"intact", "problem"}
    # trusting only another CA's root
    other_env = Env(tmp_path / "other")
    foreign = tmp_path / "foreign.pdf"
    foreign.write_bytes(signed)
    result = verify_pdf(foreign, registry_for(other_env.settings, []))
    assert not result.valid
    assert result.signatures[0].checks["chain"].ok is False
    # …but with --trust of our root it chains
    result = verify_pdf(foreign, registry_for(other_env.settings, [env.ca.root]))
    assert result.signatures[0].checks["chain"].ok is True
    # truncated
    assert failing(signed[: len(signed) // 2]) == {"problem"}


def test_a_change_makes_version_two_and_supersedes_version_one(
    env: Env, record_data: dict[str, Any]
) -> None:
    env.approve(_record(record_data, "CQC-2026-000201"))
    (v1,) = run_batch(env.workspace, env.ca).issued
    changed = _record(record_data, "CQC-2026-000202", name="北京示例信息技术有限公司")
    env.approve(changed)
    (v2,) = run_batch(env.workspace, env.ca).issued
    assert (v1.version, v2.version) == (1, 2)
    with env.workspace.session() as db:
        old = db.scalar(select(Credential).where(Credential.serial == v1.serial))
        assert old is not None and old.status == "revoked"
        assert old.revocation_reason == "superseded" and old.superseded_by == v2.serial
    crl = x509.load_der_x509_crl(env.ca.files.crl.read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(int(v1.serial, 16)) is not None
    assert crl.get_revoked_certificate_by_serial_number(int(v2.serial, 16)) is None
    result = env.verify(Path(v1.outputs["certificate_pdf"]))
    checks = result.signatures[0].checks
    assert checks["newest_version"].ok is False and "version 2" in checks[
        "newest_version"
    ].detail.told("en")
    assert checks["not_revoked"].ok is False
    sealed = env.verify(Path(v1.outputs["sealed_form"])).signatures[0].checks
    assert sealed["not_revoked"].ok is False and "superseded" in sealed["not_revoked"].detail.told(
        "en"
    )
    assert env.verify(Path(v2.outputs["certificate_pdf"])).valid


def test_a_credit_code_held_under_another_name_is_an_error_a_person_must_settle(
    env: Env, record_data: dict[str, Any]
) -> None:
    # the attack: another company's name with the same credit code silently became version 2
    # and revoked the first company's certificate
    from pipeline.model.report import Code, Severity
    from pipeline.usecases.checking import check_and_save

    env.approve(_record(record_data, "CQC-2026-000221"))
    (v1,) = run_batch(env.workspace, env.ca).issued

    def checked(app_id: str, **company: Any) -> list[Any]:
        record = parse_record(_record(record_data, app_id, **company))
        taken = intake_application(env.workspace, record, [], "clerk")
        report = check_and_save(env.workspace, taken, "clerk", extract=False)
        return [f for f in report.findings if f.code == Code.USCC_HELD_BY_OTHER_NAME]

    (held,) = checked("CQC-2026-000222", name="北京另一家科技有限公司")
    assert held.severity == Severity.ERROR and v1.serial in held.message
    assert held.evidence["expected"] == record_data["company"]["name"]
    assert checked("CQC-2026-000223") == []  # the same company again: a renewal, no finding


def test_a_batch_killed_after_a_renewal_is_finished_by_the_next_run(
    env: Env, record_data: dict[str, Any]
) -> None:
    # the attack of a crash: killed right after a renewal revoked the old certificate, the
    # rerun published no CRL (verify against it accepted the old certificate) and the
    # renewal's key was on no courier manifest
    import json

    from pipeline.issue.batch import issue_in_batch, open_batch, recover

    env.approve(_record(record_data, "CQC-2026-000231"))
    (v1,) = run_batch(env.workspace, env.ca).issued
    env.approve(_record(record_data, "CQC-2026-000232"))  # the same company again: a renewal
    killed = open_batch(env.workspace, env.ca)
    assert issue_in_batch(killed, "CQC-2026-000232", "nightly") == "issued"  # then killed

    def on_crl(serial: str) -> bool:
        crl = x509.load_der_x509_crl(env.ca.files.crl.read_bytes())
        return crl.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None

    assert not on_crl(v1.serial)  # revoked in the database only
    run_batch(env.workspace, env.ca)  # the next night
    assert on_crl(v1.serial)
    manifests = sorted(env.settings.batches_dir.glob("*/manifest.json"))
    shipments = [
        row["application"]
        for path in manifests
        for row in json.loads(path.read_text(encoding="utf-8"))["shipments"]
    ]
    assert shipments.count("CQC-2026-000232") == 1 and shipments.count("CQC-2026-000231") == 1
    assert env.settings.batches_dir.joinpath(killed.summary.batch_id, "manifest.json").is_file()
    again = recover(env.workspace, env.ca, "nightly")  # nothing left half done
    assert (again.crl_number, again.batches_closed, again.crl_file_restored) == (None, [], False)
    env.ca.files.crl.write_bytes(b"")  # a published CRL lost: restored from the database
    assert recover(env.workspace, env.ca, "nightly").crl_file_restored and on_crl(v1.serial)


def test_shipping_a_key_destroys_its_pin_letter(env: Env, record_data: dict[str, Any]) -> None:
    # the attack: customer PINs stayed in clear in pin-letter.pdf for ever
    from pipeline.errors import LifecycleError
    from pipeline.issue.batch import ship
    from pipeline.records.models import AuditEntry

    env.approve(_record(record_data, "CQC-2026-000241"))
    (issued,) = run_batch(env.workspace, env.ca).issued
    letter = Path(issued.outputs["pin_letter"])
    assert letter.is_file()
    assert ship(env.workspace, "CQC-2026-000241", "iss", "EA123456789CN") == [str(letter)]
    assert not letter.exists()
    with env.workspace.session() as db:
        assert db.get_one(Application, "CQC-2026-000241").status == "shipped"
        assert db.query(AuditEntry).filter_by(action="issuance.pin_letter_destroyed").count() == 1
    with pytest.raises(LifecycleError):
        ship(env.workspace, "CQC-2026-000241", "iss")  # shipped once


def test_a_revoked_application_reads_revoked_on_the_review_screens(
    env: Env, record_data: dict[str, Any]
) -> None:
    from pipeline.review import service

    env.approve(_record(record_data, "CQC-2026-000251"))
    (issued,) = run_batch(env.workspace, env.ca).issued
    with env.workspace.session() as db:
        app = db.get_one(Application, "CQC-2026-000251")
        assert service.summary(db, app)["status_label"] == "已制证"
        revoke(db, issued.serial, "keyCompromise", "iss")
    with env.workspace.session() as db:
        app = db.get_one(Application, "CQC-2026-000251")
        assert service.summary(db, app)["status_label"] == "已吊销"


def test_a_replacement_revokes_the_lost_keys_certificate_first(
    env: Env, record_data: dict[str, Any]
) -> None:
    env.approve(_record(record_data, "CQC-2026-000301"))
    (lost,) = run_batch(env.workspace, env.ca).issued
    replacement = _record(record_data, "CQC-2026-000302")
    replacement["kind"] = "replacement"
    replacement["previous_certificate_serial"] = lost.serial.upper()
    env.approve(replacement)
    (new,) = run_batch(env.workspace, env.ca).issued
    with env.workspace.session() as db:
        old = db.scalar(select(Credential).where(Credential.serial == lost.serial))
        assert old is not None and old.revocation_reason == "keyCompromise"
    assert new.version == 2


def test_revoke_and_crl(env: Env, record_data: dict[str, Any]) -> None:
    env.approve(record_data)
    (issued,) = run_batch(env.workspace, env.ca).issued
    with env.workspace.session() as db:
        with pytest.raises(IssuanceError, match="unknown revocation reason"):
            revoke(db, issued.serial, "lostIt", "issuer01")
        revoke(db, issued.serial, "cessationOfOperation", "issuer01")
        number = publish_crl(db, env.ca, "issuer01").number
    crl = x509.load_der_x509_crl(env.ca.files.crl.read_bytes())
    entry = crl.get_revoked_certificate_by_serial_number(int(issued.serial, 16))
    assert entry is not None and number == 3  # 1 at ca init, 2 at the batch's close
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason == x509.ReasonFlags.cessation_of_operation
    assert crl.is_signature_valid(env.ca.issuing.public_key())  # type: ignore[arg-type]
    with env.workspace.session() as db, pytest.raises(IssuanceError, match="already revoked"):
        revoke(db, issued.serial, "keyCompromise", "issuer01")


CRASH_POINTS = ["planned", "pin_letter", "key_made", "key_recorded", "certified", "documents"]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_crash_anywhere_then_a_rerun_issues_exactly_once(
    env: Env, record_data: dict[str, Any], point: str
) -> None:
    app_id = env.approve(record_data)

    class Crash(Exception):
        pass

    def crash_at(where: str) -> None:
        if where == point:
            raise Crash(where)

    with pytest.raises(Crash):
        _issue_raising(env, crash_at)
    orphans = find_orphans(env.workspace, env.ca)
    if point in ("key_made",):  # a key on the token that no record knows of yet
        assert [o.why for o in orphans] == ["a key without a certificate (issuance started)"]
    summary = run_batch(env.workspace, env.ca)
    assert not summary.failed, summary.failed
    assert [i.application_id for i in summary.issued] == [app_id]
    with env.workspace.session() as db:
        assert db.scalar(select(func.count()).select_from(Credential)) == 1
        assert db.scalar(select(func.count()).select_from(Issuance)) == 1
        assert db.get_one(Application, app_id).status == "issued"
    assert find_orphans(env.workspace, env.ca) == []
    assert env.verify(Path(summary.issued[0].outputs["sealed_form"])).valid


def _issue_raising(env: Env, crash: Any) -> None:
    """Run the batch's issuer directly so the simulated crash escapes as a real one would."""
    issuer = Issuer(env.workspace, env.ca, crash=crash)
    for app_id in pending(env.workspace):
        issuer.issue(app_id, "Bcrash")


def test_one_failure_does_not_stop_the_batch(env: Env, record_data: dict[str, Any]) -> None:
    good = env.approve(_record(record_data, "CQC-2026-000401"))
    bad = env.approve(_record(record_data, "CQC-2026-000402", uscc="91350200MA2XYZ1234"))
    with env.workspace.session() as db:  # a record broken after approval
        app = db.get_one(Application, bad)
        app.company_name = ""  # no certificate without a name
    summary = run_batch(env.workspace, env.ca)
    assert good in [i.application_id for i in summary.issued]
    assert bad in summary.failed


def test_mofcom_keys_go_to_the_regional_authority() -> None:
    assert issuing_authority("91110108MA01ABCD2H") == "北京市商务局"
    assert issuing_authority("91440300MA5ABCDE1X") == "深圳市商务局"
    assert issuing_authority("91440101MA5ABCDE1X") == "广东省商务厅"
    assert issuing_authority("91350200MA2XYZ1234") == "厦门市商务局"
    assert issuing_authority("HRB 12345").startswith("待定")


def test_not_approved_is_not_issued(env: Env, record_data: dict[str, Any]) -> None:
    parsed = parse_record(record_data)
    intake_application(env.workspace, parsed, [], "intake01")
    summary = run_batch(env.workspace, env.ca, only=[parsed.application_id])
    assert parsed.application_id in summary.failed
    assert "not approved" in summary.failed[parsed.application_id]


def test_ca_init_twice_is_refused(env: Env) -> None:
    with pytest.raises(IssuanceError, match="already exists"):
        init_ca(env.workspace, "admin")


def test_the_commands_from_a_shell(tmp_path: Path, record_data: dict[str, Any]) -> None:
    """ca init, issue run, verify, revoke, crl and issue list as an operator runs them."""
    import json
    import os

    home = tmp_path / "home"
    settings = issuing_settings(home)
    sealdesk = Path(sys.executable).parent / "sealdesk"

    signed: dict[str, str] = {}

    def run(*args: str, user: str = "boss", stdin: str | None = None) -> Any:
        env = {**os.environ, "SEALDESK_HOME": str(home), "SEALDESK_USER": user}
        env["SEALDESK_SESSION"] = signed.get(user, "")
        return subprocess.run(
            [str(sealdesk), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    assert (
        run(
            "user",
            "add",
            "boss",
            "--role",
            "admin",
            "--password-stdin",
            stdin="correct horse battery\n",
        ).returncode
        == 0
    )

    def sign_in(user: str) -> None:
        import pyotp

        from pipeline.records.models import User

        with open_workspace(load_settings(home, environ={})).session() as session:
            secret = session.get_one(User, user).totp_secret
        code = ["--code", pyotp.TOTP(secret).now()] if secret else []
        done = run("login", "--password-stdin", *code, user=user, stdin="correct horse battery\n")
        assert done.returncode == 0, done.stderr
        signed[user] = done.stdout.strip().removeprefix("export SEALDESK_SESSION=")

    sign_in("boss")
    assert (
        run(
            "user",
            "add",
            "iss",
            "--role",
            "issuer",
            "--password-stdin",
            stdin="correct horse battery\n",
        ).returncode
        == 0
    )
    sign_in("iss")
    refused = run("ca", "init", user="iss")
    assert refused.returncode != 0 and "lacks the admin role" in refused.stderr
    made = run("ca", "init")
    assert made.returncode == 0, made.stderr
    assert "root CA" in made.stdout and "hsm-pins.toml" in made.stdout
    workspace = open_workspace(load_settings(home, environ={}))
    app_id = approve(workspace, record_data)
    issued = run("issue", "run", "--json", user="iss")
    assert issued.returncode == 0, issued.stderr
    summary = json.loads(issued.stdout)
    serial = summary["issued"][0]["serial"]
    trail = run("audit", "log", app_id, user="iss").stdout
    # seq, date, time, +0800 (Beijing time), actor, action, …
    steps = [line.split()[5] for line in trail.splitlines() if "issuance." in line]
    assert steps == ["issuance.start", "issuance.key_made"], trail
    assert all(line.split()[4] == "iss" for line in trail.splitlines() if "issuance." in line)
    pdf = settings.issued_dir / app_id / "v1" / "certificate.pdf"
    ok = run("verify", str(pdf), user="nobody")  # anyone may verify
    assert ok.returncode == 0 and "VALID" in ok.stdout, ok.stdout + ok.stderr
    assert "PAdES B-LT" in ok.stdout, ok.stdout
    revoked = run("revoke", serial, "--reason", "keyCompromise", user="iss")
    assert revoked.returncode == 0 and "CRL number 3" in revoked.stdout, revoked.stderr
    bad = run("verify", "--json", str(pdf), user="nobody")
    assert bad.returncode == 3 and json.loads(bad.stdout)["outcome"] == "invalid"
    # what is wrong with the input is not a forged signature: its own words and status
    unsigned = settings.issued_dir / app_id / "v1" / "unsigned.pdf"
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    with unsigned.open("wb") as out:
        writer.write(out)
    text = tmp_path / "notes.pdf"
    text.write_text("not a PDF at all")
    for path, status, says in (
        (tmp_path / "missing.pdf", 66, "no such file"),
        (text, 65, "is not a PDF"),
        (unsigned, 4, "NOT SIGNED"),
    ):
        done = run("verify", str(path), user="nobody")
        assert done.returncode == status and says in done.stdout + done.stderr, done
    checks = json.loads(bad.stdout)["signatures"][0]["checks"]
    assert (
        checks["not_revoked"]["ok"] is False and "keyCompromise" in checks["not_revoked"]["detail"]
    )
    assert "CRL number 4" in run("crl", user="iss").stdout
    assert "revoked (keyCompromise)" in run("issue", "list", user="iss").stdout
    listing = run("list", user="iss").stdout  # 已制证 no more once revoked
    assert "revoked (keyCompromise)" in listing
    shown = run("ca", "show", user="iss").stdout
    assert "root" in shown and "1 revoked" in shown
    assert "document-signing" in shown and "CN=sealdesk CA Time Stamping" in shown
    assert "0 orphan token(s)" in run("issue", "orphans", user="iss").stdout
    assert "nothing was left half done" in run("issue", "recover", user="iss").stdout
    shipped = run("issue", "ship", app_id, "--tracking", "EA1CN", user="iss")
    assert shipped.returncode == 0 and "1 PIN letter(s) destroyed" in shipped.stdout
    workspace.db.engine.dispose()


def test_the_eseal_goes_where_the_form_has_no_print() -> None:
    """The fault: the e-seal covered the form's 订单信息 table. On the scan itself: the
    square nearest the paper seal with the least black print (it may lean on the paper
    seal's red ink, never on text). On real generated forms (JPEG scans at their own
    resolution) and on a page whose only blank square is far from the seal."""
    import numpy as np
    from PIL import Image, ImageDraw

    from pipeline.issue.documents import _ink, stamp_box

    def pixels(box: tuple[float, float, float, float], page: Image.Image) -> list[int]:
        k = page.width / 595.0
        x1, y1, x2, y2 = box
        return [round(v) for v in (x1 * k, page.height - y2 * k, x2 * k, page.height - y1 * k)]

    for packet in ("CQC-2026-606079", "CQC-2026-606080", "CQC-2026-606085"):
        page = Image.open(REPO / "fixtures/packets" / packet / "01-application-form.jpg")
        page = page.convert("RGB")
        rgb = np.asarray(page).astype(int)
        ys, xs = np.nonzero((rgb[:, :, 0] - rgb[:, :, 1] > 80) & (rgb[:, :, 0] > 150))
        seal = [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]
        for found in (seal, None):
            box = pixels(stamp_box(found, page), page)
            assert 0 <= box[0] < box[2] <= page.width and 0 <= box[1] < box[3] <= page.height
            dark, _ = _ink(page.crop(box), 1)
            assert dark.mean() < 0.02, (packet, found, box, dark.mean())
    # text everywhere but one blank square at the upper left, the seal at the lower right
    page = Image.new("RGB", (1654, 2339), "white")
    draw = ImageDraw.Draw(page)
    for y in range(100, 2300, 40):
        for x in range(100, 1600, 60):
            if not (150 < x < 700 and 150 < y < 800):
                draw.rectangle((x, y, x + 40, y + 12), fill="black")
    draw.ellipse((1200, 1800, 1500, 2100), outline=(220, 20, 30), width=20)
    x0, y0, x1, y1 = pixels(stamp_box([1200, 1800, 1500, 2100], page), page)
    assert x0 > 150 and x1 < 760 and y0 > 150 and y1 < 840


def test_without_a_scan_the_eseal_goes_beside_the_paper_seal_not_over_it() -> None:
    from pipeline.issue.documents import stamp_box as _stamp_box

    mm = 72 / 25.4
    # a paper seal at the lower right of a 300 dpi A4 scan: the e-seal goes to its left
    x0, y0, x1, y1 = _stamp_box([1800, 2600, 2300, 3100])
    assert x1 <= 1800 * 72 / 300 and abs((x1 - x0) - 42 * mm) < 1
    assert abs((y0 + y1) / 2 - (842 - 2850 * 72 / 300)) < 1
    # a seal at the left edge: above it instead
    x0, y0, x1, y1 = _stamp_box([100, 2600, 600, 3100])
    assert y0 >= 842 - 2600 * 72 / 300
    # no seal found: the lower right
    assert _stamp_box(None)[0] > 595 / 2


def test_the_public_verification_page(env: Env, record_data: dict[str, Any]) -> None:
    """What the QR code leads to, and the upload form anyone may use, without signing in."""
    import re

    from fastapi.testclient import TestClient

    from pipeline.web.app import create_app

    env.approve(_record(record_data, "CQC-2026-000501"))
    (v1,) = run_batch(env.workspace, env.ca).issued
    client = TestClient(create_app(env.settings, env.workspace), base_url="http://127.0.0.1")
    page = client.get(f"/verify/{v1.serial.upper()}")
    assert page.status_code == 200 and "当前有效的最新版本" in page.text
    assert record_data["company"]["name"] in page.text
    assert "没有签发" in client.get("/verify/00ff00ff").text

    def upload(data: bytes) -> str:
        form = client.get("/verify")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        response = client.post(
            "/verify",
            data={"csrf": token.group(1)},
            files={"file": ("证书.pdf", data, "application/pdf")},
        )
        assert response.status_code == 200
        return response.text

    signed = Path(v1.outputs["certificate_pdf"]).read_bytes()
    assert '<span class="pill clear">有效</span>' in upload(signed)
    tampered = upload(signed + b"\n% appended\n")
    assert '<span class="pill flagged">无效</span>' in tampered and "签名覆盖全文" in tampered
    # what each check found is said in the page's language (it was English on a Chinese page)
    assert "签名后文件被改动" in tampered and "changed after signing" not in tampered
    client.cookies.set("lang", "en")
    english = upload(signed + b"\n% appended\n")
    assert '<span class="pill flagged">Not valid</span>' in english
    assert "the file was changed after signing" in english and "签名后" not in english
    client.cookies.delete("lang")
    refused = client.post("/verify", files={"file": ("x.pdf", signed, "application/pdf")})
    assert refused.status_code == 403  # no form token
    env.approve(_record(record_data, "CQC-2026-000502"))
    run_batch(env.workspace, env.ca)
    assert "已吊销" in client.get(f"/verify/{v1.serial}").text


def test_rsa_keys_work_too(tmp_path: Path, record_data: dict[str, Any]) -> None:
    env = Env(tmp_path / "home", key_type="rsa-2048")
    env.approve(record_data)
    (issued,) = run_batch(env.workspace, env.ca).issued
    cert = x509.load_pem_x509_certificate(Path(issued.outputs["certificate"]).read_bytes())
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    assert env.verify(Path(issued.outputs["sealed_form"])).valid
    assert env.verify(Path(issued.outputs["certificate_pdf"])).valid


def test_a_configured_time_stamp_service_stamps_the_certificate_pdf(
    env: Env, record_data: dict[str, Any]
) -> None:
    """A real RFC 3161 exchange over HTTP with a local TSA (pyHanko's reference responder,
    its certificate issued by our CA with the timeStamping usage)."""
    import threading
    from datetime import UTC, datetime, timedelta
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from asn1crypto import keys, tsp
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    from pipeline.issue import certs

    tsa_key = rsa.generate_private_key(
        public_exponent=65537, key_size=2048
    )  # its signer is RSA-only
    now = datetime.now(UTC).replace(microsecond=0)
    builder = (
        x509.CertificateBuilder()
        .subject_name(certs.ca_name(env.settings.profile, "test TSA"))
        .issuer_name(env.ca.issuing.subject)
        .public_key(tsa_key.public_key())
        .serial_number(certs.random_serial())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]), True)
    )
    with env.ca.issuing_key() as ca_key:
        tsa_cert = certs.sign_certificate(builder, ca_key)
    stamper = DummyTimeStamper(
        asn1_x509.Certificate.load(tsa_cert.public_bytes(serialization.Encoding.DER)),
        keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )
    asked = []

    class Tsa(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            asked.append(self.headers.get("Content-Type"))
            reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tsa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
        env.settings = replace(env.settings, profile=replace(env.settings.profile, tsa_url=url))
        env.workspace = replace(env.workspace, settings=env.settings)
        env.ca.settings = env.settings
        env.approve(record_data)
        (issued,) = run_batch(env.workspace, env.ca).issued
    finally:
        server.shutdown()
    assert asked == ["application/timestamp-query"] * 2  # the certificate PDF, the sealed form
    result = env.verify(Path(issued.outputs["certificate_pdf"]))
    (signature,) = result.signatures
    assert result.valid and signature.timestamp, result.to_json()
    assert signature.timestamp.endswith(" +0800"), signature.timestamp  # Beijing time, said so
    assert signature.checks["timestamp"].ok is True


def test_a_token_wiped_after_its_certificate_says_so(env: Env, record_data: dict[str, Any]) -> None:
    """The key was made and certified, then the token was re-initialised behind our back:
    the rerun names the problem instead of failing inside the PDF signer."""
    from pipeline.issue.hsm import so_pin_for

    app_id = env.approve(record_data)

    def crash_at(where: str) -> None:
        if where == "certified":
            raise RuntimeError(where)

    with pytest.raises(RuntimeError):
        _issue_raising(env, crash_at)
    with env.workspace.session() as db:
        issuance = db.scalars(select(Issuance)).one()
        label, letter = issuance.token_label, Path(issuance.outputs["pin_letter"])
    from pypdf import PdfReader

    pin = PdfReader(letter).pages[0].extract_text().split("PIN：", 1)[1].split()[0]
    # wiped, with the same PIN, so only the key is missing
    env.ca.hsm.init_token(label, so_pin_for(label, env.settings.hsm.ca_pin or ""), pin)
    summary = run_batch(env.workspace, env.ca)
    assert "holds no key" in summary.failed[app_id]


def test_re_signed_and_wrapped_copies_are_rejected(
    env: Env, record_data: dict[str, Any], tmp_path: Path
) -> None:
    """Someone signs our certificate PDF again with a key of their own (an incremental
    update: ours no longer covers the file, theirs chains to no root we trust), or wraps it:
    its pages copied into a new PDF, or the whole file attached to one."""
    import datetime
    import io

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pypdf import PdfReader, PdfWriter

    env.approve(record_data)
    (issued,) = run_batch(env.workspace, env.ca).issued
    signed = Path(issued.outputs["certificate_pdf"]).read_bytes()

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Mallory CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "m.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "m.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    mallory = signers.SimpleSigner.load(str(tmp_path / "m.key"), str(tmp_path / "m.crt"))
    assert mallory is not None
    out = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(signed)),
        signers.PdfSignatureMetadata(field_name="Mallory"),
        signer=mallory,
        output=out,
    )
    copies = {"re-signed": out.getvalue()}

    pages = PdfWriter()
    for page in PdfReader(io.BytesIO(signed)).pages:
        pages.add_page(page)
    wrapped = io.BytesIO()
    pages.write(wrapped)
    copies["pages copied"] = wrapped.getvalue()

    carrier = PdfWriter()
    carrier.add_blank_page(595, 842)
    carrier.add_attachment("certificate.pdf", signed)
    attached = io.BytesIO()
    carrier.write(attached)
    copies["attached"] = attached.getvalue()

    for how, data in copies.items():
        path = tmp_path / f"{how}.pdf"
        path.write_bytes(data)
        result = env.verify(path)
        assert not result.valid, how
        if how == "re-signed":
            ours, theirs = result.signatures  # ours intact for its revision, theirs foreign
            assert "a later signature covers the file" in ours.checks["whole_file"].detail.told(
                "en"
            )
            assert theirs.checks["chain"].ok is False
        else:
            assert result.signatures == [] or not any(s.valid for s in result.signatures), how


def test_pyhanko_judges_both_pdfs_valid_trusted_and_long_term(
    env: Env, record_data: dict[str, Any]
) -> None:
    """pyHanko's own validator, reading strictly, offline, with our root as its only trust
    anchor and only what the documents carry (the DSS) for revocation: the certificate PDF
    and the sealed form are intact, trusted, time-stamped by the CA's time-stamping key and
    carry the CRLs of every chain (PAdES B-LT). The certificate PDF is signed by the CA's
    document-signing key (digitalSignature + nonRepudiation), not by the issuing CA."""
    import io

    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    env.approve(record_data)
    (issued,) = run_batch(env.workspace, env.ca).issued
    root = asn1_x509.Certificate.load(env.ca.root.public_bytes(serialization.Encoding.DER))
    for name, signer_cn in (
        ("certificate_pdf", "sealdesk CA Document Signing"),
        ("sealed_form", record_data["company"]["name"]),
    ):
        data = Path(issued.outputs[name]).read_bytes()
        reader = PdfFileReader(io.BytesIO(data), strict=True)
        dss = DocumentSecurityStore.read_dss(reader)
        context = dss.as_validation_context(
            {"trust_roots": [root], "allow_fetching": False, "revocation_mode": "hard-fail"}
        )
        (signature,) = reader.embedded_regular_signatures
        status = validate_pdf_signature(signature, context)
        assert status.bottom_line and status.trusted, status.pretty_print_details()
        assert status.signing_cert.subject.native["common_name"] == signer_cn
        assert not status.signing_cert.ca
        assert {
            "digital_signature",
            "non_repudiation",
        } <= status.signing_cert.key_usage_value.native
        stamped = status.timestamp_validity
        assert stamped is not None and stamped.trusted and stamped.valid
        assert stamped.signing_cert.subject.native["common_name"] == "sealdesk CA Time Stamping"
        import os

        if os.environ.get("KEEP_PDF"):
            Path(os.environ["KEEP_PDF"], name + ".pdf").write_bytes(data)
            Path(os.environ["KEEP_PDF"], "root.der").write_bytes(root.dump())
        result = env.verify(Path(issued.outputs[name]))
        assert result.valid, [
            (k, c.detail.told("en"))
            for s in result.signatures
            for k, c in s.checks.items()
            if not c.ok
        ]
        assert result.signatures[0].level == "B-LT"


def test_a_batch_killed_before_its_close_gets_long_term_data_on_the_next_run(
    env: Env, record_data: dict[str, Any]
) -> None:
    """Killed after issuing but before closing: the PDFs are signed and time-stamped (B-T)
    and wait for a CRL signed after them. The next run's recovery publishes one and puts
    it in their DSS (B-LT), and ships the key."""
    from pipeline.issue.batch import issue_in_batch, open_batch

    app_id = env.approve(record_data)
    batch = open_batch(env.workspace, env.ca)
    assert issue_in_batch(batch, app_id, "nightly") == "issued"
    (issued,) = batch.summary.issued
    pdfs = [Path(issued.outputs[k]) for k in ("certificate_pdf", "sealed_form")]
    assert [env.verify(p).signatures[0].level for p in pdfs] == ["B-T", "B-T"]
    # the process dies here; the next batch starts with recovery
    run_batch(env.workspace, env.ca)
    for pdf in pdfs:
        result = env.verify(pdf)
        assert result.valid and result.signatures[0].level == "B-LT", result.to_json()
    with env.workspace.session() as db:
        issuance = db.scalars(select(Issuance)).one()
        assert issuance.outputs["long_term"].isdigit()


def test_a_ca_without_service_keys_gets_them_at_the_next_batch(
    env: Env, record_data: dict[str, Any]
) -> None:
    """A CA made before documents had their own signer (its certificate file missing), and
    a key made but whose certificate was never written (a crash): the next batch makes each
    anew, audited, and the PDFs are signed with them."""
    from pipeline.issue.hsm import destroy_key
    from pipeline.records.models import AuditEntry

    first = x509.load_pem_x509_certificate(env.ca.files.service("time-stamping").read_bytes())
    env.ca.files.service("document-signing").unlink()
    with env.ca.issuing_session(rw=True) as session:
        destroy_key(session, "time-stamping")
    env.approve(record_data)
    (issued,) = run_batch(env.workspace, env.ca).issued
    stamps = x509.load_pem_x509_certificate(env.ca.files.service("time-stamping").read_bytes())
    assert stamps.serial_number != first.serial_number
    result = env.verify(Path(issued.outputs["certificate_pdf"]))
    assert result.valid and result.signatures[0].signer == "sealdesk CA Document Signing"
    with env.workspace.session() as db:
        made = db.scalars(select(AuditEntry).where(AuditEntry.action == "ca.service_key")).all()
    # two at ca init, two at the batch
    assert sorted(e.subject_id for e in made) == sorted(["document-signing", "time-stamping"] * 2)


def test_the_ra_finds_a_certificate_and_revokes_it_with_a_reason(
    env: Env, record_data: dict[str, Any]
) -> None:
    """The RA screens: search by company name, credit code or serial; a certificate with its
    company's versions; revocation by an issuer only, with an RFC 5280 reason and remarks,
    audited, the CRL published at once, the public page saying so."""
    import re

    import pyotp
    from fastapi.testclient import TestClient

    from pipeline.records.models import AuditEntry, User
    from pipeline.records.users import add_user
    from pipeline.web.app import create_app

    env.approve(_record(record_data, "CQC-2026-000601"))
    (issued,) = run_batch(env.workspace, env.ca).issued
    password = "a long enough secret"
    with env.workspace.session() as db:
        add_user(db, "ivy", password, ["issuer"], "admin")
        add_user(db, "rui", password, ["reviewer"], "admin")
        secret = db.get_one(User, "ivy").totp_secret
    assert secret is not None

    def signed_in(name: str, code: str = "") -> TestClient:
        client = TestClient(create_app(env.settings, env.workspace), base_url="http://127.0.0.1")
        form = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        data = {"username": name, "password": password, "csrf": token.group(1), "code": code}
        assert client.post("/login", data=data, follow_redirects=False).status_code == 303
        return client

    ivy = signed_in("ivy", pyotp.TOTP(secret).now())
    name, uscc = record_data["company"]["name"], record_data["company"]["uscc"]
    for query in (name[2:6], uscc[:10], issued.serial[:8].upper()):
        found = ivy.get("/certificates", params={"q": query})
        assert found.status_code == 200 and issued.serial in found.text, query
    assert "没有找到" in ivy.get("/certificates", params={"q": "不存在的单位"}).text
    page = ivy.get(f"/certificates/{issued.serial}")
    assert "有效" in page.text and "第 1 版" in page.text and 'id="revoke"' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    url = f"/certificates/{issued.serial}/revoke"
    no_reason = ivy.post(url, data={"csrf": csrf.group(1), "remarks": "x"})
    assert no_reason.status_code == 400 and "请选择吊销原因" in no_reason.text
    no_remarks = ivy.post(url, data={"csrf": csrf.group(1), "reason": "keyCompromise"})
    assert no_remarks.status_code == 400 and "依据" in no_remarks.text
    superseded = ivy.post(url, data={"csrf": csrf.group(1), "reason": "superseded", "remarks": "x"})
    assert superseded.status_code == 400  # the renewal's own reason, not an officer's
    # a reviewer may look, not revoke
    rui = signed_in("rui")
    assert 'id="revoke"' not in rui.get(f"/certificates/{issued.serial}").text
    rui_csrf = re.search(r'name="csrf" value="([^"]+)"', rui.get("/certificates").text)
    assert rui_csrf is not None
    tried = {"csrf": rui_csrf.group(1), "reason": "keyCompromise", "remarks": "x"}
    assert rui.post(url, data=tried).status_code == 403
    assert ivy.post(url, data={"reason": "keyCompromise", "remarks": "x"}).status_code == 403
    remarks = "申请人 12 月 5 日来函报告 USB Key 遗失，已电话核实"
    done = ivy.post(
        url,
        data={"csrf": csrf.group(1), "reason": "keyCompromise", "remarks": remarks},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = ivy.get(done.headers["location"])
    assert "已吊销（密钥遗失或泄露（补办））" in after.text and "证书吊销列表" in after.text
    assert 'id="revoke"' not in after.text
    crl = x509.load_der_x509_crl(env.ca.files.crl.read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(int(issued.serial, 16)) is not None
    with env.workspace.session() as db:
        entry = db.query(AuditEntry).filter_by(action="certificate.revoke").one()
        assert entry.actor == "ivy" and entry.detail["remarks"] == remarks
    public = TestClient(create_app(env.settings, env.workspace), base_url="http://127.0.0.1")
    assert "已吊销" in public.get(f"/verify/{issued.serial}").text


def test_issuance_runs_where_an_event_loop_already_runs(
    env: Env, record_data: dict[str, Any]
) -> None:
    """The fault: called from a thread whose event loop runs (Playwright's sync driver, an
    async flow), pyHanko's asyncio.run refused and every issuance of the batch failed."""
    import asyncio

    env.approve(record_data)

    async def inside() -> Any:
        return run_batch(env.workspace, env.ca)

    summary = asyncio.run(inside())
    assert len(summary.issued) == 1 and not summary.failed, summary.failed
    assert env.verify(Path(summary.issued[0].outputs["certificate_pdf"])).valid


def test_a_mofcom_key_goes_to_its_authority_and_is_collected_after_the_final_check(
    env: Env, record_data: dict[str, Any]
) -> None:
    """MOFCOM (seed 003): shipped to the issuing authority of the company's region, then
    handed over there after the on-site check of the stamped originals, to a person whose
    ID card was checked; each step audited; none skipped. A CQC key goes to the applicant:
    no authority. MOFCOM keys waiting too long at the authority are listed."""
    import json
    from datetime import UTC, datetime, timedelta

    from pipeline.errors import LifecycleError
    from pipeline.issue.batch import ship
    from pipeline.issue.shipping import arrived, collected, waiting
    from pipeline.records.models import AuditEntry

    mofcom = json.loads(
        (REPO / "fixtures/packets/MOF-2026-606082/application.json").read_text("utf-8")
    )
    app_id = env.approve(mofcom)
    cqc_id = env.approve(_record(record_data, "CQC-2026-000701"))
    issued = {i.application_id for i in run_batch(env.workspace, env.ca).issued}
    assert issued == {app_id, cqc_id}
    for each in (app_id, cqc_id):
        ship(env.workspace, each, "ivy", "EA1CN")
    with pytest.raises(LifecycleError, match="applicant by courier"):
        arrived(env.workspace, cqc_id, "desk")

    def collect(**kw: Any) -> None:
        args = {"originals": ["申请表"], "collector": "王芳", "collector_id_last4": "123X"}
        collected(env.workspace, app_id, "desk", **{**args, **kw})

    with pytest.raises(LifecycleError):  # not at the authority yet
        collect()
    authority = arrived(env.workspace, app_id, "desk")
    assert authority == issuing_authority(mofcom["company"]["uscc"])
    # a month at the authority, not collected: listed; the CQC key's journey has ended
    month = datetime.now(UTC) - timedelta(days=30)
    with env.workspace.session() as db:
        for each in (app_id, cqc_id):
            db.get_one(Application, each).updated_at = month
    late = waiting(env.workspace, days=10)
    assert [w.application_id for w in late] == [app_id] and late[0].working_days > 10
    with pytest.raises(LifecycleError, match="originals"):
        collect(originals=[])
    with pytest.raises(LifecycleError, match="last four"):
        collect(collector_id_last4="110101199003071234")
    collect(originals=["申请表", "确认函", "营业执照复印件"])
    with env.workspace.session() as db:
        assert db.get_one(Application, app_id).status == "collected"
        trail = {e.action: e for e in db.query(AuditEntry).filter_by(subject_id=app_id)}
    assert trail["application.at_authority"].detail["authority"] == authority
    done = trail["application.collected"]
    assert done.actor == "desk" and done.detail["originals_checked"][1] == "确认函"
    assert done.detail["collector_id_last4"] == "123X" and done.detail["id_checked"] is True
    assert waiting(env.workspace, days=10) == []  # collected: no longer waiting
