"""Lines on a page arranged into rows and label–value pairs, the way a clerk reads a form."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from pipeline.extract.ocr import TextLine

SEPARATORS = "：:　 "


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    line: TextLine


def page_angle(lines: list[TextLine]) -> float:
    """The text's slope in radians (median over long lines); 0 when there is too little."""
    angles = []
    for line in lines:
        if len(line.quad) != 4:
            continue
        (x0, y0), (x1, y1) = line.quad[0], line.quad[1]
        if x1 - x0 > 3 * line.height:
            angles.append(math.atan2(y1 - y0, x1 - x0))
    return float(np.median(angles)) if len(angles) >= 3 else 0.0


def rows(lines: list[TextLine]) -> list[list[TextLine]]:
    """Lines grouped into rows (in the text's own frame, so a tilted photo still works)."""
    if not lines:
        return []
    angle = page_angle(lines)
    cos, sin = math.cos(-angle), math.sin(-angle)

    def frame(line: TextLine) -> tuple[float, float]:
        x, y = line.centre
        return x * cos - y * sin, x * sin + y * cos

    placed = sorted(lines, key=lambda ln: frame(ln)[1])
    heights = float(np.median([ln.height for ln in lines]))
    out: list[list[TextLine]] = []
    last_y = -1e9
    for line in placed:
        y = frame(line)[1]
        if out and abs(y - last_y) < 0.6 * max(heights, line.height * 0.8):
            out[-1].append(line)
        else:
            out.append([line])
        last_y = y if len(out[-1]) == 1 else (last_y + y) / 2
    return [sorted(row, key=lambda ln: frame(ln)[0]) for row in out]


def _label_pattern(label: str) -> re.Pattern[str]:
    return re.compile(r"^\s*" + r"\s*".join(map(re.escape, label)) + rf"[{SEPARATORS}]*")


WRAPPING = ("住址", "住所", "地址", "经营范围")
"""Labels whose values run on over the next rows."""


def pairs(
    lines: list[TextLine], labels: tuple[str, ...], column_names: tuple[str, ...] = ()
) -> dict[str, list[Cell]]:
    """For each label found, the cells after it in its row, up to the next label; for
    addresses and the business scope, also the rows below that carry no label, cell by cell
    to the value standing above it (the licence has two columns).

    A label may stand in a box of its own, share a box with its value (名称长沙…), or be
    split over boxes (名 | 称); all three are found. A row of labels alone (with other field
    names the document has: ``column_names``) heads the row under it: each value stands
    below its label (see :func:`_is_heading`).
    """
    patterns = sorted(((lab, _label_pattern(lab)) for lab in labels), key=lambda p: -len(p[0]))
    found: dict[str, list[Cell]] = {}
    open_values: dict[str, float] = {}  # wrapping label -> x where its value starts
    heading: list[tuple[str | None, float]] = []  # a row naming columns: values stand below
    arranged = [_merge_split_labels(row, labels) for row in rows(lines)]
    for at, cells in enumerate(arranged):
        labelled = any(_match(c.text, patterns)[0] for c in cells)
        if not labelled:
            if heading:
                _values_below(cells, heading, found)
                heading = []
            else:
                _continue_values(cells, open_values, found)
            continue
        open_values = {}
        below = arranged[at + 1] if at + 1 < len(arranged) else []
        if _is_heading(cells, below, patterns, column_names):
            heading = [(_match(c.text, patterns)[0], float(c.line.box[0])) for c in cells]
            for label, _ in heading:
                if label is not None:
                    found.setdefault(label, [])
            continue
        heading = []
        current: str | None = None
        for index, cell in enumerate(cells):
            label, rest = _match(cell.text, patterns)
            if label is not None:
                current = label
                found.setdefault(label, [])
                after = cells[index + 1] if index + 1 < len(cells) else None
                if rest and not _read_again(cell, rest, after):
                    found[label].append(Cell(rest, cell.line))
            elif current is not None:
                found[current].append(cell)
            if current in WRAPPING and found[current] and current not in open_values:
                open_values[current] = float(found[current][0].line.box[0])
    return found


def _read_again(cell: Cell, rest: str, after: Cell | None) -> bool:
    """Whether ``rest``, what follows the label in ``cell``, lies under the row's next cell:
    the detector boxed the start of the value twice, once with its label, and read it there
    as something else (姓名识 | 谢兰宏: 识 was the left of 谢). The value is read in the next
    cell; taken from both, it starts with a character too many. Where the rest stands is
    its share of the box, by characters."""
    if after is None:
        return False
    x0, _, x1, _ = cell.line.box
    start = x1 - (x1 - x0) * len(rest) / max(1, len(cell.text))
    covered = min(x1, after.line.box[2]) - max(start, after.line.box[0])
    return covered > 0.5 * (x1 - start)


