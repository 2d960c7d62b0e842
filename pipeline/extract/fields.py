"""The fields of each document kind (names as in check-report.md), read from its lines."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.extract.codes import CodeRead, read_id_number, read_uscc
from pipeline.extract.dates import parse_date, parse_period
from pipeline.extract.layout import pairs, rows, value
from pipeline.extract.ocr import TextLine
from pipeline.model.application import APPLICATION_ID

SCHEME_PREFIXES = ("CQC", "MOF")
"""The application systems' id prefixes (shared/spec: CQC CMS2.0, the MOFCOM platform)."""
LOOK_ALIKE = {"O": "Q0DC", "Q": "O0", "0": "OQ", "D": "O0", "C": "GO", "G": "C", "E": "F"}
"""Letters OCR takes for each other in an id's prefix (what was read: what it may be)."""
LABEL_RESIDUE = re.compile(r"^[\s·・.:：,，、]*(?:名\s*称|称)?[\s·・.:：,，、]*")
"""What a 名　称 label split by OCR leaves before the name it labels (·称成都市…)."""
COMPANY_END = re.compile(
    r"(股份有限公司|有限责任公司|有限公司|公司|集团|GmbH|AG|Ltd\.?|SAS|AB|Inc\.?)"
)
SIGNING_LABEL = re.compile(r"[（(]?\s*(?:盖\s*章|签\s*章|签\s*字|法定代表人)")
"""Print that follows a name on a form's signing line (委托单位：…（盖章） 法定代表人（签字）)
and is never part of one: where a name's legal form was misread (Gmbll), the name ends
here."""


@dataclass
class Fields:
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, TextLine] = field(default_factory=dict)
    """The line each value was read from (for evidence crops)."""
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per field: what OCR read, corrections made, confidence."""

    def put(self, name: str, text: Any, line: TextLine | None = None, **note: Any) -> None:
        if text in ("", None):
            return
        self.values[name] = text
        if line is not None:
            self.lines[name] = line
            note.setdefault("confidence", round(line.score, 3))
        if note:
            self.notes[name] = note

    def put_code(self, name: str, read: CodeRead | None, line: TextLine | None) -> None:
        if read is None:
            return
        self.put(
            name,
            read.value,
            line,
            read=read.read,
            valid=read.valid,
            corrections=list(read.corrections),
            guessed=read.guessed,
        )


def company_name(text: str) -> str:
    """A company name as printed: what its label left before it removed, cut after its
    legal-form ending, brackets kept as read, and before any signing label after it (see
    SIGNING_LABEL). No company name starts with 称 or a colon."""
    text = LABEL_RESIDUE.sub("", text.strip()).strip("：:")
    signing = SIGNING_LABEL.search(text)
    if signing is not None and signing.start() > 0:
        text = text[: signing.start()].rstrip()
    ends = [m.end() for m in COMPANY_END.finditer(text)]
    return text[: ends[-1]] if ends else text


def _all_text(lines: list[TextLine]) -> str:
    """The page's text in reading order (row by row, left to right)."""
    return " ".join(line.text for row in rows(lines) for line in row)


def _code_after_label(lines: list[TextLine]) -> tuple[CodeRead | None, TextLine | None]:
    """The code after 信用代码 in reading order, also when it wraps onto the next line or
    OCR split it into boxes."""
    text = re.sub(r"\s+", "", _all_text(lines))
    match = re.search(r"信用代码[：:（(]?([0-9A-Za-z]{16,20})", text)
    if match is None:
        return None, None
    start = match.group(1)[:6]
    line = next((ln for ln in lines if start in ln.text.replace(" ", "")), None)
    return read_uscc(match.group(1)[:18], line.score if line else None), line


Found = tuple[CodeRead | None, TextLine | None]


def _pick(*candidates: Found) -> Found:
    """The first read whose check character fits, else the first read at all: a code read
    surely after its label but failing its check (the applicant's typo) is kept for
    validation to report, never dropped because another way of finding it found nothing.
    (The licence does not use it: there a failed read of a line may be its 注册号.)"""
    for code, line in candidates:
        if code is not None and code.valid:
            return code, line
    return next(((c, ln) for c, ln in candidates if c is not None), (None, None))


