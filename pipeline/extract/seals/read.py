"""A seal read: the rim read three ways (cut between characters, in even tiles, bent) by
the print recogniser and, where its reads disagree, the seal recogniser, and voted on;
weighed against the names the page should bear; the inscription and the code."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from pipeline.extract.ocr import PERFECT_FIT, OcrEngine
from pipeline.extract.seals.find import ROUND, Blob, find_seals
from pipeline.extract.seals.grey import find_grey_seals
from pipeline.extract.seals.impression import Cut, Impression, impression_of, name_band, on_paper
from pipeline.extract.seals.name import (
    Run,
    character_cuts,
    character_step,
    extend_by_ink,
    is_worn,
    name_rows,
    name_span,
    text_runs,
)
from pipeline.extract.seals.ring import (
    Ring,
    as_rgb,
    column_parameter,
    ink_image,
    reach,
    rigid_unroll,
)
from pipeline.extract.seals.text import CJK, clean_rim_read, is_authority, unspaced
from pipeline.model.names import (
    FITS,
    SURE,
    added_inside,
    fragment,
    looks_whole,
    scant,
    turned,
)

READ_RADIUS = 230
"""The larger semi-axis (px) a seal is read at: a 40 mm seal at 300 dpi; smaller ones (phone
photos) are enlarged to it."""


@dataclass(frozen=True, slots=True)
class SameSeal:
    """A rim weighed again, cut where a clear impression of its seal has the name (see
    pipeline.extract.seals.impression): where that impression is, and the nats by which the
    name is less likely than what the engine reads there, as a whole and (for a Chinese
    name) character by character."""

    source: str
    page: int
    """1-based, within ``source``."""
    disagreement: float | None
    by_character: tuple[float, ...] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "page": self.page,
            "disagreement": self.disagreement,
            **({"by_character": list(self.by_character)} if self.by_character else {}),
        }


@dataclass(frozen=True, slots=True)
class Seal:
    bbox: tuple[int, int, int, int]
    shape: str
    owner: str
    text: str
    inscription: str
    code: str
    confidence: float
    centre: tuple[float, float]
    axes: tuple[float, float]
    ellipse_angle: float
    checks: tuple[tuple[str, float | None], ...] = ()
    """For each expected name: how much less likely it is on the rim than what was read
    (nats, the best of the unrolls; None: the engine cannot tell)."""
    worn: bool = False
    """The name has a stretch without readable ink inside it, wider than a word's gap: a
    dry pad or a worn seal left characters out (see :func:`is_worn`)."""
    by_character: tuple[tuple[str, tuple[float, ...]], ...] = ()
    """For an expected name the rim does not fit outright: the same weighing character by
    character, each in its own place on the rim (see :func:`_character_fit`)."""
    impression: Impression | None = field(default=None, compare=False, repr=False)
    """The ring unrolled, to compare with the packet's other seals (not in the report)."""
    same_seal: tuple[tuple[str, SameSeal], ...] = ()
    """For an expected name the rim was not read as: the rim weighed again where the
    application's clear impressions of the seal, read as that name, have it (see
    pipeline.extract.documents.compare_impressions)."""
    grey: bool = False
    """Found by its shape on a page with no colour (a greyscale scan or copy)."""
    agreement: str = ""
    """How the rim's read was settled: ``print`` (the print recogniser read both unrolls
    alike), ``seal`` (the seal recogniser did), ``vote`` (three unrolls, majority or not)."""
    span_characters: float | None = None
    """How many characters the name's stretch of the rim holds, by its length over the
    characters' step: a read with fewer is missing some, however sure its recogniser."""

    def to_json(self) -> dict[str, Any]:
        return {
            **({"grey": True} if self.grey else {}),
            **(
                {"span_characters": round(self.span_characters, 1)}
                if self.span_characters is not None
                else {}
            ),
            **({"disagreement": dict(self.checks)} if self.checks else {}),
            **(
                {"disagreement_by_character": {n: list(f) for n, f in self.by_character}}
                if self.by_character
                else {}
            ),
            **({"worn": True} if self.worn else {}),
            **(
                {"same_seal": {n: same.to_json() for n, same in self.same_seal}}
                if self.same_seal
                else {}
            ),
            "bbox": list(self.bbox),
            "shape": self.shape,
            "owner": self.owner,
            "text": self.text,
            "inscription": self.inscription,
            "code": self.code,
            "confidence": round(self.confidence, 3),
            "ellipse": {
                "centre": [round(v, 1) for v in self.centre],
                "axes": [round(v, 1) for v in self.axes],
                "angle": round(self.ellipse_angle, 2),
            },
        }


