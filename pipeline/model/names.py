"""Company and person names as the seeds compare them: character for character, after
folding only what cannot change identity (full-/half-width forms, bracket styles, white
space). 有限公司 vs 有限责任公司, one character more or less: different names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Any

FITS = 4.0
"""At most this many nats less likely than the engine's own reading (see
OcrEngine.disagreement), the image agrees with the expected name: a faint or broken
character was misread. Measured on the corpus: true names 0–3, a character added, dropped
or changed 9 and up."""
DIFFERS = 8.0
"""At least this many nats, the image clearly shows another name."""
READ_SURE = 0.85
"""Below this confidence a read is itself in doubt (a blurred seal on a photo reads as
garbage): the image disagreeing with the name then makes a warning, not an error."""
SURE = 0.9
"""A read at this confidence or above, with no likelihood to weigh, counts as certain."""
IN_PLACE = 0.5
"""A rim weighed character by character (see pipeline.extract.seals.read._character_fit)
fits when every character is, within this many nats, what the engine reads in its cell:
each character of the name read where the engraver put it."""


ORGANISATION_ENDS = (
    *("公司", "中心", "厂", "店", "社", "所", "院", "局", "会", "行", "部"),
    *("馆", "站", "场", "处", "室", "校", "团", "厅", "办", "委", "署"),
)
"""What a Chinese organisation's name ends in: its form (企业名称登记管理规定: 公司, 厂, 店,
中心, 合作社, 事务所, 集团 …) or an authority's kind (市场监督管理局, 委员会 …)."""
LEGAL_FORM = re.compile(
    r"\S.*\s(?:GmbH|AG|Ltd\.?|Limited|SAS|SARL|S\.?A\.?|AB|Inc\.?|LLC|Corp\.?|Co\.?"
    r"|B\.?V\.?|N\.?V\.?|K\.?K\.?|S\.?r\.?l\.?|S\.?p\.?A\.?|PLC|plc|Oy|A/S|AS|Pty)$"
)
"""A foreign company's name: a word or more, then its legal form (ACME Trading GmbH)."""


def looks_whole(name: str) -> bool:
    """Whether ``name`` has the shape of a whole organisation name: a Chinese one begins with
    no bracket (the place in brackets follows the trade name: 联创（北京）…) and ends in its
    form; a foreign one is more than its legal form. A rim read cut at either end (州正邦…,
    …有限, GmbH alone) does not."""
    text = unicodedata.normalize("NFKC", name).strip()
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        plain = "".join(text.split())
        return not plain.startswith("(") and plain.endswith(ORGANISATION_ENDS)
    return bool(LEGAL_FORM.fullmatch(text))


def fold(text: Any) -> str:
    """The folded form: NFKC (full-width to half-width), one bracket style, no white space."""
    value = unicodedata.normalize("NFKC", str(text))
    return "".join(value.split()).replace("（", "(").replace("）", ")")


def same(a: Any, b: Any) -> bool:
    return fold(a) == fold(b)


def fragment(found: str, expected: str) -> bool:
    """Whether ``found`` is only a piece of ``expected``. Read off a seal's rim, that is
    no evidence of another name (the ink may be dry or covered): a warning, not an error.
    A seal really one character short is still flagged, as that warning."""
    part, whole = fold(found), fold(expected)
    return len(part) < len(whole) and part in whole


def scant(found: str, expected: str) -> bool:
    """Whether a rim read holds under half the characters of ``expected``: too little of
    the rim read to tell another name by (团有限公司 of a dry 天津昊天纺织品股份有限公司, 59.6
    nats from the name at 0.88), a warning like a piece. No impostor seal of two corpora
    (381 that differed) was read this short."""
    return 2 * len(_loose(found)) < len(_loose(expected))


def turned(found: str, expected: str) -> bool:
    """Whether a rim read is ``expected`` started at another place round the ring
    (SAS Lumière Optique for Lumière Optique SAS): where a ring's text starts is read from
    the gap between its ends, which a long name all but closes. No evidence of another
    name: a warning, like a piece."""
    read, whole = _loose(found), _loose(expected)
    return len(read) == len(whole) and read != whole and read in whole + whole


