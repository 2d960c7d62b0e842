"""Finding seals on a page that has no colour (a greyscale scan or photocopy of a stamped
original): by shape, since the seal's red is gone. A seal is a ring (dark all the way
round, lighter just inside), a band of characters inside it, and a star at its centre:
all three must be there, so a table, a logo or the national emblem is not taken for one.
Round seals are found as circles; an oval one, or a round one too pale for a circle, from
its star outwards (:func:`_around_stars`). A seal too broken to find is looked for as a
trace (:func:`seal_traces`), which makes its absence a doubt rather than a difference."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

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
NAME_INK = 0.3
"""A name's ink, as a share of its ring's darkness: thin strokes shrunk to the page's
working size come out paler than the ring."""
DARK = 40
"""Darkness (0–255) of ink on a flattened page: a red seal in grey is pale (a pressed
red goes to about 90–170 of 255 dark, a dry stroke less)."""


def has_colour(small_rgb: np.ndarray) -> bool:
    """Whether any noticeable part of the page is in the colour of ink: a seal's red or a
    stamp's or pen's blue. A phone photo's table or floor round a greyscale copy (browns,
    hue 10–20 of 180) and a licence's gold border (about 19) are not ink."""
    hsv = cv2.cvtColor(small_rgb, cv2.COLOR_RGB2HSV)
    hue = hsv[..., 0]
    inky = (hue <= 8) | (hue >= 165) | ((hue >= 95) & (hue <= 135))
    coloured = inky & (hsv[..., 1] >= 60) & (hsv[..., 2] >= 60)
    return bool(np.count_nonzero(coloured) > COLOUR_SHARE * coloured.size)


def _shrunk(image: np.ndarray) -> tuple[np.ndarray, float]:
    scale = min(1.0, WORK_SIDE / max(image.shape[:2]))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return flatten_light(small), scale


def page_has_colour(image: np.ndarray) -> bool:
    """Whether the page (RGB, full size) shows any colour at all."""
    return has_colour(_shrunk(image)[0])


def find_grey_seals(image: np.ndarray) -> list[Blob]:
    """Seals found by shape on a page with no colour; [] on a coloured page."""
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
    known = [(b.centre[0] * scale, b.centre[1] * scale) for b in seals]
    for ellipse in _around_stars(dark, known, _FullSize(image, scale)):
        box = cv2.boundingRect(cv2.ellipse2Poly(*_int_ellipse(ellipse), 5))
        seals.append(replace(full_size(ellipse, box, scale), grey=True))
    return seals


Ellipse = tuple[tuple[float, float], tuple[float, float], float]
FAINT = 15
"""Darkness at which the faintest stretch of a dry ring still counts as ink."""
OUTSIDE_CLEAR = 0.4
"""Just outside a seal's ring, paper along at least this share of the way round (a seal
pressed over an ID copy's line of print: 0.49; round a QR code: 0.34)."""
STAR_TRIES = 4
"""Star-like pieces of ink looked round at most on a page (each search about 0.06 s)."""


def _around_stars(
    dark: np.ndarray, known: list[tuple[float, float]], page: _FullSize | None = None
) -> list[Ellipse]:
    """Seals found from their star outwards (outlines on the shrunk page, their outer
    edge): round a piece of ink shaped like a star, the ellipse, centred on it, that ink
    follows furthest round is the ring; it is a seal when ink runs along it RING_HELD of
    the way, characters stand in the band inside it, and the star sits at its middle. A
    pale ring the circle finder missed, and an oval, are found so; a table's corner or a
    character has no ring round it."""
    side = min(dark.shape)
    ink = cv2.dilate((dark > FAINT).astype(np.uint8), np.ones((3, 3), np.uint8))
    found: list[Ellipse] = []
    for cx, cy, star, level in _star_pieces(dark, known, page)[:STAR_TRIES]:
        if any(math.hypot(cx - e[0][0], cy - e[0][1]) < min(e[1]) / 2 for e in found):
            continue
        shape = _ring_round(ink, cx, cy, star, side)
        if shape is None:
            continue
        ring = _fitted(dark, (cx, cy), shape)
        if ring is not None and _is_oval_seal(dark, ring, (cx, cy), star, level, side):
            (ex, ey), (a, b), angle = ring
            found.append(((ex, ey), (a * 1.02, b * 1.02), angle))
    return found