def read_seal(
    image: np.ndarray, blob: Blob, engine: OcrEngine, expect: tuple[str, ...] = ()
) -> Seal:
    """The seal in ``blob`` read: the rim by ``engine`` where its two reads agree, else by
    the engine's seal recogniser (see OcrEngine.for_seals), and weighed by it; the
    inscription and the code, straight print, by ``engine``. The two recognisers misread
    different seals, so the pair reads more rims exactly than either alone."""
    rim = engine.for_seals()
    paper, ring = ink_image(image, blob)
    zoom = max(1.0, READ_RADIUS / ring.large)  # photos shrink seals: read them at 300-dpi size
    # columns measure arc where the name's middle runs, about a fifth of the way in
    middle = 0.2 * ring.small
    turn = max(360, int(ring.length(middle) * zoom))
    walked = ring.walk(middle, turn)
    depths = np.arange(int(0.44 * ring.small * zoom)) / zoom - 0.02 * ring.small
    strip = ring.unroll(paper, walked, depths)
    twice = np.hstack([strip, strip])
    runs = text_runs(rim, twice)
    span = name_span(runs, turn)
    text, score, inscription, code = "", 0.0, "", ""
    checks: tuple[tuple[str, float | None], ...] = tuple((name, None) for name in expect)
    by_character: tuple[tuple[str, tuple[float, ...]], ...] = ()
    name_columns: tuple[float, float] | None = None
    span_characters: float | None = None
    agreement = ""
    if span is not None:
        rows = name_rows(runs, span, twice.shape[0])
        pitch = max(r.height for r in runs if r.upright) / 1.5  # det boxes are padded
        thrice = np.hstack([strip, strip, strip])
        shift = turn if span[0] < turn else 0  # into the middle turn: room on both sides
        others = [
            (r.x0 + k * turn - shift, r.x1 + k * turn - shift)
            for r in runs
            for k in (0, 1, 2)
            if not (r.x0 >= span[0] - 1 and r.x1 <= span[1] + 1)
            and (not r.upright or r.height < 0.6 * pitch * 1.5)  # the code, small print
        ]
        x0, x1 = extend_by_ink(
            thrice[rows[0] : rows[1]],
            (span[0] + shift, span[1] + shift),
            pitch,
            turn,
            [(a + shift, b + shift) for a, b in others],
        )
        pad = int(0.01 * turn)
        start = max(0, int(x0) - pad)
        name_strip = thrice[rows[0] : rows[1], start : int(x1) + pad]
        # read character by character, each turned upright on its own (see rigid_unroll)
        band = (float(depths[rows[0]]), float(depths[rows[1] - 1]))

        def rigid(cuts: list[float]) -> np.ndarray:
            columns = [start + c for c in cuts]
            return as_rgb(rigid_unroll(paper, ring, walked, columns, band, zoom))

        # how many characters the stretch holds: spacing varies from engraver to engraver
        span_characters = (x1 - x0) / character_step(name_strip, pitch)
        evenly = [*np.arange(0, name_strip.shape[1], 0.9 * pitch).tolist(), name_strip.shape[1]]
        crops = [rigid(character_cuts(name_strip, pitch)), as_rgb(name_strip)]
        # the print recogniser first: where its two reads agree, the seal is read (most
        # inked seals); where they do not, the seal recogniser reads it, a third to decide
        reads = engine.recognize(crops) if rim is not engine else []
        agreement = "print"
        if not reads or unspaced(reads[0][0]) != unspaced(reads[1][0]):
            reads = rim.recognize(crops)
            agreement = "seal"
            if unspaced(reads[0][0]) != unspaced(reads[1][0]):
                crops.append(rigid(evenly))
                reads += rim.recognize(crops[2:])
                agreement = "vote"
        text, score = _vote(reads)
        score = calibrated(
            score, agreement, clean_rim_read(text), span_characters, blob.grey, expect
        )

        def widened(name: str) -> list[np.ndarray]:
            """The rim around the name read, widened by the characters it lacks (see
            :func:`widenings`)."""
            return [
                rigid(
                    [*np.arange(-left, x1 - start + right, 0.9 * step).tolist(), x1 - start + right]
                )
                for left, right, step in widenings(text, name, x1 - x0, pitch, turn)
            ]

        # a name the rim was read as, or any name on an authority's seal (never judged
        # against the company's), is not weighed: no decision asks for that weight
        unweighed = {plain_form(name) for name in expect} & {plain_form(clean_rim_read(text))}
        if is_authority(clean_rim_read(text)):
            unweighed = {plain_form(name) for name in expect}
        checks = tuple(
            (
                name,
                None
                if plain_form(name) in unweighed
                else _best_fit(rim, [*crops, *widened(name)], name),
            )
            for name in expect
        )
        weighed = []
        for name, whole in checks:
            if plain_form(name) in unweighed or (whole is not None and whole <= CHARACTER_FIT_FROM):
                continue
            fit = _character_fit(rim, lambda a, b: rigid([a, b]), (x0 - start, x1 - start), name)
            if fit is not None:
                weighed.append((name, fit))
        by_character = tuple(weighed)
        score = held_by_fits(score, clean_rim_read(text), checks)
        if score >= SURE and expect and rim is not engine:
            other = rim if agreement == "print" else engine
            score = seconded(score, text, expect, other.recognize(crops[:2]))
        name_columns = (span[0], span[1] - span[0])
        # the name's middle is the seal's top; the span grown over ink can take in the
        # inscription's outer characters, which reach into the name's band low on the
        # ring, so the middle of the span the detector found is tried as well
        ups = [ring.up(column_parameter(walked, (a + b) / 2)) for a, b in ((x0, x1), span)]
        code = _read_code(twice, runs, engine)
        inscription = _read_inscription(paper, ring, ups, engine)
    text = clean_rim_read(text)
    owner = "authority" if is_authority(text) else "company"
    a, b = blob.axes
    shape = "round" if min(a, b) / max(a, b) >= ROUND else "oval"
    return Seal(
        blob.bbox,
        shape,
        owner,
        text,
        inscription,
        code,
        score,
        blob.centre,
        blob.axes,
        blob.angle,
        checks,
        span is not None and is_worn(runs, span),
        by_character,
        impression_of(strip, name_columns),
        grey=blob.grey,
        span_characters=span_characters,
        agreement=agreement,
    )


