"""The whole-check bench's safety count: near-miss seals that passed on their own."""

from __future__ import annotations

from bench.check import unseen_impostors, weakest_ink
from pipeline.model.report import Code, Finding, Severity


def _finding(severity: Severity, document: int, bbox: list[int]) -> Finding:
    return Finding(Code.SEAL_NAME_MISMATCH, severity, "…", document, 1, {"bbox": bbox})


def test_a_near_miss_seal_without_a_finding_of_its_own_is_counted_unseen() -> None:
    near_miss = {
        "packet": "CQC-1",
        "truth": {"defect": {"kind": "seal_near_miss"}},
        "findings": [
            _finding(Severity.ERROR, 0, [10, 10, 50, 50]),
            _finding(Severity.WARNING, 1, [5, 5, 40, 40]),
            _finding(Severity.INFO, 2, [7, 7, 30, 30]),  # a fit: no attention
        ],
        "seal_places": [
            (0, [10, 10, 50, 50], "长沙昊天新汽车有限公司"),
            (1, [5, 5, 40, 40], "长沙昊天新汽车"),
            (2, [7, 7, 30, 30], "长沙昊天汽车有限公司"),
            (3, [1, 1, 20, 20], "长沙昊天汽车有限公司"),  # its document drew nothing
        ],
    }
    clean = {**near_miss, "packet": "CQC-2", "truth": {"defect": None}}
    seals, unseen = unseen_impostors([near_miss, clean])
    assert seals == 4
    assert [line.split(" [")[0] for line in unseen] == ["CQC-1 document 2", "CQC-1 document 3"]


def test_the_weakest_name_character_is_told_as_a_share_of_its_name_s_median_ink() -> None:
    seal = {
        "owner": "company",
        "text": "北京远航国际贸易有限责任公司",  # seed 5252's MOF-2026-215906, first page
        "name_ink": [
            *(0.406, 0.597, 0.549, 0.177, 0.467, 0.519, 0.44),
            *(0.575, 0.595, 0.569, 0.536, 0.32, 0.462, 0.322),
        ],
    }
    authority = {"owner": "authority", "text": "北京市丰台区市场监督管理局"}
    truth = {
        "files": [{"name": "scan.pdf", "pages": [{"seals": []}, {"seals": [authority, seal]}]}]
    }
    assert weakest_ink(truth, "scan.pdf", 2) == "航 kept 0.36 of its name's median ink"
    assert weakest_ink(truth, "scan.pdf", 1) is None
    assert weakest_ink(truth, "other.pdf", 1) is None


def test_reading_lists_the_sure_reads_that_were_wrong_and_counts_calibration_bands() -> None:
    from types import SimpleNamespace

    from bench.check import reading

    truth = {
        "application_id": "CQC-7",
        "company_seal": {"text": "杭州卓越智能装备有限公司"},
        "documents": [
            {"kind": "business_licence", "fields": {"company_name": "杭州卓越智能装备有限公司"}}
        ],
    }
    licence = SimpleNamespace(
        kind="business_licence",
        fields={"company_name": "杭州卓越智能装备有限公司"},
        field_notes={"company_name": {"confidence": 0.99}},
        seals=[
            {"owner": "company", "text": "杭州卓越智能装备白限公司", "confidence": 0.95},
            {"owner": "company", "text": "杭州卓越智能装备有限公司", "confidence": 0.99},
            {"owner": "company", "text": "卓越智能装备有限公司", "confidence": 0.8},
            {"owner": "authority", "text": "杭州市市场监督管理局", "confidence": 0.99},
        ],
    )
    figures = reading([{"truth": truth, "documents": [licence]}])
    rim = figures["company seal rim"]
    assert (rim["reads"], rim["sure_reads"], rim["sure_wrong"]) == (3, 2, 1)
    assert rim["sure_wrong_reads"] == [
        "CQC-7: '杭州卓越智能装备白限公司' for '杭州卓越智能装备有限公司'"
    ]
    assert rim["bands"]["0.50-0.90"] == [0, 1] and rim["bands"]["0.90-0.97"] == [0, 1]
    assert figures["company name"]["sure_wrong_reads"] == []
