"""Draw a seal as Chinese company seals are cut (GA 241-2000 style): a ring, a five-pointed
star, the name along the upper arc with each character turned along it, an optional
horizontal inscription (认证专用章, 合同专用章, …) and an optional code along the lower arc.

The issuance stage draws the e-seal with it; the fixture generator draws the company and
authority seals that get stamped on paper, and spoils them with ink effects of its own.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageDraw

from pipeline.fonts import SERIF_BOLD, Face, font

MM_PER_INCH = 25.4
SUPERSAMPLE = 2


@dataclass(frozen=True, slots=True)
class SealDesign:
    name: str
    """Along the upper arc, read left to right."""
    inscription: str = ""
    """Horizontal, under the star (e.g. 认证专用章)."""
    code: str = ""
    """Along the lower arc, upright (the 13-digit seal code)."""
    shape: Literal["round", "oval"] = "round"
    width_mm: float = 42.0
    height_mm: float | None = None
    """Oval seals only; defaults to two thirds of the width."""
    colour: tuple[int, int, int] = (220, 20, 30)
    face: Face = SERIF_BOLD
    star: bool = True
    span_deg: float | None = None
    """The arc the name covers; by default it grows with the name's length."""
    ring: float = 0.032
    """The ring's width, a share of the seal's smaller diameter."""
    char_height: float | None = None
    """The name's character height, a share of the diameter (0.15 round, 0.16 oval)."""
    char_width: float = 0.95
    """The widest a name character may be, a share of its height (engravers condense)."""
    char_gap: float = 0.025
    """Between the ring and the name's characters, a share of the diameter."""
    star_size: float | None = None
    """The star's outer radius, a share of the diameter (0.17 round, 0.12 oval)."""
    inner_ring: bool = False
    """A thin second ring just inside the name (some engravers cut one)."""

    @property
    def size_mm(self) -> tuple[float, float]:
        if self.shape == "round":
            return self.width_mm, self.width_mm
        return self.width_mm, self.height_mm or self.width_mm * 2 / 3


def render_seal(design: SealDesign, dpi: int, supersample: int = SUPERSAMPLE) -> Image.Image:
    """The seal as an RGBA image: ink in ``design.colour``, coverage in alpha. Drawn at
    ``supersample`` times the size and reduced (smoother edges at scanner resolutions; at
    600 dpi the glyphs' own anti-aliasing is enough)."""
    scale = dpi / MM_PER_INCH * supersample
    width_mm, height_mm = design.size_mm
    size = (round(width_mm * scale), round(height_mm * scale))
    ink = Image.new("L", size, 0)
    _Drawing(ink, design).draw()
    if supersample > 1:
        ink = ink.reduce(supersample)
    seal = Image.new("RGBA", ink.size, (*design.colour, 0))
    seal.putalpha(ink)
    return seal


def name_masks(design: SealDesign, dpi: int, supersample: int = SUPERSAMPLE) -> list[Image.Image]:
    """Each character of the name drawn alone where :func:`render_seal` draws it (coverage,
    same size): what the corpus generator measures the ink a pressed character kept by."""
    scale = dpi / MM_PER_INCH * supersample
    width_mm, height_mm = design.size_mm
    size = (round(width_mm * scale), round(height_mm * scale))
    masks = []
    for placement in _Drawing(Image.new("L", size, 0), design).name_glyphs():
        ink = Image.new("L", size, 0)
        _Drawing(ink, design).glyph(*placement)
        masks.append(ink.reduce(supersample) if supersample > 1 else ink)
    return masks


