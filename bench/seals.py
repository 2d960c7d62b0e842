"""Seal rims alone, on a generated corpus: found, read exactly, and how sure the sure reads
were, per style set. Faster than bench.check (no page text), for work on the seal reader.

    .venv/bin/python -m bench.seals --corpus DIR [--corpus DIR2] [--limit 40] [--grey-only]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import IngestLimits
from pipeline.extract.engines import make_engine
from pipeline.extract.seals import detect_and_read
from pipeline.ingest import probe_file, render_pages
from pipeline.model.names import fold

SURE = 0.9


def _page_jobs(
    corpus: Path, limit: int | None, grey_only: bool = False
) -> list[tuple[str, str, int, str, list[dict[str, Any]]]]:
    jobs = []
    packets = sorted(p for p in corpus.iterdir() if (p / "truth.json").is_file())[:limit]
    for packet in packets:
        truth = json.loads((packet / "truth.json").read_text(encoding="utf-8"))
        name = json.loads((packet / "application.json").read_text(encoding="utf-8"))["company"][
            "name"
        ]
        for file in truth["files"]:
            if grey_only and not file.get("grey_capture"):
                continue
            for number, page in enumerate(file["pages"]):
                seals = [s for s in page["seals"] if s["owner"] == "company"]
                if seals:
                    jobs.append((str(packet / file["name"]), name, number, packet.name, seals))
    return jobs


_ENGINE = None


def _read(job: tuple[str, str, int, str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = make_engine("rapidocr", threads=1)
    path, name, number, packet, truths = job
    limits = IngestLimits()
    page = next(iter(render_pages(Path(path), probe_file(Path(path), limits), limits, number)))
    image = np.asarray(page.image.convert("RGB"))
    found = [s for s in detect_and_read(image, _ENGINE, (name,)) if s.owner == "company"]
    rows = []
    for truth in truths:
        x0, y0, x1, y1 = truth["bbox"]
        near = [
            s
            for s in found
            if abs(s.centre[0] - (x0 + x1) / 2) < (x1 - x0) / 3
            and abs(s.centre[1] - (y0 + y1) / 2) < (y1 - y0) / 3
        ]
        seal = near[0] if near else None
        rows.append(
            {
                "packet": packet,
                "file": Path(path).name,
                "page": number + 1,
                "want": truth["text"],
                "found": seal is not None,
                "read": seal.text if seal else None,
                "confidence": seal.confidence if seal else None,
                "exact": seal is not None and fold(seal.text) == fold(truth["text"]),
                "grey": bool(seal and seal.grey),
                "span_characters": seal.span_characters if seal else None,
                "agreement": seal.agreement if seal else None,
            }
        )
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    found = [r for r in rows if r["found"]]
    sure = [r for r in found if (r["confidence"] or 0) >= SURE]
    return {
        "seals": len(rows),
        "found": len(found),
        "exact of found": f"{sum(r['exact'] for r in found)}/{len(found)}",
        "sure reads": len(sure),
        "sure exact": f"{sum(r['exact'] for r in sure)}/{len(sure)}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seals", description=__doc__)
    parser.add_argument("--corpus", type=Path, action="append", required=True)
    parser.add_argument("--limit", type=int, default=None, help="first N packets of each")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--grey-only", action="store_true", help="greyscale captures only")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    out = {}
    for corpus in args.corpus:
        started = time.perf_counter()
        jobs = _page_jobs(corpus, args.limit, args.grey_only)
        with ProcessPoolExecutor(args.workers) as pool:
            rows = [r for page in pool.map(_read, jobs) for r in page]
        for r in rows:
            if not r["exact"]:
                sure = r["confidence"] and round(r["confidence"], 3)
                grey = " grey" if r["grey"] else ""
                where = f"{r['packet']} {r['file']} p{r['page']}"
                print(f"  {where}: {r['want']} read {r['read']!r} ({sure}){grey}")
        out[str(corpus)] = {"summary": summary(rows), "rows": rows}
        print(
            f"{corpus}: {json.dumps(summary(rows), ensure_ascii=False)} "
            f"in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    sys.exit(main())
