"""A rim's read as a name: pieces of the lower arc's code and of the inscription trimmed
off its ends, a Chinese legal form cut at the seam completed, a Latin name spelled as
written; and whose seal a name is (a company's, or an authority's)."""

from __future__ import annotations

import re

CJK = re.compile(r"[\u4e00-\u9fff]")


AUTHORITY = re.compile(r"(局|委员会|厅|人民政府|法院|公安|市场监督?|监督管|行政管|质量技术监督)")
"""Words of a government body's seal, also as a read cut short at the rim's end reads them
(…鄞州区市场监督管 for …市场监督管理局, the date printed over its foot read in front)."""


def unspaced(text: str) -> str:
    """A read without its white space: round a rim, spacing is the engraver's."""
    return re.sub(r"\s+", "", text)


COMPANY_WORDS = re.compile(r"(有限|股份|公司|集团|合作社|事务所|GmbH|Ltd|SAS|Inc)")


def is_authority(name: str) -> bool:
    """A seal of a government body (…市场监督管理局), not a company's: a name with a
    company's legal form in it stays a company's, even with 局 misread into it."""
    return not COMPANY_WORDS.search(name) and bool(AUTHORITY.search(name))


_NAME_END = re.compile(
    r"(公司|局|委员会|厂|中心|研究院|研究所|事务所|合作社|GmbH|AG|Ltd\.?|SAS|AB|Inc\.?)"
)


def _end_at_legal_form(text: str) -> str:
    """A name ends at its legal form (公司, 局 …): characters read beyond it are the
    inscription's outer characters, which reach into the rim band at its ends."""
    ends = [m.end() for m in _NAME_END.finditer(text)]
    if ends and len(text) - ends[-1] <= 4:
        return text[: ends[-1]]
    return text


_LEGAL_FORMS = (
    # (as written, as a rim reads it: a comma and a full stop are both a dot there, t and
    # i, d and cl, e and c alike at rim size, capitals and small letters of one shape)
    ("Co., Ltd.", r"Co[.,]{0,2}\s*L[tli1][dcl]\.?"),
    ("Pte. Ltd.", r"P[tl][ec][.,]?\s*L[tli1][dcl]\.?"),
    ("Ltd.", r"L[tli1][dcl]\.?"),
    ("Limited", r"Limited"),
    ("Inc.", r"Inc\.?"),
    ("Corp.", r"Corp\.?"),
    ("LLC", r"L\.?L\.?C\.?"),
    ("GmbH", r"G[mn]bH\.?"),
    ("AG", r"AG\.?"),
    ("SAS", r"S[.,]?A[.,]?S[.,]?"),
    ("S.A.", r"S[.,]A[.,]?"),
    ("SARL", r"S[.,]?A[.,]?R[.,]?L[.,]?"),
    ("AB", r"AB\.?"),
    ("B.V.", r"B[.,]?V[.,]?"),
    ("N.V.", r"N[.,]?V[.,]?"),
    ("S.p.A.", r"S[.,]?p[.,]?A[.,]?"),
    ("S.r.l.", r"S[.,]?r[.,]?l[.,]?"),
    ("K.K.", r"K[.,]?K[.,]?"),
    ("Oy", r"Oy"),
    ("A/S", r"A/S"),
)


_LATIN_END = [
    # after a space or a dot, or run on to its word as a capital (PrecisionCoLid)
    (form, re.compile(rf"(?:(?<=[\s.,])|(?-i:(?<=[a-z])(?=[A-Z])))(?:{pattern})\s*$", re.I))
    for form, pattern in _LEGAL_FORMS
]


def _latin_legal_form(text: str) -> str:
    """A Latin rim name as it is written: one space between words, its legal form at the
    end in the form's own spelling (``Co.. Lid`` is ``Co., Ltd.``). The letters stand
    spaced round the ring, so the spaces read are the engraver's; commas and full stops
    are dots of one size there."""
    text = " ".join(text.split())
    if CJK.search(text) or not re.search(r"[A-Za-z]{3}", text):
        return text
    for form, pattern in _LATIN_END:
        match = pattern.search(text)
        if match:
            return f"{text[: match.start()].rstrip(' .,')} {form}"
    return text


def clean_rim_read(text: str) -> str:
    """A rim read as a name: pieces of the code and the inscription trimmed off its ends,
    a Latin name spelled as written (see :func:`_latin_legal_form`)."""
    if CJK.search(text):
        return _complete_legal_form(
            _end_at_legal_form(_trim_code_fragments(re.sub(r"\s+", "", text)))
        )
    return _latin_legal_form(text.strip())


_CUT_FORM = re.compile(r"(有限公|有限责任|股份有限)$")


def _complete_legal_form(text: str) -> str:
    """A Chinese legal form cut short at the end of the rim (…股份有限公, …有限责任)
    completed: these words occur only as 有限公司, 有限责任公司 and 股份有限公司, and the
    name's last character stands next to the seam, where a tilted or dry stamp leaves the
    least ink. A read that ends in 有限 alone is left as it is (有限合伙 is a form too)."""
    match = _CUT_FORM.search(text)
    if match is None:
        return text
    return text + ("司" if match.group(1).endswith("公") else "公司")


def _trim_code_fragments(text: str) -> str:
    """A Chinese rim name never starts or ends with digits or symbols: those are pieces of
    the lower arc's code read along with it; nor with a lone small Latin letter or two (a
    stroke of print or the ring's edge read along: m北京…). Capitals stay (TCL…)."""
    if len(CJK.findall(text)) < 4:
        return text.strip()
    for pattern in (r"^[^\u4e00-\u9fff（(]+", r"[^\u4e00-\u9fff）)]+$"):
        match = re.search(pattern, text)
        if match and (
            any(not c.isalpha() for c in match.group())
            or re.fullmatch(r"[a-z]{1,2}", match.group())
        ):
            text = text[: match.start()] + text[match.end() :]
    return text