def _int_ellipse(e: Ellipse) -> tuple[tuple[int, int], tuple[int, int], int, int, int]:
    (cx, cy), (a, b), angle = e
    return (round(cx), round(cy)), (round(a / 2), round(b / 2)), round(angle), 0, 360


@dataclass(frozen=True, slots=True)
class _FullSize:
    """The page as it came (RGB) and the scale of the shrunk page seals are found on."""

    image: np.ndarray
    scale: float

    def star_notches(self, box: tuple[int, int, int, int], darker: float) -> float | None:
        """:func:`_star_notches` of the largest piece of ink in ``box`` (x, y, w, h of the
        shrunk page) looked at on the page at full size, ink ``darker`` than its paper."""
        x, y, w, h = box
        inv = 1 / self.scale
        x0, y0 = max(0, int((x - 2) * inv)), max(0, int((y - 2) * inv))
        crop = self.image[y0 : int((y + h + 2) * inv), x0 : int((x + w + 2) * inv)]
        if crop.shape[0] < 8 or crop.shape[1] < 8:
            return None
        dark = 255 - cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        ink = (dark > float(np.percentile(dark, 10)) + darker).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(ink)
        if count < 2:
            return None
        i = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        px, py, pw, ph, _ = stats[i]
        piece = (labels[py : py + ph, px : px + pw] == i).astype(np.uint8)
        return _star_notches(np.pad(piece, 1), least=4)


FINE_BELOW = 0.035
"""A star-like piece narrower than this share of the page's shorter side (25 px at the
working size) is looked at again at full size where its notches are not found: an oval
seal's small star has too few pixels on the shrunk page for them."""


def _star_pieces(
    dark: np.ndarray, known: list[tuple[float, float]], page: _FullSize | None = None
) -> list[tuple[float, float, float, float]]:
    """Pieces of ink shaped like a seal's star (centre, size across, darkness), the most
    star-like first: four or five notches round the middle at multiples of 72° (one arm of
    a pale press may be gone), not inside a seal already found. Looked for on the ink as
    it is and with its thin strokes opened away: a star pressed over print touches it."""
    side = min(dark.shape)
    stroke = max(3, round(0.0056 * side))
    pieces: list[tuple[float, tuple[float, float, float, float]]] = []
    for darker, opening in ((FAINT + 5, 0), (FAINT + 5, stroke), (DARK, stroke + 1)):
        ink = (dark > darker).astype(np.uint8)
        if opening:
            disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (opening, opening))
            ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, disc)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(ink)
        for i in range(1, count):
            x, y, w, h, _ = stats[i]
            if not (0.6 * STAR_SIDE[0] * side <= max(w, h) <= STAR_SIDE[1] * side):
                continue
            if not 0.6 <= w / h <= 1.6:
                continue
            cx, cy = x + w / 2, y + h / 2
            if any(math.hypot(cx - kx, cy - ky) < 3 * max(w, h) for kx, ky in known):
                continue
            # the same piece found again (another pass); a character near the star that
            # looks like one (术) does not hide it
            if any(math.hypot(cx - p[0], cy - p[1]) < max(w, h) for _, p in pieces):
                continue
            piece = (labels[y : y + h, x : x + w] == i).astype(np.uint8)
            off = _star_notches(np.pad(piece, 1), least=4)
            if off is None and page is not None and max(w, h) < FINE_BELOW * side:
                off = page.star_notches((int(x), int(y), int(w), int(h)), darker)
            if off is not None:
                level = float(np.median(dark[y : y + h, x : x + w][piece > 0]))
                pieces.append((off, (cx, cy, float(max(w, h)), level)))
    return [p for _, p in sorted(pieces, key=lambda p: p[0])]


