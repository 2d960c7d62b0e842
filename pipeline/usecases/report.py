"""``sealdesk check``: intake, extraction and validation of one application, in one go.

Every broken file and page is a finding; the documents read are validated against the
record (``pipeline.validate.rules``). When extraction did not run, a ``check_incomplete``
warning keeps the verdict from ever being ``clear``: a report must never say "nothing to
look at" about checks that did not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from pipeline.ingest.problems import refusal
from pipeline.model.application import ApplicationRecord
from pipeline.model.messages import NOTHING, say
from pipeline.model.report import CheckReport, Code, DocumentEntry, Finding, Severity
from pipeline.usecases.intake import REJECTED_FILE, FileOutcome, IntakeResult
from pipeline.validate.rules import KIND_NAMES, validate

NEVER_REPLACED = frozenset({"other"})
"""Kinds a later round's document never stands in for: nothing is checked on them."""


def in_force(documents: Sequence[DocumentEntry]) -> tuple[list[DocumentEntry], list[Finding]]:
    """The round rule: an application is checked on its newest round's documents plus the
    earlier ones the applicant did not replace. An earlier document is replaced by a later
    round's document of the same kind; an ID card copy only by a later card of the same
    person (the same ID number or name read), since contact and agent each send one, and
    while the person on a later card cannot be read the earlier card stays. Returns the
    documents that count and an ``info`` finding naming each replaced one."""
    kept: list[DocumentEntry] = []
    notes: list[Finding] = []
    for doc in documents:
        later = [
            d
            for d in documents
            if d.round > doc.round and d.kind == doc.kind and doc.kind not in NEVER_REPLACED
        ]
        if doc.kind == "id_card_copy":
            later = [d for d in later if _same_person(doc, d)]
        if not later:
            kept.append(doc)
            continue
        newest = max(d.round for d in later)
        notes.append(
            Finding.told(
                Code.DOCUMENT_REPLACED,
                Severity.INFO,
                say(
                    "第 {round} 轮的{what}（{source} 第 {page} 页）已由第 {newest} 轮"
                    "补交的同类材料替换，不再核对。",
                    round=doc.round,
                    what=say(KIND_NAMES.get(doc.kind, doc.kind)),
                    source=doc.source,
                    page=doc.page,
                    newest=newest,
                ),
                evidence={
                    "kind": doc.kind,
                    "file": doc.source,
                    "page": doc.page,
                    "round": doc.round,
                    "replaced_in_round": newest,
                },
            )
        )
    return kept, notes


def _same_person(earlier: DocumentEntry, later: DocumentEntry) -> bool:
    for key in ("id_number", "name"):
        a, b = earlier.fields.get(key), later.fields.get(key)
        if a and b and str(a).strip() == str(b).strip():
            return True
    return False


def build_report(
    intake: IntakeResult,
    extracted: list[DocumentEntry] | None = None,
    record: ApplicationRecord | None = None,
    today: date | None = None,
    page_failures: Sequence[tuple[str, int, str]] = (),
    register: Sequence[Finding] = (),
) -> CheckReport:
    """The report for the application's current round.

    ``record``: the application record the documents are validated against; without it
    (or without ``extracted``), validation cannot run and the report says so.

    ``extracted``: the documents extraction found; without them, each readable file is
    listed as one document of kind ``other``. Files refused in an earlier round were sent
    back with the remarks already: they are recorded as ``info``, so they do not hold up a
    resubmission that replaced them.

    ``page_failures``: (file name, 1-based page, why) for pages extraction could not read;
    each is an ``unreadable_page`` warning, so a person reads that page.

    ``register``: findings from what the CA has issued before (see
    ``pipeline.usecases.checking.held_by_other_names``), added whether or not validation ran.
    """
    readable = [o for o in intake.files if o.outcome != REJECTED_FILE and o.pages]
    round_of = {o.name: o.round for o in intake.files}
    documents = (
        [replace(d, round=round_of.get(d.source, intake.round)) for d in extracted]
        if extracted is not None
        else [
            DocumentEntry(
                source=o.name,
                page=1,
                kind="other",
                confidence=0.0,
                pages=len(o.pages),
                round=o.round,
            )
            for o in readable
        ]
    )
    documents, replaced = in_force(documents)
    first_document: dict[str, int] = {}
    for index, document in enumerate(documents):
        first_document.setdefault(document.source, index)
    findings: list[Finding] = []
    for outcome in intake.files:
        earlier = outcome.round < intake.round
        findings.extend(_file_findings(outcome, first_document.get(outcome.name), earlier))
    findings.extend(_failed_pages(documents, page_failures))
    findings.extend(replaced)
    findings.extend(register)
    if extracted is not None and record is not None:
        findings.extend(validate(record, documents, today or date.today()))
        return CheckReport(intake.application_id, tuple(findings), tuple(documents))
    missing = ["validate"] if extracted is not None else ["extract", "validate"]
    findings.append(
        Finding.told(
            Code.CHECK_INCOMPLETE,
            Severity.WARNING,
            say("材料尚未自动核对：请人工逐项核对名称、公章、信用代码与证件。"),
            evidence={"missing_stages": missing},
        )
    )
    return CheckReport(intake.application_id, tuple(findings), tuple(documents))


def _failed_pages(
    documents: list[DocumentEntry], failures: Sequence[tuple[str, int, str]]
) -> list[Finding]:
    def document_of(name: str, page: int) -> int | None:
        for index, doc in enumerate(documents):
            if doc.source == name and doc.page <= page < doc.page + doc.pages:
                return index
        return None

    return [
        Finding.told(
            Code.UNREADABLE_PAGE,
            Severity.WARNING,
            say(
                "文件“{name}”第 {page} 页未能自动读取，请人工核对；"
                "若仍看不清，请申请人提供更清晰的复印件。",
                name=name,
                page=page,
            ),
            document=document_of(name, page),
            page=page,
            evidence={"file": name, "stage": "extract", "detail": why},
        )
        for name, page, why in failures
    ]


def _file_findings(outcome: FileOutcome, document: int | None, earlier: bool) -> list[Finding]:
    if outcome.outcome == REJECTED_FILE or outcome.problem_code:
        when = say("（第 {round} 轮已退回）", round=outcome.round) if earlier else NOTHING
        return [
            Finding.told(
                Code.INVALID_FILE,
                Severity.INFO if earlier else Severity.ERROR,
                say(
                    "文件“{name}”无法读取{when}：{why}",
                    name=outcome.name,
                    when=when,
                    why=refusal(outcome.problem_code),
                ),
                evidence={
                    "file": outcome.name,
                    "reason": outcome.problem_code,
                    "detail": outcome.problem,
                    "sha256": outcome.sha256,
                    "round": outcome.round,
                },
            )
        ]
    findings = [
        Finding.told(
            Code.INVALID_FILE,
            Severity.WARNING,
            say("文件“{name}”有损坏，后部缺失：请申请人重新发送。", name=outcome.name),
            document=document,
            evidence={"file": outcome.name, "reason": "damaged", "detail": warning},
        )
        for warning in outcome.warnings
        if "cut short" in warning
    ]
    findings.extend(
        Finding.told(
            Code.UNREADABLE_PAGE,
            Severity.WARNING,
            say(
                "文件“{name}”第 {page} 页无法读取：请人工核对，或请申请人重新扫描该页。",
                name=outcome.name,
                page=page.index + 1,
            ),
            document=document,
            page=page.index + 1,
            evidence={"file": outcome.name, "detail": page.problem},
        )
        for page in outcome.pages
        if page.problem
    )
    return findings
