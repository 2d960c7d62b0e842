"""Which document a page is, from the words on it (titles weigh most)."""

from __future__ import annotations

from pipeline.extract.ocr import TextLine

KINDS = (
    "application_form",
    "confirmation_letter",
    "business_licence",
    "org_code_certificate",
    "id_card_copy",
    "authorization_letter",
    "foreign_registration",
    "other",
)

CUES: dict[str, tuple[tuple[str, float], ...]] = {
    "business_licence": (
        ("营业执照", 6),
        ("统一社会信用代码", 1),
        ("登记机关", 2),
        ("经营范围", 2),
        ("注册资本", 2),
        ("营业期限", 2),
        ("成立日期", 1),
        ("法定代表人", 1),
        ("注册号", 1),
        ("副本", 1),
    ),
    "id_card_copy": (
        ("公民身份号码", 5),
        ("居民身份证", 5),
        ("签发机关", 3),
        ("有效期限", 2),
        ("民族", 2),
        ("出生", 1),
        ("住址", 1),
    ),
    "application_form": (
        ("申请表", 5),
        ("签章服务", 3),
        ("申请编号", 3),
        ("EMS", 2),
        ("电子钥匙申请表", 3),
        ("订单信息", 2),
        ("经办人签字", 2),
        ("办理类型", 2),
    ),
    "confirmation_letter": (("确认函", 8), ("印模", 2), ("承诺", 1)),
    "authorization_letter": (("授权委托书", 8), ("委托单位", 3), ("受托人", 3), ("兹委托", 3)),
    "org_code_certificate": (
        ("组织机构代码证", 8),
        ("机构名称", 3),
        ("机构类型", 2),
        ("颁发单位", 2),
    ),
    "foreign_registration": (
        ("CERTIFICATE", 4),
        ("INCORPORATION", 4),
        ("REGISTRATION NO", 3),
        ("COMMERCIAL REGISTER", 3),
        ("DIRECTOR", 1),
    ),
}


def classify(lines: list[TextLine]) -> tuple[str, float]:
    """(kind, confidence). A page with no recognisable cue is ``other``."""
    text = "".join(line.text for line in lines).upper().replace(" ", "")
    scores = {
        kind: sum(w for cue, w in cues if cue.replace(" ", "") in text)
        for kind, cues in CUES.items()
    }
    best = max(scores, key=lambda k: scores[k])
    top = scores[best]
    if top < 3:
        return "other", 0.5 if not lines else round(1 - top / 3 * 0.5, 2)
    runner = sorted(scores.values())[-2]
    return best, round(min(0.99, 0.6 + 0.4 * (top - runner) / top), 2)