def _ring_round(
    ink: np.ndarray, cx: float, cy: float, star: float, side: int
) -> tuple[float, float, float] | None:
    """The ellipse centred at (cx, cy) along which ``ink`` runs furthest round: semi-major
    axis, ratio of the axes, direction (radians); a seal's ring is 1.3–6 stars across."""
    low = max(1.3 * star, MIN_SEAL * side / 2)
    radii = np.arange(low, min(6.0 * star, MAX_SEAL * side / 2) + 1, 1.0)
    if len(radii) < 5:
        return None
    angles = 90
    polar = _profile(ink, cx, cy, radii, angles) > 0
    theta = np.linspace(0, 2 * math.pi, angles, endpoint=False)
    column = np.arange(angles)
    shapes = []
    for ratio in np.linspace(0.5, 1.0, 11):
        phis = np.radians(np.arange(0, 180, 6)) if ratio < 1 else np.zeros(1)
        turn = theta[None, :] - phis[:, None]
        reach = 1 / np.sqrt(np.cos(turn) ** 2 + (np.sin(turn) / ratio) ** 2)
        semi = radii[radii * ratio >= low]
        if not len(semi):
            continue
        rows = np.round(semi[:, None, None] * reach[None] - low).astype(int)
        inside = rows < len(radii)
        hit = np.zeros(rows.shape, bool)
        hit[inside] = polar[rows[inside], np.broadcast_to(column, rows.shape)[inside]]
        held = hit.mean(axis=2)
        i, j = np.unravel_index(int(np.argmax(held)), held.shape)
        shapes.append((float(held[i, j]), float(semi[i]), float(ratio), float(phis[j])))
    best = max((held for held, *_ in shapes), default=0.0)
    if best < RING_HELD:
        return None
    # of rings held nearly as far round (an inner ring, the name's band), the outermost
    _, semi, ratio, phi = max((s for s in shapes if s[0] >= best - 0.05), key=lambda s: s[1])
    return semi, ratio, phi


def _fitted(
    dark: np.ndarray, centre: tuple[float, float], shape: tuple[float, float, float]
) -> Ellipse:
    """The ring's ellipse fitted to its ink: twice, the darkest point within four pixels
    of the ellipse found so far at each of 360 places round it, the palest third left
    out. The centre is free: a star pressed pale is not quite at the ring's middle."""
    semi, ratio, phi = shape
    ellipse: Ellipse = (centre, (2 * semi, 2 * semi * ratio), math.degrees(phi))
    t = np.linspace(0, 2 * math.pi, 360, endpoint=False)
    for _ in range(2):
        (ex, ey), (a, b), angle = ellipse
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        grow = np.arange(-4.0, 5.0)[:, None]
        u, v = (a / 2 + grow) * np.cos(t), (b / 2 + grow) * np.sin(t)
        xs, ys = ex + u * cos - v * sin, ey + u * sin + v * cos
        values = cv2.remap(dark, xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR)
        darkest = np.argmax(values, axis=0)
        column = np.arange(len(t))
        keep = values[darkest, column] >= np.percentile(values[darkest, column], 33)
        points = np.stack([xs[darkest, column], ys[darkest, column]], 1)[keep]
        (fx, fy), (fa, fb), fangle = cv2.fitEllipse(points.astype(np.float32))
        ellipse = ((float(fx), float(fy)), (float(fa), float(fb)), float(fangle))
    return ellipse


