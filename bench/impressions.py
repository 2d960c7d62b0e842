"""A faint seal weighed where a clear impression of it has the name: does it ever let a
seal cut with another name fit?

    .venv/bin/python -m bench.impressions --n 60 [--seed 6161] [--json out.json]

For each of ``n`` generated company names, one seal design (face, size, inscription as the
corpus draws them) is cut twice: with the name, and one slip away (``near_miss``: a
character more, less or changed, the other 有限 suffix). The name's seal is pressed once
over a sheet of print, scanned, and read: the clear impression (kept only when read
exactly). Then each seal is pressed again, ``--presses`` times, with the corpus's ink (a
dry pad one time in three), on a scan, a photocopy (made before the press) or a phone
photo; each press is cut where the clear impression has the name, weighed there (the steps
of ``compare_impressions``) and judged by ``fits_where_clear``. Printed: how many impostor
presses fit (must be 0) and how near they came; how many presses of the name fit, among
them those the generator left a faint character on (``faint_characters``) and those its
own read missed.

The corpus bench (``bench.check``) cannot show the first figure: its near-miss packets bear
the impostor seal on every page, so no page has a clear impression of the name's seal.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from fixtures.corpus.degrade import phone_photo, photocopy, scan
from fixtures.corpus.identity import REGIONS, company_name
from fixtures.corpus.ink import faint_characters, stamp
from fixtures.corpus.packet import near_miss
from pipeline.extract.engines import make_engine
from pipeline.extract.ocr import OcrEngine
from pipeline.extract.seals import Seal, find_seals, read_seal
from pipeline.extract.seals.impression import cut_like
from pipeline.extract.seals.read import place_name, plain_form, weigh_cut
from pipeline.fonts import SANS, SANS_BOLD, SERIF_BOLD, ZENHEI, font
from pipeline.issue.seal_image import SealDesign
from pipeline.model.names import fits_where_clear

DELIVERIES = ("scan", "copy", "photo")
PRINT = "申请单位名称统一社会信用代码法定代表人住所经营范围注册资本成立日期营业期限盖章签字年月日"


def press(
    design: SealDesign,
    how: str,
    engine: OcrEngine,
    expect: str,
    rng: random.Random,
    np_rng: np.random.Generator,
) -> tuple[Seal | None, list[float]]:
    """The seal pressed on a blank sheet, delivered ``how``, found and read; and the
    generator's record of the ink each name character kept."""
    sheet = Image.new("RGB", (1200, 1200), "white")
    draw, face = ImageDraw.Draw(sheet), font(SANS, 38)
    for row in range(80, 1150, 70):  # print under the seal, as on a form or a licence
        line = "".join(rng.choice(PRINT) for _ in range(rng.randint(8, 24)))
        draw.text((60 + rng.randint(0, 200), row), line, fill=(20, 20, 20), font=face)
    if how == "copy":  # the copy is made first, then stamped (as the corpus does)
        sheet = photocopy(sheet, rng, np_rng)
    centre = (600 + rng.randint(-40, 40), 600 + rng.randint(-40, 40))
    sheet, truth = stamp(sheet, design, centre, rng, np_rng)
    delivered = phone_photo(sheet, rng, np_rng, (1300, 1800)) if how == "photo" else None
    image = delivered.image if delivered else scan(sheet, rng, np_rng, 300).image
    pixels = np.asarray(image.convert("RGB"))
    blobs = find_seals(pixels)
    if not blobs:
        return None, truth["name_ink"]
    blob = max(blobs, key=lambda b: b.axes[0] * b.axes[1])
    return read_seal(pixels, blob, engine, (expect,)), truth["name_ink"]


def run(n: int, seed: int, presses: int) -> dict[str, Any]:
    rng, np_rng = random.Random(seed), np.random.default_rng(seed)
    engine = make_engine("rapidocr")
    rows: list[dict[str, Any]] = []
    skipped = 0
    for index in range(n):
        name = company_name(rng, rng.choice(REGIONS))
        face = rng.choices((SERIF_BOLD, SANS_BOLD, ZENHEI), (0.6, 0.3, 0.1))[0]
        size = rng.choice((38.0, 40.0, 42.0))
        inscription = rng.choices(("", "合同专用章", "财务专用章"), (0.85, 0.1, 0.05))[0]
        genuine = SealDesign(name, inscription, "", "round", size, face=face)
        impostor = SealDesign(near_miss(name, rng), inscription, "", "round", size, face=face)
        clear, _ = press(genuine, "scan", engine, name, rng, np_rng)
        if clear is None or clear.impression is None or plain_form(clear.text) != plain_form(name):
            skipped += 1
            continue
        edges = place_name(engine, clear.impression, name)
        for kind, design in (("genuine", genuine), ("impostor", impostor)):
            for _ in range(presses):
                how = rng.choice(DELIVERIES)
                seal, ink = press(design, how, engine, name, rng, np_rng)
                row: dict[str, Any] = {
                    "name": name,
                    "kind": kind,
                    "cut": design.name,
                    "how": how,
                    "faint": any(faint_characters(ink, design.name)),
                    "read": seal.text if seal else None,
                    "registered": False,
                    "fits": False,
                }
                cut = None
                if seal is not None and seal.impression is not None and edges is not None:
                    cut = cut_like(clear.impression, edges, seal.impression)
                if seal is not None and cut is not None:
                    whole, cells = weigh_cut(engine, cut, name)
                    row.update(
                        registered=True,
                        disagreement=whole,
                        by_character=cells,
                        fits=fits_where_clear(name, whole, cells),
                    )
                rows.append(row)
                print(
                    f"{index:3d} {kind:8s} {how:5s} {'faint' if row['faint'] else '     '} "
                    f"{'FITS' if row['fits'] else '    '} {row.get('disagreement')} "
                    f"{design.name} read {row['read']}",
                    file=sys.stderr,
                    flush=True,
                )
    return {"seed": seed, "names": n, "skipped": skipped, "rows": rows}


def summary(result: dict[str, Any]) -> str:
    rows = result["rows"]
    lines = [
        f"seed {result['seed']}: {result['names']} names ({result['skipped']} skipped: "
        "the clear press was not read exactly)"
    ]
    for kind in ("impostor", "genuine"):
        mine = [r for r in rows if r["kind"] == kind]
        registered = [r for r in mine if r["registered"]]
        fit = [r for r in mine if r["fits"]]
        lines.append(
            f"{kind}: {len(mine)} presses, {len(registered)} registered, {len(fit)} fit the name"
        )
        by_how = Counter((r["how"], r["fits"]) for r in mine)
        lines.append(
            "  by delivery: "
            + ", ".join(
                f"{h} {by_how[(h, True)]}/{by_how[(h, True)] + by_how[(h, False)]}"
                for h in DELIVERIES
            )
        )
        nats = sorted(r["disagreement"] for r in registered if r.get("disagreement") is not None)
        if nats:
            lines.append(f"  whole-name nats: lowest {nats[:5]}")
    genuine = [r for r in rows if r["kind"] == "genuine"]
    faint = [r for r in genuine if r["faint"]]
    missed = [r for r in genuine if plain_form(r["read"] or "") != plain_form(r["name"])]
    lines.append(
        f"genuine presses with a faint character: {len(faint)}, fit {sum(r['fits'] for r in faint)}"
    )
    lines.append(
        f"genuine presses whose own read missed the name: {len(missed)}, "
        f"fit {sum(r['fits'] for r in missed)}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--seed", type=int, default=6161)
    parser.add_argument("--presses", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = run(args.n, args.seed, args.presses)
    print(summary(result))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