@dataclass(frozen=True, slots=True)
class Judgement:
    """How a read name stands against the expected one."""

    outcome: str
    """``match``, ``fits`` (read otherwise, but the image agrees with the expected name),
    ``unsure`` (a person must look) or ``differs`` (a confident difference)."""
    found: str | None
    disagreement: float | None = None
    confidence: float | None = None
    worn: bool = False
    """The seal's ink is missing inside its name: characters not read may be there."""
    by_character: tuple[tuple[str, float], ...] | None = None
    """The rim weighed against the name one character at a time, each in its place: each
    character of the expected name and its nats."""

    @property
    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {"found": self.found}
        if self.confidence is not None:
            out["confidence"] = round(self.confidence, 3)
        if self.disagreement is not None:
            out["disagreement"] = self.disagreement
        if self.by_character is not None:
            out["disagreement_by_character"] = [list(pair) for pair in self.by_character]
        if self.worn:
            out["worn"] = True
        return out


def judge(
    expected: str,
    found: str | None,
    confidence: float | None,
    disagreement: float | None,
    *,
    rim: bool = False,
    worn: bool = False,
    by_character: Sequence[float] | None = None,
) -> Judgement:
    """Compare a read name with the expected one. Uncertainty is never a pass: a name not
    read, read with low confidence, or whose image neither fits nor clearly differs, is
    ``unsure``; only a confident difference ``differs``.

    On a seal's rim (``rim``) a read that is a piece of the name, under half of it, or the
    name started elsewhere round the ring is ``unsure`` (the rest may be dry or covered
    ink), and letter case and spacing are the engraver's. The image's likelihood
    (``disagreement``) settles a misread character, never an added one: a read holding
    characters inside it that the name lacks differs whatever the likelihood says. A rim
    weighed a character to a cell (``by_character``) fits when every character is what its
    cell reads, and a whole fit is undone by a cell clearly out on a read as long as the
    name; cells never make a read differ. A worn rim (``worn``) whose read only lacks
    characters is ``unsure``, never ``differs``."""
    cells = tuple(by_character) if by_character else None
    verdict = _judge(expected, found, confidence, disagreement, rim, cells)
    characters = fold(expected)
    if cells and len(cells) == len(characters):
        verdict = replace(verdict, by_character=tuple(zip(characters, cells, strict=True)))
    if (
        verdict.outcome == "differs"
        and worn
        and found
        and _only_lacks(str(found), expected, loose=rim)
    ):
        return replace(verdict, outcome="unsure", worn=True)
    return replace(verdict, worn=worn)


def _only_lacks(found: str, expected: str, loose: bool) -> bool:
    """Whether ``found`` is ``expected`` with characters left out, and nothing else."""
    a, b = (_loose(expected), _loose(found)) if loose else (fold(expected), fold(found))
    opcodes = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    return len(b) < len(a) and all(op in ("equal", "delete") for op, *_ in opcodes)


def _judge(
    expected: str,
    found: str | None,
    confidence: float | None,
    disagreement: float | None,
    rim: bool,
    cells: tuple[float, ...] | None = None,
) -> Judgement:
    if found and (same(expected, found) or (rim and _loose(expected) == _loose(found))):
        return Judgement("match", found, disagreement, confidence)
    if found and _plain(expected) == _plain(found):
        return Judgement("fits", found, disagreement, confidence)  # only accents unread
    doubtful = (fragment, scant, turned)
    partial = rim and bool(found) and any(f(str(found), expected) for f in doubtful)
    added = bool(found) and added_inside(str(found), expected, loose=rim)
    if added:
        sure = confidence is not None and confidence >= SURE
        return Judgement("differs" if sure else "unsure", found, disagreement, confidence)
    if cells and in_place(cells):
        return Judgement("fits", found, disagreement, confidence)
    if disagreement is not None:
        if disagreement <= FITS and not (cells and out_of_step(found, cells)):
            return Judgement("fits", found, disagreement, confidence)
        read_surely = confidence is None or confidence >= READ_SURE
        if disagreement >= DIFFERS and found and not partial and read_surely:
            return Judgement("differs", found, disagreement, confidence)
        return Judgement("unsure", found, disagreement, confidence)
    if found and confidence is not None and confidence >= SURE and not partial:
        return Judgement("differs", found, None, confidence)
    return Judgement("unsure", found, None, confidence)


