"""The CJK fonts sealdesk draws with, from Debian's packages (scripts/setup.sh installs them).

Pillow reads a face out of a ``.ttc`` collection by index: for Noto CJK, 2 is Simplified
Chinese (``../shared/TRAPS.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import ImageFont

from pipeline.errors import ConfigError

NOTO = Path("/usr/share/fonts/opentype/noto")
WQY = Path("/usr/share/fonts/truetype/wqy")


@dataclass(frozen=True, slots=True)
class Face:
    path: Path
    index: int = 0


SANS = Face(NOTO / "NotoSansCJK-Regular.ttc", 2)
SANS_BOLD = Face(NOTO / "NotoSansCJK-Bold.ttc", 2)
SERIF = Face(NOTO / "NotoSerifCJK-Regular.ttc", 2)
SERIF_BOLD = Face(NOTO / "NotoSerifCJK-Bold.ttc", 2)
ZENHEI = Face(WQY / "wqy-zenhei.ttc", 0)


@cache
def font(face: Face, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(str(face.path), size, index=face.index)
    except OSError as exc:
        raise ConfigError(
            f"font {face.path} is missing: run scripts/setup.sh (fonts-noto-cjk, fonts-wqy-zenhei)"
        ) from exc


PDF_FONT = "WenQuanYiZenHei"
"""The CJK font of the PDFs sealdesk writes with reportlab (which refuses Noto CJK's
PostScript outlines); embedded as a subset, so Chinese text is selectable."""


def register_pdf_font() -> str:
    """Make the CJK font known to reportlab (once a process), and have it write binary
    streams: its ASCII85 encoder is pure Python here (2.9 s of a 5.5 s review packet; 30 ms
    of each issued PDF). Every sealdesk PDF writer calls this before drawing."""
    from reportlab import rl_config
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    rl_config.useA85 = 0

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        try:
            pdfmetrics.registerFont(TTFont(PDF_FONT, str(ZENHEI.path), subfontIndex=ZENHEI.index))
        except OSError as exc:
            raise ConfigError(
                f"font {ZENHEI.path} is missing: run scripts/setup.sh (fonts-wqy-zenhei)"
            ) from exc
    return PDF_FONT
