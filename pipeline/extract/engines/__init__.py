"""OCR engines. ``make_engine`` chooses by name: ``rapidocr`` (default) or ``tesseract``.

Measured on the fixture corpus (README, performance section), RapidOCR's PP-OCRv4 models
read Chinese form and licence text far better than Tesseract's chi_sim; Tesseract stays
selectable (``--engine tesseract``) as the fallback that needs no model files.
"""

from __future__ import annotations

from pipeline.errors import ConfigError
from pipeline.extract.ocr import OcrEngine

ENGINES = ("rapidocr", "tesseract")


def make_engine(name: str = "rapidocr", threads: int = 1) -> OcrEngine:
    if name == "rapidocr":
        from pipeline.extract.engines.rapid import RapidOcrEngine

        return RapidOcrEngine(threads=threads)
    if name == "tesseract":
        from pipeline.extract.engines.tesseract import TesseractEngine

        return TesseractEngine()
    raise ConfigError(f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINES)}")
