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
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from pipeline.extract.ocr import PERFECT_FIT, OcrEngine

WORK_SIDE = 1000
"""Seals are found on the page shrunk to this long side (they are 400+ px at 300 dpi)."""
MIN_SEAL, MAX_SEAL = 0.07, 0.42
"""A seal's diameter as a share of the page's shorter side (A4: 15–88 mm)."""
READ_RADIUS = 230
"""The larger semi-axis (px) a seal is read at: a 40 mm seal at 300 dpi; smaller ones (phone
photos) are enlarged to it."""
ROUND = 0.88
"""A seal whose short axis is at least this share of its long one is round (a circle
pressed on a slant, or photographed from the side, comes out a little oval)."""
GUIDE_EPS = 8.0
"""The guided filter's regulariser (:func:`sharp_redness`): small, so the fit follows
edges of low contrast too."""
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
    worn: bool = False
    """The name has a stretch without readable ink inside it, wider than a word's gap: a
    dry pad or a worn seal left characters out (see :func:`_worn`)."""

    def to_json(self) -> dict[str, Any]:
        return {
            **({"disagreement": dict(self.checks)} if self.checks else {}),
            **({"worn": True} if self.worn else {}),
            "bbox": list(self.bbox),
            "shape": self.shape,
            "owner": self.owner,
            "text": self.text,
            "inscription": self.inscription,
            "code": self.code,
            "confidence": round(self.confidence, 3),
            "ellipse": {
                "centre": [round(v, 1) for v in self.centre],
                "axes": [round(v, 1) for v in self.axes],
                "angle": round(self.ellipse_angle, 2),
            },
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
    # the faint ink of a dry or tilted press: not enough to find a seal by, but part of
    # its outline (isolated coloured specks of a scan opened away)
    faint = (red_hue & (sat >= 15) & (redness(small) > 6)).astype(np.uint8) * 255
    faint = cv2.morphologyEx(faint, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    side = min(small.shape[:2])
    # a dry pad prints a seal in fragments: grow them together before judging the shape
    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (max(3, side // 35),) * 2)
    joined = cv2.dilate(mask, grow)
    contours, _ = cv2.findContours(joined, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    rects = [cv2.boundingRect(c) for c in contours]
    look = _Look(mask, faint, grow, side, scale)
    blobs = []
    # a seal half hidden under a pasted card falls apart: try its overlapping pieces together
    group = list(range(len(rects)))

    def root(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    for i, j in itertools.combinations(range(len(rects)), 2):
        if _overlap(rects[i], rects[j]):
            group[root(j)] = root(i)
    members: dict[int, list[int]] = {}
    for i in range(len(rects)):
        members.setdefault(root(i), []).append(i)
    for pieces in members.values():
        whole = _blob_at(_union([rects[i] for i in pieces]), look) if len(pieces) > 1 else None
        if whole is not None:
            blobs.append(whole)
            continue
        blobs += [b for b in (_blob_at(rects[i], look) for i in pieces) if b is not None]
    # a seal printed in pieces can also yield a piece of its own: keep the whole
    blobs.sort(key=lambda b: -(b.bbox[2] - b.bbox[0]) * (b.bbox[3] - b.bbox[1]))
    kept: list[_Blob] = []
    for blob in blobs:
        if not any(_inside(blob.bbox, other.bbox) for other in kept):
            kept.append(blob)
    return kept


@dataclass(frozen=True, slots=True)
class _Look:
    """What find_seals looks through: the strong and faint red ink (page shrunk by
    ``scale``), the growth that joins a seal's fragments, the page's shorter side."""

    mask: np.ndarray
    faint: np.ndarray
    grow: np.ndarray
    side: int
    scale: float


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Whether two boxes (x, y, w, h) share a tenth of the smaller one."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return w > 0 and h > 0 and w * h > 0.1 * min(a[2] * a[3], b[2] * b[3])


def _union(rects: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    left, top = min(r[0] for r in rects), min(r[1] for r in rects)
    right, bottom = max(r[0] + r[2] for r in rects), max(r[1] + r[3] for r in rects)
    return left, top, right - left, bottom - top


def _blob_at(rect: tuple[int, int, int, int], look: _Look) -> _Blob | None:
    """The seal whose ink lies in ``rect`` of the shrunk page, if it looks like one."""
    mask, faint, grow, side, scale = look.mask, look.faint, look.grow, look.side, look.scale
    small_shape = mask.shape
    x, y, w, h = rect
    if not (MIN_SEAL * side <= max(w, h) <= MAX_SEAL * side * 1.1):
        return None
    region = mask[y : y + h, x : x + w]
    points = cv2.findNonZero(region)
    if points is None or len(points) < 50:
        return None
    strong = cv2.convexHull(points + np.array([[x, y]], dtype=np.int32))
    hull = _outline(strong, faint, grow)
    if _ellipse_share(hull) < max(0.75, _ellipse_share(strong) - 0.05):
        hull = strong  # the faint ink made a worse ellipse: a hidden part, other red
    x, y, w, h = cv2.boundingRect(hull)
    if not (MIN_SEAL * side <= max(w, h) <= MAX_SEAL * side) or not 0.45 <= w / h <= 2.2:
        return None
    # a seal stamped over the page's edge: its outline is what lies inside the page
    cut = (
        (hull[:, 0, 0] <= 1)
        | (hull[:, 0, 1] <= 1)
        | (hull[:, 0, 0] >= small_shape[1] - 2)
        | (hull[:, 0, 1] >= small_shape[0] - 2)
    )
    outline = hull[~cut] if cut.any() and (~cut).sum() >= 8 else hull
    (cx, cy), (a, b), angle = cv2.fitEllipse(outline)
    if not cut.any() and cv2.contourArea(hull) < 0.75 * math.pi * a * b / 4:
        return None  # not an ellipse's outline: red print, a signature, a logo
    if cut.any() and not 0.45 <= a / b <= 2.2:
        return None
    filled = cv2.countNonZero(mask[y : y + h, x : x + w]) / float(w * h)
    if not 0.04 <= filled <= 0.55:
        return None  # too little ink for a seal, or a filled disc (the national emblem)
    inv = 1 / scale
    pad = 0.04 * max(w, h)
    bbox = (
        int((x - pad) * inv),
        int((y - pad) * inv),
        int((x + w + pad) * inv),
        int((y + h + pad) * inv),
    )
    return _Blob((cx * inv, cy * inv), (a * inv, b * inv), angle, bbox)


def _ellipse_share(hull: np.ndarray) -> float:
    """How much of its fitted ellipse a convex outline covers (1 for an ellipse)."""
    (_, _), (a, b), _ = cv2.fitEllipse(hull)
    return float(cv2.contourArea(hull) / max(1.0, math.pi * a * b / 4))


def _outline(hull: np.ndarray, faint: np.ndarray, grow: np.ndarray) -> np.ndarray:
    """A seal's convex outline (``hull``, of its strong ink), grown by the faint ink
    joined to it: the ring's dry side, missed, made a round seal look oval."""
    points = hull
    x, y, w, h = cv2.boundingRect(hull)
    margin = max(w, h) // 4
    x0, y0 = max(0, x - margin), max(0, y - margin)
    window = faint[y0 : y + h + margin, x0 : x + w + margin]
    count, labels = cv2.connectedComponents(cv2.dilate(window, grow))
    flat = points.reshape(-1, 2)
    inside = labels[flat[:, 1] - y0, flat[:, 0] - x0]
    ours = np.unique(inside[inside > 0])
    if count < 2 or not len(ours):
        return hull
    more = cv2.findNonZero((np.isin(labels, ours) & (window > 0)).astype(np.uint8))
    if more is None:
        return hull
    more = more.reshape(-1, 2) + np.array([[x0, y0]], dtype=np.int32)
    grown: np.ndarray = cv2.convexHull(np.vstack([flat, more]))
    if cv2.contourArea(grown) > 1.8 * cv2.contourArea(hull):
        return hull  # joined to other red on the page: keep the strong outline
    return grown


def sharp_redness(flat: np.ndarray, radius: int = 2) -> np.ndarray:
    """Redness (see :func:`redness`) at the sharpness of the image's brightness.

    A JPEG (every phone photo, many scans) keeps colour at half the resolution of
    brightness, so redness alone draws a seal's characters as blurred blobs. Redness is
    fitted here, window by window, as a linear function of the darkness of the green
    channel (a guided filter, He et al. 2010): the strokes take their shape from the
    darkness, their weight from the redness, and black print, dark but not red, stays out.
    ``radius`` 2 for seals of a phone photo, 1 for one at scan resolution. On 282 seals of
    a development corpus (seed 7373, not the bench's), rims read exactly on phone photos
    went from 41 % to 77 %; on scans, from 94 % to 95 %."""
    red = redness(flat).astype(np.float32)
    guide = 255.0 - flat[..., 1].astype(np.float32)
    window = (2 * radius + 1,) * 2

    def mean(x: np.ndarray) -> np.ndarray:
        blurred: np.ndarray = cv2.blur(x, window)
        return blurred

    mean_guide, mean_red = mean(guide), mean(red)
    slope = (mean(guide * red) - mean_guide * mean_red) / (
        mean(guide * guide) - mean_guide**2 + GUIDE_EPS
    )
    offset = mean_red - slope * mean_guide
    fitted = mean(slope) * guide + mean(offset)
    sharp: np.ndarray = np.clip(fitted, 0, 255).astype(np.uint8)
    return sharp


def _contrast(ink: np.ndarray) -> np.ndarray:
    """Ink stretched so that its strong strokes are black and its faint ones (a dry pad, a
    photo's glare) still dark: scaled to its 98th percentile, then lifted by a gamma."""
    strokes = ink[ink > 12]
    top = float(np.percentile(strokes, 98)) if strokes.size > 100 else float(ink.max())
    scaled = np.clip(ink.astype(np.float32) / max(top, 20.0), 0.0, 1.0)
    lifted: np.ndarray = (255 * scaled**0.7).astype(np.uint8)
    return lifted


def _ink_image(image: np.ndarray, blob: _Blob) -> tuple[np.ndarray, _Ring]:
    """The seal's ink as black on white, and its outline in the crop's coordinates."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = blob.bbox
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    flat = flatten_light(image[y0:y1, x0:x1])
    # a seal at scan resolution: JPEG's colour blur is small beside its strokes
    radius = 1 if max(blob.axes) / 2 >= 180 else 2
    ink = _contrast(sharp_redness(flat, radius))
    # black print crossing the seal (盖章 labels, signatures) leaves holes in the red: fill
    # them from the ink around them, so a character under a stroke of print stays whole
    printed = (flat.max(axis=2) < 110).astype(np.uint8)
    if printed.any():
        printed = cv2.dilate(printed, np.ones((3, 3), np.uint8))
        ink = cv2.inpaint(ink, printed, 3, cv2.INPAINT_TELEA)
    a, b = blob.axes
    ring = _Ring(
        (blob.centre[0] - x0, blob.centre[1] - y0), (a / 2, b / 2), math.radians(blob.angle)
    )
    return 255 - ink, ring


@dataclass(frozen=True, slots=True)
class _Ring:
    """A seal's outline: an ellipse (a circle for a round seal), walked along curves
    parallel to it. An oval's rim text keeps its distance from the rim, so it follows a
    parallel curve, not a smaller ellipse: stretching the oval onto a circle bent the name
    into a wave that the detector lost."""

    centre: tuple[float, float]
    semi: tuple[float, float]
    angle: float
    """Direction of the first semi-axis, radians (image coordinates, y down)."""

    @property
    def small(self) -> float:
        return min(self.semi)

    @property
    def large(self) -> float:
        return max(self.semi)

    def at(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points of the outline at parameters ``t`` and their outward unit normals."""
        a, b = self.semi
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        ex, ey = a * np.cos(t), b * np.sin(t)
        nx, ny = np.cos(t) / a, np.sin(t) / b
        norm = np.hypot(nx, ny)
        nx, ny = nx / norm, ny / norm
        points = np.stack(
            [self.centre[0] + ex * cos - ey * sin, self.centre[1] + ex * sin + ey * cos], -1
        )
        normals = np.stack([nx * cos - ny * sin, nx * sin + ny * cos], -1)
        return points, normals

    def walk(self, depth: float, columns: int) -> np.ndarray:
        """Parameters of ``columns`` points evenly spaced by arc length along the curve
        ``depth`` px inside the outline, once round."""
        dense = np.linspace(0, 2 * math.pi, 2049)
        points, normals = self.at(dense)
        inner = points - depth * normals
        length = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(inner, axis=0).T))])
        targets = np.arange(columns) * length[-1] / columns
        walked: np.ndarray = np.interp(targets, length, dense)
        return walked

    def length(self, depth: float) -> float:
        points, normals = self.at(np.linspace(0, 2 * math.pi, 2049))
        inner = points - depth * normals
        return float(np.hypot(*np.diff(inner, axis=0).T).sum())

    def unroll(self, paper: np.ndarray, t: np.ndarray, depths: np.ndarray) -> np.ndarray:
        """The ring laid out straight: a column for each parameter, a row for each depth
        (outermost at the top), so the rim text runs left to right, upright."""
        points, normals = self.at(t)
        map_x = points[None, :, 0] - depths[:, None] * normals[None, :, 0]
        map_y = points[None, :, 1] - depths[:, None] * normals[None, :, 1]
        flat: np.ndarray = cv2.remap(
            paper,
            map_x.astype(np.float32),
            map_y.astype(np.float32),
            cv2.INTER_CUBIC,
            borderValue=(255,),
        )
        return flat

    def up(self, t: float) -> float:
        """The outward normal's direction at ``t``, degrees (image coordinates)."""
        _, normals = self.at(np.array([t]))
        return math.degrees(math.atan2(normals[0, 1], normals[0, 0])) % 360


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
    quads, pad = engine.detect(_as_rgb(strip)), 0
    if not quads:
        # white above and below: a blurred name running into the rim line at the strip's
        # top edge can come out of the detector as no box at all (padding every strip
        # instead joined some names across the seam, twice over)
        pad = strip.shape[0] // 4
        padded = cv2.copyMakeBorder(strip, pad, pad, 0, 0, cv2.BORDER_CONSTANT, value=(255,))
        quads = engine.detect(_as_rgb(padded))
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


WORD_GAP = 2.5
"""Gaps between a name's runs up to this many character heights are spaces between words."""
MAX_NAME_GAP = 5.0
"""Wider gaps inside a name (worn or dry ink) are spanned up to this many heights, when the
rest of the ring is wider still."""


def _name_span(runs: list[_Run], turn: int) -> tuple[float, float] | None:
    """The longest chain of upright runs no longer than one turn, of the name's height and
    at the name's distance from the centre (the inscription's outer characters and the
    code's small digits reach into the rim band, but lower and smaller), whose gaps are
    all narrower than the rest of the ring: the widest gap round a seal is where its name
    ends and starts again. Worn ink leaves gaps inside a name (北京泰 … 汽车 …… 有限公司),
    up to a few characters wide; the chain spans them rather than keep only a piece."""
    upright = [r for r in runs if r.upright]
    if not upright:
        return None
    widest = max(upright, key=lambda r: r.x1 - r.x0)

    def belongs(run: _Run) -> bool:
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
        if best is None or chain[1] - chain[0] > best[1] - best[0]:
            best = chain
    return best


def read_seal(
    image: np.ndarray, blob: _Blob, engine: OcrEngine, expect: tuple[str, ...] = ()
) -> Seal:
    """The seal in ``blob`` read: the rim by ``engine`` where its two reads agree, else by
    the engine's seal recogniser (see OcrEngine.for_seals), and weighed by it; the
    inscription and the code, straight print, by ``engine``. On a development corpus (384
    company seals) this read 351 rims exactly, against 347 with the seal recogniser alone
    and 339 with the print one."""
    rim = engine.for_seals()
    paper, ring = _ink_image(image, blob)
    zoom = max(1.0, READ_RADIUS / ring.large)  # photos shrink seals: read them at 300-dpi size
    # columns measure arc where the name's middle runs, about a fifth of the way in
    middle = 0.2 * ring.small
    turn = max(360, int(ring.length(middle) * zoom))
    walked = ring.walk(middle, turn)
    depths = np.arange(int(0.44 * ring.small * zoom)) / zoom - 0.02 * ring.small
    strip = ring.unroll(paper, walked, depths)
    twice = np.hstack([strip, strip])
    runs = _runs(rim, twice)
    span = _name_span(runs, turn)
    text, score, inscription, code = "", 0.0, "", ""
    checks: tuple[tuple[str, float | None], ...] = tuple((name, None) for name in expect)
    if span is not None:
        rows = _name_rows(runs, span, twice.shape[0])
        pitch = max(r.height for r in runs if r.upright) / 1.5  # det boxes are padded
        thrice = np.hstack([strip, strip, strip])
        shift = turn if span[0] < turn else 0  # into the middle turn: room on both sides
        others = [
            (r.x0 + k * turn - shift, r.x1 + k * turn - shift)
            for r in runs
            for k in (0, 1, 2)
            if not (r.x0 >= span[0] - 1 and r.x1 <= span[1] + 1)
            and (not r.upright or r.height < 0.6 * pitch * 1.5)  # the code, small print
        ]
        x0, x1 = _extend_by_ink(
            thrice[rows[0] : rows[1]],
            (span[0] + shift, span[1] + shift),
            pitch,
            turn,
            [(a + shift, b + shift) for a, b in others],
        )
        pad = int(0.01 * turn)
        start = max(0, int(x0) - pad)
        name_strip = thrice[rows[0] : rows[1], start : int(x1) + pad]
        # read character by character, each turned upright on its own (see _rigid_unroll)
        band = (float(depths[rows[0]]), float(depths[rows[1] - 1]))

        def rigid(cuts: list[float]) -> np.ndarray:
            columns = [start + c for c in cuts]
            return _as_rgb(_rigid_unroll(paper, ring, walked, columns, band, zoom))

        evenly = [*np.arange(0, name_strip.shape[1], 0.9 * pitch).tolist(), name_strip.shape[1]]
        crops = [rigid(_character_cuts(name_strip, pitch)), _as_rgb(name_strip)]
        # the print recogniser first: where its two reads agree, the seal is read (most
        # inked seals); where they do not, the seal recogniser reads it, a third to decide
        reads = engine.recognize(crops) if rim is not engine else []
        if not reads or _fold(reads[0][0]) != _fold(reads[1][0]):
            reads = rim.recognize(crops)
            if _fold(reads[0][0]) != _fold(reads[1][0]):
                crops.append(rigid(evenly))
                reads += rim.recognize(crops[2:])
        text, score = _vote(reads)

        def widened(name: str) -> list[np.ndarray]:
            """The rim around the name read, widened by the characters it lacks: a faint
            first or last character left out of the span must not count against a name."""
            if _fold(name) == _fold(text):
                return []
            lacking = (max(0, len(name) - len(_fold(text))) + 1) * 1.1 * pitch
            lacking = min(lacking, 0.85 * turn - (x1 - x0))
            if lacking <= 0:
                return []
            spans = [(-lacking, 0.0), (0.0, lacking), (-lacking / 2, lacking / 2)]
            return [
                rigid([*np.arange(a, x1 - start + b, 0.9 * pitch).tolist(), x1 - start + b])
                for a, b in spans
            ]

        checks = tuple((name, _best_fit(rim, [*crops, *widened(name)], name)) for name in expect)
        # the name's middle is the seal's top; the span grown over ink can take in the
        # inscription's outer characters, which reach into the name's band low on the
        # ring, so the middle of the span the detector found is tried as well
        ups = [ring.up(_parameter(walked, (a + b) / 2)) for a, b in ((x0, x1), span)]
        code = _read_code(twice, runs, engine)
        inscription = _read_inscription(paper, ring, ups, engine)
    text = clean_rim_read(text)
    owner = "authority" if is_authority(text) else "company"
    a, b = blob.axes
    shape = "round" if min(a, b) / max(a, b) >= ROUND else "oval"
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
        span is not None and _worn(runs, span),
    )


def _worn(runs: list[_Run], span: tuple[float, float]) -> bool:
    """Whether the runs of the name leave a gap inside it wider than a word's: characters
    whose ink is missing (see :func:`_name_span`)."""
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


def _best_fit(engine: OcrEngine, crops: list[np.ndarray], name: str) -> float | None:
    """How well the best of the unrolled rims fits ``name`` (see OcrEngine.disagreement),
    as a rim engraves it: a Latin name also without its spaces (its letters stand spaced
    round the ring) and accents, in capitals."""
    forms = {name}
    if not _CJK.search(name):
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
        )
        forms |= {plain, plain.replace(" ", ""), plain.replace(" ", "").upper()}
    best = None
    for crop in crops:
        for form in forms:
            fit = engine.disagreement(crop, form)
            if fit is not None and (best is None or fit < best):
                best = fit
            if best is not None and best < PERFECT_FIT:
                return 0.0  # nothing fits better: the other crops need not be weighed
    return None if best is None else round(best, 2)


def _vote(reads: list[tuple[str, float]]) -> tuple[str, float]:
    """The text that most reads agree on (white space aside); without a majority, the most
    confident read. Each unroll fails differently: cut between characters, a bracket can
    throw the cuts; cut in even tiles, a character can fall apart; bent, its top shrinks.

    Without a majority no read is sure, however confident the recogniser was of each: the
    chosen read's confidence is shared with the reads that saw something else (divided by
    their number). A blurred oval on a phone photo read 宁安图…有最责任公司 at 0.96, 完安图…
    and …有章责任公司 beside it, and that 0.96 had made a clean seal a confident other name."""
    cleaned = [(clean_rim_read(t), score) for t, score in reads]
    texts = Counter(_fold(t) for t, _ in cleaned if t.strip())
    if texts:
        text, votes = texts.most_common(1)[0]
        if votes >= 2:
            return max((r for r in cleaned if _fold(r[0]) == text), key=lambda r: r[1])
    text, score = max(cleaned, key=lambda r: r[1])
    return text, score / len(cleaned)


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _parameter(walked: np.ndarray, column: float) -> float:
    """The outline's parameter at a (fractional, possibly second-turn) strip column."""
    turn = len(walked)
    steps = np.append(walked, walked[0] + 2 * math.pi)
    return float(np.interp(column % turn, np.arange(turn + 1), steps))


def _rigid_unroll(
    paper: np.ndarray,
    ring: _Ring,
    walked: np.ndarray,
    cuts: list[float],
    band: tuple[float, float],
    zoom: float,
) -> np.ndarray:
    """The ring between the depths ``band`` (outer, inner) laid out straight, one
    character at a time (``cuts``: strip columns between characters), each character
    turned rigidly rather than bent. A polar unroll squeezes every character's top (its
    outer edge) by the ratio of the radii, and 同 came out as 局."""
    outer, inner = band
    height = max(8, int((inner - outer) * zoom))
    depth = outer + np.arange(height, dtype=np.float32)[:, None] / zoom
    pieces = []
    for start, end in itertools.pairwise(cuts):
        width = max(2, int(end - start))
        points, normals = ring.at(np.array([_parameter(walked, (start + end) / 2)]))
        (px, py), (nx, ny) = points[0], normals[0]
        along = (np.arange(width, dtype=np.float32)[None, :] - width / 2) / zoom
        map_x = (px - depth * nx - along * ny).astype(np.float32)
        map_y = (py - depth * ny + along * nx).astype(np.float32)
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


def _extend_by_ink(
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


_LEGAL_FORMS = (
    # (as written, as a rim reads it: a comma and a full stop are both a dot there, t and
    # i, d and cl, e and c alike at rim size, capitals and small letters of one shape)
    ("Co., Ltd.", r"Co[.,]{0,2}\s*L[tli1][dcl]\.?"),
    ("Pte. Ltd.", r"P[tl][ec][.,]?\s*L[tli1][dcl]\.?"),
    ("Ltd.", r"L[tli1][dcl]\.?"),
    ("Limited", r"Limited"),
    ("Inc.", r"Inc\.?"),
    ("Corp.", r"Corp\.?"),
    ("LLC", r"L\.?L\.?C\.?"),
    ("GmbH", r"G[mn]bH\.?"),
    ("AG", r"AG\.?"),
    ("SAS", r"S[.,]?A[.,]?S[.,]?"),
    ("S.A.", r"S[.,]A[.,]?"),
    ("SARL", r"S[.,]?A[.,]?R[.,]?L[.,]?"),
    ("AB", r"AB\.?"),
    ("B.V.", r"B[.,]?V[.,]?"),
    ("N.V.", r"N[.,]?V[.,]?"),
    ("S.p.A.", r"S[.,]?p[.,]?A[.,]?"),
    ("S.r.l.", r"S[.,]?r[.,]?l[.,]?"),
    ("K.K.", r"K[.,]?K[.,]?"),
    ("Oy", r"Oy"),
    ("A/S", r"A/S"),
)
_LATIN_END = [
    # after a space or a dot, or run on to its word as a capital (PrecisionCoLid)
    (form, re.compile(rf"(?:(?<=[\s.,])|(?-i:(?<=[a-z])(?=[A-Z])))(?:{pattern})\s*$", re.I))
    for form, pattern in _LEGAL_FORMS
]


def _latin_legal_form(text: str) -> str:
    """A Latin rim name as it is written: one space between words, its legal form at the
    end in the form's own spelling (``Co.. Lid`` is ``Co., Ltd.``). The letters stand
    spaced round the ring, so the spaces read are the engraver's; commas and full stops
    are dots of one size there."""
    text = " ".join(text.split())
    if _CJK.search(text) or not re.search(r"[A-Za-z]{3}", text):
        return text
    for form, pattern in _LATIN_END:
        match = pattern.search(text)
        if match:
            return f"{text[: match.start()].rstrip(' .,')} {form}"
    return text


def clean_rim_read(text: str) -> str:
    """A rim read as a name: pieces of the code and the inscription trimmed off its ends,
    a Latin name spelled as written (see :func:`_latin_legal_form`)."""
    if _CJK.search(text):
        return _complete_legal_form(
            _end_at_legal_form(_trim_code_fragments(re.sub(r"\s+", "", text)))
        )
    return _latin_legal_form(text.strip())


_CUT_FORM = re.compile(r"(有限公|有限责任|股份有限)$")


def _complete_legal_form(text: str) -> str:
    """A Chinese legal form cut short at the end of the rim (…股份有限公, …有限责任)
    completed: these words occur only as 有限公司, 有限责任公司 and 股份有限公司, and the
    name's last character stands next to the seam, where a tilted or dry stamp leaves the
    least ink. A read that ends in 有限 alone is left as it is (有限合伙 is a form too)."""
    match = _CUT_FORM.search(text)
    if match is None:
        return text
    return text + ("司" if match.group(1).endswith("公") else "公司")


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


def _read_inscription(paper: np.ndarray, ring: _Ring, ups: list[float], engine: OcrEngine) -> str:
    """The horizontal line under the star, once the seal is turned so that the name's
    middle (outward direction, degrees: the first of ``ups`` that reads surely) is at the
    top. A name read short of one end leaves the seal turned a little off: a read that is
    not sure is tried turned ±6°."""
    best = ("", 0.0)
    tried: list[float] = []
    for up in ups:
        if any(abs((up - t + 180) % 360 - 180) < 3 for t in tried):
            continue
        tried.append(up)
        for turn in (0.0, -6.0, 6.0):
            text, score = _inscription_at(paper, ring, up + turn, engine)
            if score > best[1]:
                best = (text, score)
            if score > 0.97:
                break
        if best[1] > 0.97:
            break
    text, score = best
    return text if score > 0.6 and len(text) >= 3 else ""


def _inscription_at(
    paper: np.ndarray, ring: _Ring, up: float, engine: OcrEngine
) -> tuple[str, float]:
    cx, cy = ring.centre
    matrix = cv2.getRotationMatrix2D((cx, cy), up - 270, 1.0)
    upright = cv2.warpAffine(paper, matrix, paper.shape[::-1], borderValue=255)
    tall = wide = ring.large
    if ring.small / ring.large < ROUND:  # an oval: how far it reaches up and across
        tall = _reach(ring, up)
        wide = sum(ring.semi) - tall
    y0, y1 = int(cy + 0.2 * tall), int(cy + 0.68 * tall)
    x0, x1 = int(cx - 0.62 * wide), int(cx + 0.62 * wide)
    region = upright[max(0, y0) : y1, max(0, x0) : x1]
    if region.size == 0 or (255 - region).sum() < 255 * 0.02 * region.size:
        return "", 0.0
    ((text, score),) = engine.recognize([_as_rgb(region)])
    return re.sub(r"[^\u4e00-\u9fff]", "", text), score


def _reach(ring: _Ring, direction: float) -> float:
    """How far the outline lies from the centre in ``direction`` (degrees)."""
    t = np.linspace(0, 2 * math.pi, 721)
    points, _ = ring.at(t)
    offsets = points - np.array(ring.centre)
    angles = np.degrees(np.arctan2(offsets[:, 1], offsets[:, 0])) % 360
    nearest = int(np.argmin(np.abs((angles - direction + 180) % 360 - 180)))
    return float(np.hypot(*offsets[nearest]))


def _as_rgb(grey: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(cv2.cvtColor(np.ascontiguousarray(grey), cv2.COLOR_GRAY2RGB))


def detect_and_read(
    image: np.ndarray, engine: OcrEngine, expect: tuple[str, ...] = ()
) -> list[Seal]:
    """Every seal on the page, read; ``expect``: names to weigh each rim against."""
    return [read_seal(image, blob, engine, expect) for blob in find_seals(image)]


def unrolled_rim(image: np.ndarray, seal: dict[str, Any]) -> np.ndarray | None:
    """A seal's ring laid out straight once round, for a reviewer's eye: the seal as
    ``to_json`` gave it (its ellipse, else its box), on the page it was found on. The top
    of the seal (where a name starts and ends around) comes out in the middle."""
    bbox = seal.get("bbox")
    if not bbox:
        return None
    x0, y0, x1, y1 = (int(v) for v in bbox)
    ellipse = seal.get("ellipse") or {}
    if ellipse:
        centre = (float(ellipse["centre"][0]), float(ellipse["centre"][1]))
        axes = (float(ellipse["axes"][0]), float(ellipse["axes"][1]))
        angle = float(ellipse["angle"])
    else:  # the box holds the seal with a 4 % margin
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        axes = ((x1 - x0) / 1.08, (y1 - y0) / 1.08)
        angle = 0.0
    paper, ring = _ink_image(image, _Blob(centre, axes, angle, (x0, y0, x1, y1)))
    zoom = max(1.0, READ_RADIUS / ring.large)
    middle = 0.2 * ring.small
    turn = max(360, int(ring.length(middle) * zoom))
    walked = ring.walk(middle, turn)
    depths = np.arange(int(0.44 * ring.small * zoom)) / zoom - 0.02 * ring.small
    strip = ring.unroll(paper, walked, depths)
    ups = np.array([ring.up(t) for t in walked[:: max(1, turn // 360)]])
    bottom = int(np.argmin(np.abs((ups - 90 + 180) % 360 - 180))) * max(1, turn // 360)
    rolled: np.ndarray = np.roll(strip, -bottom, axis=1)
    return rolled