def widenings(
    text: str, name: str, width: float, pitch: float, turn: int
) -> list[tuple[float, float, float]]:
    """How far to widen the rim read as ``text`` (``width`` columns of a ring ``turn``
    round) on the left and the right, and the step of its characters, to weigh ``name``:
    a faint first or last character left out of the span must not count against a name.

    Every read is widened by the characters it lacks, a pitch each, to one side, the
    other, or both halves. A read that is a piece of the name is widened besides by as
    many characters as the name has before and after the piece, each as far as the read's
    own characters step where that is further than a pitch, and, so, the three ways at
    that step: a short name spread wide over the arc, a blurred photo's boxes drawn tight
    (卓越（北京）新材料… read 新材料科技有限公司: a pitch's widening fell short of 卓越（北京）).
    Only a piece: its read holds no evidence either way, while every crop more is one more
    chance for a wrong name to fit (on a near-miss corpus, widening every read at its own
    step took 22 impostor seals within FITS of the record's name, against 14)."""
    read, whole = plain_form(text), plain_form(name)
    room = 0.85 * turn - width  # never round the ring into the name again
    if read == whole or room <= 0:
        return []
    piece = bool(read) and read in whole
    advance = width / max(1, len(read))
    edges: list[tuple[float, float, float]] = []
    for step in [pitch, advance] if piece and advance > 1.15 * pitch else [pitch]:
        lacking = min((max(0, len(whole) - len(read)) + 1) * 1.1 * step, room)
        edges += [(lacking, 0.0, step), (0.0, lacking, step), (lacking / 2, lacking / 2, step)]
    if piece:
        step = max(pitch, advance)
        before = whole.index(read)
        left = (before + 0.5) * 1.1 * step
        right = (len(whole) - before - len(read) + 0.5) * 1.1 * step
        shrink = min(1.0, room / (left + right))
        edges.append((left * shrink, right * shrink, step))
    return edges


