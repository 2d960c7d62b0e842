"""The intake flow's orchestration overhead: a batch of applications through the intake
flow (Prefect, one flow run each, pages as cached task runs) with 1 and 2 page workers,
against the sum of the per-page extraction times measured inside the workers in the same
runs.

    .venv/bin/python -m bench.flows [--n 50] [--seed 6161] [--workers 1 2] [--json F]

For each worker count: a fresh workspace and Prefect home, the applications taken in one
after the other (as the mailroom hands them over), wall time from the first flow run's start
to the last one's end (the temporary Prefect server's start-up is excluded and reported
apart). Overhead = wall / (extraction seconds / workers): 1.0 would be a perfect parallel
reading with nothing else; what is above it is taking the files in (rendering and storing
every page), validation, the packet, the database, Prefect, and workers idle at the tail of
each application. The flows' own step timings (summed) say which.
Then the same batch once more with 2 workers: every page from the cache.
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


def run_batch(corpus: Path, home: Path, workers: int, today: str) -> dict[str, Any]:
    from flows.intake import run_intake

    packets = sorted(p for p in corpus.iterdir() if (p / "truth.json").is_file())
    results = []
    started = time.perf_counter()
    for packet in packets:
        files = sorted(
            str(f) for f in packet.iterdir() if f.name not in ("application.json", "truth.json")
        )
        summary = run_intake(
            files, str(packet / "application.json"), workers=workers, home=str(home), today=today
        )
        results.append(summary)
    wall = time.perf_counter() - started
    extraction = sum(r["extraction_seconds"] for r in results)
    pages = sum(r["pages"] for r in results)
    return {
        "workers": workers,
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
        "verdicts": {v: sum(r["verdict"] == v for r in results) for v in ("clear", "flagged")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--seed", type=int, default=6161, help="corpus seed (tests use others)")
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/sealdesk-bench-corpus"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
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
                home = root / f"home-{workers}"
                run = run_batch(corpus, home, workers, today)
                runs.append(run)
                print(json.dumps(run), flush=True)
            cached = run_batch(corpus, root / f"home-{args.workers[-1]}", args.workers[-1], today)
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
    print("workers  wall s  extraction s  ideal s  overhead  median flow s")
    for run in runs:
        print(
            f"{run['workers']:>7}  {run['wall_seconds']:>6}  {run['extraction_seconds']:>12}  "
            f"{run['ideal_seconds']:>7}  {run['overhead']:>7}x  {run['median_flow_seconds']:>13}"
        )
    print(
        f"cached rerun ({cached['workers']} workers): {cached['wall_seconds']} s, "
        f"{cached['pages_cached']} of {cached['pages']} pages from the cache"
    )
    if len(runs) > 1:
        speedup = runs[0]["wall_seconds"] / runs[-1]["wall_seconds"]
        print(f"speed-up 1 → {runs[-1]['workers']} workers: {speedup:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
