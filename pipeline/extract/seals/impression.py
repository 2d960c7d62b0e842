"""Two impressions of one seal: where a clear one has the name, a faint one is read again.

A clerk who cannot read one page's seal looks at another page bearing the same seal clearly
(印章比对). An impression is the seal's ring unrolled once round (see ``read_seal``), scaled
to a fixed width: the same seal pressed again, turned any way, on a scan or a photo,
unrolls to the same strip shifted round. On the clear impression the recogniser places the
name's characters (``read.place_name``); each character's cell is looked for in the other
strip where the whole ring put it, and the cells that match register the two rings. The
faint strip is then cut where the clear one has each character, and the recogniser weighs
the name there (``read.weigh_cut``): the geometry comes from the clear impression, the
judgement from the faint one's own ink, by the lines a rim read alone is held to
(``pipeline.model.names.fits_where_clear``).

A seal cut with another character registers, and its cell holds the other character for
the recogniser to see; one cut with a character more or less does not register, or puts
the characters on one side of it a character's width off their cells. ``bench/impressions``
presses both kinds beside a clear impression of the name.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

WIDTH = 1200
"""Columns an impression's strip is scaled to (about a 40 mm seal's at 300 dpi, read)."""


@dataclass(frozen=True, slots=True)
class Impression:
    ink: np.ndarray
    """Darkness of the ink (0 paper, 255 ink), a row per depth from the rim inward, WIDTH
    columns once round."""
    span: tuple[float, float] | None
    """The name's first column and its width, in ``ink``'s columns (the name may run past
    the last column round to the first)."""


def impression_of(strip: np.ndarray, span: tuple[float, float] | None) -> Impression:
    """``strip``: the ring unrolled once round, ink black on white; ``span``: the name's
    first column and its width in it, if a name was found."""
    scale = WIDTH / strip.shape[1]
    rows = max(8, round(strip.shape[0] * scale))
    small = cv2.resize(strip, (WIDTH, rows), interpolation=cv2.INTER_AREA)
    ink = (255 - small).astype(np.uint8)
    if span is None:
        return Impression(ink, None)
    return Impression(ink, ((span[0] * scale) % WIDTH, span[1] * scale))


def _darkness(ink: np.ndarray, rows: int) -> np.ndarray:
    """Ink as float, its strokes scaled to one (a dry press and a full one alike), blurred a
    little: a photo's strokes are softer than a scan's."""
    dark = ink[:rows].astype(np.float32)
    strokes = dark[dark > 25]
    top = float(np.percentile(strokes, 95)) if strokes.size > 100 else float(dark.max())
    blurred: np.ndarray = cv2.GaussianBlur(dark / max(top, 1.0), (0, 0), 1.0)
    return blurred


def _turned(reference: np.ndarray, other: np.ndarray) -> int:
    """How many columns ``other`` is turned round from ``reference``: the circular shift at
    which the whole rings agree best."""
    a = np.fft.rfft(reference - reference.mean(), axis=1)
    b = np.fft.rfft(other - other.mean(), axis=1)
    agreement = np.fft.irfft((np.conj(a) * b).sum(axis=0), n=reference.shape[1])
    return int(np.argmax(agreement))


def _rim_rows(dark: np.ndarray) -> np.ndarray:
    """Rows of the rim line: inked all round."""
    all_round = np.median(dark, axis=1)
    rows: np.ndarray = all_round > 0.4 * max(float(all_round.max()), 1e-6)
    return rows


def _name_rows(dark: np.ndarray, start: int, width: int) -> tuple[int, int]:
    """The rows the name's strokes occupy, the rim line aside."""
    columns = np.arange(start, start + width) % dark.shape[1]
    profile = dark[:, columns].mean(axis=1)
    profile[_rim_rows(dark)] = 0.0
    inked = np.flatnonzero(profile > 0.25 * max(float(profile.max()), 1e-6))
    if not inked.size:
        return 0, dark.shape[0]
    return int(inked[0]), int(inked[-1]) + 1


def _wrapped(image: np.ndarray, rows: tuple[int, int], start: int, width: int) -> np.ndarray:
    columns = np.arange(start, start + width) % image.shape[1]
    taken: np.ndarray = np.ascontiguousarray(image[rows[0] : rows[1]][:, columns])
    return taken


SLACK = 0.5
"""How far (in characters) a cell is looked for around where the whole ring put it."""
HOLD = 0.08
"""How far (in characters) from where its neighbours put it a cell may lie, once the two
rings are registered cell by cell: a seal pressed twice differs by no more, a seal cut with
a character more or less puts the characters on one side of it a character's width off."""
REACH = 4
"""Rows a cell is looked for above and below its place."""
STEADY = 0.8
"""Cells at least this alike register the two rings (see :func:`_registered`)."""
BAND_PAD = 0.15
"""Margin above and below the name's rows, as a share of their height, in a cut."""
ENDS = 0.1
"""Margin (characters) before the name's first and after its last character in a cut."""


