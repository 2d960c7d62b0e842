"""Credit codes and ID numbers as OCR reads them, corrected only where the standard allows.

OCR confuses look-alikes (0/O, 1/I, 2/Z, 5/S, 8/B, …). Characters outside a code's
alphabet are mapped to their look-alike inside it; if the check character then fails, each
single look-alike swap is tried, and a correction is kept only when exactly one candidate
validates, and only when OCR was unsure of the line (``SURE``): a confidently read code that
fails its check is the paper's own error. Anything else is returned as read, marked
unverified: a different valid code is never produced silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
TO_DIGIT = {
    "O": "0",
    "Q": "0",
    "D": "0",
    "I": "1",
    "L": "1",
    "T": "1",
    "Z": "2",
    "S": "5",
    "B": "8",
    "G": "6",
    "o": "0",
    "l": "1",
    "|": "1",
}
TO_USCC = {"O": "0", "I": "1", "S": "5", "Z": "2", "V": "U"}
SWAPS = {
    "0": "DQ",
    "D": "0",
    "Q": "0",
    "1": "7LT",
    "7": "1T",
    "T": "71",
    "L": "1",
    "2": "Z",
    "5": "S6",
    "6": "5G",
    "G": "6",
    "8": "B3",
    "B": "83",
    "3": "8B",
    "U": "V",
    "X": "K",
    "K": "X",
    "M": "N",
    "N": "M",
    "H": "N",
    "4": "A",
    "A": "4",
}
USCC_PATTERN = re.compile(r"[0-9A-Z]{18}")
ID_PATTERN = re.compile(r"[0-9]{17}[0-9X]")
EARLIEST_BIRTH = date(1890, 1, 1)
"""No holder of a resident ID card was born earlier."""


@dataclass(frozen=True, slots=True)
class CodeRead:
    value: str
    """The code, corrected where exactly one look-alike swap validates."""
    read: str
    """What OCR read (after removing spaces)."""
    valid: bool
    corrections: tuple[str, ...] = field(default_factory=tuple)
    """Each change, e.g. ``O→0 at 9``; empty when read as is."""
    guessed: bool = False
    """A look-alike swap inside the alphabet made it validate. About one broken code in
    three has some such swap that validates by chance, so a guessed code is never certain:
    validation must treat it as a warning unless it equals the code it is checked against."""


def _clean(text: str) -> str:
    return re.sub(r"[\s\-·.]", "", text.upper())


def _swaps(value: str, valid: object, alphabet: str, positions: range) -> list[tuple[str, str]]:
    found = []
    for i in positions:
        for other in SWAPS.get(value[i], ""):
            if other not in alphabet:
                continue
            candidate = value[:i] + other + value[i + 1 :]
            if valid(candidate):  # type: ignore[operator]
                found.append((candidate, f"{value[i]}→{other} at {i + 1}"))
    return found


SURE = 0.97
"""A line read at least this confidently is taken as printed: a check character that then
fails is the document's own error (a typo on the form), not OCR's, and is not 'corrected'."""


def read_uscc(text: str, confidence: float | None = None) -> CodeRead | None:
    """The unified social credit code in ``text`` (18 characters), corrected if certain."""
    raw = _clean(text)
    if len(raw) != 18:
        match = USCC_PATTERN.search(raw)
        if not match:
            return None
        raw = match.group()
    fixed = list(raw)
    notes = []
    for i, char in enumerate(raw):
        target = TO_DIGIT.get(char, char) if i < 8 else TO_USCC.get(char, char)
        if i == 0 and char in "0OQD" and raw[1:2].isdigit():
            target = "9"  # 91… / 92… / 93…: the first character is never 0
        if target != char:
            fixed[i] = target
            notes.append(f"{char}→{target} at {i + 1}")
    value = "".join(fixed)
    if uscc.is_valid(value):
        return CodeRead(value, raw, True, tuple(notes))
    if confidence is not None and confidence >= SURE:
        return CodeRead(value, raw, False, tuple(notes))
    candidates = _swaps(value, uscc.is_valid, USCC_ALPHABET, range(18))
    if len(candidates) == 1:
        corrected, note = candidates[0]
        return CodeRead(corrected, raw, True, (*notes, note), guessed=True)
    return CodeRead(value, raw, False, tuple(notes))


@dataclass(frozen=True, slots=True)
class IdNumberCheck:
    """What GB 11643-1999 lets one say of an ID number on its own."""

    valid: bool
    """Eighteen characters, a real birth date and the right check character: the hard
    rules. A number that fails one of them was never issued."""
    region: str | None
    """The place GB/T 2260 has given the first six digits at some time, or None when the
    table never had the code (then a person must look: the table may simply lack it)."""


def check_id_number(number: str) -> IdNumberCheck:
    """Check character and birth date are hard rules; the region code only has to be one
    GB/T 2260 has had at any time. python-stdnum's ``ric.is_valid`` also demands that the
    code existed in the holder's birth year (its issue #442), but codes are assigned at
    registration: people born before their district was created or renamed hold the newer
    code (张家港市 320582 dates from 1989), and abolished codes stay valid for life."""
    number = str(number).strip().upper()
    if not ID_PATTERN.fullmatch(number):
        return IdNumberCheck(False, None)
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        return IdNumberCheck(False, _region(number))
    real_date = EARLIEST_BIRTH <= born <= date.today()
    check_ok = ric.calc_check_digit(number) == number[-1]
    return IdNumberCheck(real_date and check_ok, _region(number))


def _region(number: str) -> str | None:
    """The place the table gives the code (every name it has had), or None."""
    parts = numdb.get("cn/loc").info(number[:6])
    info = {key: value for _part, props in parts for key, value in props.items()}
    if "county" not in info:
        return None
    county = re.sub(r"\[[0-9-]*\]", "", info["county"]).replace(",", "/")
    return f"{info.get('province', '')}{county}"


def valid_id_number(number: str) -> bool:
    """The hard rules of GB 11643-1999 (see :func:`check_id_number`)."""
    return check_id_number(number).valid


def read_id_number(text: str, confidence: float | None = None) -> CodeRead | None:
    """The 18-character resident ID number in ``text``, corrected if certain."""
    raw = _clean(text)
    fixed = "".join(
        TO_DIGIT.get(c, c) if i < 17 else ("X" if c in "XK×x" else TO_DIGIT.get(c, c))
        for i, c in enumerate(raw)
    )
    match = ID_PATTERN.search(fixed)
    if not match:
        return None
    value = match.group()
    notes = tuple(
        f"{a}→{b} at {i + 1}"
        for i, (a, b) in enumerate(zip(raw[match.start() : match.end()], value, strict=False))
        if a != b
    )
    if valid_id_number(value):
        return CodeRead(value, raw, True, notes)
    if confidence is not None and confidence >= SURE:
        return CodeRead(value, raw, False, notes)
    candidates = _swaps(value, valid_id_number, "0123456789X", range(18))
    if len(candidates) > 1:  # a swap into a code the table never had is the less likely
        candidates = [c for c in candidates if check_id_number(c[0]).region is not None]
    if len(candidates) == 1:
        corrected, note = candidates[0]
        return CodeRead(corrected, raw, True, (*notes, note), guessed=True)
    return CodeRead(value, raw, False, notes)
