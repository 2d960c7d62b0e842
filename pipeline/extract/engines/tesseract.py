"""Tesseract 5 through pytesseract, chi_sim+eng, one OpenMP thread (TRAPS.md: threads made
it six times slower on two cores). The only module that runs tesseract."""

from __future__ import annotations

import os

import numpy as np
import pytesseract
from PIL import Image

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
LANG = "chi_sim+eng"


class TesseractEngine:
    name = "tesseract"

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        data = pytesseract.image_to_data(
            Image.fromarray(image), lang=LANG, config="--psm 3", output_type=pytesseract.Output.DICT
        )
        quads = []
        for i, level in enumerate(data["level"]):
            if level != 4:  # text lines
                continue
            x, y, w, h = (data[k][i] for k in ("left", "top", "width", "height"))
            quads.append(np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32))
        return quads

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        out = []
        for crop in crops:
            data = pytesseract.image_to_data(
                Image.fromarray(crop),
                lang=LANG,
                config="--psm 7",
                output_type=pytesseract.Output.DICT,
            )
            words = [
                (t, float(c))
                for t, c in zip(data["text"], data["conf"], strict=True)
                if t.strip() and float(c) >= 0
            ]
            text = "".join(t for t, _ in words)
            score = min((c for _, c in words), default=0.0) / 100
            out.append((text, score))
        return out

    def upright(self, crops: list[np.ndarray]) -> list[bool]:
        return [True] * len(crops)

    def for_seals(self) -> TesseractEngine:
        return self

    def disagreement(self, crop: np.ndarray, text: str) -> float | None:
        """Tesseract gives no per-frame likelihoods to weigh a known text against."""
        return None