def _registered(places: np.ndarray, fits: np.ndarray, step: float) -> np.ndarray | None:
    """Where each cell lies on the other ring (columns and rows off where the whole ring
    put it), as a straight line along the name fitted to the cells that matched well: an
    ellipse fitted a little off, or a photo's perspective, shifts the strip smoothly along
    the rim. None when too few cells matched to fit it."""
    index = np.arange(len(places), dtype=np.float64)
    steady = fits >= STEADY
    for _ in range(3):
        if steady.sum() < max(3, len(places) // 3):
            return None
        design = np.column_stack([np.ones(int(steady.sum())), index[steady]])
        line, *_ = np.linalg.lstsq(design, places[steady], rcond=None)
        predicted: np.ndarray = np.column_stack([np.ones(len(places)), index]) @ line
        off = np.abs(places[:, 0] - predicted[:, 0]) > HOLD * step
        if not (steady & off).any():
            return predicted
        steady &= ~off
    return None


@dataclass(frozen=True, slots=True)
class Cut:
    """A rim cut where a clear impression of its seal has the name: the name's band whole,
    and a cell per character (ink black on white)."""

    whole: np.ndarray
    cells: tuple[np.ndarray, ...]


def name_band(reference: Impression) -> tuple[int, int] | None:
    """The rows of ``reference``'s strip its name's strokes occupy, the rim line aside."""
    if reference.span is None:
        return None
    dark = _darkness(reference.ink, reference.ink.shape[0])
    top, bottom = _name_rows(dark, int(reference.span[0]), max(1, int(reference.span[1])))
    return (top, bottom) if bottom - top >= 4 else None


def on_paper(ink: np.ndarray, rows: tuple[int, int], c0: float, c1: float) -> np.ndarray:
    """Columns ``c0``-``c1`` of an impression's strip (round past its end), ``rows`` of it,
    black on white."""
    taken = _wrapped(ink, rows, int(c0), max(1, int(c1) - int(c0)))
    return np.ascontiguousarray(255 - taken)


def cut_like(reference: Impression, edges: Sequence[float], other: Impression) -> Cut | None:
    """``other``'s rim cut where ``reference`` has the name's characters (``edges``: the
    columns between them, first and last included; see read.place_name), once the two rings
    are registered on the cells that match (see :func:`_registered`). None when too few
    cells match to register the two: another seal altogether, or one too faint to compare."""
    band = name_band(reference)
    if band is None or len(edges) < 3:
        return None
    rows = min(reference.ink.shape[0], other.ink.shape[0])
    a, b = _darkness(reference.ink, rows), _darkness(other.ink, rows)
    turned = _turned(a, b)
    top, bottom = min(band[0], rows - 4), min(band[1], rows)
    step = (edges[-1] - edges[0]) / (len(edges) - 1)
    if step < 4:
        return None
    slack = max(2, int(SLACK * step))
    lo, hi = max(0, top - REACH), min(rows, bottom + REACH)
    places, fits = [], []
    for c0, c1 in itertools.pairwise(round(e) for e in edges):
        cell = _wrapped(a, (top, bottom), c0, max(1, c1 - c0))
        around = _wrapped(b, (lo, hi), c0 + turned - slack, max(1, c1 - c0) + 2 * slack)
        response = np.nan_to_num(cv2.matchTemplate(around, cell, cv2.TM_CCOEFF_NORMED))
        y, x = np.unravel_index(int(np.argmax(response)), response.shape)
        places.append((x - slack, y + lo - top))
        fits.append(float(response[y, x]) if cell.std() > 1e-3 else 0.0)
    predicted = _registered(np.array(places, np.float64), np.array(fits), step)
    if predicted is None:
        return None
    pad = int(BAND_PAD * (bottom - top))
    shift = round(float(np.median(predicted[:, 1])))
    there = (max(0, top + shift - pad), min(other.ink.shape[0], bottom + shift + pad))
    if there[1] - there[0] < 4:
        return None
    moved = [e + turned + predicted[min(i, len(predicted) - 1), 0] for i, e in enumerate(edges)]
    whole = on_paper(other.ink, there, moved[0] - ENDS * step, moved[-1] + ENDS * step)
    cells = tuple(on_paper(other.ink, there, c0, c1) for c0, c1 in itertools.pairwise(moved))
    return Cut(whole, cells)
