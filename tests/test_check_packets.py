"""The whole check, end to end through the real RapidOCR engine, on the committed packets:
one per defect kind, two clean, a foreign company and an old-style licence. Each defect
must raise its expected code. A clean packet never gets an error; it may get a warning
only where a seal or a name could not be read surely (a seal the size of a thumbnail on
a phone photo, a dry rim), and the two plain clean packets come out ``clear``."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from typing import Any

import pytest

from pipeline.config import IngestLimits
from pipeline.extract.documents import PageRef, document_entry, extract_paths, group_documents
from pipeline.model.application import ApplicationRecord
from pipeline.model.report import Finding, Severity
from pipeline.usecases.checking import expected_names, expected_people
from pipeline.validate.rules import validate
from tests.conftest import REPO

PACKETS = REPO / "fixtures" / "packets"
MANIFEST = json.loads((PACKETS / "manifest.json").read_text(encoding="utf-8"))["packets"]
ATTENTION = (Severity.ERROR, Severity.WARNING)
UNSURE_READS = {"seal_name_mismatch", "name_mismatch"}
PLAIN_CLEAN = {"CQC-2026-606078", "CQC-2026-606079"}


@pytest.fixture(scope="module")
def checked() -> dict[str, list[Finding]]:
    """Every committed packet read in one batch (two workers), then validated."""
    files, expect, people, records = [], {}, {}, {}
    for entry in MANIFEST:
        folder = PACKETS / entry["application_id"]
        record = json.loads((folder / "application.json").read_text(encoding="utf-8"))
        records[entry["application_id"]] = record
        for name in entry["files"]:
            key = f"{entry['application_id']}/{name}"
            files.append((key, folder / name))
            expect[key] = expected_names(ApplicationRecord(record))
            people[key] = expected_people(ApplicationRecord(record))
    refs, problems = extract_paths(files, IngestLimits(), "rapidocr", 2, expect, people)
    assert not problems
    by_packet: dict[str, list[PageRef]] = defaultdict(list)
    for ref in refs:
        by_packet[ref.source.split("/", 1)[0]].append(ref)
    out = {}
    for packet, record in records.items():
        truth = json.loads((PACKETS / packet / "truth.json").read_text(encoding="utf-8"))
        documents = [document_entry(g) for g in group_documents(by_packet[packet])]
        out[packet] = validate(
            ApplicationRecord(record), documents, date.fromisoformat(truth["today"])
        )
    return out


def _describe(findings: list[Finding]) -> list[str]:
    return [f"{f.severity.value} {f.code.value}: {f.message}" for f in findings]


@pytest.mark.parametrize(
    "entry", MANIFEST, ids=[f"{e['application_id']}-{e['defect'] or 'clean'}" for e in MANIFEST]
)
def test_each_packet_gets_its_verdict(
    checked: dict[str, list[Finding]], entry: dict[str, Any]
) -> None:
    findings = checked[entry["application_id"]]
    attention = [f for f in findings if f.severity in ATTENTION]
    raised = {f.code.value for f in attention}
    if entry["defect"] is not None:
        assert raised & set(entry["expected"]["codes"]), _describe(findings)
        return
    errors = [f for f in attention if f.severity is Severity.ERROR]
    assert not errors, _describe(errors)
    unsure = [f for f in attention if f.code.value in UNSURE_READS and f.evidence.get("expected")]
    assert attention == unsure, _describe(attention)
    if entry["application_id"] in PLAIN_CLEAN:
        assert not attention, _describe(attention)
