"""Seals on a page: found by their red ink, read by unrolling the ring.

Finding: pixels much redder than they are green or blue, closed into blobs, kept when a
blob has a seal's size and an ellipse's outline. Reading: the ink alone (redness, so the
black print underneath drops out) is unrolled around the centre into a strip in which the
rim text runs left to right, upright; the strip is cut at its gaps, the longest run is the
name, a short run on the far side is the code (upside down, so turned), and the middle,
once the seal is turned upright, holds the inscription.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from pipeline.extract.ocr import OcrEngine

WORK_SIDE = 1000
"""Seals are found on the page shrunk to this long side (they are 400+ px at 300 dpi)."""
MIN_SEAL, MAX_SEAL = 0.07, 0.42
"""A seal's diameter as a share of the page's shorter side (A4: 15–88 mm)."""
_CJK = re.compile(r"[\u4e00-\u9fff]")
AUTHORITY = re.compile(r"(局|委员会|厅|人民政府|法院|公安|监督管理|行政管理|质量技术监督)")


@dataclass(frozen=True, slots=True)
class Seal:
    bbox: tuple[int, int, int, int]
    shape: str
    owner: str
    text: str
    inscription: str
    code: str
    confidence: float
    centre: tuple[float, float]
    axes: tuple[float, float]
    ellipse_angle: float
    checks: tuple[tuple[str, float | None], ...] = ()
    """For each expected name: how much less likely it is on the rim than what was read
    (nats, the best of the unrolls; None: the engine cannot tell)."""

    def to_json(self) -> dict[str, Any]:
        return {
            **({"disagreement": dict(self.checks)} if self.checks else {}),
            "bbox": list(self.bbox),
            "shape": self.shape,
            "owner": self.owner,
            "text": self.text,
            "inscription": self.inscription,
            "code": self.code,
            "confidence": round(self.confidence, 3),
        }


def flatten_light(image: np.ndarray) -> np.ndarray:
    """Divide out shading and colour cast (phone photos): paper becomes white everywhere."""
    small = cv2.resize(image, None, fx=0.1, fy=0.1, interpolation=cv2.INTER_AREA)
    paper = cv2.dilate(small, np.ones((7, 7), np.uint8))  # ink is darker than paper
    paper = cv2.GaussianBlur(paper, (0, 0), 3)
    paper = cv2.resize(paper, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    flat: np.ndarray = cv2.divide(image, np.maximum(paper, 1), scale=255)
    return flat


def redness(image: np.ndarray) -> np.ndarray:
    """How much redder than green or blue each pixel is (0–255): seal ink, not print."""
    rgb = image.astype(np.int16)
    red = rgb[..., 0] - np.maximum(rgb[..., 1], rgb[..., 2])
    return np.clip(red, 0, 255).astype(np.uint8)


@dataclass(frozen=True, slots=True)
class _Blob:
    centre: tuple[float, float]
    axes: tuple[float, float]
    angle: float
    bbox: tuple[int, int, int, int]


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    """Whether most of ``inner`` lies within ``outer``."""
    x0, y0 = max(inner[0], outer[0]), max(inner[1], outer[1])
    x1, y1 = min(inner[2], outer[2]), min(inner[3], outer[3])
    overlap = max(0, x1 - x0) * max(0, y1 - y0)
    return overlap > 0.5 * (inner[2] - inner[0]) * (inner[3] - inner[1])


def find_seals(image: np.ndarray) -> list[_Blob]:
    """Red, seal-sized, ellipse-shaped blobs on the page (full-page coordinates)."""
    scale = min(1.0, WORK_SIDE / max(image.shape[:2]))
    small = flatten_light(cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    hue, sat = hsv[..., 0], hsv[..., 1]
    red_hue = (hue <= 8) | (hue >= 165)  # seal ink; the licence's gold border is ~19
    mask = (red_hue & (sat >= 45) & (redness(small) > 20)).astype(np.uint8) * 255
    side = min(small.shape[:2])
    # a dry pad prints a seal in fragments: grow them together before judging the shape
    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (max(3, side // 35),) * 2)
    joined = cv2.dilate(mask, grow)
    contours, _ = cv2.findContours(joined, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    blobs = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if not (MIN_SEAL * side <= max(w, h) <= MAX_SEAL * side * 1.1):
            continue
        region = mask[y : y + h, x : x + w]
        points = cv2.findNonZero(region)
        if points is None or len(points) < 50:
            continue
        hull = cv2.convexHull(points + np.array([[x, y]], dtype=np.int32))
        x, y, w, h = cv2.boundingRect(hull)
        if not (MIN_SEAL * side <= max(w, h) <= MAX_SEAL * side) or not 0.45 <= w / h <= 2.2:
            continue
        (cx, cy), (a, b), angle = cv2.fitEllipse(hull)
        if cv2.contourArea(hull) < 0.75 * math.pi * a * b / 4:
            continue  # not an ellipse's outline: red print, a signature, a logo
        filled = cv2.countNonZero(mask[y : y + h, x : x + w]) / float(w * h)
        if not 0.04 <= filled <= 0.55:
            continue  # too little ink for a seal, or a filled disc (the national emblem)
        inv = 1 / scale
        pad = 0.04 * max(w, h)
        bbox = (
            int((x - pad) * inv),
            int((y - pad) * inv),
            int((x + w + pad) * inv),
            int((y + h + pad) * inv),
        )
        blobs.append(_Blob((cx * inv, cy * inv), (a * inv, b * inv), angle, bbox))
    # a seal printed in pieces can also yield a piece of its own: keep the whole
    blobs.sort(key=lambda b: -(b.bbox[2] - b.bbox[0]) * (b.bbox[3] - b.bbox[1]))
    kept: list[_Blob] = []
    for blob in blobs:
        if not any(_inside(blob.bbox, other.bbox) for other in kept):
            kept.append(blob)
    return kept


def _contrast(ink: np.ndarray) -> np.ndarray:
    """Ink stretched so that its strong strokes are black and its faint ones (a dry pad, a
    photo's glare) still dark: scaled to its 98th percentile, then lifted by a gamma."""
    strokes = ink[ink > 12]
    top = float(np.percentile(strokes, 98)) if strokes.size > 100 else float(ink.max())
    scaled = np.clip(ink.astype(np.float32) / max(top, 20.0), 0.0, 1.0)
    lifted: np.ndarray = (255 * scaled**0.7).astype(np.uint8)
    return lifted


def _ink_image(image: np.ndarray, blob: _Blob) -> tuple[np.ndarray, float, float]:
    """The seal's ink as black on white, straightened to a circle, and its centre/radius."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = blob.bbox
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    flat = flatten_light(image[y0:y1, x0:x1])
    ink = _contrast(redness(flat))
    # black print crossing the seal (盖章 labels, signatures) leaves holes in the red: fill
    # them from the ink around them, so a character under a stroke of print stays whole
    printed = (flat.max(axis=2) < 110).astype(np.uint8)
    if printed.any():
        printed = cv2.dilate(printed, np.ones((3, 3), np.uint8))
        ink = cv2.inpaint(ink, printed, 3, cv2.INPAINT_TELEA)
    paper = 255 - ink
    cx, cy = blob.centre[0] - x0, blob.centre[1] - y0
    a, b = blob.axes
    if min(a, b) / max(a, b) < 0.88:  # oval: map the ellipse onto a circle of its long axis
        radius = max(a, b) / 2
        theta = math.radians(blob.angle)  # direction of the axis ``a``
        axes = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
        stretch = axes @ np.diag([radius / (a / 2), radius / (b / 2)]) @ axes.T
        side = int(2.2 * radius)
        offset = np.array([side / 2, side / 2]) - stretch @ np.array([cx, cy])
        matrix = np.hstack([stretch, offset[:, None]])
        paper = cv2.warpAffine(
            paper, matrix, (side, side), flags=cv2.INTER_CUBIC, borderValue=(255,)
        )
        cx = cy = side / 2
    return paper, cx, cy


@dataclass(frozen=True, slots=True)
class _Run:
    x0: float
    x1: float
    height: float
    upright: bool
    middle: float = 0.0
    """Vertical centre in the strip: how far from the seal's centre the run stands."""


def _runs(engine: OcrEngine, strip: np.ndarray) -> list[_Run]:
    """Text runs along a strip holding the ring twice over, and which way up each is: the
    name stands upright, a code on the lower arc stands on its head."""
    quads = engine.detect(_as_rgb(strip))
    spans = sorted(
        (float(q[:, 0].min()), float(q[:, 0].max()), float(np.ptp(q[:, 1])), float(q[:, 1].mean()))
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
    crops = [_as_rgb(strip[:, int(m[0]) : int(m[1]) + 1]) for m in merged]
    ups = engine.upright(crops) if crops else []
    # only short runs can be the code: read those, to tell digits from a name's words
    short = [i for i, (a, b, h, _) in enumerate(merged) if b - a < 10 * h]
    read = dict(zip(short, engine.recognize([crops[i] for i in short]), strict=True))
    texts = [read.get(i, ("", 0.0)) for i in range(len(merged))]
    cjk = sum(len(_CJK.findall(t)) for t, _ in texts) or len(merged) - len(short)
    runs = []
    for (a, b, h, y), up, (text, _) in zip(merged, ups, texts, strict=True):
        digits = sum(c.isdigit() for c in text)
        if cjk and digits >= max(2, len(text) // 2) and not _CJK.search(text):
            up = False  # a run of digits beside a Chinese name: the lower arc's code
        runs.append(_Run(a, b, h, up, y))
    return runs


def _name_span(runs: list[_Run], turn: int) -> tuple[float, float] | None:
    """The longest chain of upright runs (word gaps allowed) no longer than one turn, of
    the name's height and at the name's distance from the centre: the inscription's outer
    characters and the code's small digits reach into the rim band, but lower and smaller."""
    upright = [r for r in runs if r.upright]
    if not upright:
        return None
    widest = max(upright, key=lambda r: r.x1 - r.x0)
    best: tuple[float, float] | None = None
    chain: tuple[float, float] | None = None
    for run in runs:
        belongs = (
            run.upright
            and abs(run.middle - widest.middle) < 0.2 * widest.height
            and run.height > 0.6 * widest.height
        )
        if not belongs:
            chain = None
            continue
        gap = run.x0 - chain[1] if chain is not None else 0.0
        if chain is not None and gap < 2.5 * run.height and run.x1 - chain[0] <= turn:
            chain = (chain[0], run.x1)
        else:
            chain = (run.x0, run.x1)
        if best is None or chain[1] - chain[0] > best[1] - best[0]:
            best = chain
    return best


def read_seal(
    image: np.ndarray, blob: _Blob, engine: OcrEngine, expect: tuple[str, ...] = ()
) -> Seal:
    paper, cx, cy = _ink_image(image, blob)
    radius = max(blob.axes) / 2
    turn = max(360, int(2 * math.pi * radius))
    zoom = max(1.0, 230 / radius)  # photos shrink seals: read them at 300-dpi size
    polar = cv2.warpPolar(
        255 - paper,
        (int(radius * zoom), int(turn * zoom)),
        (cx, cy),
        radius * 1.02,
        cv2.WARP_POLAR_LINEAR + cv2.INTER_CUBIC,
    )
    band = polar[:, int(0.5 * radius * zoom) :]  # rows: angle, columns: radius (rim at right)
    strip = 255 - np.rot90(band)  # angle runs left to right, outward is up
    # columns measure arc at the rim; the text stands at about 0.78 R: undo the stretch
    strip = cv2.resize(strip, None, fx=0.8, fy=1.0, interpolation=cv2.INTER_AREA)
    turn = strip.shape[1]
    twice = np.hstack([strip, strip])
    runs = _runs(engine, twice)
    span = _name_span(runs, turn)
    text, score, inscription, code = "", 0.0, "", ""
    checks: tuple[tuple[str, float | None], ...] = tuple((name, None) for name in expect)
    if span is not None:
        x0, x1 = span
        pad = int(0.01 * turn)
        rows = _name_rows(runs, span, twice.shape[0])
        name_strip = twice[rows[0] : rows[1], max(0, int(x0) - pad) : int(x1) + pad]
        # read character by character, each turned upright on its own (see _rigid_unroll)
        width = polar.shape[1]
        outer, inner = ((width - 1 - r) / width * 1.02 * radius for r in rows)
        pitch = max(r.height for r in runs if r.upright) / 1.5  # det boxes are padded
        start = max(0, int(x0) - pad)

        def rigid(cuts: list[float]) -> np.ndarray:
            angles = [2 * math.pi * (start + c) / turn for c in cuts]
            return _as_rgb(_rigid_unroll(paper, (cx, cy), angles, (outer, inner), zoom))

        evenly = [*np.arange(0, name_strip.shape[1], 0.9 * pitch).tolist(), name_strip.shape[1]]
        crops = [rigid(_character_cuts(name_strip, pitch)), _as_rgb(name_strip)]
        reads = engine.recognize(crops)
        if _fold(reads[0][0]) != _fold(reads[1][0]):  # they disagree: a third to decide
            crops.append(rigid(evenly))
            reads += engine.recognize(crops[2:])
        text, score = _vote(reads)
        checks = tuple((name, _best_fit(engine, crops, name)) for name in expect)
        middle = ((x0 + x1) / 2 % turn) * 360 / turn
        code = _read_code(twice, runs, engine)
        inscription = _read_inscription(paper, cx, cy, radius, middle, engine)
    text = _end_at_legal_form(_trim_code_fragments(re.sub(r"\s+", "", text)))
    owner = "authority" if is_authority(text) else "company"
    a, b = blob.axes
    shape = "round" if min(a, b) / max(a, b) >= 0.88 else "oval"
    return Seal(
        blob.bbox,
        shape,
        owner,
        text,
        inscription,
        code,
        score,
        blob.centre,
        blob.axes,
        blob.angle,
        checks,
    )


def _best_fit(engine: OcrEngine, crops: list[np.ndarray], name: str) -> float | None:
    """How well the best of the unrolled rims fits ``name`` (see OcrEngine.disagreement)."""
    fits = [engine.disagreement(crop, name) for crop in crops]
    known = [f for f in fits if f is not None]
    return round(min(known), 2) if known else None


def _vote(reads: list[tuple[str, float]]) -> tuple[str, float]:
    """The text that most reads agree on (white space aside); without a majority, the most
    confident read. Each unroll fails differently: cut between characters, a bracket can
    throw the cuts; cut in even tiles, a character can fall apart; bent, its top shrinks."""
    texts = Counter(_fold(t) for t, _ in reads if t.strip())
    if texts:
        text, votes = texts.most_common(1)[0]
        if votes >= 2:
            return text, max(sc for t, sc in reads if _fold(t) == text)
    return max(reads, key=lambda r: r[1])


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _rigid_unroll(
    paper: np.ndarray,
    centre: tuple[float, float],
    cuts: list[float],
    radii: tuple[float, float],
    zoom: float,
) -> np.ndarray:
    """The ring between ``radii`` (outer, inner) laid out straight, one character at a time
    (``cuts``: the angles, in radians, between characters), each character turned rigidly
    rather than bent. A polar unroll squeezes every character's top (its outer edge) by the
    ratio of the radii, and 同 came out as 局."""
    cx, cy = centre
    outer, inner = radii
    middle = (outer + inner) / 2
    height = max(8, int((outer - inner) * zoom))
    depth = outer - np.arange(height, dtype=np.float32)[:, None] / zoom
    pieces = []
    for start, end in itertools.pairwise(cuts):
        width = max(2, int((end - start) * middle * zoom))
        theta = (start + end) / 2
        along = (np.arange(width, dtype=np.float32) - width / 2) / zoom
        cos, sin = math.cos(theta), math.sin(theta)
        map_x = (cx + depth * cos - along[None, :] * sin).astype(np.float32)
        map_y = (cy + depth * sin + along[None, :] * cos).astype(np.float32)
        pieces.append(cv2.remap(paper, map_x, map_y, cv2.INTER_CUBIC, borderValue=(255,)))
    return np.hstack(pieces)


def _character_cuts(strip: np.ndarray, pitch: float) -> list[float]:
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


def _name_rows(runs: list[_Run], span: tuple[float, float], height: int) -> tuple[int, int]:
    """The strip's rows that hold the name (its runs' band and a margin), so that the name
    fills the recogniser's 48 px instead of sharing them with the rim line and the code."""
    inside = [r for r in runs if r.upright and r.x0 >= span[0] - 1 and r.x1 <= span[1] + 1]
    if not inside:
        return 0, height
    tall = max(r.height for r in inside)
    middle = float(np.median([r.middle for r in inside]))
    return max(0, int(middle - 0.75 * tall)), min(height, int(middle + 0.75 * tall) + 1)


COMPANY_WORDS = re.compile(r"(有限|股份|公司|集团|合作社|事务所|GmbH|Ltd|SAS|Inc)")


def is_authority(name: str) -> bool:
    """A seal of a government body (…市场监督管理局), not a company's: a name with a
    company's legal form in it stays a company's, even with 局 misread into it."""
    return not COMPANY_WORDS.search(name) and bool(AUTHORITY.search(name))


_NAME_END = re.compile(
    r"(公司|局|委员会|厂|中心|研究院|研究所|事务所|合作社|GmbH|AG|Ltd\.?|SAS|AB|Inc\.?)"
)


def _end_at_legal_form(text: str) -> str:
    """A name ends at its legal form (公司, 局 …): characters read beyond it are the
    inscription's outer characters, which reach into the rim band at its ends."""
    ends = [m.end() for m in _NAME_END.finditer(text)]
    if ends and len(text) - ends[-1] <= 4:
        return text[: ends[-1]]
    return text


def _trim_code_fragments(text: str) -> str:
    """A Chinese rim name never starts or ends with digits or symbols: those are pieces of
    the lower arc's code read along with it."""
    if len(_CJK.findall(text)) < 4:
        return text.strip()
    for pattern in (r"^[^\u4e00-\u9fff（(]+", r"[^\u4e00-\u9fff）)]+$"):
        match = re.search(pattern, text)
        if match and any(not c.isalpha() for c in match.group()):
            text = text[: match.start()] + text[match.end() :]
    return text


def _read_code(twice: np.ndarray, runs: list[_Run], engine: OcrEngine) -> str:
    """The code on the lower arc faces the centre: the upside-down run, turned."""
    upside_down = [r for r in runs if not r.upright]
    if not upside_down:
        return ""
    run = max(upside_down, key=lambda r: r.x1 - r.x0)
    crop = twice[:, int(run.x0) : int(run.x1) + 1]
    ((text, score),) = engine.recognize([_as_rgb(np.rot90(crop, 2))])
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= 8 and score > 0.5 else ""


def _read_inscription(
    paper: np.ndarray, cx: float, cy: float, radius: float, name_deg: float, engine: OcrEngine
) -> str:
    turn = name_deg - 270  # the name's middle belongs at the top
    matrix = cv2.getRotationMatrix2D((cx, cy), turn, 1.0)
    upright = cv2.warpAffine(paper, matrix, paper.shape[::-1], borderValue=255)
    y0, y1 = int(cy + 0.2 * radius), int(cy + 0.68 * radius)
    x0, x1 = int(cx - 0.62 * radius), int(cx + 0.62 * radius)
    region = upright[max(0, y0) : y1, max(0, x0) : x1]
    if region.size == 0 or (255 - region).sum() < 255 * 0.02 * region.size:
        return ""
    ((text, score),) = engine.recognize([_as_rgb(region)])
    text = re.sub(r"[^\u4e00-\u9fff]", "", text)
    return text if score > 0.6 and len(text) >= 3 else ""


def _as_rgb(grey: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(cv2.cvtColor(np.ascontiguousarray(grey), cv2.COLOR_GRAY2RGB))


def detect_and_read(
    image: np.ndarray, engine: OcrEngine, expect: tuple[str, ...] = ()
) -> list[Seal]:
    """Every seal on the page, read; ``expect``: names to weigh each rim against."""
    return [read_seal(image, blob, engine, expect) for blob in find_seals(image)]