def plain_form(text: str) -> str:
    """A rim read or a name as their characters are compared: NFKC, without white space
    or letter case (a rim's are the engraver's)."""
    return unspaced(unicodedata.normalize("NFKC", text)).casefold()


def _best_fit(engine: OcrEngine, crops: list[np.ndarray], name: str) -> float | None:
    """How well the best of the unrolled rims fits ``name`` (see OcrEngine.disagreement),
    as a rim engraves it: a Latin name also without its spaces (its letters stand spaced
    round the ring) and accents, in capitals."""
    forms = {name}
    if not CJK.search(name):
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
        )
        forms |= {plain, plain.replace(" ", ""), plain.replace(" ", "").upper()}
    best = None
    for crop in crops:
        for form in forms:
            fit = engine.disagreement(crop, form)
            if fit is not None and (best is None or fit < best):
                best = fit
            if best is not None and best < PERFECT_FIT:
                return 0.0  # nothing fits better: the other crops need not be weighed
    return None if best is None else round(best, 2)


CHARACTER_FIT_FROM = 1.0
"""A rim that fits an expected name within this many nats is not weighed again character
by character: it fits, or nearly, as a whole."""

CELL_NAME = re.compile(r"[\u4e00-\u9fff（）()]+")
"""Names weighed a character to a cell: Chinese characters, and brackets among them."""
BRACKETS = frozenset("（）()")
BRACKET_WIDTHS = (1.0, 0.5)
"""How much of a character's room a bracket takes on a rim: a full one, as our own seal
image gives it, or half. Our corpora show only the first; both are tried."""


def _cell_edges(characters: str, bracket: float, a: float, b: float) -> np.ndarray:
    """Columns ``a``-``b`` cut into a cell per character, a bracket given ``bracket`` of a
    character's room (see BRACKET_WIDTHS), first and last edge included."""
    widths = np.array([bracket if c in BRACKETS else 1.0 for c in characters])
    edges: np.ndarray = a + np.append(0.0, np.cumsum(widths)) * ((b - a) / widths.sum())
    edges[-1] = b  # as np.linspace: a name without brackets is cut as it always was
    return edges


def _character_fit(
    engine: OcrEngine,
    cell: Callable[[float, float], np.ndarray],
    span: tuple[float, float],
    name: str,
) -> tuple[float, ...] | None:
    """``name`` weighed one character at a time, each in its own place: the name's
    ``span`` (columns; ``cell`` turns two of them into the rim between, upright) cut into as
    many even cells as the name has characters, as an engraver spaces them, and for each
    character the nats by which it is less likely in its cell than what the engine reads
    there (see OcrEngine.disagreement).

    Why: CTC spends one frame on a character, so a seal cut with a character more can fit
    the name as a whole; in cells every character after the added one is out of step. A
    name with brackets is cut twice (a bracket a whole cell or half) and the better kept.
    Chinese names only: a lone Latin letter reads poorly in a cell (docs/extraction.md has
    the measurements). None when the name is of another kind or a character is not in the
    engine's alphabet."""
    characters = unspaced(name)
    if len(characters) < 2 or not CELL_NAME.fullmatch(characters):
        return None
    bracketed = any(c in BRACKETS for c in characters)
    best: tuple[float, ...] | None = None
    for bracket in BRACKET_WIDTHS if bracketed else BRACKET_WIDTHS[:1]:
        edges = _cell_edges(characters, bracket, *span)
        fits = []
        for character, a, b in zip(characters, edges[:-1], edges[1:], strict=True):
            fit = engine.disagreement(cell(float(a), float(b)), character)
            if fit is None:
                return None
            fits.append(round(fit, 2))
        if best is None or max(fits) < max(best):
            best = tuple(fits)
    return best