def _find_code(
    lines: list[TextLine], reader: Callable[[str, float | None], CodeRead | None]
) -> tuple[CodeRead | None, TextLine | None]:
    best: tuple[CodeRead | None, TextLine | None] = (None, None)
    for line in lines:
        read = reader(line.text, line.score)
        if read is not None and (best[0] is None or (read.valid and not best[0].valid)):
            best = (read, line)
    return best


def licence(lines: list[TextLine]) -> Fields:
    out = Fields()
    found = pairs(
        lines,
        (
            "统一社会信用代码",
            "注册号",
            "名称",
            "类型",
            "法定代表人",
            "负责人",
            "经营范围",
            "注册资本",
            "成立日期",
            "营业期限",
            "住所",
            "登记机关",
        ),
    )
    text, line = value(found, "名称")
    out.put("company_name", company_name(text), line)
    code, code_line = _find_code(lines, read_uscc)
    if code is None or not code.valid:  # any line's failed read is no code; the label's is
        code, code_line = _code_after_label(lines)
    out.put_code("uscc", code, code_line)
    text, line = value(found, "注册号")
    number = re.sub(r"\D", "", text)
    if len(number) >= 13:  # an old licence's number (15 digits): it has no credit code
        out.put("registration_number", number, line)
    for name, label in (
        ("company_type", "类型"),
        ("legal_representative", "法定代表人"),
        ("registered_capital", "注册资本"),
    ):
        text, line = value(found, label)
        if name == "legal_representative":  # a name has no digits: what follows is the
            text = re.split(r"\d", text)[0].strip()  # next field's, its label covered
        out.put(name, text, line)
    text, line = value(found, "成立日期")
    out.put("established_on", parse_date(text), line)
    text, line = value(found, "营业期限")
    start, end = parse_period(text)
    if not (start and end):  # the label under the seal: the period has a shape of its own
        text, line = _period_by_shape(lines) or (text, line)
        start, end = parse_period(text)
    if start or end:
        out.put("operating_period", f"{start or ''}/{end or ''}", line, printed=text)
    text, line = value(found, "住所")
    out.put("address", text, line)
    dates = [parse_date(ln.text) for ln in lines]
    issued = [d for d, ln in zip(dates, lines, strict=True) if d and "至" not in ln.text]
    if issued:
        out.put("issued_on", issued[-1])
    authority = [
        ln
        for ln in lines
        if ln.text.endswith("市场监督管理局") or ln.text.endswith("工商行政管理局")
    ]
    if authority:
        out.put("authority", authority[0].text, authority[0])
    return out


PERIOD_SHAPE = re.compile(
    r"(?:19|20)\d{2}\s*年[^至]{0,8}日?\s*至\s*(?:(?:19|20)\d{2}\s*年|长期|永久)"
)
"""An operating period as a licence prints it: a date, 至, a date or 长期."""


def _period_by_shape(lines: list[TextLine]) -> tuple[str, TextLine] | None:
    """The one line of a licence shaped like an operating period (a date, 至, a date or
    长期), when its 营业期限 label was covered (a seal pressed over it on a greyscale copy,
    where the seal's ink cannot be told from print by its colour). None if no line, or more
    than one, has that shape."""
    shaped = [ln for ln in lines if PERIOD_SHAPE.search(ln.text.replace(" ", ""))]
    if len(shaped) != 1:
        return None
    return shaped[0].text, shaped[0]


def id_card(lines: list[TextLine]) -> Fields:
    out = Fields()
    found = pairs(
        lines, ("姓名", "性别", "民族", "出生", "住址", "公民身份号码", "签发机关", "有效期限")
    )
    text, line = value(found, "姓名")
    if not text:
        text, line = _unlabelled_name(lines)
    out.put("name", person_name(text), line)
    number, number_line = _find_code(lines, read_id_number)
    out.put_code("id_number", number, number_line)
    text, line = value(found, "性别")
    sex = next((c for c in text if c in "男女"), "")
    out.put("sex", sex, line)
    text, line = value(found, "出生")
    out.put("birth_date", parse_date(text), line)
    text, line = value(found, "住址")
    out.put("address", text, line)
    text, line = value(found, "签发机关")
    out.put("issuing_authority", text, line)
    text, line = value(found, "有效期限")
    period_line = line or next(
        (ln for ln in lines if re.search(r"\d{4}\.\d{2}\.\d{2}", ln.text)), None
    )
    start, end = parse_period(text or (period_line.text if period_line else ""))
    out.put("valid_from", start, period_line)
    out.put("valid_to", end, period_line)
    return out


