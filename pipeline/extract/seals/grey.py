"""Finding seals on a page that has no colour (a greyscale scan or photocopy of a stamped
original): by shape, since the seal's red is gone. A seal is a ring (dark all the way
round, lighter just inside), a band of characters inside it, and a star at its centre:
all three must be there, so a table, a logo or the national emblem is not taken for one.
Round seals only: an oval seal, or a seal too broken to find, is looked for as a trace
(:func:`seal_traces`), which makes its absence a doubt rather than a difference."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import cv2
import numpy as np

from pipeline.extract.seals.find import (
    MAX_SEAL,
    MIN_SEAL,
    WORK_SIDE,
    Blob,
    flatten_light,
    full_size,
)

COLOUR_SHARE = 0.0005
"""A page with fewer saturated pixels than this share has no colour: greyscale."""
RING_HELD = 0.7
"""Dark ink runs along at least this share of a seal's ring (a dry pad leaves gaps)."""
NAME_HELD = 0.35
"""Ink stands in the band of the name along at least this share of the way round."""
STAR_HELD = 0.5
"""A star's solid middle: ink over at least this share of the disc a tenth of the radius
round the centre."""
DARK = 40
"""Darkness (0–255) of ink on a flattened page: a red seal in grey is pale (a pressed
red goes to about 90–170 of 255 dark, a dry stroke less)."""


def has_colour(small_rgb: np.ndarray) -> bool:
    """Whether any noticeable part of the page is coloured (a red seal, a blue stamp)."""
    hsv = cv2.cvtColor(small_rgb, cv2.COLOR_RGB2HSV)
    coloured = (hsv[..., 1] >= 60) & (hsv[..., 2] >= 60)
    return bool(np.count_nonzero(coloured) > COLOUR_SHARE * coloured.size)


def _shrunk(image: np.ndarray) -> tuple[np.ndarray, float]:
    scale = min(1.0, WORK_SIDE / max(image.shape[:2]))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return flatten_light(small), scale


def page_has_colour(image: np.ndarray) -> bool:
    """Whether the page (RGB, full size) shows any colour at all."""
    return has_colour(_shrunk(image)[0])


def find_grey_seals(image: np.ndarray) -> list[Blob]:
    """Round seals found by shape on a page with no colour; [] on a coloured page."""
    small, scale = _shrunk(image)
    if has_colour(small):
        return []
    dark = 255 - cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    seals: list[Blob] = []
    for cx, cy, r in _circles(dark, 0.75):
        radius = _ring_radius(dark, cx, cy, r)
        if radius is None or not _is_seal(dark, cx, cy, radius):
            continue
        if any(
            math.hypot(cx - b.centre[0] * scale, cy - b.centre[1] * scale) < radius for b in seals
        ):
            continue
        outer = radius * 1.02  # the ring's middle is ``radius``; the outline its outer edge
        box = (int(cx - outer), int(cy - outer), int(2 * outer), int(2 * outer))
        found = full_size(((cx, cy), (2 * outer, 2 * outer), 0.0), box, scale)
        seals.append(replace(found, grey=True))
    return seals


def _circles(dark: np.ndarray, perfect: float) -> list[tuple[float, float, float]]:
    """Seal-sized circles on the page's darkness, largest first (``perfect``: how round an
    edge must be, HOUGH_GRADIENT_ALT's measure)."""
    side = min(dark.shape)
    found = cv2.HoughCircles(
        cv2.GaussianBlur(dark, (5, 5), 1.5),
        cv2.HOUGH_GRADIENT_ALT,
        1.5,
        side * MIN_SEAL / 2,
        param1=100,  # a pale ring's edges are soft: at 300 a dry-pad seal had none
        param2=perfect,
        minRadius=int(MIN_SEAL * side / 2),
        maxRadius=int(MAX_SEAL * side / 2),
    )
    if found is None:
        return []
    return sorted(((float(x), float(y), float(r)) for x, y, r in found[0]), key=lambda c: -c[2])


