"""Throughput of the intake flow: N packets through it on 2 page workers, two applications
taken in at once (as the mailroom does), against a plain full-page RapidOCR pass over the
same pages on as many processes, measured in the same run.

    .venv/bin/python -m bench.throughput [--n 20] [--seed 9191] [--styles held-out]
                                         [--workers 2] [--json FILE]

Prints pages a minute through the flow (wall time from the first flow run's start to the
last one's end: taking files in, rendering, reading, validation, the review packet, the
database and Prefect all in it; the temporary Prefect server's start-up is not), the median
and p95 seconds a packet takes, and the ratio of the flow's wall time to the full-page pass's.
The full-page pass counts only the recogniser's calls (rendering excluded), spread over the
same number of processes, one thread each: the cheapest a page could be read at all.
Targets (issue 32): ≥ 60 pages a minute on 2 cores; ratio ≤ 0.5.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.check import corpus_dir
from bench.flows import run_batch

_PLAIN: Any = None


def _start_plain() -> None:
    global _PLAIN
    from rapidocr_onnxruntime import RapidOCR

    _PLAIN = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)


def _plain_pass(path: str) -> tuple[int, float]:
    """(pages, seconds in the recogniser) of a full-page RapidOCR pass over one file."""
    import numpy as np

    from pipeline.config import IngestLimits
    from pipeline.ingest import probe_file, render_pages

    limits = IngestLimits()
    pages, seconds = 0, 0.0
    for page in render_pages(Path(path), probe_file(Path(path), limits), limits):
        if page.image is None:
            continue
        array = np.asarray(page.image.convert("RGB"))
        started = time.perf_counter()
        _PLAIN(array)
        seconds += time.perf_counter() - started
        pages += 1
    return pages, seconds


def plain_pass(files: list[str], workers: int) -> dict[str, Any]:
    """The full-page pass over ``files`` on ``workers`` processes (each warmed up first)."""
    with ProcessPoolExecutor(workers, initializer=_start_plain) as pool:
        done = list(pool.map(_plain_pass, files))
    pages = sum(p for p, _ in done)
    seconds = sum(s for _, s in done)
    return {"pages": pages, "seconds": round(seconds, 1), "wall": round(seconds / workers, 1)}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20, help="packets")
    parser.add_argument("--seed", type=int, default=9191)
    parser.add_argument("--styles", default="held-out", help="corpus style set (fixtures)")
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/sealdesk-bench-corpus"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    corpus = corpus_dir(args.corpus, args.n, args.seed, args.styles)
    today = json.loads((corpus / "manifest.json").read_text())["today"]
    files = [
        str(f)
        for p in sorted(q for q in corpus.iterdir() if (q / "truth.json").is_file())
        for f in sorted(p.iterdir())
        if f.name not in ("application.json", "truth.json")
    ]
    with tempfile.TemporaryDirectory(prefix="sealdesk-bench-throughput-") as tmp:
        root = Path(tmp)
        os.environ["PREFECT_HOME"] = str(root / "prefect")
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        from flows.runtime import prefect_api

        with prefect_api():
            flow = run_batch(corpus, root / "home", args.workers, today, args.workers)
    plain = plain_pass(files, args.workers)
    packets = flow["packet_seconds"]
    result = {
        "corpus": {"n": args.n, "seed": args.seed, "styles": args.styles},
        "workers": args.workers,
        "pages": flow["pages"],
        "flow_wall_seconds": flow["wall_seconds"],
        "pages_a_minute": round(60 * flow["pages"] / flow["wall_seconds"], 1),
        "packet_seconds_median": round(statistics.median(packets), 2),
        "packet_seconds_p95": round(p95(packets), 2),
        "full_page_rapidocr": plain,
        "ratio_to_full_page_pass": round(flow["wall_seconds"] / plain["wall"], 2),
        "step_seconds": flow["step_seconds"],
        "verdicts": flow["verdicts"],
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    print(
        f"{args.n} packets ({args.styles}, seed {args.seed}), {flow['pages']} pages, "
        f"{args.workers} workers: {flow['wall_seconds']} s through the intake flow"
    )
    print(f"  pages a minute {result['pages_a_minute']} (target ≥ 60)")
    print(
        f"  seconds a packet: median {result['packet_seconds_median']}, "
        f"p95 {result['packet_seconds_p95']}"
    )
    print(
        f"  full-page RapidOCR pass over the same {plain['pages']} pages: {plain['wall']} s; "
        f"ratio {result['ratio_to_full_page_pass']} (target ≤ 0.5)"
    )
    print("  steps (summed s): " + ", ".join(f"{k} {v}" for k, v in flow["step_seconds"].items()))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
