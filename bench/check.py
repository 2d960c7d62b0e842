"""The whole check (extraction and validation) on a generated corpus the tests do not use.

    .venv/bin/python -m bench.check --n 300 [--seed 5151] [--workers 2] [--timed 5]

Scored against the generator's ground truth: defective packets judged ``clear`` (must be
0: a mismatched seal must never pass unseen), clean packets flagged (with the finding
that flagged each, and why), for each defect kind the share of its packets in which the
expected code was raised, and a confusion table. Speed: the median wall time of
``sealdesk check`` (a fresh process: intake, extraction, validation) on typical 4-page
packets.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from fixtures.corpus.ink import FAINT, faint_characters, ink_shares
from pipeline.config import IngestLimits
from pipeline.extract.documents import PageRef, extract_paths, packet_documents
from pipeline.model.application import ApplicationRecord
from pipeline.model.names import DIFFERS, FITS, fold, in_place, out_of_step
from pipeline.model.report import Code, Finding, Severity
from pipeline.usecases.checking import expected_names, expected_people
from pipeline.validate.rules import validate

REPO = Path(__file__).resolve().parents[1]
ATTENTION = (Severity.ERROR, Severity.WARNING)


def corpus_dir(root: Path, n: int, seed: int, styles: str = "classic") -> Path:
    name = f"seed{seed}-n{n}" + ("" if styles == "classic" else f"-{styles}")
    corpus = root / name
    if not (corpus / "manifest.json").is_file():
        subprocess.run(
            [
                *(sys.executable, "-m", "fixtures.corpus", "--n", str(n), "--seed", str(seed)),
                *("--out", str(corpus), "--jobs", "2", "--styles", styles),
            ],
            check=True,
            cwd=REPO,
        )
    return corpus


def check_corpus(corpus: Path, workers: int) -> list[dict[str, Any]]:
    """Every packet checked: its truth, and the findings the check raised."""
    packets = sorted(p for p in corpus.iterdir() if (p / "truth.json").is_file())
    files: list[tuple[str, Path]] = []
    expect: dict[str, tuple[str, ...]] = {}
    people: dict[str, tuple[str, ...]] = {}
    records = {}
    for packet in packets:
        record = json.loads((packet / "application.json").read_text(encoding="utf-8"))
        records[packet.name] = record
        for path in sorted(packet.iterdir()):
            if path.name in ("application.json", "truth.json"):
                continue
            key = f"{packet.name}/{path.name}"
            files.append((key, path))
            expect[key] = expected_names(ApplicationRecord(record))
            people[key] = expected_people(ApplicationRecord(record))
    started = time.perf_counter()
    refs, problems = extract_paths(files, IngestLimits(), "rapidocr", workers, expect, people)
    took = time.perf_counter() - started
    print(f"read {len(refs)} pages of {len(packets)} packets in {took:.0f} s", file=sys.stderr)
    by_packet: dict[str, list[PageRef]] = defaultdict(list)
    for ref in refs:
        by_packet[ref.source.split("/", 1)[0]].append(ref)
    results = []
    for packet in packets:
        truth = json.loads((packet / "truth.json").read_text(encoding="utf-8"))
        documents = packet_documents(by_packet[packet.name])
        findings = validate(
            ApplicationRecord(records[packet.name]), documents, date.fromisoformat(truth["today"])
        )
        broken = [
            (name, problem) for name, problem in problems.items() if name.startswith(packet.name)
        ]
        company = records[packet.name]["company"]["name"]
        seals = [
            (
                s.get("text", ""),
                (s.get("disagreement") or {}).get(company),
                (s.get("disagreement_by_character") or {}).get(company),
            )
            for d in documents
            for s in d.seals
            if s.get("owner") == "company"
        ]
        results.append(
            {
                "packet": packet.name,
                "truth": truth,
                "findings": findings,
                "broken": broken,
                "seals": seals,
                "seal_places": [
                    (i, list(s.get("bbox") or ()), s.get("text", ""))
                    for i, d in enumerate(documents)
                    for s in d.seals
                    if s.get("owner") == "company"
                ],
                # each document's file (without the packet) and page, as findings name them
                "sources": [(d.source.split("/", 1)[-1], d.page) for d in documents],
                "documents": documents,
            }
        )
    return results


def weighings(results: list[dict[str, Any]]) -> dict[str, Any]:
    """How much less likely the expected name was than the read on each company seal
    (nats): on clean packets' seals and on near-miss seals, against FITS and DIFFERS; and
    weighed a character to a cell: whole fits the cells undid and seals they settled (as
    validation judges them), the lowest sums and worst cells; and seals settled by a clear
    impression of the same seal elsewhere in the packet (see compare_impressions)."""
    out: dict[str, Any] = {}
    for label, want in (("clean", None), ("seal_near_miss", "seal_near_miss")):
        weighed = [
            (text, nats, cells)
            for r in results
            if (r["truth"]["defect"] or {}).get("kind") == want
            for text, nats, cells in r["seals"]
        ]
        values = [nats for _, nats, _ in weighed]
        known = sorted(v for v in values if v is not None)
        by_cell = [(nats, cells, text) for text, nats, cells in weighed if cells]
        out[label] = {
            "seals": len(values),
            "not_weighed": len(values) - len(known),
            "at_most_fits": sum(v <= FITS for v in known),
            "between": sum(FITS < v < DIFFERS for v in known),
            "at_least_differs": sum(v >= DIFFERS for v in known),
            "lowest": known[:5],
            "highest": known[-5:],
            "weighed_by_character": len(by_cell),
            "whole_fit_undone_by_cells": sum(
                n is not None and n <= FITS and out_of_step(t, c) for n, c, t in by_cell
            ),
            "settled_by_cells": sum((n is None or n > FITS) and in_place(c) for n, c, _ in by_cell),
            "cells_lowest_sums": sorted(round(sum(c), 2) for _, c, _ in by_cell)[:5],
            "cells_lowest_worst": sorted(max(c) for _, c, _ in by_cell)[:5],
            "settled_by_a_clear_impression": sum(
                f.code == Code.SEAL_NAME_MISMATCH
                and f.severity == Severity.INFO
                and "same_seal" in f.evidence
                for r in results
                if (r["truth"]["defect"] or {}).get("kind") == want
                for f in r["findings"]
            ),
        }
    return out


SURE_READ = 0.9
"""A read at this confidence or more is called sure: at least 99 % of them must be exact."""
BANDS = ((0.0, 0.5), (0.5, 0.9), (0.9, 0.97), (0.97, 1.01))


def reading(results: list[dict[str, Any]]) -> dict[str, Any]:
    """How exactly fields and seal rims were read, against the generator's truth: company
    name on licence and form, credit code on the licence, company seal rim; and for each,
    how exact reads were at each confidence (calibration: of sure reads, the share exact)."""
    rows: dict[str, list[tuple[bool, float | None]]] = defaultdict(list)
    wrong: dict[str, list[str]] = defaultdict(list)  # sure reads that were not exact

    def note(label: str, exact: bool, confidence: float | None, read: Any, want: Any) -> None:
        rows[label].append((exact, confidence))
        if not exact and confidence is not None and confidence >= SURE_READ:
            wrong[label].append(f"{result['truth']['application_id']}: {read!r} for {want!r}")

    for result in results:
        truth = result["truth"]
        want = {d["kind"]: d["fields"] for d in truth["documents"]}
        rim = truth["company_seal"]["text"]
        for document in result["documents"]:
            fields, notes = document.fields, document.field_notes
            expected = want.get(document.kind, {})
            for field, label in (("company_name", "company name"), ("uscc", "credit code")):
                if document.kind not in ("business_licence", "application_form"):
                    continue
                if field == "uscc" and document.kind != "business_licence":
                    continue
                if expected.get(field) is None:
                    continue
                read = fields.get(field)
                exact = read is not None and fold(str(read)) == fold(str(expected[field]))
                note(
                    label, exact, (notes.get(field) or {}).get("confidence"), read, expected[field]
                )
            for seal in document.seals:
                if seal.get("owner") != "company":
                    continue
                exact = fold(seal.get("text") or "") == fold(rim)
                note("company seal rim", exact, seal.get("confidence"), seal.get("text"), rim)
    out: dict[str, Any] = {}
    for label, pairs in rows.items():
        sure = [e for e, c in pairs if c is not None and c >= SURE_READ]
        out[label] = {
            "reads": len(pairs),
            "exact": sum(e for e, _ in pairs) / max(1, len(pairs)),
            "sure_reads": len(sure),
            "sure_exact": sum(sure) / len(sure) if sure else None,
            "sure_wrong": len(sure) - sum(sure),
            "sure_wrong_reads": wrong[label][:10],
            "bands": {
                f"{lo:.2f}-{min(hi, 1.0):.2f}": [
                    sum(e for e, c in pairs if c is not None and lo <= c < hi),
                    sum(1 for _, c in pairs if c is not None and lo <= c < hi),
                ]
                for lo, hi in BANDS
            },
        }
    return out


def _unsigned(truth: dict[str, Any]) -> dict[str, Any] | None:
    """The generator leaves 3 % of forms and letters unsigned and still calls the packet
    clean; the seeds want them signed, so the check must say so: score such a packet as
    a defect of its own."""
    if any(d["fields"].get("signature_present") is False for d in truth["documents"]):
        return {"kind": "unsigned", "codes": ["signature_missing"]}
    return None


def faint_seals(truth: dict[str, Any]) -> dict[tuple[str, int], str]:
    """The company seals of a packet with a name character whose ink the press left out
    (see FAINT), by (file, page): the name, its faint characters in brackets. The
    generator measured the ink each character kept (``name_ink``); the reader never saw it."""
    out = {}
    for file in truth["files"]:
        for number, page in enumerate(file["pages"], 1):
            for seal in page["seals"]:
                kept = seal.get("name_ink")
                if seal["owner"] != "company" or not kept:
                    continue
                faint = faint_characters(kept, seal["text"])
                if any(faint):
                    out[(file["name"], number)] = "".join(
                        f"[{c}]" if f else c for c, f in zip(seal["text"], faint, strict=True)
                    )
    return out


def weakest_ink(truth: dict[str, Any], file: str, page: int) -> str | None:
    """The name character of the company seal on ``file``'s ``page`` that kept the least
    ink, as a share of the name's median (spaces aside), by the generator's record: how
    pale the seal a finding points at really was (a finer measure than FAINT's cut)."""
    pages = next((f["pages"] for f in truth["files"] if f["name"] == file), [])
    seals = pages[page - 1]["seals"] if 0 < page <= len(pages) else []
    for seal in seals:
        kept = seal.get("name_ink")
        if seal["owner"] != "company" or not kept:
            continue
        shares = zip(ink_shares(kept, seal["text"]), seal["text"], strict=True)
        least, character = min((v, c) for v, c in shares if v is not None)
        return f"{character} kept {least:.2f} of its name's median ink"
    return None


def on_faint_seals(
    result: dict[str, Any], attention: list[Finding], faint: dict[tuple[str, int], str]
) -> bool:
    """Whether every finding that flags a clean packet is a seal's name left unconfirmed
    on a page whose seal lost ink in its name: the warning the issue asks for there."""
    if not attention or result["broken"]:
        return False
    for finding in attention:
        if finding.code != Code.SEAL_NAME_MISMATCH or finding.severity != Severity.WARNING:
            return False
        if finding.document is None or result["sources"][finding.document] not in faint:
            return False
    return True


def score(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Defective packets judged clear, clean ones flagged, expected codes per defect kind.
    Clean packets are also told apart by whether a seal of theirs lost ink in its name
    (:func:`faint_seals`): the issue wants a warning for a partly unreadable seal, so a
    flag there may be the right answer; the figure that counts stays the one over all.
    Severity is scored too: for each defect kind, the share of its packets where an
    expected code came as an ``error`` (a reviewer trusts an error as a difference seen,
    a warning as a doubt), and the clean packets that drew any error."""
    defective_clear, clean_flagged, clean_errors = [], [], []
    faint_clean: list[str] = []
    raised: dict[str, Counter[str]] = defaultdict(Counter)
    hits: Counter[str] = Counter()
    as_error: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for result in results:
        defect = result["truth"]["defect"] or _unsigned(result["truth"])
        attention = [f for f in result["findings"] if f.severity in ATTENTION]
        flagged = bool(attention or result["broken"])
        faint = {} if defect else faint_seals(result["truth"])
        if faint:
            faint_clean.append(result["packet"])
        kind = defect["kind"] if defect else "none"
        totals[kind] += 1
        for code in {f.code.value for f in attention}:
            raised[kind][code] += 1
        if defect:
            if not flagged:
                defective_clear.append(result["packet"])
            if set(defect["codes"]) & {f.code.value for f in attention}:
                hits[kind] += 1
            errors = {f.code.value for f in attention if f.severity == Severity.ERROR}
            if set(defect["codes"]) & errors:
                as_error[kind] += 1
        elif flagged:
            if any(f.severity == Severity.ERROR for f in attention):
                clean_errors.append(result["packet"])
            marks = [f"{file} p{page}: {name}" for (file, page), name in faint.items()]
            explained = on_faint_seals(result, attention, faint)
            pale = [
                weakest_ink(result["truth"], *result["sources"][f.document])
                if f.code == Code.SEAL_NAME_MISMATCH and f.document is not None
                else None
                for f in attention
            ]
            clean_flagged.append(
                (result["packet"], attention, result["broken"], marks, explained, pale)
            )
    clean = totals["none"]
    return {
        "packets": len(results),
        "defective": len(results) - clean,
        "defective_judged_clear": defective_clear,
        "clean": clean,
        "clean_flagged": clean_flagged,
        "clean_with_faint_seal": faint_clean,
        "clean_with_error": clean_errors,
        "expected_code_rate": {k: hits[k] / totals[k] for k in sorted(totals) if k != "none"},
        "expected_code_as_error": {
            k: as_error[k] / totals[k] for k in sorted(totals) if k != "none"
        },
        "of": dict(totals),
        "confusion": {k: dict(v) for k, v in raised.items()},
    }


def unseen_impostors(results: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """Near-miss packets' company seals (every one the impostor) that raised no
    ``seal_name_mismatch`` of their own: the packet may still be flagged by its other
    seals, but one seal alone must not pass. The count of such seals, and each one."""
    seals, unseen = 0, []
    for result in results:
        if (result["truth"]["defect"] or {}).get("kind") != "seal_near_miss":
            continue
        seen = {
            (f.document, tuple(f.evidence.get("bbox") or ()))
            for f in result["findings"]
            if f.code == Code.SEAL_NAME_MISMATCH and f.severity in ATTENTION
        }
        for document, bbox, text in result["seal_places"]:
            seals += 1
            if (document, tuple(bbox)) not in seen:
                unseen.append(f"{result['packet']} document {document} {bbox}: read {text!r}")
    return seals, unseen


def _describe(finding: Finding) -> str:
    evidence = finding.evidence
    detail = ", ".join(
        f"{k}={evidence[k]}"
        for k in ("expected", "found", "disagreement", "confidence")
        if evidence.get(k) is not None
    )
    return f"{finding.severity.value} {finding.code.value}: {finding.message} [{detail}]"


def time_cli(corpus: Path, count: int) -> list[float]:
    """Wall seconds of ``sealdesk check`` on ``count`` packets of exactly four pages."""
    seconds = []
    sealdesk = str(Path(sys.executable).parent / "sealdesk")
    for packet in sorted(p for p in corpus.iterdir() if (p / "truth.json").is_file()):
        truth = json.loads((packet / "truth.json").read_text(encoding="utf-8"))
        if sum(len(f["pages"]) for f in truth["files"]) != 4 or len(seconds) >= count:
            continue
        files = [str(packet / f["name"]) for f in truth["files"]]
        started = time.perf_counter()
        subprocess.run(
            [sealdesk, "check", str(packet / "application.json"), *files, "--json"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds.append(time.perf_counter() - started)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.check", description=__doc__)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5151, help="corpus seed (tests use others)")
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/sealdesk-bench-corpus"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timed", type=int, default=5, help="4-page packets to time")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--styles",
        action="append",
        choices=["classic", "tuned", "held-out"],
        help="style set of the corpus (repeatable: each is checked, then all side by side; "
        "default classic). The same seed gives the same packets in each style.",
    )
    args = parser.parse_args(argv)
    summaries = {}
    for styles in args.styles or ["classic"]:
        print(f"\n=== styles: {styles}", flush=True)
        corpus = (
            args.corpus
            if (args.corpus / "manifest.json").is_file()
            else corpus_dir(args.corpus, args.n, args.seed, styles)
        )
        json_path = args.json
        if json_path and len(args.styles or ()) > 1:
            json_path = json_path.with_name(f"{json_path.stem}-{styles}{json_path.suffix}")
        summaries[styles] = check_and_report(corpus, args.workers, args.timed, json_path)
    if len(summaries) > 1:
        print_side_by_side(summaries)
    return 0


def print_side_by_side(summaries: dict[str, dict[str, Any]]) -> None:
    """The headline figures of each style set in one table (held-out is the product's)."""
    names = list(summaries)
    print("\n=== side by side (" + " | ".join(names) + ")")
    print(f"{'figure':<44}" + "".join(f"{n:>16}" for n in names))
    for key in summaries[names[0]]:
        print(f"{key:<44}" + "".join(f"{summaries[n].get(key)!s:>16}" for n in names))


def check_and_report(
    corpus: Path, workers: int, timed: int, json_path: Path | None
) -> dict[str, Any]:
    """Check every packet of ``corpus``, print the report; returns the headline figures."""
    results = check_corpus(corpus, workers)
    figures = score(results)
    read = reading(results)
    defective, clean = figures["defective"], figures["clean"]
    print(f"\npackets {figures['packets']}: {defective} defective, {clean} clean")
    print(f"defective judged clear: {len(figures['defective_judged_clear'])} (target 0)")
    for name in figures["defective_judged_clear"]:
        print(f"  {name}")
    rate = len(figures["clean_flagged"]) / max(1, figures["clean"])
    print(f"clean flagged: {len(figures['clean_flagged'])} = {rate:.1%} (target ≤ 3%)")
    for name, findings, broken, faint, explained, pale in figures["clean_flagged"]:
        seal = f" (faint seal: {'; '.join(faint)})" if faint else ""
        print(f"  {name}:{seal}" + (" [flagged only on the faint seal]" if explained else ""))
        for finding, ink in zip(findings, pale, strict=True):
            print(f"    {_describe(finding)}" + (f" ({ink})" if ink else ""))
        for file, problem in broken:
            print(f"    broken file {file}: {problem}")
    faint = len(figures["clean_with_faint_seal"])
    explained = sum(row[4] for row in figures["clean_flagged"])
    others = len(figures["clean_flagged"]) - explained
    print(
        f"  flagged only for a seal that lost ink in its name (a character kept < {FAINT:.2f} "
        f"of the name's typical ink, by the generator's measure; {faint} clean packets have "
        f"such a seal): {explained}; flagged for anything else: {others} = "
        f"{others / max(1, clean):.1%}"
    )
    errors = figures["clean_with_error"]
    print(f"  clean packets with an error among their findings: {len(errors)} {errors}")
    print(f"\n{'defect':<24}{'packets':>8}{'expected code':>15}{'as an error':>13}")
    for kind, share in figures["expected_code_rate"].items():
        mark = "" if share >= 0.98 else "  BELOW"
        as_error = figures["expected_code_as_error"][kind]
        print(f"{kind:<24}{figures['of'][kind]:>8}{share:>15.3f}{as_error:>13.3f}{mark}")
    codes = sorted({c for row in figures["confusion"].values() for c in row})
    print("\nconfusion (packets of each defect kind in which each code was raised):")
    print(f"{'':<24}" + "".join(f"{c[:14]:>15}" for c in codes))
    for kind in sorted(figures["confusion"]):
        row = figures["confusion"][kind]
        print(f"{kind:<24}" + "".join(f"{row.get(c, 0):>15}" for c in codes))
    weighed = weighings(results)
    print(
        f"\ncompany seals weighed against the expected name (FITS {FITS}, DIFFERS {DIFFERS} nats):"
    )
    for label, row in weighed.items():
        print(f"  {label}: {json.dumps(row)}")
    impostors, unseen = unseen_impostors(results)
    if impostors:
        print(f"\nnear-miss seals raising no finding of their own: {len(unseen)} of {impostors}")
        for line in unseen:
            print(f"  {line}")
    print("\nreading (exact share; sure = confidence ≥ 0.9, of which exact; bands: exact/reads):")
    for label, row in read.items():
        print(f"  {label}: {json.dumps(row, ensure_ascii=False)}")
    seconds = time_cli(corpus, timed) if timed else []
    if seconds:
        print(
            f"\nsealdesk check on a 4-page packet (fresh process): median "
            f"{statistics.median(seconds):.1f} s over {len(seconds)}"
        )
    if json_path:
        out = {
            **{k: v for k, v in figures.items() if k != "clean_flagged"},
            "clean_flagged": [
                {
                    "packet": n,
                    "findings": [_describe(f) for f in fs],
                    "broken": b,
                    "faint": f,
                    "only_on_faint_seal": e,
                    "weakest_ink": w,
                }
                for n, fs, b, f, e, w in figures["clean_flagged"]
            ],
            "seal_weighings": weighed,
            "near_miss_seals": impostors,
            "near_miss_seals_unseen": unseen,
            "check_seconds_median": statistics.median(seconds) if seconds else None,
            "reading": read,
        }
        json_path.write_text(json.dumps(out, ensure_ascii=False, indent=1))
    return headline(figures, read)


def headline(figures: dict[str, Any], read: dict[str, Any]) -> dict[str, Any]:
    """The issue's figures, as ``n/d = share`` strings."""
    clean, flagged = figures["clean"], len(figures["clean_flagged"])
    rates = figures["expected_code_rate"]
    hits = sum(rates[k] * figures["of"][k] for k in rates)
    defective = sum(figures["of"][k] for k in rates)
    out = {
        "clean packets flagged": f"{flagged}/{clean} = {flagged / max(1, clean):.1%}",
        "defective packets judged clear": f"{len(figures['defective_judged_clear'])}"
        f"/{figures['defective']}",
        "expected finding raised": f"{hits / max(1, defective):.3f}",
        "clean packets with an error": len(figures["clean_with_error"]),
    }
    for label, row in read.items():
        out[f"{label} exact"] = f"{row['exact']:.3f} of {row['reads']}"
        sure = row["sure_exact"]
        out[f"{label} sure reads exact"] = (
            f"{sure:.3f} of {row['sure_reads']}" if sure is not None else "none"
        )
    return out


if __name__ == "__main__":
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    sys.exit(main())