def seal_traces(image: np.ndarray, known: Sequence[tuple[float, float]] = ()) -> bool:
    """Whether a page with no colour shows something a seal may have left besides the
    seals found (centres ``known``, page pixels): a ring of ink most of the way round with
    marks inside it (a pale, broken or slanted press). Where there is none, no seal was
    pressed on the page, colour or not; a filled disc (an emblem) is no trace."""
    small, scale = _shrunk(image)
    dark = 255 - cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    for cx, cy, r in _circles(dark, 0.6):
        if any(math.hypot(cx - x * scale, cy - y * scale) < r for x, y in known):
            continue
        radii = np.linspace(0.85 * r, 1.12 * r, 28)
        held = float((_profile(dark, cx, cy, radii) > DARK).mean(axis=1).max())
        band = _profile(dark, cx, cy, np.linspace(0.62 * r, 0.86 * r, 10)) > DARK
        if held >= 0.6 and band.any(axis=0).mean() >= 0.2 and band.mean() <= 0.45:
            return True
    shrunk = [(x * scale, y * scale) for x, y in known]
    return _oval_traces(dark, shrunk) or _star_traces(dark, shrunk)


STAR_SIDE = (0.03, 0.12)
"""A seal's star across, as a share of the page's shorter side (8–25 mm on A4)."""


def _star_traces(dark: np.ndarray, known: list[tuple[float, float]]) -> bool:
    """A solid five-pointed star not inside a seal found: the middle of a seal whose ring
    and name a dry pad or a slant left too broken to find. A star's outline has five deep
    notches, one every 72° round its middle; print has no such shape at this size."""
    side = min(dark.shape)
    mask = (dark > DARK).astype(np.uint8)
    count, labels, stats, centres = cv2.connectedComponentsWithStats(mask)
    for i in range(1, count):
        x, y, w, h, _ = stats[i]
        if not (STAR_SIDE[0] * side <= max(w, h) <= STAR_SIDE[1] * side) or not 0.7 <= w / h <= 1.4:
            continue
        cx, cy = centres[i]
        if any(math.hypot(cx - kx, cy - ky) < 3 * max(w, h) for kx, ky in known):
            continue
        if _is_star((labels[y : y + h, x : x + w] == i).astype(np.uint8)):
            return True
    return False


def _is_star(piece: np.ndarray) -> bool:
    """Whether a solid piece of ink is a five-pointed star (see :func:`_star_traces`)."""
    contours, _ = cv2.findContours(piece, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = max(contours, key=cv2.contourArea)
    hull = cv2.convexHull(outline, returnPoints=False)
    area, hull_area = cv2.contourArea(outline), cv2.contourArea(cv2.convexHull(outline))
    if hull_area <= 0 or not 0.4 <= area / hull_area <= 0.8 or len(hull) < 4:
        return False
    try:
        defects = cv2.convexityDefects(outline, hull)
    except cv2.error:  # a ragged outline that crosses itself: no star
        return False
    if defects is None:
        return False
    moments = cv2.moments(outline)
    if moments["m00"] <= 0:
        return False
    mx, my = moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]
    reach = math.sqrt(hull_area / math.pi)
    rows = defects.reshape(-1, 4)
    notches = [outline[f][0] for _, _, f, depth in rows if depth / 256 > 0.2 * reach]
    if len(notches) != 5:
        return False
    angles = sorted(
        math.degrees(math.atan2(float(p[1]) - my, float(p[0]) - mx)) % 360 for p in notches
    )
    gaps = np.diff([*angles, angles[0] + 360])
    return bool(np.all(np.abs(gaps - 72) < 20))


