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
