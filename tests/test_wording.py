"""Plain words for a finding: where a read name differs from the application's."""

from __future__ import annotations

import pytest

from pipeline.model.report import Code
from pipeline.review.wording import CODE_LABELS, difference_of, plain_difference


@pytest.mark.parametrize(
    ("expected", "found", "said"),
    [
        (
            "大连远航汽车零部件有限公司",
            "大连通远汽车零部件有限公司",
            "第 3、4 字不同（远航 ↔ 通远）",
        ),
        ("郑州新华联软件有限公司", "郑州新化软件有限公司", "第 4、5 字不同（华联 ↔ 化）"),
        ("北京示例科技有限公司", "北京示例信息科技有限公司", "第 4 字后多出“信息”"),
        ("厦门宏图精密仪器有限公司", "宏图精密仪器有限公司", "第 1、2 字缺失（“厦门”）"),
        (
            "天津卓越汽车零部件有限公司",
            "天津点越汽工零部件有限公司",
            "第 3 字不同（卓 ↔ 点）；第 6 字不同（车 ↔ 工）",
        ),
        ("北京示例科技有限公司", None, "未能读出"),
        ("北京示例科技有限公司", "北京示例科技有限公司", ""),
    ],
)
def test_the_difference_in_plain_words(expected: str, found: str | None, said: str) -> None:
    assert plain_difference(expected, found) == said


def test_every_code_has_a_title_and_id_numbers_are_not_spelled_out() -> None:
    assert set(CODE_LABELS) == {c.value for c in Code}
    number = {"expected": "110101199003071234", "found": "110101199003071235"}
    assert difference_of("id_number_mismatch", number) == ""
    assert difference_of("name_mismatch", {"expected": "甲公司", "found": "乙公司"}) == (
        "第 1 字不同（甲 ↔ 乙）"
    )


def test_history_rows_and_findings_speak_one_language() -> None:
    """The complaint: history rows read review.prereview.reject, and two findings said
    everything twice, in Chinese then in English."""
    from pipeline.review.wording import ACTION_LABELS, action_label
    from pipeline.usecases.intake import IntakeResult
    from pipeline.usecases.report import _failed_pages, build_report

    assert action_label("review.prereview.reject") == "核验退回"
    assert all(not any("a" <= ch <= "z" for ch in label) for label in ACTION_LABELS.values())
    incomplete = build_report(IntakeResult("CQC-2026-000001", "received", 1, True))
    unread = _failed_pages([], [("a.pdf", 2, "too dark")])
    for finding in (*incomplete.findings, *unread):
        latin = [w for w in finding.message.split() if w.isascii() and w.isalpha()]
        assert not latin, finding.message


def test_a_refused_file_is_explained_in_chinese_alone() -> None:
    """The complaint: 拒收：licence.jpg（the image is only 40 × 56 pixels; …）. Every refusal
    code has its Chinese sentence saying what to ask for; the English one, with its
    numbers, stays in the evidence."""
    from pipeline.ingest.problems import REFUSALS, FileProblem
    from pipeline.usecases.intake import REJECTED_FILE, FileOutcome
    from pipeline.usecases.report import _file_findings

    assert set(REFUSALS) == set(FileProblem)
    english = "the image is only 40 × 56 pixels; a readable page needs at least 300"
    small = FileOutcome(
        "licence.jpg", REJECTED_FILE, 900, problem_code="image_too_small", problem=english
    )
    (finding,) = _file_findings(small, None, earlier=False)
    assert "300 dpi" in finding.message and "pixels" not in finding.message
    assert finding.evidence["detail"] == english
