"""Issuance speed: the whole issuance of one application against the sum of its
unavoidable primitives, and throughput with every core busy.

    .venv/bin/python -m bench.issue [--n 40] [--workers 2] [--key-type ec-p256] [--json F]

Everything runs on a fresh SoftHSM token directory and SQLite workspace in a temporary
directory. The primitives, measured in this run on the same module: a key pair generated on
a token (EC P-256 or RSA-2048, token objects), one signature by the CA key on its token, and
one pyHanko signature of a one-page PDF with the CA key. The whole issuance: everything
``Issuer.issue`` does for one approved application (token initialised, PIN letter, key,
certificate, e-seal, certificate PDF, sealed form, records, audit), one process.
Throughput: ``--workers`` processes issuing disjoint halves of the approvals at once.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _environment(root: Path) -> None:
    tokens = root / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)


def _workspace(home: Path, key_type: str) -> Any:
    from pipeline.config import load_settings
    from pipeline.workspace import open_workspace

    home.mkdir(parents=True, exist_ok=True)
    (home / "sealdesk.toml").write_text(f'[profile]\nkey_type = "{key_type}"\n')
    settings = load_settings(home, environ={})
    return open_workspace(settings)


def _approve(workspace: Any, count: int, start: int) -> list[str]:
    """Applications approved in both stages, one company each, as the batch finds them."""
    from stdnum.cn import uscc as uscc_std

    from pipeline.model.application import parse_record
    from pipeline.records import lifecycle
    from pipeline.records.models import Application
    from pipeline.usecases.intake import intake_application

    sample = json.loads((REPO / "fixtures/samples/CQC-2026-000101.json").read_text())
    ids = []
    for i in range(start, start + count):
        body = f"9111010{i:010d}"[:17]
        code = body + uscc_std.calc_check_digit(body)
        record = {**sample, "application_id": f"CQC-2026-{i:06d}"}
        record["company"] = {
            **sample["company"],
            "name": f"北京第{i}号示例科技有限公司",
            "uscc": code,
        }
        parsed = parse_record(record)
        intake_application(workspace, parsed, [], "intake01")
        with workspace.session() as db:
            app = db.get_one(Application, parsed.application_id)
            lifecycle.mark_checked(db, app, "clear", "intake01")
            lifecycle.decide(db, app, "prereview", True, "reviewer01")
            lifecycle.decide(db, app, "rereview", True, "reviewer02")
        ids.append(parsed.application_id)
    return ids


def _primitives(ca: Any, key_type: str, rounds: int) -> dict[str, float]:
    from PIL import Image

    from pipeline.issue.ca import CA_KEY_TYPE, ISSUING_KEY_LABEL
    from pipeline.issue.documents import images_pdf
    from pipeline.issue.hsm import generate_key, pdf_signer
    from pipeline.issue.signing import sign_pdf

    keygen, ca_sign, pdf_sign = [], [], []
    token = ca.hsm.init_token("bench-primitives", "so-pin-bench", "12345678")
    with ca.hsm.session(token, "12345678", rw=True) as session:
        for i in range(rounds):
            t = time.perf_counter()
            generate_key(session, key_type, f"k{i}")
            keygen.append(time.perf_counter() - t)
    one_page = images_pdf([Image.new("RGB", (2480, 3508), "white")], "one page")
    with ca.issuing_key() as key:
        tbs = os.urandom(400)
        for _ in range(rounds):
            t = time.perf_counter()
            key.sign(tbs)
            ca_sign.append(time.perf_counter() - t)
    with ca.issuing_session() as session:
        signer = pdf_signer(session, ISSUING_KEY_LABEL, ca.issuing, [ca.root], CA_KEY_TYPE)
        for i in range(rounds):
            t = time.perf_counter()
            sign_pdf(one_page, signer, field_name=f"S{i}", reason="bench")
            pdf_sign.append(time.perf_counter() - t)
    return {
        "token_keygen_s": statistics.median(keygen),
        "ca_signature_s": statistics.median(ca_sign),
        "pdf_signature_s": statistics.median(pdf_sign),
    }


def _issue_some(home: str, ids: list[str], out: Any) -> None:
    """A worker process: issue ``ids`` and report the wall time."""
    from pipeline.config import load_settings
    from pipeline.issue.batch import run_batch
    from pipeline.issue.ca import load_ca
    from pipeline.workspace import open_workspace

    settings = load_settings(Path(home), environ={})
    workspace = open_workspace(settings)
    ca = load_ca(settings)
    t = time.perf_counter()
    summary = run_batch(workspace, ca, only=ids)
    out.put((time.perf_counter() - t, len(summary.issued), summary.failed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=40, help="applications for each measurement")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--key-type", default="ec-p256", choices=["ec-p256", "rsa-2048"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sealdesk-bench-issue-"))
    _environment(root)
    from pipeline.config import load_settings
    from pipeline.issue.ca import init_ca, load_ca
    from pipeline.issue.issuance import Issuer

    workspace = _workspace(root / "home", args.key_type)
    init_ca(workspace, "bench")
    settings = load_settings(root / "home", environ={})
    workspace = replace(workspace, settings=settings)
    ca = load_ca(settings)
    primitives = _primitives(ca, args.key_type, max(10, args.n // 2))
    baseline = sum(primitives.values())

    # one process, one application at a time (the first one warms fonts and caches)
    ids = _approve(workspace, args.n + 1, 1)
    issuer = Issuer(workspace, ca)
    issuer.issue(ids[0], "Bwarm")
    times = []
    for app_id in ids[1:]:
        t = time.perf_counter()
        issuer.issue(app_id, "Bone")
        times.append(time.perf_counter() - t)
    whole = statistics.median(times)

    # throughput: workers issuing disjoint shares at once
    shares = _approve(workspace, args.n * args.workers, 100_000)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    procs = [
        context.Process(
            target=_issue_some,
            args=(str(settings.home), shares[w :: args.workers], queue),
        )
        for w in range(args.workers)
    ]
    start = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get(timeout=3600) for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - start
    issued = sum(r[1] for r in results)
    failed = {k: v for r in results for k, v in r[2].items()}
    rate = issued / wall if wall else 0.0
    report = {
        "key_type": args.key_type,
        "primitives": {k: round(v, 4) for k, v in primitives.items()},
        "primitives_sum_s": round(baseline, 4),
        "whole_issuance_median_s": round(whole, 4),
        "ratio": round(whole / baseline, 2),
        "target_ratio": 1.5,
        "throughput": {
            "workers": args.workers,
            "applications": len(shares),
            "issued": issued,
            "failed": len(failed),
            "wall_s": round(wall, 2),
            "per_second": round(rate, 2),
            "minutes_for_10000": round(10_000 / rate / 60, 1) if rate else None,
            "goal_minutes_for_10000": 30,
        },
    }
    print(f"primitives ({args.key_type}):")
    for name, value in primitives.items():
        print(f"  {name:<18} {value * 1000:8.1f} ms")
    print(f"  {'sum':<18} {baseline * 1000:8.1f} ms")
    print(f"whole issuance     {whole * 1000:8.1f} ms  (median of {len(times)})")
    mark = "✓" if whole / baseline <= 1.5 else "✗"
    print(f"ratio              {whole / baseline:8.2f}×  (target ≤ 1.5×) {mark}")
    print(
        f"throughput         {rate:8.2f} applications/s with {args.workers} workers "
        f"({issued} issued, {len(failed)} failed, {wall:.1f} s); 10,000 would take "
        f"{10_000 / rate / 60 if rate else float('inf'):.1f} min (goal < 30)"
    )
    if failed:
        print("failures:", json.dumps(failed, ensure_ascii=False)[:2000])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
