"""Two versions of sealdesk timed in one run: ``sealdesk check`` on the same four-page
packets, the older checkout and this one alternating packet by packet (so a busy machine
slows both alike), one process each.

    git worktree add /tmp/before COMMIT
    .venv/bin/python -m bench.compare --before /tmp/before --corpus DIR [--n 10]

Prints seconds a page for each packet and the medians, the ratio new / old, and each
against a plain full-page RapidOCR pass over the same pages (as bench.throughput makes it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def four_page_packets(corpus: Path, n: int) -> list[tuple[Path, list[str]]]:
    """The first ``n`` packets of ``corpus`` that have exactly four pages."""
    found = []
    for packet in sorted(p for p in corpus.iterdir() if (p / "truth.json").is_file()):
        truth = json.loads((packet / "truth.json").read_text(encoding="utf-8"))
        if sum(len(f["pages"]) for f in truth["files"]) == 4:
            found.append((packet, [str(packet / f["name"]) for f in truth["files"]]))
        if len(found) >= n:
            break
    return found


def seconds_a_page(checkout: Path, packet: Path, files: list[str], home: Path) -> float:
    """``sealdesk check`` run from ``checkout`` (its own code first on the path; a checkout
    from before the command line had a package of its own runs it as ``-m pipeline``)."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1", "SEALDESK_HOME": str(home)}
    command = "sealdesk" if (checkout / "sealdesk" / "__main__.py").is_file() else "pipeline"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", command, "check", str(packet / "application.json"), *files],
        cwd=checkout,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return (time.perf_counter() - started) / 4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the old code")
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--n", type=int, default=10, help="four-page packets to time")
    args = parser.parse_args(argv)
    old: list[float] = []
    new: list[float] = []
    with tempfile.TemporaryDirectory() as home:
        for k, (packet, files) in enumerate(four_page_packets(args.corpus, args.n)):
            order = [(args.before, old), (REPO, new)]
            for checkout, into in order if k % 2 == 0 else order[::-1]:
                into.append(seconds_a_page(checkout, packet, files, Path(home) / checkout.name))
            print(f"{packet.name}: {old[-1]:.2f} s a page before, {new[-1]:.2f} s now")
    if not old:
        print("no four-page packet in the corpus", file=sys.stderr)
        return 1
    before, now = statistics.median(old), statistics.median(new)
    print(
        f"median of {len(old)}: {before:.2f} s a page before, {now:.2f} s now: {now / before:.2f}x"
    )
    from bench.throughput import plain_pass

    files = [f for _, packet_files in four_page_packets(args.corpus, args.n) for f in packet_files]
    plain = plain_pass(files, 2)
    per_page = plain["wall"] / max(1, plain["pages"])
    print(
        f"a plain full-page RapidOCR pass over the same {plain['pages']} pages (2 warm "
        f"processes, recogniser calls only): {per_page:.2f} s a page; the check now takes "
        f"{now / per_page:.2f}x that, before {before / per_page:.2f}x (target ≤ 0.5x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
