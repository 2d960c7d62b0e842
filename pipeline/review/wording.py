"""What a finding says to a reviewer first, in plain words: a short title for its code,
and where a name read differs from the application's ("第 3、4 字不同（远航 ↔ 通远）").
Scores (confidence, nats) stay in the details for those who want them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from difflib import SequenceMatcher
from typing import Any

from pipeline.model.messages import DEFAULT, N_, Say, translator

CODE_LABELS = {
    "invalid_file": N_("文件无法读取"),
    "unreadable_page": N_("页面无法读取"),
    "document_missing": N_("缺少材料"),
    "name_mismatch": N_("单位名称不一致"),
    "seal_missing": N_("缺少公章"),
    "seal_name_mismatch": N_("公章印文与单位名称不一致"),
    "uscc_invalid": N_("统一社会信用代码校验不通过"),
    "uscc_mismatch": N_("统一社会信用代码不一致"),
    "id_number_invalid": N_("身份证号码无效"),
    "id_expired": N_("身份证已过有效期"),
    "id_name_mismatch": N_("身份证姓名不一致"),
    "licence_expired": N_("营业执照已过营业期限"),
    "payer_mismatch": N_("付款人不是申请单位"),
    "check_incomplete": N_("未完成自动核对"),
    "id_number_mismatch": N_("身份证号码与申请不一致"),
    "payment_missing": N_("未收到付款"),
    "payment_amount_mismatch": N_("付款金额不符"),
    "application_id_mismatch": N_("申请编号不一致"),
    "signature_missing": N_("缺少签字"),
    "id_region_unknown": N_("身份证地区码未知"),
    "uscc_held_by_other_name": N_("信用代码已有他名证书"),
    "document_replaced": N_("材料已被替换"),
}

COMPARED = frozenset({"name_mismatch", "seal_name_mismatch", "id_name_mismatch", "uscc_mismatch"})
"""Codes whose evidence compares a read with the application, character by character (ID
numbers are left out: they are shown masked)."""


def plain_difference(expected: str, found: str | None, language: str = DEFAULT) -> str:
    """Where ``found`` differs from ``expected``: the places (1-based, in the expected
    text) and what stands there; neighbouring changes one character apart read as one."""
    _ = translator(language)
    if not found:
        return _("未能读出")
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
        places = _places(a0, a1, _)
        if was and now:
            parts.append(_("{places}不同（{was} ↔ {now}）").format(places=places, was=was, now=now))
        elif was:
            parts.append(_("{places}缺失（“{was}”）").format(places=places, was=was))
        elif a0:
            parts.append(_("第 {n} 字后多出“{now}”").format(n=a0, now=now))
        else:
            parts.append(_("开头多出“{now}”").format(now=now))
    return _("；").join(parts)


def _places(a0: int, a1: int, _: Callable[[str], str]) -> str:
    if a1 - a0 <= 4:
        listed = _("、").join(str(i + 1) for i in range(a0, a1))
        return (_("第 {n} 字") if a1 - a0 == 1 else _("第 {list} 字")).format(n=listed, list=listed)
    return _("第 {first}–{last} 字").format(first=a0 + 1, last=a1)


def difference_of(code: str, evidence: dict[str, object] | None, language: str = DEFAULT) -> str:
    """The plain difference a finding's evidence shows, or "" where it compares nothing."""
    ev = evidence or {}
    expected, found = ev.get("expected"), ev.get("found")
    if code not in COMPARED or not isinstance(expected, str):
        return ""
    return plain_difference(expected, found if isinstance(found, str) else None, language)


ACTION_LABELS = {
    "application.received": N_("收件"),
    "application.record_updated": N_("申请信息已更新"),
    "application.checked": N_("自动检查完成"),
    "application.files_added": N_("收到补充文件"),
    "application.resubmitted": N_("申请人重新提交"),
    "application.issued": N_("已制证"),
    "application.shipped": N_("已寄出"),
    "file.received": N_("收到文件"),
    "file.refused": N_("文件被拒收"),
    "review.prereview.approve": N_("核验通过"),
    "review.prereview.reject": N_("核验退回"),
    "review.rereview.approve": N_("复核通过"),
    "review.rereview.reject": N_("复核退回"),
    "issuance.start": N_("开始制证"),
    "issuance.key_made": N_("已生成密钥"),
    "issuance.failed": N_("制证失败"),
    "issuance.pin_letter_destroyed": N_("PIN 码信封已销毁"),
    "certificate.issue": N_("签发证书"),
    "certificate.revoke": N_("吊销证书"),
    "mail.received": N_("邮件收件"),
    "mail.routed": N_("邮件已分拣"),
    "mail.assigned": N_("邮件页已人工归档"),
}
"""The audit trail's actions as a history row says them (the codes stay in the trail)."""


def action_label(action: str, language: str = DEFAULT) -> str:
    return translator(language)(ACTION_LABELS.get(action, action))


def told_finding(finding: Mapping[str, Any], language: str = DEFAULT) -> str:
    """A recorded finding's sentence in ``language``, from the sentence kept with it. One
    recorded before sentences were kept has only its Chinese message: in another language
    nothing of it is said (its title and evidence still are), never the Chinese."""
    wording = finding.get("wording")
    if isinstance(wording, Mapping):
        return Say.from_json(wording).told(language)
    return str(finding.get("message") or "") if language == DEFAULT else ""
