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
    return SealDesign(company_name, inscription=inscription, width_mm=ESEAL_MM)


@lru_cache(maxsize=64)
def eseal_image(design: SealDesign, dpi: int = ESEAL_DPI) -> Image.Image:
    """The seal, RGBA (red ink, transparent paper). Cached: a batch draws each name once."""
    return render_seal(design, dpi)


def eseal_png(design: SealDesign) -> bytes:
    out = io.BytesIO()
    eseal_image(design).save(out, format="PNG", dpi=(ESEAL_DPI, ESEAL_DPI), optimize=False)
    return out.getvalue()
