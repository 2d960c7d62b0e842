"""What a finding says to a reviewer first, in plain words: a short title for its code,
and where a name read differs from the application's ("第 3、4 字不同（远航 ↔ 通远）").
Scores (confidence, nats) stay in the details for those who want them."""

from __future__ import annotations

from difflib import SequenceMatcher

CODE_LABELS = {
    "invalid_file": "文件无法读取",
    "unreadable_page": "页面无法读取",
    "document_missing": "缺少材料",
    "name_mismatch": "单位名称不一致",
    "seal_missing": "缺少公章",
    "seal_name_mismatch": "公章印文与单位名称不一致",
    "uscc_invalid": "统一社会信用代码校验不通过",
    "uscc_mismatch": "统一社会信用代码不一致",
    "id_number_invalid": "身份证号码无效",
    "id_expired": "身份证已过有效期",
    "id_name_mismatch": "身份证姓名不一致",
    "licence_expired": "营业执照已过营业期限",
    "payer_mismatch": "付款人不是申请单位",
    "check_incomplete": "未完成自动核对",
    "id_number_mismatch": "身份证号码与申请不一致",
    "payment_missing": "未收到付款",
    "payment_amount_mismatch": "付款金额不符",
    "application_id_mismatch": "申请编号不一致",
    "signature_missing": "缺少签字",
    "id_region_unknown": "身份证地区码未知",
    "uscc_held_by_other_name": "信用代码已有他名证书",
    "document_replaced": "材料已被替换",
}

COMPARED = frozenset({"name_mismatch", "seal_name_mismatch", "id_name_mismatch", "uscc_mismatch"})
"""Codes whose evidence compares a read with the application, character by character (ID
numbers are left out: they are shown masked)."""


def plain_difference(expected: str, found: str | None) -> str:
    """Where ``found`` differs from ``expected``: the places (1-based, in the expected
    text) and what stands there; neighbouring changes one character apart read as one."""
    if not found:
        return "未能读出"
    if expected == found:
        return ""
    spans: list[tuple[int, int, int, int]] = []
    matcher = SequenceMatcher(None, expected, found, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            continue
        if spans and a0 - spans[-1][1] <= 1 and b0 - spans[-1][3] <= 1:
            spans[-1] = (spans[-1][0], a1, spans[-1][2], b1)
        else:
            spans.append((a0, a1, b0, b1))
    parts = []
    for a0, a1, b0, b1 in spans:
        was, now = expected[a0:a1], found[b0:b1]
        if was and now:
            parts.append(f"{_places(a0, a1)}不同（{was} ↔ {now}）")
        elif was:
            parts.append(f"{_places(a0, a1)}缺失（“{was}”）")
        else:
            parts.append(f"第 {a0} 字后多出“{now}”" if a0 else f"开头多出“{now}”")
    return "；".join(parts)


def _places(a0: int, a1: int) -> str:
    if a1 - a0 <= 4:
        return "第 " + "、".join(str(i + 1) for i in range(a0, a1)) + " 字"
    return f"第 {a0 + 1}–{a1} 字"


def difference_of(code: str, evidence: dict[str, object] | None) -> str:
    """The plain difference a finding's evidence shows, or "" where it compares nothing."""
    ev = evidence or {}
    expected, found = ev.get("expected"), ev.get("found")
    if code not in COMPARED or not isinstance(expected, str):
        return ""
    return plain_difference(expected, found if isinstance(found, str) else None)


ACTION_LABELS = {
    "application.received": "收件",
    "application.record_updated": "申请信息已更新",
    "application.checked": "自动检查完成",
    "application.files_added": "收到补充文件",
    "application.resubmitted": "申请人重新提交",
    "application.issued": "已制证",
    "application.shipped": "已寄出",
    "file.received": "收到文件",
    "file.refused": "文件被拒收",
    "review.prereview.approve": "核验通过",
    "review.prereview.reject": "核验退回",
    "review.rereview.approve": "复核通过",
    "review.rereview.reject": "复核退回",
    "issuance.start": "开始制证",
    "issuance.key_made": "已生成密钥",
    "issuance.failed": "制证失败",
    "issuance.pin_letter_destroyed": "PIN 码信封已销毁",
    "certificate.issue": "签发证书",
    "certificate.revoke": "吊销证书",
    "mail.received": "邮件收件",
    "mail.routed": "邮件已分拣",
    "mail.assigned": "邮件页已人工归档",
}
"""The audit trail's actions as a history row says them (the codes stay in the trail)."""


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)
