"""Where the name runs on an unrolled rim: the detector's text runs and which way up each
stands, which of them make the name (upright, at its height and distance from the centre,
across the gaps of worn ink), the rows that hold it, the columns between its characters,
and its span grown over ink the detector did not box."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.extract.ocr import OcrEngine
from pipeline.extract.seals.ring import as_rgb
from pipeline.extract.seals.text import CJK


@dataclass(frozen=True, slots=True)
class Run:
    x0: float
    x1: float
    height: float
    upright: bool
    middle: float = 0.0
    """Vertical centre in the strip: how far from the seal's centre the run stands."""


def text_runs(engine: OcrEngine, strip: np.ndarray) -> list[Run]:
    """Text runs along a strip holding the ring twice over, and which way up each is: the
    name stands upright, a code on the lower arc stands on its head."""
    quads, pad = engine.detect(as_rgb(strip)), 0
    if not quads:
        # white above and below: a blurred name running into the rim line at the strip's
        # top edge can come out of the detector as no box at all (padding every strip
        # instead joined some names across the seam, twice over)
        pad = strip.shape[0] // 4
        padded = cv2.copyMakeBorder(strip, pad, pad, 0, 0, cv2.BORDER_CONSTANT, value=(255,))
        quads = engine.detect(as_rgb(padded))
    spans = sorted(
        (
            float(q[:, 0].min()),
            float(q[:, 0].max()),
            float(np.ptp(q[:, 1])),
            float(q[:, 1].mean()) - pad,
        )
        for q in quads
    )
    merged: list[list[float]] = []
    for x0, x1, h, y in spans:
        last = merged[-1] if merged else None
        alike = last is not None and min(h, last[2]) > 0.6 * max(h, last[2])
        if last is not None and alike and x0 - last[1] < 0.25 * h:
            last[1] = max(last[1], x1)
            last[2] = max(last[2], h)
        else:
            merged.append([x0, x1, h, y])
    crops = [as_rgb(strip[:, int(m[0]) : int(m[1]) + 1]) for m in merged]
    ups = engine.upright(crops) if crops else []
    # only short runs can be the code: read those, to tell digits from a name's words
    short = [i for i, (a, b, h, _) in enumerate(merged) if b - a < 10 * h]
    read = dict(zip(short, engine.recognize([crops[i] for i in short]), strict=True))
    texts = [read.get(i, ("", 0.0)) for i in range(len(merged))]
    cjk = sum(len(CJK.findall(t)) for t, _ in texts) or len(merged) - len(short)
    runs = []
    for (a, b, h, y), up, (text, _) in zip(merged, ups, texts, strict=True):
        digits = sum(c.isdigit() for c in text)
        if cjk and digits >= max(2, len(text) // 2) and not CJK.search(text):
            up = False  # a run of digits beside a Chinese name: the lower arc's code
        runs.append(Run(a, b, h, up, y))
    return runs


WORD_GAP = 2.5
"""Gaps between a name's runs up to this many character heights are spaces between words."""


MAX_NAME_GAP = 5.0
"""Wider gaps inside a name (worn or dry ink) are spanned up to this many heights, when the
rest of the ring is wider still."""


def name_span(runs: list[Run], turn: int) -> tuple[float, float] | None:
    """The longest chain of upright runs no longer than one turn, of the name's height and
    at the name's distance from the centre (the inscription's outer characters and the
    code's small digits reach into the rim band, but lower and smaller), whose gaps are
    all narrower than the rest of the ring: the widest gap round a seal is where its name
    ends and starts again. Worn ink leaves gaps inside a name (北京泰 … 汽车 …… 有限公司),
    up to a few characters wide; the chain spans them rather than keep only a piece. A
    chain that, once grown, holds a gap no narrower than the rest of the ring has crossed
    the seam (a Latin name spread over two thirds of the ring, read from its last word:
    GmbHACME Trading) and is not the name."""
    upright = [r for r in runs if r.upright]
    if not upright:
        return None
    widest = max(upright, key=lambda r: r.x1 - r.x0)

    def belongs(run: Run) -> bool:
        return (
            run.upright
            and abs(run.middle - widest.middle) < 0.2 * widest.height
            and run.height > 0.6 * widest.height
        )

    # specks (a bracket's tip, a dot of ink) are no break in the name; other text is
    kept = [r for r in runs if belongs(r) or r.x1 - r.x0 >= widest.height]
    best: tuple[float, float] | None = None
    for i, first in enumerate(kept):
        if not belongs(first):
            continue
        chain, inner = (first.x0, first.x1), 0.0
        for run in kept[i + 1 :]:
            gap = run.x0 - chain[1]
            if not belongs(run) or gap > MAX_NAME_GAP * run.height or run.x1 - chain[0] > turn:
                break
            if gap >= WORD_GAP * run.height and turn - (run.x1 - chain[0]) <= max(inner, gap):
                break  # this gap would be no narrower than the rest of the ring
            chain, inner = (chain[0], max(chain[1], run.x1)), max(inner, gap)
        if inner >= WORD_GAP * first.height and inner >= turn - (chain[1] - chain[0]):
            continue  # grown past the seam: a gap inside is as wide as the rest of the ring
        if best is None or chain[1] - chain[0] > best[1] - best[0]:
            best = chain
    return best


def is_worn(runs: list[Run], span: tuple[float, float]) -> bool:
    """Whether the runs of the name leave a gap inside it wider than a word's: characters
    whose ink is missing (see :func:`name_span`)."""
    inside = sorted(
        (r for r in runs if r.upright and r.x0 >= span[0] - 1 and r.x1 <= span[1] + 1),
        key=lambda r: r.x0,
    )
    end = None
    for run in inside:
        if end is not None and run.x0 - end >= WORD_GAP * run.height:
            return True
        end = run.x1 if end is None else max(end, run.x1)
    return False


STEP_RANGE = (0.8, 2.4)
"""Where the next character's centre may stand, in character heights: engravers condense
characters and space them out to fill the arc (a short name on a wide arc)."""


def character_step(strip: np.ndarray, pitch: float) -> float:
    """How far apart the name's characters stand along ``strip`` (columns): the shift at
    which the strip's column ink best repeats itself, within STEP_RANGE pitches (the
    smallest such shift nearly as good as the best: not two characters at once); the pitch
    itself where the ink repeats at no shift (too few characters, or too little ink)."""
    ink = (255 - strip.astype(np.float32)).sum(axis=0)
    ink -= ink.mean()
    lo, hi = int(STEP_RANGE[0] * pitch), int(STEP_RANGE[1] * pitch)
    hi = min(hi, len(ink) // 2)
    energy = float(ink @ ink)
    if hi <= lo or energy <= 0:
        return pitch
    repeats = np.array([float(ink[:-lag] @ ink[lag:]) / energy for lag in range(lo, hi + 1)])
    best = float(repeats.max())
    if best < 0.15:
        return pitch
    peak = int(np.argmax(repeats >= 0.9 * best))
    while peak + 1 < len(repeats) and repeats[peak + 1] >= repeats[peak]:
        peak += 1  # up to the top of that first peak
    return float(lo + peak)


def character_cuts(strip: np.ndarray, pitch: float) -> list[float]:
    """Columns between characters in a name strip: the emptiest column about one pitch
    after the last cut."""
    ink = (255 - strip.astype(np.float32)).sum(axis=0)
    ink = np.convolve(ink, np.ones(max(1, int(pitch / 8))) / max(1, int(pitch / 8)), "same")
    cuts = [0.0]
    while cuts[-1] + 1.5 * pitch < strip.shape[1]:
        lo, hi = int(cuts[-1] + 0.6 * pitch), int(cuts[-1] + 1.3 * pitch)
        cuts.append(float(lo + int(np.argmin(ink[lo:hi]))))
    cuts.append(float(strip.shape[1]))
    return cuts


def extend_by_ink(
    band: np.ndarray,
    span: tuple[float, float],
    pitch: float,
    turn: int,
    others: list[tuple[float, float]] = (),  # type: ignore[assignment]
) -> tuple[float, float]:
    """The name's span grown over the ink next to it. On a blurred photo the detector
    boxes only part of a name (技有限公司 of 远航（上海）新材料科技有限公司); the rest is there,
    a character's gap away. Columns count as ink when they hold a fifth of the ink of the
    name's median column and it stands as tall as the name's characters (a code's digits,
    a character's gap from the name's end, are smaller); the span grows while the gaps stay
    under 1.25 pitch, and never into text the detector found as something else
    (``others``). A full-width bracket's blank half and the gap after it come to about 1.1
    pitch: at 0.9, 汇丰源（郑州）电子科技 on a photographed oval seal stayed 电子科技有限公司."""
    darkness = 255 - band.astype(np.float32)
    ink = darkness.sum(axis=0)
    x0, x1 = int(span[0]), int(span[1])
    inside = ink[x0:x1]
    if inside.size == 0:
        return span
    rows = np.arange(band.shape[0])[:, None]
    marked = darkness > 0.4 * float(np.percentile(darkness[:, x0:x1], 95))
    tops = np.where(marked, rows, band.shape[0]).min(axis=0)
    bottoms = np.where(marked, rows, -1).max(axis=0)
    tall = np.clip(bottoms - tops, 0, None)
    name_tall = float(np.percentile(tall[x0:x1], 75))
    inked = (ink > 0.2 * float(np.median(inside))) & (tall > 0.6 * name_tall)
    for a, b in others:
        inked[max(0, int(a)) : max(0, int(b) + 1)] = False
    room = int(0.8 * turn)
    gap = int(1.25 * pitch)
    left = x0
    while left > 0 and x1 - left < room:
        ahead = inked[max(0, left - gap) : left]
        hits = np.flatnonzero(ahead)
        if not hits.size:
            break
        left = max(0, left - gap) + int(hits[0])
    right = x1
    while right < len(inked) - 1 and right - left < room:
        ahead = inked[right + 1 : right + 1 + gap]
        hits = np.flatnonzero(ahead)
        if not hits.size:
            break
        right = right + 1 + int(hits[-1])
    return float(left), float(right)


def name_rows(runs: list[Run], span: tuple[float, float], height: int) -> tuple[int, int]:
    """The strip's rows that hold the name (its runs' band and a margin), so that the name
    fills the recogniser's 48 px instead of sharing them with the rim line and the code."""
    inside = [r for r in runs if r.upright and r.x0 >= span[0] - 1 and r.x1 <= span[1] + 1]
    if not inside:
        return 0, height
    tall = max(r.height for r in inside)
    middle = float(np.median([r.middle for r in inside]))
    return max(0, int(middle - 0.75 * tall)), min(height, int(middle + 0.75 * tall) + 1)