PLACING = (-0.25, 0.0, 0.25, 0.5)
"""Characters by which a clear impression's name span is moved in at each end (see
:func:`place_name`): a detector box is padded, and other text can join it at an end."""


def place_name(engine: OcrEngine, impression: Impression, name: str) -> tuple[float, ...] | None:
    """The columns between the characters of ``name`` on a clear ``impression`` read as it,
    first and last included: the name's span cut a character to a cell (brackets a whole
    cell or half, as :func:`_character_fit` cuts them, the better kept), its first end
    moved by PLACING to where its first two cells fit the name best, then its last end so
    for its last two. None for a name not weighed in cells (Latin: see
    :func:`_character_fit`), or when the impression has no name span."""
    characters = unspaced(name)
    band = name_band(impression)
    if band is None or impression.span is None or not CELL_NAME.fullmatch(characters):
        return None
    if len(characters) < 2:
        return None
    rim = engine.for_seals()
    start, width = impression.span

    def fit(edges: np.ndarray, which: range) -> float:
        total = 0.0
        for i in which:
            crop = on_paper(impression.ink, band, edges[i], edges[i + 1])
            nats = rim.disagreement(as_rgb(crop), characters[i])
            total += 99.0 if nats is None else nats
        return total

    best: tuple[float, np.ndarray] | None = None
    bracketed = any(c in BRACKETS for c in characters)
    n = len(characters)
    for bracket in BRACKET_WIDTHS if bracketed else BRACKET_WIDTHS[:1]:
        step = width / sum(bracket if c in BRACKETS else 1.0 for c in characters)

        def cut(a: float, b: float, bracket: float = bracket) -> np.ndarray:
            return _cell_edges(characters, bracket, a, b)

        end = start + width
        left = min((start + k * step for k in PLACING), key=lambda a: fit(cut(a, end), range(2)))
        right = min(
            (end - k * step for k in PLACING), key=lambda b: fit(cut(left, b), range(n - 2, n))
        )
        edges = cut(left, right)
        if not bracketed:
            return tuple(float(e) for e in edges)
        score = fit(edges, range(n))
        if best is None or score < best[0]:
            best = (score, edges)
    return tuple(float(e) for e in best[1]) if best is not None else None


def weigh_cut(engine: OcrEngine, cut: Cut, name: str) -> SameSealFit:
    """``name`` weighed on a rim cut where a clear impression of the seal has it (see
    pipeline.extract.seals.impression.cut_like): as a whole (see :func:`_best_fit`) and
    one character to a cell."""
    rim = engine.for_seals()
    whole = _best_fit(rim, [as_rgb(cut.whole)], name)
    characters = unspaced(name)
    if len(cut.cells) != len(characters):
        return whole, None
    cells = []
    for character, cell in zip(characters, cut.cells, strict=True):
        fit = rim.disagreement(as_rgb(cell), character)
        if fit is None:
            return whole, None
        cells.append(round(fit, 2))
    return whole, tuple(cells)


SameSealFit = tuple[float | None, tuple[float, ...] | None]


UNSURE = 0.8
"""What a read's confidence is held to when its own evidence says it may be wrong."""
SHORT_BY = 0.5
"""A rim stretch holding this many characters more than were read: one is missing."""


