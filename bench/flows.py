"""The intake flow's orchestration overhead: a batch of applications through the intake
flow (Prefect, one flow run each, pages as cached task runs) with 1 and 2 page workers,
against the sum of the per-page extraction times measured inside the workers in the same
runs.

    .venv/bin/python -m bench.flows [--n 50] [--seed 6161] [--workers 1 2] [--side-by-side 1 2]

For each worker count, and each number of applications taken in at once (by default as many
as workers, as the mailroom does; 1: one after the other): a fresh workspace, wall time from
the first flow run's start to the last one's end (the temporary Prefect server's start-up is
excluded and reported apart). Overhead = wall / (extraction seconds / workers): 1.0 would be
a perfect parallel reading with nothing else; what is above it is taking the files in
(rendering and storing every page), validation, the packet, the database, Prefect, and
workers idle at the tail of each application. The flows' own step timings (summed) say
which. Then the same batch once more with 2 workers: every page from the cache.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.check import corpus_dir

REPO = Path(__file__).resolve().parents[1]


def run_batch(
    corpus: Path, home: Path, workers: int, today: str, side_by_side_count: int
) -> dict[str, Any]:
    from flows.intake import intake, side_by_side
    from flows.runtime import task_runner

    packets = sorted(p for p in corpus.iterdir() if (p / "truth.json").is_file())
    calls = [
        {
            "files": sorted(
                str(f) for f in p.iterdir() if f.name not in ("application.json", "truth.json")
            ),
            "record": str(p / "application.json"),
            "home": str(home),
            "today": today,
            "workers": workers,
        }
        for p in packets
    ]
    flow = intake.with_options(task_runner=task_runner("local", workers))
    started = time.perf_counter()
    states = side_by_side(flow, calls, side_by_side_count)
    results = [s.result() for s in states]
    wall = time.perf_counter() - started
    extraction = sum(r["extraction_seconds"] for r in results)
    pages = sum(r["pages"] for r in results)
    return {
        "workers": workers,
        "side_by_side": side_by_side_count,
        "applications": len(results),
        "pages": pages,
        "pages_read": sum(r["pages_read"] for r in results),
        "pages_cached": sum(r["pages_cached"] for r in results),
        "pages_failed": sum(r["pages_failed"] for r in results),
        "wall_seconds": round(wall, 1),
        "extraction_seconds": round(extraction, 1),
        "ideal_seconds": round(extraction / workers, 1),
        "overhead": round(wall / (extraction / workers), 2) if extraction else None,
        "median_flow_seconds": round(statistics.median(r["seconds"] for r in results), 2),
        "step_seconds": {
            step: round(sum(r["step_seconds"][step] for r in results), 1)
            for step in results[0]["step_seconds"]
        },
        "flow_seconds": round(sum(r["seconds"] for r in results), 1),
        "packet_seconds": [r["seconds"] for r in results],
        "verdicts": {v: sum(r["verdict"] == v for r in results) for v in ("clear", "flagged")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--seed", type=int, default=6161, help="corpus seed (tests use others)")
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/sealdesk-bench-corpus"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--side-by-side",
        type=int,
        nargs="+",
        default=None,
        help="applications taken in at once, each tried with each worker count (default: as "
        "many as workers, as the mailroom does; 1: one after the other)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    corpus = corpus_dir(args.corpus, args.n, args.seed)
    today = json.loads((corpus / "manifest.json").read_text())["today"]
    runs = []
    with tempfile.TemporaryDirectory(prefix="sealdesk-bench-flows-") as tmp:
        root = Path(tmp)
        os.environ["PREFECT_HOME"] = str(root / "prefect")
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        from flows.runtime import prefect_api

        server_started = time.perf_counter()
        with prefect_api():
            startup = time.perf_counter() - server_started
            for workers in args.workers:
                for at_once in args.side_by_side or [workers]:
                    home = root / f"home-{workers}-{at_once}"
                    run = run_batch(corpus, home, workers, today, at_once)
                    runs.append(run)
                    print(json.dumps(run), flush=True)
            last = runs[-1]
            cached = run_batch(
                corpus,
                root / f"home-{last['workers']}-{last['side_by_side']}",
                last["workers"],
                today,
                last["side_by_side"],
            )
            cached["cached_rerun"] = True
            print(json.dumps(cached), flush=True)
    result = {
        "corpus": {"n": args.n, "seed": args.seed},
        "prefect_server_startup_seconds": round(startup, 1),
        "runs": runs,
        "cached_rerun": cached,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    print()
    print(
        f"{args.n} applications, {runs[0]['pages']} pages; temporary Prefect server {startup:.0f} s"
    )
    print("workers  at once  wall s  extraction s  ideal s  overhead  steps (summed s)")
    for run in runs:
        steps = ", ".join(f"{k} {v}" for k, v in run["step_seconds"].items())
        print(
            f"{run['workers']:>7}  {run['side_by_side']:>7}  {run['wall_seconds']:>6}  "
            f"{run['extraction_seconds']:>12}  {run['ideal_seconds']:>7}  {run['overhead']:>7}x  "
            f"{steps}"
        )
    print(
        f"cached rerun ({cached['workers']} workers): {cached['wall_seconds']} s, "
        f"{cached['pages_cached']} of {cached['pages']} pages from the cache"
    )
    if len(runs) > 1:
        speedup = runs[0]["wall_seconds"] / min(r["wall_seconds"] for r in runs)
        print(f"speed-up, first row to the fastest: {speedup:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