ORG_CODE_SHAPE = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{8}\s*[-－—–]\s*[0-9X](?![0-9A-Z])")
"""An organisation code as printed on its certificate: eight characters, a dash, the check."""
PERSON_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,6}$")
NAME_DOTS = re.compile(r"[.．•・･]")
"""What a recogniser makes of the middle dot (·) between the parts of a name (买买提·艾力)."""


def person_name(text: str) -> str:
    """A name as an ID card prints it: Chinese characters, parts joined by a middle dot. A
    speck of dust or a card edge read as a dot or a stroke before or after it (.潘艳鹏) is
    no part of anyone's name; a dot read between characters is the middle dot."""
    name = NAME_DOTS.sub("·", "".join(text.split()))
    return re.sub(r"^[^\u4e00-\u9fff]+|[^\u4e00-\u9fff]+$", "", name)


SEX_ROW = re.compile(r"^性别|^\W{0,2}[男女]\W{0,3}民")
"""The card's second row (性别 男 民族 汉) as OCR gives it, its small labels lost or misread
on a phone photo (#男民#蒙古): the sex, then 民 of 民族, at most a few marks between."""


def _unlabelled_name(lines: list[TextLine]) -> tuple[str, TextLine | None]:
    """The card's first row when its 姓名 label was not seen (small, light print that a
    copy or a phone photo loses): the lone name-like line in the row above the sex row
    (性别 …, or 男/女 and 民 of 民族 whose labels went the same way)."""
    arranged = rows(lines)
    for above, row in itertools.pairwise(arranged):
        text = "".join(ln.text.replace(" ", "") for ln in row)
        if SEX_ROW.search(text):
            names = [ln for ln in above if PERSON_NAME.match(ln.text.replace(" ", ""))]
            if len(names) == 1:
                return names[0].text, names[0]
    return "", None


COMPANY_LABELS = ("公司名称", "企业名称", "单位名称")
"""What application forms call the applicant's name. Not 申请单位 (it heads the seal's line,
申请单位（盖章）), nor 申请单位名称: its first two characters alone would stand for it, and
申请 is what a MOFCOM form's 办理类型 says."""
CONTACT_LABELS = ("联系人", "联系人姓名")
PHONE_LABELS = ("联系人电话", "联系电话", "手机号码", "联系人手机", "手机")
"""What forms call the contact's telephone (经办人 is no label here: 经办人签字 is the
signature's)."""


FORM_FIELD_NAMES = (
    *("公司名称", "企业名称", "单位名称", "职能部门名称", "CQC CCC管理系统用户标识"),
    *("联系人", "联系人姓名", "联系人公司名称", "联系人部门名称", "联系人身份证号"),
    *("EMS快速地址", "通讯地址", "地址", "邮编", "邮政编码", "联系人电话", "联系电话"),
    *("手机号码", "电子邮件", "电子邮箱", "传真", "业务所属CQC部门", "费用", "备注"),
    *("购买的数字证书产品或服务", "办理类型", "业务类型", "企业代码", "登录名"),
    "统一社会信用代码",
)
"""Every field the two systems' application forms have (the seeds' registration pages),
read or not: a row of these alone heads a table whose values stand below."""


def application_form(lines: list[TextLine]) -> Fields:
    out = Fields()
    match = next(
        (
            (APPLICATION_ID.search(ln.text.replace(" ", "")), ln)
            for ln in lines
            if APPLICATION_ID.search(ln.text.replace(" ", ""))
        ),
        (None, None),
    )
    if match[0] is not None:
        read = match[0].group()
        fixed = _scheme_prefix(read)
        notes = {"read": read, "corrections": [f"{read[:3]}→{fixed[:3]}"]} if fixed != read else {}
        out.put("application_id", fixed, match[1], **notes)
    found = pairs(
        lines,
        (
            *COMPANY_LABELS,
            "职能部门名称",
            *CONTACT_LABELS,
            *PHONE_LABELS,
            "统一社会信用代码",
            "联系人公司名称",
            "联系人部门名称",
            "联系人身份证号",
        ),
        FORM_FIELD_NAMES,
    )
    text, line = value(found, *COMPANY_LABELS)
    out.put("company_name", company_name(text), line)
    text, line = value(found, "职能部门名称")
    out.put("department", text, line)
    text, line = value(found, *CONTACT_LABELS)
    out.put("contact_name", text, line)
    text, line = value(found, *PHONE_LABELS)
    out.put("contact_phone", text.replace(" ", ""), line)
    text, line = value(found, "统一社会信用代码")
    code = read_uscc(text, line.score if line else None) if text else None
    if code is None or not code.valid:
        code, line = _pick((code, line), _code_after_label(lines))
    if code is not None:
        out.put_code("uscc", code, line)
    return out


