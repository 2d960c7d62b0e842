"""The review packet of a flagged committed packet, checked through real OCR: Chinese text
that poppler extracts, a bookmark per document, the evidence crops, no full ID number in
its text or on its pages, and a new packet when the files change."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from pipeline.model.application import load_record
from pipeline.review import service
from pipeline.usecases.checking import check_and_save
from pipeline.usecases.intake import intake_application
from pipeline.workspace import Workspace
from tests.conftest import REPO

PACKET = REPO / "fixtures" / "packets" / "CQC-2026-606080"


@pytest.fixture
def packet(workspace: Workspace) -> Path:
    record = load_record(PACKET / "application.json")
    files = sorted(p for p in PACKET.iterdir() if p.name not in ("application.json", "truth.json"))
    taken = intake_application(workspace, record, files, "clerk")
    assert check_and_save(workspace, taken, "clerk").verdict == "flagged"
    return service.write_packet(workspace, record.application_id)


def test_the_packet_reads_as_text_with_bookmarks(packet: Path, tmp_path: Path) -> None:
    truth = json.loads((PACKET / "truth.json").read_text(encoding="utf-8"))
    record = json.loads((PACKET / "application.json").read_text(encoding="utf-8"))
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(packet), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert record["company"]["name"] in text
    assert "seal_name_mismatch" in text and "审核材料包" in text
    numbers = [d["fields"]["id_number"] for d in truth["documents"] if "id_number" in d["fields"]]
    assert numbers and not any(number in text for number in numbers)
    outline = [item.title for item in PdfReader(packet).outline if not isinstance(item, list)]
    assert outline[0] == "封面与结论" and any(t.startswith("证据") for t in outline)
    assert sum(t.startswith("文件 ") for t in outline) == len(truth["documents"])
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(packet), str(tmp_path / "page")], check=True
    )
    rendered = sorted(tmp_path.glob("page-*.png"))
    assert len(rendered) == len(PdfReader(packet).pages) >= 1 + len(truth["documents"])


def test_the_same_check_gives_the_same_packet_and_new_files_a_new_one(
    packet: Path, workspace: Workspace
) -> None:
    app_id = PACKET.name
    assert service.write_packet(workspace, app_id) == packet
    record = load_record(PACKET / "application.json")
    again = PACKET / "03-id-card-copy.png"
    copy = packet.parent / "copy-of-id.png"
    copy.write_bytes(again.read_bytes() + b"\0")  # another file's bytes: a new file
    taken = intake_application(workspace, record, [copy], "clerk")
    check_and_save(workspace, taken, "clerk")
    assert service.write_packet(workspace, app_id) != packet


def test_the_packet_in_english_has_no_chinese_but_the_data(
    packet: Path, workspace: Workspace, tmp_path: Path
) -> None:
    import re

    from pipeline.records.models import Application, CheckRun

    record = load_record(PACKET / "application.json")
    english = service.write_packet(workspace, record.application_id, language="en")
    assert english != packet  # each language its own file, both kept
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(english), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Electronic seal application · review packet" in text and "Evidence" in text
    outline = [item.title for item in PdfReader(english).outline if not isinstance(item, list)]
    assert outline[0] == "Cover and outcome"
    data = {record.company_name, record.contact["name"]}
    with workspace.session() as session:
        app = session.get_one(Application, record.application_id)
        run = session.query(CheckRun).filter_by(application_id=app.id).one()
        for finding in run.report["findings"]:
            data.update(str(v) for v in (finding.get("evidence") or {}).values() if v)
            data.update(str(v) for v in _leaves(finding.get("wording") or {}))
        for document in run.report["documents"]:
            data.update(str(v) for v in document["fields"].values() if v)
            data.update(str(s.get("text") or "") for s in document["seals"])
    flat = re.sub(r"\s+", "", text)
    for value in sorted(data, key=len, reverse=True):
        flat = flat.replace(re.sub(r"\s+", "", value), "") if value else flat
    # what is left of the data: single characters, which a difference names ("通" extra
    # after character 2) and the scores by character list (西 0.10、安 0.08 …)
    left = re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+", flat)
    characters = set("".join(data))
    assert all(len(piece) == 1 and piece in characters for piece in left), left


def _leaves(wording: dict[str, object]) -> list[object]:
    values: list[object] = []
    for value in (wording.get("args") or {}).values():  # type: ignore[union-attr]
        values.extend(_leaves(value) if isinstance(value, dict) else [value])
    return values
