"""One page, read as a careful clerk would: turned the right way up, its text read with the
seals' red ink filtered out, its kind and fields, its QR code, its seals."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from pipeline.extract.classify import classify
from pipeline.extract.fields import Fields, read_fields
from pipeline.extract.ocr import OcrEngine, TextLine, crop_quad, read_lines, rgb, shrink
from pipeline.extract.seals import Seal, detect_and_read
from pipeline.extract.seals.grey import page_has_colour, seal_traces
from pipeline.model.application import APPLICATION_ID
from pipeline.model.names import same

DETECT_SIDE = 1024
"""Text is found on the page shrunk to this long side, then read at full resolution."""


@dataclass(frozen=True, slots=True)
class PageExtraction:
    kind: str
    confidence: float
    fields: dict[str, Any]
    notes: dict[str, dict[str, Any]]
    seals: tuple[Seal, ...]
    rotation: int
    """Quarter turns (clockwise, degrees) the page needed to read upright."""
    lines: tuple[TextLine, ...] = field(default=(), repr=False)
    blank: bool = False
    seconds: float = 0.0


def text_layer(image: np.ndarray) -> np.ndarray:
    """The page as the red channel sees it (one channel): red seal ink turns to paper, print
    stays black."""
    return np.ascontiguousarray(image[..., 0] if image.ndim == 3 else image)


def orientation(engine: OcrEngine, image: np.ndarray) -> tuple[int, list[np.ndarray]]:
    """Degrees to turn the page clockwise so its text reads upright (0, 90, 180 or 270),
    and the lines found on the shrunken page on the way (reused when it needs no turn)."""
    small, _ = shrink(image, DETECT_SIDE)
    quads = engine.detect(rgb(small))
    if not quads:
        return 0, quads
    sizes = [
        (float(np.linalg.norm(q[0] - q[1])), float(np.linalg.norm(q[0] - q[3]))) for q in quads
    ]
    vertical = [h > 1.5 * w for w, h in sizes]
    weights = [max(w, h) for w, h in sizes]
    sideways = sum(wt for v, wt in zip(vertical, weights, strict=True) if v) > 0.5 * sum(weights)
    chosen = [q for q, v in zip(quads, vertical, strict=True) if v == sideways]
    chosen = sorted(chosen, key=lambda q: -float(np.ptp(q[:, 0]) + np.ptp(q[:, 1])))[:12]
    ups = engine.upright([crop_quad(small, q) for q in chosen])
    upright = sum(ups) >= len(ups) / 2
    if sideways:  # crop_quad turned the tall lines a quarter left
        return (270 if upright else 90), quads
    return (0 if upright else 180), quads


def turn(image: np.ndarray, degrees: int) -> np.ndarray:
    """Turn ``image`` clockwise by ``degrees`` (a multiple of 90)."""
    return np.ascontiguousarray(np.rot90(image, k=-(degrees // 90) % 4))


def to_original(box: tuple[int, int, int, int], degrees: int, shape: tuple[int, ...]) -> list[int]:
    """Where a box on the turned page (of ``shape``) lies on the page as intake rendered it."""
    h, w = shape[:2]  # of the turned page
    x0, y0, x1, y1 = box
    if degrees == 90:  # turned clockwise: x' = H - y, y' = x, and H (original) = w
        return [y0, w - x1, y1, w - x0]
    if degrees == 180:
        return [w - x1, h - y1, w - x0, h - y0]
    if degrees == 270:  # x' = y, y' = W - x, and W (original) = h
        return [h - y1, x0, h - y0, x1]
    return [x0, y0, x1, y1]


def read_qr(image: np.ndarray) -> str | None:
    """The application id from the form's QR code (top of the page), if one decodes."""
    top = image[: image.shape[0] // 3]
    grey = cv2.cvtColor(top, cv2.COLOR_RGB2GRAY) if top.ndim == 3 else top
    detector = cv2.QRCodeDetector()
    half = cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    for candidate in (half, grey):  # the smaller first: it decodes most codes, and fast
        text, _, _ = detector.detectAndDecode(candidate)
        if text and APPLICATION_ID.fullmatch(text.strip()):
            return text.strip()
    return None


_CJK = re.compile(r"[\u4e00-\u9fff]")
SIGNED_KINDS = ("application_form", "confirmation_letter", "authorization_letter")
"""Documents with a place to sign (经办人签字, 法定代表人（签字）)."""
SIGNATURE_LABELS = ("经办人签字", "法定代表人（签字）", "法定代表人(签字)")


INK_DARK = 110
"""A pen stroke's red channel is below this, whatever the paper (red seal ink is not)."""
INK_BELOW_PAPER = 80
"""Or this far below the paper's own red channel (the median of the region)."""


def signature_present(image: np.ndarray, lines: list[TextLine]) -> bool | None:
    """Ink strokes to the right of the signature label that are not printed text."""
    label = next(
        (ln for ln in lines if any(s in ln.text.replace(" ", "") for s in SIGNATURE_LABELS)), None
    )
    if label is None:
        return None
    h = label.box[3] - label.box[1]
    x0 = min(label.box[2], _label_end(label, lines))
    x1 = min(image.shape[1], x0 + 14 * h)
    y0, y1 = max(0, label.box[1] - 2 * h), min(image.shape[0], label.box[3] + 2 * h)
    region = image[y0:y1, x0:x1]
    if region.size == 0:
        return False
    # not red ink; dark beside this page's paper: a thin ballpoint line on a bright photo
    # keeps its red channel about 80 below the paper's, where black print goes far lower
    red = region[..., 0] if region.ndim == 3 else region
    dark = red < max(INK_DARK, float(np.median(red)) - INK_BELOW_PAPER)
    mask = dark.copy()
    for line in lines:  # printed text next to the label is not a signature
        if line is label or not _printed(line):
            continue
        bx0, by0, bx1, by1 = line.box
        mask[max(0, by0 - y0) : max(0, by1 - y0), max(0, bx0 - x0) : max(0, bx1 - x0)] = False
    # rules of a table or a box are no signature; what is left must be a stroke's worth of
    # ink (a short, thin signature on a photo is 500 pixels in a region of 450,000)
    ink = mask.astype(np.uint8)
    ruled = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, max(3, int(4 * h))), np.uint8))
    ruled |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((max(3, int(2 * h)), 1), np.uint8))
    return bool(int((ink & ~ruled.astype(bool)).sum()) > 0.04 * h * h)