def _oval_traces(dark: np.ndarray, known: list[tuple[float, float]]) -> bool:
    """An oval ring of ink (an oval seal, or a round one photographed at a slant) not among
    the seals found: an outline with a hole in it whose fitted ellipse runs along ink most
    of the way round and whose inside is mostly paper (an ID card's frame meets its
    ellipse at four points only; the national emblem's disc is solid ink)."""
    side = min(dark.shape)
    mask = (dark > DARK).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if hierarchy is None:
        return False
    for contour, (_, _, child, parent) in zip(contours, hierarchy[0], strict=True):
        if parent != -1 or child == -1 or len(contour) < 20:
            continue
        _, _, w, h = cv2.boundingRect(contour)
        if not (MIN_SEAL * side <= max(w, h) <= MAX_SEAL * side) or not 0.45 <= w / h <= 2.2:
            continue
        (cx, cy), (a, b), angle = cv2.fitEllipse(contour)
        if any(math.hypot(cx - kx, cy - ky) < max(a, b) / 2 for kx, ky in known):
            continue
        t = np.linspace(0, 2 * math.pi, 180, endpoint=False)
        held = _along_ellipse(mask, (cx, cy), (a / 2, b / 2), math.radians(angle), t)
        inside = np.zeros_like(mask)
        cv2.ellipse(inside, ((cx, cy), (0.85 * a, 0.85 * b), angle), 1, -1)
        filled = float(mask[inside > 0].mean()) if inside.any() else 1.0
        if held >= 0.6 and filled <= 0.45:  # a seal's inside is mostly paper
            return True
    return False


def _along_ellipse(
    mask: np.ndarray,
    centre: tuple[float, float],
    semi: tuple[float, float],
    angle: float,
    t: np.ndarray,
) -> float:
    """The share of points round an ellipse with ink within two pixels inward of it."""
    cos, sin = math.cos(angle), math.sin(angle)
    hits = np.zeros(len(t), bool)
    for shrink in (0.0, 1.0, 2.0):
        ex, ey = (semi[0] - shrink) * np.cos(t), (semi[1] - shrink) * np.sin(t)
        xs = np.clip((centre[0] + ex * cos - ey * sin).round().astype(int), 0, mask.shape[1] - 1)
        ys = np.clip((centre[1] + ex * sin + ey * cos).round().astype(int), 0, mask.shape[0] - 1)
        hits |= mask[ys, xs] > 0
    return float(hits.mean())


def _profile(
    dark: np.ndarray, cx: float, cy: float, radii: np.ndarray, angles: int = 360
) -> np.ndarray:
    """Darkness sampled at each radius (rows) and angle (columns)."""
    t = np.linspace(0, 2 * math.pi, angles, endpoint=False)
    xs = (cx + radii[:, None] * np.cos(t)[None, :]).astype(np.float32)
    ys = (cy + radii[:, None] * np.sin(t)[None, :]).astype(np.float32)
    sampled: np.ndarray = cv2.remap(dark, xs, ys, cv2.INTER_LINEAR, borderValue=(0,))
    return sampled


def _ring_radius(dark: np.ndarray, cx: float, cy: float, r: float) -> float | None:
    """The radius near ``r`` where ink runs furthest round (the ring's middle), if it
    runs round at least RING_HELD of the way."""
    radii = np.linspace(0.85 * r, 1.12 * r, 28)
    held = (_profile(dark, cx, cy, radii) > DARK).mean(axis=1)
    best = int(np.argmax(held))
    return float(radii[best]) if held[best] >= RING_HELD else None


def _is_seal(dark: np.ndarray, cx: float, cy: float, radius: float) -> bool:
    """A ring with a name inside it and a star at its centre. The name's ink is judged
    against the ring's own (one pad inks both; a pale press is pale all over)."""
    ring = _profile(dark, cx, cy, np.array([radius]))
    level = float(np.median(ring[ring > DARK])) if (ring > DARK).any() else DARK
    ink = max(DARK / 2, 0.45 * level)
    # the name's band: characters stand here, with gaps between them
    band = _profile(dark, cx, cy, np.linspace(0.62 * radius, 0.86 * radius, 10))
    name_held = (band > ink).any(axis=0).mean()
    name_fill = (band > ink).mean()
    if name_held < NAME_HELD or name_fill > 0.6:
        return False  # no text inside the ring, or a filled disc
    core = _profile(dark, cx, cy, np.linspace(0.0, 0.1 * radius, 5), 72)
    return bool((core > DARK).mean() >= STAR_HELD)
