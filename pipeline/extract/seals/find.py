"""Finding seals on a page: pixels much redder than they are green or blue, closed into
blobs, kept when a blob has a seal's size and an ellipse's outline (a seal printed in
fragments by a dry pad, or half hidden under a pasted card, is put together first)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np

WORK_SIDE = 1000
"""Seals are found on the page shrunk to this long side (they are 400+ px at 300 dpi)."""


ROUND = 0.88
"""A seal whose short axis is at least this share of its long one is round (a circle
pressed on a slant, or photographed from the side, comes out a little oval)."""

MIN_SEAL, MAX_SEAL = 0.07, 0.42
"""A seal's diameter as a share of the page's shorter side (A4: 15–88 mm)."""

PALE = 8
"""Redness (0–255) of the palest ink a seal's ring is followed along: the dry side of a
press on a colour scan comes out barely pink (248, 235, 233 on white paper: 13, saturation
15, below the faint ink's), while paper and black print have none."""


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
class Blob:
    centre: tuple[float, float]
    axes: tuple[float, float]
    angle: float
    bbox: tuple[int, int, int, int]
    grey: bool = False
    """Found by shape on a page with no colour: its ink is darkness, not redness."""


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    """Whether most of ``inner`` lies within ``outer``."""
    x0, y0 = max(inner[0], outer[0]), max(inner[1], outer[1])
    x1, y1 = min(inner[2], outer[2]), min(inner[3], outer[3])
    overlap = max(0, x1 - x0) * max(0, y1 - y0)
    return overlap > 0.5 * (inner[2] - inner[0]) * (inner[3] - inner[1])


def find_seals(image: np.ndarray) -> list[Blob]:
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
    _, strong_parts = cv2.connectedComponents(joined)
    near_ink = cv2.dilate(np.maximum(mask, faint), np.ones((5, 5), np.uint8))
    pale = (red_hue & (redness(small) >= PALE)).astype(np.uint8) * 255
    look = _Look(mask, faint, grow, side, scale, strong_parts, near_ink, pale)
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
    # which numbered piece of strong ink each contour is
    part = [int(strong_parts[c[0, 0, 1], c[0, 0, 0]]) for c in contours]
    for pieces in members.values():
        whole = (
            _seals_at(_union([rects[i] for i in pieces]), [part[i] for i in pieces], look)
            if len(pieces) > 1
            else []
        )
        blobs += whole or [b for i in pieces for b in _seals_at(rects[i], [part[i]], look)]
    # a seal printed in pieces can also yield a piece of its own: keep the whole
    blobs.sort(key=lambda b: -(b.bbox[2] - b.bbox[0]) * (b.bbox[3] - b.bbox[1]))
    kept: list[Blob] = []
    for blob in blobs:
        if not any(_inside(blob.bbox, other.bbox) for other in kept):
            kept.append(blob)
    return kept


@dataclass(frozen=True, slots=True)
class _Look:
    """What find_seals looks through: the strong and faint red ink (page shrunk by
    ``scale``), the growth that joins a seal's fragments, the page's shorter side, and the
    strong ink's pieces (grown by ``grow``) numbered."""

    mask: np.ndarray
    faint: np.ndarray
    grow: np.ndarray
    side: int
    scale: float
    strong_parts: np.ndarray
    near_ink: np.ndarray
    """Any red ink, strong or faint, grown by two pixels: what a seal's outline runs along."""
    pale: np.ndarray
    """The palest red ink (PALE), whatever its saturation: a dry pad's ring."""


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Whether two boxes (x, y, w, h) share a tenth of the smaller one."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return w > 0 and h > 0 and w * h > 0.1 * min(a[2] * a[3], b[2] * b[3])


def _union(rects: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    left, top = min(r[0] for r in rects), min(r[1] for r in rects)
    right, bottom = max(r[0] + r[2] for r in rects), max(r[1] + r[3] for r in rects)
    return left, top, right - left, bottom - top


def _blob_at(
    rect: tuple[int, int, int, int], parts: list[int], look: _Look, grown: bool = True
) -> Blob | None:
    """The seal whose ink lies in ``rect`` of the shrunk page, the numbered pieces
    ``parts`` of the strong ink (another seal's ink may reach into the box's corner), if
    it looks like one; its outline ``grown`` by the faint ink joined to it, or not."""
    mask, side, scale = look.mask, look.side, look.scale
    small_shape = mask.shape
    x, y, w, h = rect
    if not (MIN_SEAL * side <= max(w, h) <= MAX_SEAL * side * 1.1):
        return None
    points = cv2.findNonZero(_own_ink((x, y, w, h), parts, look))
    if points is None or len(points) < 50:
        return None
    strong = cv2.convexHull(points + np.array([[x, y]], dtype=np.int32))
    hull = _outline(strong, look) if grown else strong
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
    filled = np.count_nonzero(_own_ink((x, y, w, h), parts, look)) / float(w * h)
    if not 0.04 <= filled <= 0.55:
        return None  # too little ink for a seal, or a filled disc (the national emblem)
    return full_size(((cx, cy), (a, b), angle), (x, y, w, h), scale)


def _own_ink(rect: tuple[int, int, int, int], parts: list[int], look: _Look) -> np.ndarray:
    """The strong ink in ``rect`` (x, y, w, h) of the numbered pieces ``parts``, without
    any other piece's that reaches into the box."""
    x, y, w, h = rect
    ours = np.isin(look.strong_parts[y : y + h, x : x + w], parts)
    own: np.ndarray = np.where(ours, look.mask[y : y + h, x : x + w], 0).astype(np.uint8)
    return own


def full_size(
    ellipse: tuple[tuple[float, float], tuple[float, float], float],
    rect: tuple[int, int, int, int],
    scale: float,
) -> Blob:
    """A seal's ``ellipse`` and outline's box (x, y, w, h) on the shrunk page as a Blob on
    the full page, its box given a 4 % margin."""
    (cx, cy), (a, b), angle = ellipse
    x, y, w, h = rect
    inv = 1 / scale
    pad = 0.04 * max(w, h)
    bbox = (
        int((x - pad) * inv),
        int((y - pad) * inv),
        int((x + w + pad) * inv),
        int((y + h + pad) * inv),
    )
    return Blob((cx * inv, cy * inv), (a * inv, b * inv), angle, bbox)


SPLIT_BELOW = 0.85
"""A seal's fitted outline runs along red ink nearly all the way round (on 160 seals of a
generated corpus, 157 at 0.9 or more; two at 0.81, a blurred phone photo's 0.64). Below
this share the blob may be two seals stamped touching, which the ink joins into one: it
is looked at again for rings of its own (see :func:`_split`)."""

RING_HELD = 0.85
"""A circle found in a blob is a seal's ring when red ink runs along this much of it."""


def _seals_at(rect: tuple[int, int, int, int], parts: list[int], look: _Look) -> list[Blob]:
    """The seal in ``rect`` (see :func:`_blob_at`). Where its outline leaves the ink: the
    seal its strong ink alone outlines (the faint ink had joined a neighbour's: a pale
    company seal touching the registration authority's on a licence took in a lens of it
    and came out an ellipse over both, 349 × 504 px for two seals of 332), or the seals
    touching there, each on its own ring (see :func:`_split`). An oval that holds ink all
    round may be two round seals stamped deep over each other: split as well."""
    blob = _blob_at(rect, parts, look)
    if blob is not None and _held(blob, look):
        if min(blob.axes) >= ROUND * max(blob.axes):
            return [blob]
        rings = _split(rect, parts, look)  # an oval, or two round seals deep over each other
        return rings if len(rings) >= 2 else [blob]
    tight = _blob_at(rect, parts, look, grown=False)
    if tight is not None and _held(tight, look):
        return [tight]
    rings = _split(rect, parts, look)
    if len(rings) >= 2:
        return rings
    ring = _pale_ring(rect, parts, look)
    if ring is not None:
        return [ring]
    return [blob] if blob is not None else []


def _circles(ink: np.ndarray, side: int, perfect: float) -> np.ndarray | None:
    """Seal-sized circles in an ink mask (Hough; ``perfect``: how whole a circle must be)."""
    found: np.ndarray | None = cv2.HoughCircles(
        cv2.GaussianBlur(ink, (5, 5), 1.5),
        cv2.HOUGH_GRADIENT_ALT,
        1.5,
        side * 0.05,
        param1=300,
        param2=perfect,
        minRadius=int(MIN_SEAL * side / 2),
        maxRadius=int(MAX_SEAL * side / 2),
    )
    return found


def _pale_ring(rect: tuple[int, int, int, int], parts: list[int], look: _Look) -> Blob | None:
    """The seal whose strong ink in ``rect`` has no seal's outline because a dry pad left
    part of its ring barely pink (the strong ink: half a ring, the star, some characters;
    its hull no ellipse): the circle round that ink along which the palest ink runs
    RING_HELD of the way, holding nearly all of the strong ink inside it, and inside it
    mostly paper (a licence's national emblem is a red disc in a ring)."""
    x, y, w, h = rect
    side = look.side
    margin = max(w, h) // 2
    x0, y0 = max(0, x - margin), max(0, y - margin)
    window = look.pale[y0 : y + h + margin, x0 : x + w + margin]
    found = _circles(window, side, 0.6)
    if found is None:
        return None
    ys, xs = np.nonzero(_own_ink(rect, parts, look))
    xs, ys = xs + x, ys + y
    held = cv2.dilate(look.pale, np.ones((3, 3), np.uint8))
    best: tuple[float, float, float, float] | None = None
    for fx, fy, r in found[0]:
        cx, cy = x0 + float(fx), y0 + float(fy)
        support = _ring_support(held, (cx, cy), (2 * r, 2 * r), 0.0)
        near = np.hypot(xs - cx, ys - cy)
        inside = float(np.mean(near <= 1.15 * r)) if len(xs) else 0.0  # r: mid-ring
        filled = np.count_nonzero(near <= 0.85 * r) / (math.pi * (0.85 * r) ** 2)
        if filled > 0.45:
            continue  # a seal's inside is mostly paper; the national emblem's is a red disc
        if support >= RING_HELD and inside >= 0.95 and (best is None or support > best[0]):
            best = (support, cx, cy, float(r))
    if best is None:
        return None
    _, cx, cy, r = best
    box = (int(cx - r), int(cy - r), int(2 * r), int(2 * r))
    return full_size(((cx, cy), (2 * r, 2 * r), 0.0), box, look.scale)


def _held(blob: Blob, look: _Look) -> bool:
    """Whether a found seal's outline runs along ink (SPLIT_BELOW)."""
    s = look.scale
    fitted = ((blob.centre[0] * s, blob.centre[1] * s), (blob.axes[0] * s, blob.axes[1] * s))
    return _ring_support(look.near_ink, *fitted, blob.angle) >= SPLIT_BELOW


def _ring_support(
    ink: np.ndarray, centre: tuple[float, float], axes: tuple[float, float], angle: float
) -> float:
    """The share of an ellipse's outline (or of one a little inside it: the fit runs
    along the ring's outer edge) that has ink on it."""
    t = np.linspace(0, 2 * math.pi, 360, endpoint=False)
    turn = math.radians(angle)
    best = 0.0
    for k in (1.0, 0.97, 0.94):
        u, v = k * axes[0] / 2 * np.cos(t), k * axes[1] / 2 * np.sin(t)
        xs = np.round(centre[0] + u * math.cos(turn) - v * math.sin(turn)).astype(int)
        ys = np.round(centre[1] + u * math.sin(turn) + v * math.cos(turn)).astype(int)
        on = (xs >= 0) & (ys >= 0) & (xs < ink.shape[1]) & (ys < ink.shape[0])
        hit = np.zeros(len(t), bool)
        hit[on] = ink[ys[on], xs[on]] > 0
        best = max(best, float(hit.mean()))
    return best


def _split(rect: tuple[int, int, int, int], parts: list[int], look: _Look) -> list[Blob]:
    """Round seals stamped touching (a company seal on a licence copy, against the
    registration authority's): the rings in the blob's strong ink (Hough circles), each
    held by ink nearly all the way round (RING_HELD) and none on another's centre (a seal's
    inner ring), each fitted to its own ring's ink outside the others."""
    x, y = rect[:2]
    side = look.side
    region = _own_ink(rect, parts, look)
    found = _circles(region, side, 0.8)
    if found is None:
        return []
    held = []
    for cx, cy, r in found[0]:
        support = _ring_support(look.near_ink, (x + cx, y + cy), (2 * r, 2 * r), 0.0)
        if support >= RING_HELD:
            held.append((support, x + float(cx), y + float(cy), float(r)))
    rings: list[tuple[float, float, float]] = []
    for _, cx, cy, r in sorted(held, reverse=True):
        if all(math.hypot(cx - ox, cy - oy) > 0.5 * max(r, orr) for ox, oy, orr in rings):
            rings.append((cx, cy, r))
    if len(rings) < 2:
        return []
    ys, xs = np.nonzero(region)
    xs, ys = xs + x, ys + y
    blobs = []
    for cx, cy, r in rings:
        near = np.abs(np.hypot(xs - cx, ys - cy) - r) <= 0.08 * r
        for ox, oy, orr in rings:
            if (ox, oy, orr) != (cx, cy, r):
                near &= np.hypot(xs - ox, ys - oy) > 1.02 * orr
        # the ring's outer edge, as the outline of a seal on its own is fitted: the
        # farthest ink from the centre in each degree round it
        bins = (np.degrees(np.arctan2(ys[near] - cy, xs[near] - cx)) % 360).astype(int)
        reach = np.hypot(xs[near] - cx, ys[near] - cy)
        farthest = np.full(360, -1.0)
        np.maximum.at(farthest, bins, reach)
        held_at = np.flatnonzero(farthest > 0)
        if len(held_at) < 20:
            return []
        t = np.radians(held_at + 0.5)
        edge = np.stack(
            [cx + farthest[held_at] * np.cos(t), cy + farthest[held_at] * np.sin(t)], axis=1
        ).astype(np.float32)
        (ex, ey), (a, b), angle = cv2.fitEllipse(edge)
        turn = math.radians(angle)
        half_w = math.hypot(a * math.cos(turn), b * math.sin(turn)) / 2
        half_h = math.hypot(a * math.sin(turn), b * math.cos(turn)) / 2
        box = (int(ex - half_w), int(ey - half_h), int(2 * half_w), int(2 * half_h))
        blobs.append(full_size(((ex, ey), (a, b), angle), box, look.scale))
    return blobs


def _ellipse_share(hull: np.ndarray) -> float:
    """How much of its fitted ellipse a convex outline covers (1 for an ellipse)."""
    (_, _), (a, b), _ = cv2.fitEllipse(hull)
    return float(cv2.contourArea(hull) / max(1.0, math.pi * a * b / 4))


def _outline(hull: np.ndarray, look: _Look) -> np.ndarray:
    """A seal's convex outline (``hull``, of its strong ink), grown by the faint ink
    joined to it: the ring's dry side, missed, made a round seal look oval."""
    x, y, w, h = cv2.boundingRect(hull)
    margin = max(w, h) // 4
    x0, y0 = max(0, x - margin), max(0, y - margin)
    window = look.faint[y0 : y + h + margin, x0 : x + w + margin]
    count, labels = cv2.connectedComponents(cv2.dilate(window, look.grow))
    flat = hull.reshape(-1, 2)
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