def _scheme_prefix(read: str) -> str:
    """``read`` with its prefix made the one scheme prefix its letters could be misread
    from (COC-… is CQC-…); as read when none or both could be."""
    prefix, rest = read.split("-", 1)
    if prefix in SCHEME_PREFIXES:
        return read
    could = [
        p
        for p in SCHEME_PREFIXES
        if len(p) == len(prefix)
        and all(a == b or b in LOOK_ALIKE.get(a, "") for a, b in zip(prefix, p, strict=True))
    ]
    return f"{could[0]}-{rest}" if len(could) == 1 else read


def confirmation_letter(lines: list[TextLine]) -> Fields:
    out = Fields()
    text = _all_text(lines).replace(" ", "")
    match = re.search(
        r"我单位([^，。；,;]{2,40}?(?:有限责任公司|股份有限公司|有限公司|公司))", text
    )
    if match:
        line = next((ln for ln in lines if match.group(1)[:4] in ln.text), None)
        out.put("company_name", match.group(1), line)
    code, line = _code_after_label(lines)
    if code is None or not code.valid:
        code, line = _pick((code, line), _find_code(lines, read_uscc))
    out.put_code("uscc", code, line)
    return out


def authorization_letter(lines: list[TextLine]) -> Fields:
    out = Fields()
    found = pairs(lines, ("委托单位", "统一社会信用代码", "受托人", "身份证号码", "工作单位"))
    text, line = value(found, "委托单位")
    out.put("principal", company_name(text), line)
    text, line = value(found, "受托人")
    out.put("agent_name", re.split(r"身份证", text)[0].strip(), line)
    text, line = value(found, "身份证号码")
    number = read_id_number(text, line.score if line else None) if text else None
    if number is None:
        candidates = [ln for ln in lines if ln is not line]
        number, line = _find_code(candidates, read_id_number)
    out.put_code("agent_id_number", number, line)
    return out


def org_code_certificate(lines: list[TextLine]) -> Fields:
    out = Fields()
    found = pairs(
        lines, ("代码", "机构名称", "机构类型", "法定代表人", "地址", "有效期", "颁发单位")
    )
    text, line = value(found, "代码")
    if not text:  # 代　　码 lost whole: the code still stands out by its shape, ########-#
        for candidate in lines:
            shaped = ORG_CODE_SHAPE.search(candidate.text.upper())
            if shaped:
                text, line = shaped.group(), candidate
                break
    code = re.sub(r"[^0-9A-Z]", "", text.upper())
    out.put("org_code", code[:9] if len(code) >= 9 else code, line)
    text, line = value(found, "机构名称")
    out.put("company_name", company_name(text), line)
    return out


def foreign_registration(lines: list[TextLine]) -> Fields:
    out = Fields()
    for name, label in (
        ("company_name", "company name"),
        ("registration_number", "registration no"),
    ):
        text, line = _latin_value(lines, label)
        if text:
            out.put(name, text, line)
    return out


def _latin_value(lines: list[TextLine], label: str) -> tuple[str, TextLine | None]:
    """The value of an English ``Label: value`` line: after the colon in the label's own
    box, or in the boxes to its right on the same row."""
    for row in rows(lines):
        for at, line in enumerate(row):
            if not line.text.lower().lstrip().startswith(label):
                continue
            after = re.sub(r"^[^:：]*[:：]", "", line.text, count=1).strip()
            if after and after.lower() != line.text.lower().strip():
                return after, line
            rest = row[at + 1 :]
            if rest:
                return " ".join(ln.text.strip() for ln in rest), rest[0]
    return "", None


READERS: dict[str, Callable[[list[TextLine]], Fields]] = {
    "business_licence": licence,
    "id_card_copy": id_card,
    "application_form": application_form,
    "confirmation_letter": confirmation_letter,
    "authorization_letter": authorization_letter,
    "org_code_certificate": org_code_certificate,
    "foreign_registration": foreign_registration,
}


def read_fields(kind: str, lines: list[TextLine]) -> Fields:
    reader = READERS.get(kind)
    return reader(lines) if reader else Fields()