def _printed(line: TextLine) -> bool:
    """Whether a text line is print, not a signature the detector boxed and read as
    something ('S>' at 0.72): Chinese characters, or a sure read of some length."""
    return len(_CJK.findall(line.text)) >= 2 or (line.score >= 0.9 and len(line.text) >= 4)


def _label_end(label: TextLine, lines: list[TextLine]) -> int:
    """Where the signature label's print ends. The detector may draw the label's box on
    over a signature that starts close to it; the label's end is its first characters at
    the page's own character advance (measured on its Chinese lines)."""
    advances = [
        (ln.box[2] - ln.box[0]) / len(ln.text)
        for ln in lines
        if ln is not label
        and len(ln.text) >= 4
        and ln.score > 0.9
        and len(_CJK.findall(ln.text)) >= 0.8 * len(ln.text)
    ]
    text = label.text.replace(" ", "")
    found = [text.find(s) + len(s) for s in SIGNATURE_LABELS if s in text]
    if not advances or not found:
        return label.box[2]
    chars = found[0] + (1 if text[found[0] : found[0] + 1] in "：:" else 0)
    return int(label.box[0] + (chars + 0.3) * float(np.median(advances)))


NAME_FIELDS = ("company_name", "principal")
"""Fields whose line is weighed against the expected names (see OcrEngine.disagreement)."""
PERSON_FIELDS = ("name", "agent_name")
"""Fields whose line is weighed against the expected people (an ID card's holder, the
agent an authorization letter names)."""