def calibrated(
    score: float,
    agreement: str,
    text: str,
    span_characters: float | None,
    grey: bool,
    expected: tuple[str, ...] = (),
) -> float:
    """The recogniser's confidence, held below sure (UNSURE) where the read's own evidence
    says it may be wrong, so that a sure read (0.9 or more) is an exact one: reads settled
    only by a vote of three unrolls (exact 2 times in 13); reads with fewer characters than
    their stretch of rim holds (SHORT_BY); seals on pages with no colour, read from all the
    dark ink, print crossing them included (14 in 17 exact against 146 in 157 on colour);
    reads not shaped as a whole name (see looks_whole: a first or last character lost to
    faint ink); a digit or symbol inside a Chinese name (长沙联创国际货80…: print read with
    the seal); a read that is a piece of an expected name, under half of it, or it begun
    elsewhere round the ring (岛永安电气有限责任公司, 任公司: the recogniser is sure of the
    characters it saw, not of those it missed; judge takes no such read for another name,
    see pipeline.model.names.judge). The stretch and the shape only doubt a read that is
    none of the ``expected`` names: the stretch is measured loosely (exact reads span up to
    4 characters more), and an exact read must stay sure to lend its impression to a dry
    press of the same seal (see pipeline.extract.documents.compare_impressions). Only the
    severity of a differing read changes: an exact read matches at any score."""
    length = len(plain_form(text))
    if agreement == "vote" or grey:
        score = min(score, UNSURE)
    if plain_form(text) not in {plain_form(name) for name in expected}:
        short = span_characters is not None and span_characters >= length + SHORT_BY
        partial = any(f(text, name) for name in expected for f in (fragment, scant, turned))
        if short or partial or not looks_whole(text):
            score = min(score, UNSURE)
    if CJK.search(text) and re.search(
        r"[\u4e00-\u9fff（(][^\u4e00-\u9fff（）()·]+[\u4e00-\u9fff）)]", text
    ):
        score = min(score, UNSURE)
    return score


def held_by_fits(score: float, text: str, checks: tuple[tuple[str, float | None], ...]) -> float:
    """The read's confidence, held below sure (UNSURE) when an expected name it is not fits
    the rim within FITS nats of it: the image holds that name about as well as the read, so
    the read is one of two (育 for 有, 展 for 辰, 渡 for 波, 团 for 国: each read at 0.98
    where the true name fitted). Not for a read holding characters the name lacks inside
    it: such a read differs whatever the image's likelihood says (judge), and its
    confidence keeps deciding how surely. Only how sure a differing read is changes; how
    it is judged against the name does not (a fit within FITS is judged by the fit)."""
    for name, whole in checks:
        if whole is None or whole > FITS or plain_form(text) == plain_form(name):
            continue
        if not added_inside(text, name, loose=True):
            return min(score, UNSURE)
    return score


def seconded(
    score: float, text: str, expected: tuple[str, ...], others: list[tuple[str, float]]
) -> float:
    """The read's confidence, held below sure (UNSURE) when it is none of the ``expected``
    names and the other recogniser, on the same unrolled rim, does not read it too. Two
    unrolls read alike by one recogniser are one model's view twice; a stroke lost to a
    dry pad or a perspective makes a character look like another (王 for 正) to that model
    as surely. A seal cut with another character shows it to both; a misread, often to
    one. Only how sure a differing read is changes (an error or a warning); an exact read,
    or one of another name that both see, is left as it was."""
    read = plain_form(clean_rim_read(text))
    if read in {plain_form(name) for name in expected}:
        return score
    if any(plain_form(clean_rim_read(t)) == read for t, _ in others):
        return score
    return min(score, UNSURE)


def _vote(reads: list[tuple[str, float]]) -> tuple[str, float]:
    """The text that most reads agree on (white space aside); without a majority, the most
    confident read. Each unroll fails differently: cut between characters, a bracket can
    throw the cuts; cut in even tiles, a character can fall apart; bent, its top shrinks.

    Without a majority no read is sure, however confident the recogniser was of each: the
    chosen read's confidence is shared with the reads that saw something else (divided by
    their number). A blurred oval on a phone photo read 宁安图…有最责任公司 at 0.96, 完安图…
    and …有章责任公司 beside it, and that 0.96 had made a clean seal a confident other name."""
    cleaned = [(clean_rim_read(t), score) for t, score in reads]
    texts = Counter(unspaced(t) for t, _ in cleaned if t.strip())
    if texts:
        text, votes = texts.most_common(1)[0]
        if votes >= 2:
            return max((r for r in cleaned if unspaced(r[0]) == text), key=lambda r: r[1])
    text, score = max(cleaned, key=lambda r: r[1])
    return text, score / len(cleaned)


def _read_code(twice: np.ndarray, runs: list[Run], engine: OcrEngine) -> str:
    """The code on the lower arc faces the centre: the upside-down run, turned."""
    upside_down = [r for r in runs if not r.upright]
    if not upside_down:
        return ""
    run = max(upside_down, key=lambda r: r.x1 - r.x0)
    crop = twice[:, int(run.x0) : int(run.x1) + 1]
    ((text, score),) = engine.recognize([as_rgb(np.rot90(crop, 2))])
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= 8 and score > 0.5 else ""