def _is_oval_seal(
    dark: np.ndarray,
    ring: Ellipse,
    star_at: tuple[float, float],
    star: float,
    level: float,
    side: int,
) -> bool:
    """Whether the ellipse ``ring`` fitted round a star is a seal's: seal-sized, not
    flatter than 1:2, the star at its middle and a fifth of its width or so, ink along
    it RING_HELD of the way and paper just outside it, characters (not a filled disc)
    in the band inside it, and its inside mostly paper, judged against the star's own
    ink (one pad inks both)."""
    (ex, ey), (a, b), angle = ring
    small, large = min(a, b), max(a, b)
    if not (MIN_SEAL * side <= large <= MAX_SEAL * side) or small < 0.5 * large:
        return False
    if math.hypot(ex - star_at[0], ey - star_at[1]) > 0.12 * small:
        return False
    if not 0.08 * small <= star <= 0.45 * small:
        return False
    t = np.linspace(0, 2 * math.pi, 360, endpoint=False)
    turn = math.radians(angle)
    raw = (dark > FAINT).astype(np.uint8)
    if _along_ellipse(raw, (ex, ey), (a / 2, b / 2), turn, t) < RING_HELD:
        return False
    # the ring is the seal's outermost ink: outside it, paper at most places round (print
    # crosses it here and there; a QR code's modules stand all round)
    outside = np.stack(
        [
            _on_ellipse(raw, (ex, ey), (k * a / 2, k * b / 2), turn, t)
            for k in (1.06, 1.09, 1.12, 1.15)
        ]
    )
    if (~outside.any(axis=0)).mean() < OUTSIDE_CLEAR:
        return False
    name = (dark > max(DARK / 2, NAME_INK * level)).astype(np.uint8)
    band = np.stack(
        [
            _on_ellipse(name, (ex, ey), (k * a / 2, k * b / 2), turn, t)
            for k in np.linspace(0.62, 0.86, 10)
        ]
    )
    if band.any(axis=0).mean() < NAME_HELD or band.mean() > 0.6:
        return False
    inside = np.zeros_like(name)
    cv2.ellipse(inside, ((ex, ey), (0.85 * a, 0.85 * b), angle), 1, -1)
    return bool(name[inside > 0].mean() <= 0.45)  # a QR code is ink half over


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
        marked = band.any(axis=0).mean() >= 0.2 and band.mean() <= 0.45  # not a filled disc
        if marked and (held >= 0.6 or _slanted_ring(dark, cx, cy, r)):
            return True
    shrunk = [(x * scale, y * scale) for x, y in known]
    return _oval_traces(dark, shrunk) or _star_traces(dark, shrunk)


def _slanted_ring(dark: np.ndarray, cx: float, cy: float, r: float) -> bool:
    """Whether faint ink runs RING_HELD of the way round an ellipse about the size of the
    circle found at (cx, cy): a seal on a phone photo taken at a slant is an ellipse, which
    a circle follows only part of the way (a held-out photo of a greyscale copy: 0.57)."""
    ink = cv2.dilate((dark > FAINT).astype(np.uint8), np.ones((3, 3), np.uint8))
    shape = _ring_round(ink, cx, cy, r / 3, min(dark.shape))
    return shape is not None and 0.8 * r <= shape[0] <= 1.25 * r and shape[1] >= 0.7


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
    return _star_notches(piece, least=5) is not None


def _star_notches(piece: np.ndarray, least: int) -> float | None:
    """How far (degrees, at worst) the notches round a solid piece of ink stand from a
    five-pointed star's, one every 72°, when it has ``least`` of the five or more; None
    for a piece that is no such star. A star's outline has five deep notches round its
    middle; print has no such shape at a star's size."""
    contours, _ = cv2.findContours(piece, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = max(contours, key=cv2.contourArea)
    hull = cv2.convexHull(outline, returnPoints=False)
    area, hull_area = cv2.contourArea(outline), cv2.contourArea(cv2.convexHull(outline))
    solid = 0.8 if least == 5 else 0.85  # a pale star's arms blur into its middle
    if hull_area <= 0 or not 0.4 <= area / hull_area <= solid or len(hull) < 4:
        return None
    try:
        defects = cv2.convexityDefects(outline, hull)
    except cv2.error:  # a ragged outline that crosses itself: no star
        return None
    if defects is None:
        return None
    moments = cv2.moments(outline)
    if moments["m00"] <= 0:
        return None
    mx, my = moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]
    reach = math.sqrt(hull_area / math.pi)
    rows = defects.reshape(-1, 4)
    deep = 0.2 if least == 5 else 0.15
    notches = [outline[f][0] for _, _, f, depth in rows if depth / 256 > deep * reach]
    if not least <= len(notches) <= 5:
        return None
    angles = sorted(
        math.degrees(math.atan2(float(p[1]) - my, float(p[0]) - mx)) % 360 for p in notches
    )
    gaps = np.diff([*angles, angles[0] + 360])
    steps = np.maximum(1, np.round(gaps / 72))
    off = float(np.abs(gaps - 72 * steps).max())
    slack = 20 if least == 5 else 30  # an oval's star, or a slanted one, is skewed
    return off if off < slack and int(steps.sum()) == 5 else None