def extract_page(
    image: np.ndarray,
    engine: OcrEngine,
    expect: tuple[str, ...] = (),
    seals: bool = True,
    people: tuple[str, ...] = (),
) -> PageExtraction:
    """``expect``: names the page should bear (the application's company name): each seal
    rim and name line is weighed against them, beside what was read. ``people``: the
    names of the people the application names (contact, agent), weighed on the line of an
    ID card's name or a letter's agent. ``seals=False``: the text only (the mailroom's
    routing read: kind, application id, credit code)."""
    started = time.perf_counter()
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    rotation, quads = orientation(engine, text_layer(image))
    upright = turn(image, rotation)
    lines = read_lines(
        engine, text_layer(upright), DETECT_SIDE, found=quads if rotation == 0 else None
    )
    kind, confidence = classify(lines)
    fields = read_fields(kind, lines)
    if kind == "application_form":
        _form_extras(fields, upright, lines)
    if kind in SIGNED_KINDS:
        signed = signature_present(upright, lines)
        if signed is not None:
            fields.values["signature_present"] = signed
    if expect:
        _check_names(fields, engine, text_layer(upright), expect, NAME_FIELDS)
    if people:
        _check_names(fields, engine, text_layer(upright), people, PERSON_FIELDS)
    found = tuple(detect_and_read(image, engine, expect)) if seals else ()
    grey = seals and not page_has_colour(image)
    authority = next((s for s in found if s.owner == "authority" and s.text), None)
    if kind in ("business_licence", "org_code_certificate") and authority is not None:
        fields.put(
            "authority", authority.text, confidence=round(authority.confidence, 3), source="seal"
        )
    notes = {
        name: {
            **note,
            **(
                {"bbox": to_original(fields.lines[name].box, rotation, upright.shape)}
                if name in fields.lines
                else {}
            ),
        }
        for name, note in fields.notes.items()
    }
    if grey:  # no colour to find a seal by: validation says so where none was found
        company = any(s.owner == "company" for s in found)
        traces = not company and seal_traces(image, [s.centre for s in found])
        notes["page_colour"] = {"grey": True, "seal_traces": traces}
    blank = not lines and not found and float(np.mean(image < 128)) < 0.002
    return PageExtraction(
        kind,
        confidence,
        fields.values,
        notes,
        found,
        rotation,
        tuple(lines),
        blank,
        time.perf_counter() - started,
    )


def _form_extras(fields: Fields, image: np.ndarray, lines: list[TextLine]) -> None:
    code = read_qr(image)
    printed = fields.values.get("application_id")
    if code:
        fields.put("application_id", code)
        fields.notes["application_id"] = {
            "source": "qr",
            "printed": printed,
            "agrees": printed in (None, code),
        }


def _check_names(
    fields: Fields,
    engine: OcrEngine,
    page: np.ndarray,
    expect: tuple[str, ...],
    which: tuple[str, ...],
) -> None:
    for name in which:
        line, value = fields.lines.get(name), fields.values.get(name)
        if line is None or not isinstance(value, str) or len(line.quad) != 4:
            continue
        at = line.text.find(value)
        if at < 0:
            continue  # the name is not the line's text as read: no fair weighing
        # the line may hold more than the name (its label, a signing label after it): the
        # expected name is weighed in the name's place, the rest of the line as it was read
        before, after = line.text[:at], line.text[at + len(value) :]
        crop = crop_quad(page, np.asarray(line.quad, dtype=np.float32))
        # a name read as it is expected matches whatever its weight (judge): not weighed
        fits = {
            e: None if same(value, e) else engine.disagreement(crop, before + e + after)
            for e in expect
        }
        fields.notes.setdefault(name, {})["disagreement"] = {
            e: None if f is None else round(f, 2) for e, f in fits.items()
        }