def _is_heading(
    cells: list[Cell],
    below: list[Cell],
    patterns: list[tuple[str, re.Pattern[str]]],
    column_names: tuple[str, ...],
) -> bool:
    """Whether a row names columns whose values stand in the row below (a table whose header
    names its columns): two cells or more, each a label alone or another field's name the
    document is known to have (``column_names``), over a row with no label whose every cell
    starts under one of them. A row that holds a value cannot be a heading: one label alone
    (an empty value on a row of its own), or a label beside its value (职能部门名称 | 技术部,
    over CQC CCC管理系统用户标识 | u497172, lines up just the same)."""
    if len(cells) < 2 or not below or any(_match(c.text, patterns)[0] for c in below):
        return False
    names = {_bare(n) for n in column_names}
    for cell in cells:
        label, rest = _match(cell.text, patterns)
        if label is not None and rest:
            return False  # a label with its value after it
        if label is None and _bare(cell.text) not in names:
            return False
    starts = [float(c.line.box[0]) for c in cells]
    return all(any(abs(float(c.line.box[0]) - x) <= c.line.height for x in starts) for c in below)


def _bare(text: str) -> str:
    return "".join(text.split()).strip(SEPARATORS)


def _values_below(
    cells: list[Cell], heading: list[tuple[str | None, float]], found: dict[str, list[Cell]]
) -> None:
    """The row under a heading: each cell the value of the column it starts in (from its
    heading cell's left edge to the next one's); columns headed by no label are passed by."""
    starts = sorted(heading, key=lambda h: h[1])
    for cell in cells:
        x = float(cell.line.box[0])
        column = [label for label, start in starts if start - cell.line.height <= x]
        if column and column[-1] is not None:
            found[column[-1]].append(cell)


def _continue_values(
    cells: list[Cell], open_values: dict[str, float], found: dict[str, list[Cell]]
) -> None:
    for cell in cells:
        if not open_values:
            return
        x = float(cell.line.box[0])
        label = min(open_values, key=lambda k: abs(open_values[k] - x))
        if abs(open_values[label] - x) < 3 * cell.line.height:
            found[label].append(cell)


def _match(text: str, patterns: list[tuple[str, re.Pattern[str]]]) -> tuple[str | None, str]:
    for label, pattern in patterns:
        match = pattern.match(text)
        if match:
            return label, text[match.end() :].strip(SEPARATORS)
    return None, text


def _merge_split_labels(row: list[TextLine], labels: tuple[str, ...]) -> list[Cell]:
    cells = [Cell(line.text, line) for line in row]
    merged: list[Cell] = []
    i = 0
    while i < len(cells):
        joined, j = cells[i].text, i
        while (
            j + 1 < len(cells)
            and len(joined) < 6
            and any(lab.startswith(joined.replace(" ", "")) and lab != joined for lab in labels)
        ):
            candidate = joined + cells[j + 1].text
            if not any(lab.startswith(candidate.replace(" ", "")[: len(lab)]) for lab in labels):
                break
            joined, j = candidate, j + 1
        merged.append(Cell(joined, cells[i].line) if j > i else cells[i])
        i = j + 1
    halves, ends = _label_halves(labels), _label_ends(labels)
    out = []
    for k, c in enumerate(merged):
        text, more = c.text.strip(SEPARATORS), k + 1 < len(merged)
        if text in halves and more and _one_glyph(c):
            c = Cell(halves[text], c.line)
        elif text in ends and more:
            c = Cell(ends[text], c.line)
        out.append(c)
    return out


def _label_ends(labels: tuple[str, ...]) -> dict[str, str]:
    """A long label's first or last characters, standing alone before a value, are that
    label when they begin or end no other: the rest of it was covered (营业 or 业期限 of
    营业期限 under the licence's seal), and its value must not run on into the label before
    it (法定代表人 曹琳 营业 …). An end that is itself a label (公司名称 of 联系人公司名称)
    stays that label."""
    ends: dict[str, set[str]] = {}
    for lab in labels:
        for n in range(2, len(lab)):
            ends.setdefault(lab[:n], set()).add(lab)
            ends.setdefault(lab[-n:], set()).add(lab)
    return {
        end: next(iter(labs)) for end, labs in ends.items() if len(labs) == 1 and end not in labels
    }


def _label_halves(labels: tuple[str, ...]) -> dict[str, str]:
    """Two-character labels stand spaced out (名　　称); a photo's detector can miss one of
    the two glyphs. The other, alone before a value, is the label, if no other label of
    the document has that character."""
    counts = Counter(ch for lab in labels for ch in set(lab))
    return {ch: lab for lab in labels if len(lab) == 2 for ch in lab if counts[ch] == 1}


def _one_glyph(cell: Cell) -> bool:
    """Whether ``cell`` is boxed as narrow as the one glyph it reads, and the colon after it
    where it reads one (码： of 代　　码： on an organisation code certificate, 79 × 52 px:
    a glyph and a full-width colon are two ems)."""
    x0, y0, x1, y1 = cell.line.box
    colon = len(cell.text.strip()) - len(cell.text.strip(SEPARATORS))
    return x1 - x0 <= 1.5 * (y1 - y0) + colon * (y1 - y0)


def value(found: dict[str, list[Cell]], *labels: str) -> tuple[str, TextLine | None]:
    """The first non-empty value among ``labels`` and the line it came from."""
    for label in labels:
        cells = found.get(label) or []
        text = "".join(c.text for c in cells).strip(SEPARATORS)
        if text:
            return text, cells[0].line
    return "", None
