"""Company and person names as the seeds compare them: character for character, after
folding only what cannot change identity (full-/half-width forms, bracket styles, white
space). 有限公司 vs 有限责任公司, one character more or less: different names."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

FITS = 4.0
"""At most this many nats less likely than the engine's own reading (see
OcrEngine.disagreement), the image agrees with the expected name: a faint or broken
character was misread. Measured on the corpus: true names 0–3, a character added, dropped
or changed 9 and up."""
DIFFERS = 8.0
"""At least this many nats, the image clearly shows another name."""
SURE = 0.9
"""A read at this confidence or above, with no likelihood to weigh, counts as certain."""


def fold(text: Any) -> str:
    """The folded form: NFKC (full-width to half-width), one bracket style, no white space."""
    value = unicodedata.normalize("NFKC", str(text))
    return "".join(value.split()).replace("（", "(").replace("）", ")")


def same(a: Any, b: Any) -> bool:
    return fold(a) == fold(b)


@dataclass(frozen=True, slots=True)
class Judgement:
    """How a read name stands against the expected one."""

    outcome: str
    """``match``, ``fits`` (read otherwise, but the image agrees with the expected name),
    ``unsure`` (a person must look) or ``differs`` (a confident difference)."""
    found: str | None
    disagreement: float | None = None
    confidence: float | None = None

    @property
    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {"found": self.found}
        if self.confidence is not None:
            out["confidence"] = round(self.confidence, 3)
        if self.disagreement is not None:
            out["disagreement"] = self.disagreement
        return out


def judge(
    expected: str, found: str | None, confidence: float | None, disagreement: float | None
) -> Judgement:
    """Compare a read name with the expected one. Uncertainty is never a pass: a name not
    read, read with low confidence, or whose image neither fits nor clearly differs, is
    ``unsure``."""
    if found and same(expected, found):
        return Judgement("match", found, disagreement, confidence)
    if disagreement is not None:
        if disagreement <= FITS:
            return Judgement("fits", found, disagreement, confidence)
        if disagreement >= DIFFERS and found:
            return Judgement("differs", found, disagreement, confidence)
        return Judgement("unsure", found, disagreement, confidence)
    if found and confidence is not None and confidence >= SURE:
        return Judgement("differs", found, None, confidence)
    return Judgement("unsure", found, None, confidence)
