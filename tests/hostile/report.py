"""Everything issue 9 asks to be proven, run together, in one table (``make hardening``).

    .venv/bin/python -m tests.hostile.report [--fuzz-seconds 60] [--trials 20]

1. the hostile corpus through intake as one batch (tests/hostile/make.py);
2. the ingest fuzzer for ``--fuzz-seconds`` (tests/fuzz/ingest.py);
3. SIGKILL of the nightly issuance, ``--trials`` times (tests/hostile/kill_issuance.py);
4. the fault and trust tests: full disk, locked database, wrong PIN and absent token,
   crashes at each step, orphan keys, audit tampering, CA keys on their token, ID numbers
   sealed at rest, the web app's guards, forged and tampered certificate PDFs;
5. the secret scan of a whole demo workspace is part of the default tests (test_cli).

Exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

TEST_GROUPS = {
    "faults: disk full, database locked, PIN, token": ["tests/test_faults.py"],
    "crash at each step, orphans, one failure alone": [
        "tests/test_issue.py::test_a_crash_anywhere_then_a_rerun_issues_exactly_once",
        "tests/test_issue.py::test_a_token_wiped_after_its_certificate_says_so",
        "tests/test_issue.py::test_one_failure_does_not_stop_the_batch",
        "tests/test_flows.py::test_the_nightly_flow_killed_mid_issue_then_rerun_issues_nothing_twice",
        "tests/test_issue.py::test_a_batch_killed_after_a_renewal_is_finished_by_the_next_run",
    ],
    "audit: edited, deleted, reordered, inserted, forged, re-hashed, truncated": [
        "tests/test_audit.py"
    ],
    "CA keys cannot leave their token": [
        "tests/test_issue.py::test_ca_keys_stay_on_their_tokens",
        "tests/test_issue.py::test_the_pin_is_only_in_the_pin_letter",
        "tests/test_issue.py::test_shipping_a_key_destroys_its_pin_letter",
    ],
    "ID numbers sealed at rest, the workspace its owner's alone": ["tests/test_protect.py"],
    "dual control by a name after --as, without a password": [
        "tests/test_review.py::test_a_name_after_as_proves_nobody",
        "tests/test_review.py::test_an_admin_signs_in_with_a_one_time_code_as_well",
        "tests/test_review.py::test_a_one_time_code_signs_in_once",
        "tests/test_review.py::test_a_password_change_or_disabling_ends_every_sign_in",
        "tests/test_web.py::test_an_issuer_signs_in_with_a_one_time_code_too",
    ],
    "approval over an error without a remark on it": [
        "tests/test_review.py::test_an_application_with_errors_is_approved_only_over_a_remark_on_each",
        "tests/test_web.py::test_approving_over_an_error_needs_a_remark_on_it_and_shows_it",
    ],
    "web: login, roles, CSRF, rate limit, cookies, logout, proxies": ["tests/test_web.py"],
    "verify rejects tampered, re-signed, wrapped, foreign, revoked": [
        "tests/test_issue.py::test_tampered_moved_and_foreign_pdfs_are_rejected",
        "tests/test_issue.py::test_re_signed_and_wrapped_copies_are_rejected",
        "tests/test_issue.py::test_revoke_and_crl",
        "tests/test_issue.py::test_a_change_makes_version_two_and_supersedes_version_one",
        "tests/test_issue.py::test_a_credit_code_held_under_another_name_is_an_error_a_person_must_settle",
    ],
    "peer validator: own document signer, strict PDFs, time-stamp, DSS (B-LT)": [
        "tests/test_issue.py::test_pyhanko_judges_both_pdfs_valid_trusted_and_long_term",
        "tests/test_issue.py::test_a_batch_killed_before_its_close_gets_long_term_data_on_the_next_run",
        "tests/test_issue.py::test_a_ca_without_service_keys_gets_them_at_the_next_batch",
    ],
    "fuzz findings stay fixed": ["tests/test_fuzz.py"],
}


def hostile(workdir: Path) -> list[tuple[str, str, str]]:
    from pipeline.config import load_settings
    from pipeline.model.application import parse_record
    from pipeline.workspace import open_workspace
    from tests.conftest import SAMPLE_RECORD
    from tests.hostile import harness

    workspace = open_workspace(load_settings(workdir / "home", environ={}))
    record = parse_record(json.loads(SAMPLE_RECORD.read_text(encoding="utf-8")))
    result = harness.run(workspace, record, workdir)
    passed = sum(r.passed for r in result.rows)
    for row in result.rows:
        if not row.passed:
            print(f"  hostile FAILED {row.kind}: {row.why}", file=sys.stderr)
    slowest = max(result.rows, key=lambda r: r.seconds)
    return [
        (
            "hostile files through intake, one batch",
            f"{passed}/{len(result.rows)} kinds",
            f"batch went on: {'yes' if result.batch_went_on else 'NO'}; {result.seconds:.0f} s; "
            f"slowest {slowest.kind} {slowest.seconds:.1f} s; reader peak "
            f"{result.child_peak_mb:.0f} MB",
        )
    ]


def fuzz(seconds: int, workdir: Path) -> list[tuple[str, str, str]]:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz.ingest",
            f"-max_total_time={seconds}",
            f"-artifact_prefix={workdir}/",
            str(workdir / "fuzz-corpus"),
        ],
        cwd=REPO,
        capture_output=True,
        timeout=seconds + 600,
    )
    log = run.stderr.decode("utf-8", "replace")
    done = re.findall(r"Done (\d+) runs in (\d+) second", log)
    cov = re.findall(r"cov: (\d+) ft: (\d+)", log)
    crashes = list(workdir.glob("crash-*"))
    runs = done[-1][0] if done else "?"
    status = "0 crashes" if run.returncode == 0 and not crashes else f"{len(crashes)} crash(es)"
    if crashes:
        print(f"  fuzz found: {[str(c) for c in crashes]}", file=sys.stderr)
    coverage = f"coverage {cov[-1][0]} edges" if cov else ""
    return [("ingest fuzzing (atheris)", status, f"{runs} inputs in {seconds} s; {coverage}")]


def kills(trials: int, workdir: Path) -> list[tuple[str, str, str]]:
    tokens = workdir / "softhsm"
    (tokens / "tokens").mkdir(parents=True)
    conf = tokens / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens / 'tokens'}\nobjectstore.backend = file\n"
        "log.level = ERROR\nslots.removable = false\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    from tests.conftest import SAMPLE_RECORD
    from tests.hostile.kill_issuance import run_trials
    from tests.test_issue import Env

    env = Env(workdir / "issuing")
    record = json.loads(SAMPLE_RECORD.read_text(encoding="utf-8"))
    started = time.perf_counter()
    result = run_trials(env, record, count=trials)
    for trial in result.trials:
        if not trial.passed:
            print(f"  kill trial FAILED: {trial}", file=sys.stderr)
    passed = sum(t.passed for t in result.trials)
    approvals = 2 * len(result.trials)
    return [
        (
            "nightly issuance killed (SIGKILL), then rerun",
            f"{passed}/{len(result.trials)} trials",
            f"{approvals} approvals: issued once {result.total('issued_once')}, lost "
            f"{result.total('lost')}, duplicated {result.total('duplicated')}; certificates "
            f"without a record {result.total('unrecorded')}; orphan keys found "
            f"{result.total('orphans_found')}, left {result.total('orphans_left')}; "
            f"{sum(t.killed for t in result.trials)} killed mid-batch; "
            f"{time.perf_counter() - started:.0f} s",
        )
    ]


def tests(workdir: Path) -> list[tuple[str, str, str]]:
    rows = []
    for group, selection in TEST_GROUPS.items():
        xml = workdir / f"{len(rows)}.xml"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junitxml={xml}",
                *selection,
            ],
            cwd=REPO,
            capture_output=True,
            timeout=1800,
        )
        cases = ET.parse(xml).getroot().iter("testcase")
        total = failed = 0
        for case in cases:
            total += 1
            failed += any(c.tag in ("failure", "error") for c in case)
        rows.append((group, f"{total - failed}/{total} tests", "" if not failed else "FAILED"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.hostile.report", description=__doc__)
    parser.add_argument("--fuzz-seconds", type=int, default=60)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="sealdesk-hardening-") as scratch:
        work = Path(scratch)
        for name, step in (
            ("hostile", lambda: hostile(work / "hostile")),
            ("fuzz", lambda: fuzz(args.fuzz_seconds, work / "fuzz")),
            ("kills", lambda: kills(args.trials, work / "kills")),
            ("tests", lambda: tests(work / "tests")),
        ):
            (work / name).mkdir()
            print(f"hardening: {name} …", file=sys.stderr, flush=True)
            rows += step()
    width = max(len(r[0]) for r in rows)
    print(f"\n{'what was tried':<{width}}  {'passed':<16}  counts")
    for what, passed, counts in rows:
        print(f"{what:<{width}}  {passed:<16}  {counts}")
    bad = any(
        "FAILED" in counts or "NO" in counts or _short(passed) or "crash(es)" in passed
        for _, passed, counts in rows
    )
    return 1 if bad else 0


def _short(passed: str) -> bool:
    match = re.match(r"(\d+)/(\d+)", passed)
    return bool(match) and match.group(1) != match.group(2)


if __name__ == "__main__":
    sys.exit(main())