def _read_inscription(paper: np.ndarray, ring: Ring, ups: list[float], engine: OcrEngine) -> str:
    """The horizontal line under the star, once the seal is turned so that the name's
    middle (outward direction, degrees: the first of ``ups`` that reads surely) is at the
    top. A name read short of one end leaves the seal turned a little off: a read that is
    not sure is tried turned ±6°."""
    best = ("", 0.0)
    tried: list[float] = []
    for up in ups:
        if any(abs((up - t + 180) % 360 - 180) < 3 for t in tried):
            continue
        tried.append(up)
        for turn in (0.0, -6.0, 6.0):
            text, score = _inscription_at(paper, ring, up + turn, engine)
            if score > best[1]:
                best = (text, score)
            if score > 0.97:
                break
        if best[1] > 0.97:
            break
    text, score = best
    return text if score > 0.6 and len(text) >= 3 else ""


def _inscription_at(
    paper: np.ndarray, ring: Ring, up: float, engine: OcrEngine
) -> tuple[str, float]:
    cx, cy = ring.centre
    matrix = cv2.getRotationMatrix2D((cx, cy), up - 270, 1.0)
    upright = cv2.warpAffine(paper, matrix, paper.shape[::-1], borderValue=255)
    tall = wide = ring.large
    if ring.small / ring.large < ROUND:  # an oval: how far it reaches up and across
        tall = reach(ring, up)
        wide = sum(ring.semi) - tall
    y0, y1 = int(cy + 0.2 * tall), int(cy + 0.68 * tall)
    x0, x1 = int(cx - 0.62 * wide), int(cx + 0.62 * wide)
    region = upright[max(0, y0) : y1, max(0, x0) : x1]
    if region.size == 0 or (255 - region).sum() < 255 * 0.02 * region.size:
        return "", 0.0
    ((text, score),) = engine.recognize([as_rgb(region)])
    return re.sub(r"[^\u4e00-\u9fff]", "", text), score


def detect_and_read(
    image: np.ndarray, engine: OcrEngine, expect: tuple[str, ...] = ()
) -> list[Seal]:
    """Every seal on the page, read; ``expect``: names to weigh each rim against."""
    blobs = find_seals(image) or find_grey_seals(image)
    return [read_seal(image, blob, engine, expect) for blob in blobs]


def unrolled_rim(image: np.ndarray, seal: dict[str, Any]) -> np.ndarray | None:
    """A seal's ring laid out straight once round, for a reviewer's eye: the seal as
    ``to_json`` gave it (its ellipse, else its box), on the page it was found on. The top
    of the seal (where a name starts and ends around) comes out in the middle."""
    bbox = seal.get("bbox")
    if not bbox:
        return None
    x0, y0, x1, y1 = (int(v) for v in bbox)
    ellipse = seal.get("ellipse") or {}
    if ellipse:
        centre = (float(ellipse["centre"][0]), float(ellipse["centre"][1]))
        axes = (float(ellipse["axes"][0]), float(ellipse["axes"][1]))
        angle = float(ellipse["angle"])
    else:  # the box holds the seal with a 4 % margin
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        axes = ((x1 - x0) / 1.08, (y1 - y0) / 1.08)
        angle = 0.0
    blob = Blob(centre, axes, angle, (x0, y0, x1, y1), grey=bool(seal.get("grey")))
    paper, ring = ink_image(image, blob)
    zoom = max(1.0, READ_RADIUS / ring.large)
    middle = 0.2 * ring.small
    turn = max(360, int(ring.length(middle) * zoom))
    walked = ring.walk(middle, turn)
    depths = np.arange(int(0.44 * ring.small * zoom)) / zoom - 0.02 * ring.small
    strip = ring.unroll(paper, walked, depths)
    ups = np.array([ring.up(t) for t in walked[:: max(1, turn // 360)]])
    bottom = int(np.argmin(np.abs((ups - 90 + 180) % 360 - 180))) * max(1, turn // 360)
    rolled: np.ndarray = np.roll(strip, -bottom, axis=1)
    return rolled
