"""Text on a page: the engines behind one small interface.

An engine finds text lines (``detect``), reads cut-out line images (``recognize``), and
says which way up lines are (``upright``). Everything above this module works on
:class:`TextLine` and never knows which engine ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

Quad = np.ndarray
"""Four corner points (x, y), clockwise from top left, float32, page pixels."""


@dataclass(frozen=True, slots=True)
class TextLine:
    text: str
    score: float
    box: tuple[int, int, int, int]
    """Axis-aligned bounds on the page (x0, y0, x1, y1)."""
    quad: tuple[tuple[float, float], ...] = ()

    @property
    def height(self) -> float:
        if len(self.quad) == 4:
            (x0, y0), (x1, y1), (x2, y2), (x3, y3) = self.quad
            return float(np.hypot(x3 - x0, y3 - y0) + np.hypot(x2 - x1, y2 - y1)) / 2
        return float(self.box[3] - self.box[1])

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


PERFECT_FIT = 0.005
"""A disagreement below this is reported as 0 (to 0.01 nats), and none is below 0: a text
that fits this well cannot be bettered by weighing it on another crop or model."""


class OcrEngine(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> list[Quad]:
        """Text line quadrilaterals on ``image`` (RGB or grey, any size)."""

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """The text of each line image (upright, left to right) and its confidence."""

    def upright(self, crops: list[np.ndarray]) -> list[bool]:
        """For each line image, whether it reads the right way up (False: turned 180°)."""

    def disagreement(self, crop: np.ndarray, text: str) -> float | None:
        """How much less likely ``text`` is on the line image than the engine's own reading
        (nats; 0 when it fits as well), or None when the engine cannot tell."""

    def for_seals(self) -> OcrEngine:
        """The engine to read seals with: itself, or the same engine with a recogniser
        that reads stamped, curved, faint text better than print."""


def rgb(image: np.ndarray) -> np.ndarray:
    """``image`` with three channels (a grey one repeated), as the engines take it."""
    if image.ndim == 3:
        return image
    return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_GRAY2RGB))


def crop_quad(image: np.ndarray, quad: Quad) -> np.ndarray:
    """Cut a text line out along its quadrilateral, straightened (and turned if vertical),
    always with three channels."""
    points = np.asarray(quad, dtype=np.float32)
    width = int(max(np.linalg.norm(points[0] - points[1]), np.linalg.norm(points[2] - points[3])))
    height = int(max(np.linalg.norm(points[0] - points[3]), np.linalg.norm(points[1] - points[2])))
    width, height = max(width, 2), max(height, 2)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    matrix = cv2.getPerspectiveTransform(points, target)
    line = cv2.warpPerspective(
        image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    if height / width >= 1.5:
        line = np.rot90(line)
    return rgb(np.ascontiguousarray(line))


def shrink(image: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    scale = min(1.0, side / max(image.shape[:2]))
    if scale == 1.0:
        return image, 1.0
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), scale


def read_lines(
    engine: OcrEngine,
    image: np.ndarray,
    detect_side: int = 1280,
    min_score: float = 0.3,
    found: list[Quad] | None = None,
) -> list[TextLine]:
    """Find lines on a shrunken copy (cheap), read them from the full image (sharp).
    ``found``: quads already detected on the shrunken copy (not looked for again)."""
    small, scale = shrink(image, detect_side)
    detected = found if found is not None else engine.detect(rgb(small))
    quads = [np.asarray(q, dtype=np.float32) / scale for q in detected]
    if not quads:
        return []
    crops = [crop_quad(image, q) for q in quads]
    reads = engine.recognize(crops)
    # The page is upright already; a line the classifier calls upside down is read both
    # ways and the better read kept (it called a serif credit code upside down).
    flipped = [i for i, up in enumerate(engine.upright(crops)) if not up]
    turned = engine.recognize([np.ascontiguousarray(np.rot90(crops[i], 2)) for i in flipped])
    for i, other in zip(flipped, turned, strict=True):
        if other[1] > reads[i][1]:
            reads[i] = other
    lines = []
    for quad, (text, score) in zip(quads, reads, strict=True):
        text = text.strip()
        if not text or score < min_score:
            continue
        xs, ys = quad[:, 0], quad[:, 1]
        lines.append(
            TextLine(
                text,
                float(score),
                (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())),
                tuple((float(x), float(y)) for x, y in quad),
            )
        )
    return lines
