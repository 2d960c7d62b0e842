"""The e-seal image: round, red, the company name along the upper arc, the star, and
认证专用章 under it (the CQCCA guide's note 3). ``seal_style`` in the record may ask for an
oval or another inscription. A transparent PNG, 42 mm at 600 dpi, that our own seal reader
reads back exactly (tests/test_issue_eseal.py)."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

from PIL import Image

from pipeline.issue.seal_image import SealDesign, render_seal

ESEAL_DPI = 600
ESEAL_MM = 42.0
DEFAULT_INSCRIPTION = "认证专用章"
OVAL_MM = (45.0, 30.0)
MAX_SPAN_DEG = 230.0
"""The arc a round e-seal's name may cover. The drawing's default grows to 250° for long
names, which brings the name's ends down beside 认证专用章; our reader then took a stroke of
the inscription for a character of the name in 4 of 40 names (and read the inscription
short in 5). At 230° it read all 40 names and inscriptions exactly."""


def eseal_design(company_name: str, seal_style: dict[str, Any] | None = None) -> SealDesign:
    style = seal_style or {}
    inscription = str(style.get("inscription") or DEFAULT_INSCRIPTION)
    if style.get("shape") == "oval":
        return SealDesign(
            company_name,
            inscription=inscription,
            shape="oval",
            width_mm=OVAL_MM[0],
            height_mm=OVAL_MM[1],
        )
    span = min(MAX_SPAN_DEG, max(180.0, 14.0 * len(company_name) + 60.0))
    return SealDesign(company_name, inscription=inscription, width_mm=ESEAL_MM, span_deg=span)


@lru_cache(maxsize=8)
def stamp_image(design: SealDesign) -> Image.Image:
    """The e-seal for a visible signature's appearance: 300 dpi is plenty on screen and
    paper, and a quarter of the pixels to compress into every sealed PDF."""
    full = eseal_image(design)
    return full.resize((full.width // 2, full.height // 2), Image.Resampling.BOX)


@lru_cache(maxsize=8)
def eseal_image(design: SealDesign, dpi: int = ESEAL_DPI) -> Image.Image:
    """The seal, RGBA (red ink, transparent paper). Cached: a batch draws each name once."""
    return render_seal(design, dpi, supersample=1 if dpi >= ESEAL_DPI else 2)


def eseal_png(design: SealDesign) -> bytes:
    """The PNG: one ink colour at 256 levels of coverage, so a palette image whose entries
    carry the coverage as transparency (a quarter of RGBA's bytes to compress)."""
    seal = eseal_image(design)
    coverage = seal.getchannel("A")
    paletted = coverage.convert("P")
    paletted.putpalette(list(design.colour) * 256)
    out = io.BytesIO()
    paletted.save(
        out,
        format="PNG",
        dpi=(ESEAL_DPI, ESEAL_DPI),
        transparency=bytes(range(256)),
        compress_level=6,
    )
    return out.getvalue()
