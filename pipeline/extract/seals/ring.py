"""A seal's ink as black on white (redness at the sharpness of the brightness, or on a
greyscale page the darkness, print crossing it painted over), and its ring: the outline
walked along curves parallel to it and laid out straight, so that the rim text runs left to
right, upright."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.extract.seals.find import Blob, flatten_light, redness

GUIDE_EPS = 8.0
"""The guided filter's regulariser (:func:`sharp_redness`): small, so the fit follows
edges of low contrast too."""


def sharp_redness(flat: np.ndarray, radius: int = 2) -> np.ndarray:
    """Redness (see :func:`redness`) at the sharpness of the image's brightness.

    A JPEG (every phone photo, many scans) keeps colour at half the resolution of
    brightness, so redness alone draws a seal's characters as blurred blobs. Redness is
    fitted here, window by window, as a linear function of the darkness of the green
    channel (a guided filter, He et al. 2010): the strokes take their shape from the
    darkness, their weight from the redness, and black print, dark but not red, stays out.
    ``radius`` 2 for seals of a phone photo, 1 for one at scan resolution: it is what lets
    a phone photo's rim be read at all (docs/extraction.md has the figures)."""
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


def ink_image(image: np.ndarray, blob: Blob) -> tuple[np.ndarray, Ring]:
    """The seal's ink as black on white, and its outline in the crop's coordinates."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = blob.bbox
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    flat = flatten_light(image[y0:y1, x0:x1])
    a, b = blob.axes
    ring = Ring(
        (blob.centre[0] - x0, blob.centre[1] - y0), (a / 2, b / 2), math.radians(blob.angle)
    )
    # a seal at scan resolution: JPEG's colour blur is small beside its strokes
    radius = 1 if max(blob.axes) / 2 >= 180 else 2
    if blob.grey:  # no colour: print is told from the seal by its darkness, if at all
        dark = 255 - cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY)
        printed = _black_print(dark, ring)
        ink = _contrast(np.where(printed > 0, 0, dark).astype(np.uint8))
    else:
        ink = _contrast(sharp_redness(flat, radius))
        # black print crossing the seal (盖章 labels, signatures) leaves holes in the red:
        # fill them from the ink around them, so a character under print stays whole
        printed = (flat.max(axis=2) < 110).astype(np.uint8)
    if printed.any():
        printed = cv2.dilate(printed, np.ones((3, 3), np.uint8))
        ink = cv2.inpaint(ink, printed, 3, cv2.INPAINT_TELEA)
    return 255 - ink, ring


SEAL_GREY = 195
"""A seal whose ring is at most this dark (of 255) on a greyscale page was pressed in a
colour that greyscale made grey (a seal's red is 90–180: pure red is 179); black print is
215 and more."""
PRINT_ABOVE = 40
"""Ink this much darker than the seal's own ring (and 210 at least) is print crossing it."""


def _black_print(dark: np.ndarray, ring: Ring) -> np.ndarray:
    """On a greyscale page, the print crossing a seal: ink clearly darker than the seal's
    ring, where the ring is grey (a red seal scanned in greyscale; on a photocopy the seal
    is as black as the print and nothing is taken out). The seal's level is the median of
    the ring's inked points; print crosses the ring at a few places only."""
    width = max(2.0, 0.03 * ring.small)
    t = np.linspace(0, 2 * math.pi, 720, endpoint=False)
    # the ring's darkest at each place round, just inside the outline
    along = ring.unroll(dark, t, np.linspace(0.5 * width, 2.5 * width, 5)).max(axis=0)
    inked = along[along > 40]
    if inked.size < 0.5 * len(t):
        return np.zeros(dark.shape, np.uint8)
    level = float(np.median(inked))
    if level > SEAL_GREY:
        return np.zeros(dark.shape, np.uint8)
    return (dark > max(level + PRINT_ABOVE, 210)).astype(np.uint8)


@dataclass(frozen=True, slots=True)
class Ring:
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


def column_parameter(walked: np.ndarray, column: float) -> float:
    """The outline's parameter at a (fractional, possibly second-turn) strip column."""
    turn = len(walked)
    steps = np.append(walked, walked[0] + 2 * math.pi)
    return float(np.interp(column % turn, np.arange(turn + 1), steps))


def rigid_unroll(
    paper: np.ndarray,
    ring: Ring,
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
        points, normals = ring.at(np.array([column_parameter(walked, (start + end) / 2)]))
        (px, py), (nx, ny) = points[0], normals[0]
        along = (np.arange(width, dtype=np.float32)[None, :] - width / 2) / zoom
        map_x = (px - depth * nx - along * ny).astype(np.float32)
        map_y = (py - depth * ny + along * nx).astype(np.float32)
        pieces.append(cv2.remap(paper, map_x, map_y, cv2.INTER_CUBIC, borderValue=(255,)))
    return np.hstack(pieces)


def reach(ring: Ring, direction: float) -> float:
    """How far the outline lies from the centre in ``direction`` (degrees)."""
    t = np.linspace(0, 2 * math.pi, 721)
    points, _ = ring.at(t)
    offsets = points - np.array(ring.centre)
    angles = np.degrees(np.arctan2(offsets[:, 1], offsets[:, 0])) % 360
    nearest = int(np.argmin(np.abs((angles - direction + 180) % 360 - 180)))
    return float(np.hypot(*offsets[nearest]))


def as_rgb(grey: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(cv2.cvtColor(np.ascontiguousarray(grey), cv2.COLOR_GRAY2RGB))