def _oval_traces(dark: np.ndarray, known: list[tuple[float, float]]) -> bool:
    """An oval ring of ink (an oval seal, or a round one photographed at a slant) not among
    the seals found: an outline with a hole in it whose fitted ellipse runs along ink most
    of the way round and whose inside is mostly paper (an ID card's frame meets its
    ellipse at four points only; the national emblem's disc is solid ink). Print that
    touches the ring from outside (申请单位（盖章）beside an oval seal) bends the outline, not
    the hole: the hole's own ellipse, just outside which the ring runs, is tried too."""
    side = min(dark.shape)
    mask = (dark > DARK).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if hierarchy is None:
        return False
    links = hierarchy[0]
    for contour, (_, _, child, parent) in zip(contours, links, strict=True):
        hole = parent != -1
        if (not hole and child == -1) or (hole and links[parent][3] != -1) or len(contour) < 20:
            continue
        _, _, w, h = cv2.boundingRect(contour)
        if not (MIN_SEAL * side <= max(w, h) <= MAX_SEAL * side) or not 0.45 <= w / h <= 2.2:
            continue
        (cx, cy), (a, b), angle = cv2.fitEllipse(contour)
        if any(math.hypot(cx - kx, cy - ky) < max(a, b) / 2 for kx, ky in known):
            continue
        t = np.linspace(0, 2 * math.pi, 180, endpoint=False)
        out = 2.5 if hole else 0.0  # the ring runs just outside a hole's edge
        semi = (a / 2 + out, b / 2 + out)
        held = _along_ellipse(mask, (cx, cy), semi, math.radians(angle), t)
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
    hits = np.zeros(len(t), bool)
    for shrink in (0.0, 1.0, 2.0):
        hits |= _on_ellipse(mask, centre, (semi[0] - shrink, semi[1] - shrink), angle, t)
    return float(hits.mean())


def _on_ellipse(
    mask: np.ndarray,
    centre: tuple[float, float],
    semi: tuple[float, float],
    angle: float,
    t: np.ndarray,
) -> np.ndarray:
    """Whether ``mask`` is set at the points of an ellipse at parameters ``t``."""
    cos, sin = math.cos(angle), math.sin(angle)
    ex, ey = semi[0] * np.cos(t), semi[1] * np.sin(t)
    xs = np.clip((centre[0] + ex * cos - ey * sin).round().astype(int), 0, mask.shape[1] - 1)
    ys = np.clip((centre[1] + ex * sin + ey * cos).round().astype(int), 0, mask.shape[0] - 1)
    on: np.ndarray = mask[ys, xs] > 0
    return on


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
    against the ring's own (one pad inks both; a pale press is pale all over); the star's
    solid middle is ink at the name's floor (DARK / 2): a dry patch leaves half a star's
    middle at 20-35 of 255 dark, paper is under 10."""
    ring = _profile(dark, cx, cy, np.array([radius]))
    level = float(np.median(ring[ring > DARK])) if (ring > DARK).any() else DARK
    ink = max(DARK / 2, NAME_INK * level)
    # the name's band: characters stand here, with gaps between them
    band = _profile(dark, cx, cy, np.linspace(0.62 * radius, 0.86 * radius, 10))
    name_held = (band > ink).any(axis=0).mean()
    name_fill = (band > ink).mean()
    if name_held < NAME_HELD or name_fill > 0.6:
        return False  # no text inside the ring, or a filled disc
    core = _profile(dark, cx, cy, np.linspace(0.0, 0.1 * radius, 5), 72)
    return bool((core > DARK / 2).mean() >= STAR_HELD)