def fits_where_clear(
    expected: str, disagreement: float | None, cells: Sequence[float] | None
) -> bool:
    """Whether a rim weighed again where a clear impression of its seal has ``expected``
    (see pipeline.extract.documents.compare_impressions), a character to a cell, fits it:
    every character in its cell (IN_PLACE), or the whole within FITS and every character
    within FITS in its cell, a bracket within DIFFERS (a lone bracket weighs a few nats in
    its cell even where it is). Held to both, not either: an impostor seal pressed beside a
    clear impression of the name keeps some cell well out, and one that swaps a bracket for
    a character keeps its whole well out (bench/impressions.py measures both)."""
    characters = fold(expected)
    if not cells or len(cells) != len(characters):
        return False
    if in_place(cells):
        return True
    if disagreement is None or disagreement > FITS:
        return False
    return all(
        fit < (DIFFERS if c in "()" else FITS) for c, fit in zip(characters, cells, strict=True)
    )


def in_place(cells: Sequence[float]) -> bool:
    """Whether a rim weighed a character to a cell reads every character of the name in
    its own cell (IN_PLACE)."""
    return max(cells) <= IN_PLACE


def out_of_step(found: str | None, cells: Sequence[float]) -> bool:
    """Whether a rim weighed a character to a cell holds another character clearly in one
    cell (DIFFERS), on a read as long as the name. A read short of the name's ends (a span
    that missed a faint end) puts every cell out of step, and a blurred photo spreads a
    few nats over many cells: neither undoes a fit."""
    return bool(found) and max(cells) >= DIFFERS and len(_loose(str(found))) >= len(cells)


def open_to_a_twin(verdict: Judgement, expected: str) -> bool:
    """Whether a seal rim's verdict is a doubt that a clear impression of the same seal
    elsewhere in the application may settle (see pipeline.extract.documents
    .compare_impressions): unsure, and holding no character inside it that the name lacks
    (such a read differs whatever any image says)."""
    found = str(verdict.found or "")
    return verdict.outcome == "unsure" and not added_inside(found, expected, loose=True)


def added_inside(found: str, expected: str, loose: bool = False) -> bool:
    """Whether ``found`` holds characters, inside the name (not at its ends, where a rim
    read picks up pieces of the inscription or the code), that ``expected`` lacks. On a
    rim (``loose``) a stop or comma alone (SPECKS) is no added character: a speck of ink between
    the engraver's spaced letters reads as one (Nordic Instruments A.B), and the image's
    likelihood weighs it."""
    a, b = (_loose(expected), _loose(found)) if loose else (fold(expected), fold(found))
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        inside = i1 > 0 and i2 < len(a)
        if loose and op == "insert" and all(c in SPECKS for c in b[j1:j2]):
            continue
        if inside and (op == "insert" or (op == "replace" and j2 - j1 > i2 - i1)):
            return True
    return False


SPECKS = frozenset(".,'·")
"""What a speck of ink between a rim's letters reads as. Not brackets: a bracket more or
less (安捷源（广州汽车… against 安捷源（广州）汽车…) is a different name, and the image's
likelihood hardly sees it (2.7–3.6 nats on a development corpus, inside the line)."""


def _plain(text: str) -> str:
    """Folded, and without accents (è → e): the engine's alphabet has few of them."""
    decomposed = unicodedata.normalize("NFKD", fold(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _loose(text: str) -> str:
    """A rim's name for comparing: without accents, spaces or letter case."""
    return _plain(text).replace(" ", "").casefold()