class _Drawing:
    def __init__(self, ink: Image.Image, design: SealDesign) -> None:
        self.ink = ink
        self.design = design
        self.draw_ = ImageDraw.Draw(ink)
        self.a = ink.width / 2  # semi-axes
        self.b = ink.height / 2
        self.unit = min(self.a, self.b) * 2  # the seal's smaller diameter
        self.border = self.unit * design.ring

    def draw(self) -> None:
        border = self.border
        self.draw_.ellipse(
            (border / 2, border / 2, self.ink.width - border / 2, self.ink.height - border / 2),
            outline=255,
            width=round(border),
        )
        if self.design.inner_ring:
            inset = border + self.unit * (self.design.char_gap + 0.02) + self._name_height()
            width = max(1, round(border * 0.35))
            self.draw_.ellipse(
                (inset, inset, self.ink.width - inset, self.ink.height - inset),
                outline=255,
                width=width,
            )
        if self.design.star:
            self._star()
        self._upper_text()
        if self.design.inscription:
            self._inscription()
        if self.design.code:
            self._lower_code(border)

    def _point(self, angle: float, inset: float) -> tuple[float, float, float]:
        """A point ``inset`` px inside the rim at parametric ``angle``, and the outward normal."""
        a, b = self.a - inset, self.b - inset
        x, y = self.a + a * math.cos(angle), self.b + b * math.sin(angle)
        normal = math.atan2(a * math.sin(angle), b * math.cos(angle))
        return x, y, normal

    def glyph(
        self,
        char: str,
        height: float,
        width: float,
        up: float,
        at: tuple[float, float],
        face: Face | None = None,
    ) -> None:
        """Paste ``char``'s em square scaled into ``width`` × ``height``, its top pointing
        along ``up``. The em square, not the ink's bounds: stretched to a cell, a bracket's
        thin stroke became a fat one over its neighbour, and 一 a solid bar."""
        size = max(4, round(height))
        letter = font(face or self.design.face, size)
        tile = Image.new("L", (size, size), 0)
        ImageDraw.Draw(tile).text((size / 2, size / 2), char, font=letter, fill=255, anchor="mm")
        target = (max(1, round(width)), max(1, round(height * 0.92)))
        tile = tile.resize(target, Image.Resampling.BILINEAR)
        tile = tile.rotate(-(math.degrees(up) + 90), resample=Image.Resampling.BICUBIC, expand=True)
        x, y = at
        self.ink.paste(255, (round(x - tile.width / 2), round(y - tile.height / 2)), tile)

    def _arc_positions(self, start: float, span: float, count: int, inset: float) -> list[float]:
        """Parametric angles of ``count`` glyph centres spaced evenly by arc length."""
        steps = 720
        angles = [start + span * k / steps for k in range(steps + 1)]
        points = [self._point(t, inset)[:2] for t in angles]
        lengths = [0.0]
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            lengths.append(lengths[-1] + math.hypot(x1 - x0, y1 - y0))
        total = lengths[-1]
        result, k = [], 0
        for i in range(count):
            target = total * (i + 0.5) / count
            while k < steps and lengths[k + 1] < target:
                k += 1
            result.append(angles[k])
        return result

    def _upper_text(self) -> None:
        for placement in self.name_glyphs():
            self.glyph(*placement)

    def _name_height(self) -> float:
        """The name's character height in pixels."""
        oval = self.design.shape == "oval"
        return self.unit * (self.design.char_height or (0.16 if oval else 0.15))

    def name_glyphs(self) -> list[tuple[str, float, float, float, tuple[float, float]]]:
        """Where each character of the name goes: ``glyph``'s arguments."""
        border = self.border
        name = self.design.name
        count = max(1, len(name))
        low, high = (150.0, 220.0) if self.design.shape == "oval" else (180.0, 250.0)
        span = math.radians(self.design.span_deg or min(high, max(low, 14.0 * count + 60)))
        height = self._name_height()
        inset = border + self.unit * self.design.char_gap + height / 2
        start = -math.pi / 2 - span / 2
        angles = self._arc_positions(start, span, count, inset)
        mean_radius = (self.a + self.b) / 2 - inset
        width = min(height * self.design.char_width, mean_radius * span / count * 0.9)
        placements = []
        for char, angle in zip(name, angles, strict=True):
            x, y, normal = self._point(angle, inset)
            placements.append((char, height, width, normal, (x, y)))
        return placements

    def _star(self) -> None:
        radius = self.unit * (
            self.design.star_size or (0.17 if self.design.shape == "round" else 0.12)
        )
        cx, cy = self.a, self.b - (self.unit * 0.02 if self.design.inscription else 0)
        if self.design.shape == "oval" and self.design.inscription:
            cy = self.b - self.unit * 0.06
        points = []
        for i in range(10):
            r = radius if i % 2 == 0 else radius * 0.382
            angle = -math.pi / 2 + i * math.pi / 5
            points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
        self.draw_.polygon(points, fill=255)

    def _inscription(self) -> None:
        text = self.design.inscription
        height = self.unit * 0.105
        width = min(height, self.unit * 0.62 / max(1, len(text)))
        below = 0.25 if not self.design.code else 0.2
        y = self.b + self.unit * (below if self.design.shape == "round" else 0.17)
        total = width * len(text)
        for i, char in enumerate(text):
            x = self.a - total / 2 + width * (i + 0.5)
            self.glyph(char, height, width * 0.95, -math.pi / 2, (x, y))

    def _lower_code(self, border: float) -> None:
        code = self.design.code
        height = self.unit * 0.06
        inset = border + self.unit * 0.02 + height / 2
        span = math.radians(min(120.0, 7.5 * len(code)))
        pitch = span / max(1, len(code))
        start = math.pi / 2 + span / 2  # left end of the lower arc
        for i, char in enumerate(code):
            x, y, normal = self._point(start - pitch * (i + 0.5), inset)
            self.glyph(char, height, height * 0.55, normal + math.pi, (x, y))
