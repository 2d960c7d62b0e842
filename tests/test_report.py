"""The check report's verdict and the skeleton check's findings."""

from __future__ import annotations

from pipeline.model.report import CheckReport, Code, Finding, Severity
from pipeline.usecases.intake import FileOutcome, IntakeResult, PageOutcome
from pipeline.usecases.report import build_report

PAGE = PageOutcome(0, 2480, 3508, 300, False, None)


def report_with(*severities: Severity) -> CheckReport:
    findings = tuple(Finding(Code.NAME_MISMATCH, s, "m") for s in severities)
    return CheckReport("CQC-2026-000001", findings, ())


def test_verdict_is_clear_only_without_errors_and_warnings() -> None:
    assert report_with().verdict == "clear"
    assert report_with(Severity.INFO, Severity.INFO).verdict == "clear"
    assert report_with(Severity.INFO, Severity.WARNING).verdict == "flagged"
    assert report_with(Severity.ERROR).verdict == "flagged"


def test_every_refused_file_is_an_invalid_file_error() -> None:
    files = (
        FileOutcome("a.pdf", "new", 10, "a" * 64, "application/pdf", (PAGE, PAGE)),
        FileOutcome("b.pdf", "rejected", 10, "b" * 64, problem_code="encrypted", problem="pw"),
        FileOutcome(
            "c.jpg",
            "new",
            10,
            "c" * 64,
            "image/jpeg",
            (PageOutcome(0, 0, 0, None, False, "page 1 cannot be decoded"),),
        ),
    )
    report = build_report(IntakeResult("CQC-2026-000001", "received", 1, True, files))
    codes = [(f.code, f.severity, f.document, f.page) for f in report.findings]
    assert codes == [
        (Code.INVALID_FILE, Severity.ERROR, None, None),
        (Code.UNREADABLE_PAGE, Severity.WARNING, 1, 1),
        (Code.CHECK_INCOMPLETE, Severity.WARNING, None, None),
    ]
    assert [(d.source, d.pages) for d in report.documents] == [("a.pdf", 2), ("c.jpg", 1)]


def test_files_refused_in_an_earlier_round_are_recorded_not_blocking() -> None:
    files = (
        FileOutcome(
            "b.pdf",
            "rejected",
            10,
            "b" * 64,
            problem_code="truncated",
            problem="cut short",
            round=1,
        ),
    )
    report = build_report(IntakeResult("CQC-2026-000001", "received", 2, False, files))
    assert report.findings[0].severity is Severity.INFO
    assert "第 1 轮已退回" in report.findings[0].message
