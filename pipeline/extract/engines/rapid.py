"""RapidOCR (PP-OCRv4 detection and recognition, ONNX Runtime); its wheel carries the
models, so it runs offline. The only module that imports ``rapidocr_onnxruntime``."""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, threads: int = 1) -> None:
        from rapidocr_onnxruntime import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        self._ocr = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
        # "min" (the default) upscales any image whose short side is under 736 px: a seal's
        # unrolled rim (3000 × 120) became 18,000 px wide. "max" only ever shrinks.
        self._ocr.text_det.limit_type = "max"

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        boxes, _ = self._ocr.text_det(np.ascontiguousarray(image))
        return [] if boxes is None else [np.asarray(b, dtype=np.float32) for b in boxes]

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        if not crops:
            return []
        results, _ = self._ocr.text_rec(crops)
        return [(str(text), float(score)) for text, score in results]

    def upright(self, crops: list[np.ndarray]) -> list[bool]:
        if not crops:
            return []
        _, labels, _ = self._ocr.text_cls([c.copy() for c in crops])
        return [not (label == "180" and score > 0.9) for label, score in labels]
