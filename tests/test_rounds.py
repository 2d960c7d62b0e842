"""Rounds: a resubmission is checked on its own files plus the earlier files it did not
replace, so a corrected application can come out clear (the round rule, usecases.report
.in_force)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from pipeline.model.application import parse_record
from pipeline.model.report import Code, DocumentEntry, Severity
from pipeline.records import lifecycle
from pipeline.records.models import Application
from pipeline.usecases.checking import check_and_save
from pipeline.usecases.intake import intake_application
from pipeline.usecases.report import in_force
from pipeline.workspace import Workspace
from tests.conftest import REPO

PACKETS = REPO / "fixtures" / "packets"


def _doc(kind: str, round_: int, source: str = "f.pdf", **fields: str) -> DocumentEntry:
    return DocumentEntry(source, 1, kind, 0.9, fields=dict(fields), round=round_)


def test_a_later_document_of_a_kind_replaces_the_earlier_one() -> None:
    docs = [
        _doc("business_licence", 1, "old-licence.pdf"),
        _doc("application_form", 1),
        _doc("business_licence", 2, "new-licence.pdf"),
        _doc("other", 1),
        _doc("other", 2),
    ]
    kept, notes = in_force(docs)
    assert [(d.kind, d.round) for d in kept] == [
        ("application_form", 1),
        ("business_licence", 2),
        ("other", 1),
        ("other", 2),
    ]
    (note,) = notes
    assert note.code == Code.DOCUMENT_REPLACED and note.severity == Severity.INFO
    assert note.evidence["file"] == "old-licence.pdf" and note.evidence["replaced_in_round"] == 2
    assert "第 1 轮的营业执照" in note.message


def test_an_id_card_replaces_only_the_same_persons_card() -> None:
    """Contact and agent each send a card: a new card of the agent leaves the contact's;
    a later card whose person could not be read replaces nothing."""
    contact = _doc("id_card_copy", 1, "contact.png", name="王芳", id_number="110101199003071234")
    agent = _doc("id_card_copy", 1, "agent.png", name="李雷", id_number="11010119850101001X")
    new_agent = _doc("id_card_copy", 2, "agent-2.png", name="李雷")
    unread = _doc("id_card_copy", 2, "blurred.png")
    kept, notes = in_force([contact, agent, new_agent, unread])
    assert [d.source for d in kept] == ["contact.png", "agent-2.png", "blurred.png"]
    assert [n.evidence["file"] for n in notes] == ["agent.png"]


def test_a_corrected_resubmission_comes_out_clear(workspace: Workspace) -> None:
    """Round 1 brought another company's business licence (name, credit code and seal all
    differ: errors) and was rejected; round 2 brings the company's own. Read for real
    (RapidOCR): round 2 is clear, the old licence named as replaced. Before the round rule,
    round 1's licence was checked again and its errors stayed for ever."""
    own = PACKETS / "CQC-2026-606079"
    other = PACKETS / "CQC-2026-606090" / "02-business-licence.pdf"
    record = parse_record(json.loads((own / "application.json").read_text(encoding="utf-8")))
    today = date.fromisoformat(
        json.loads((own / "truth.json").read_text(encoding="utf-8"))["today"]
    )
    round1 = [own / "01-application-form.jpg", other, own / "03-id-card-copy.png"]
    first = check_and_save(
        workspace, intake_application(workspace, record, round1, "clerk"), "clerk", today
    )
    codes = {f.code for f in first.findings if f.severity == Severity.ERROR}
    assert first.verdict == "flagged" and Code.NAME_MISMATCH in codes, first.to_json()
    with workspace.session() as session:
        app = session.get_one(Application, record.application_id)
        lifecycle.decide(session, app, "prereview", False, "rui", "营业执照不是本单位的，请补交")
    taken = intake_application(workspace, record, [own / "02-business-licence.jpg"], "clerk")
    assert taken.round == 2
    second = check_and_save(workspace, taken, "clerk", today)
    attention = [f for f in second.findings if f.severity != Severity.INFO]
    assert second.verdict == "clear", [f.message for f in attention]
    (replaced,) = [f for f in second.findings if f.code == Code.DOCUMENT_REPLACED]
    assert replaced.evidence["file"] == Path(other).name and replaced.evidence["round"] == 1
    rounds = {(d.kind, d.round) for d in second.documents}
    assert rounds == {("application_form", 1), ("id_card_copy", 1), ("business_licence", 2)}


def test_a_name_sent_again_in_a_later_round_is_told_apart(
    tmp_path: Path, workspace: Workspace
) -> None:
    """Round 2 brings another file under round 1's name: both are listed, the earlier one
    as NAME（第 1 轮）, and each one's pages are found under that name (a document's round
    is never guessed from a shared name)."""
    from pipeline.records.applications import page_image_sha
    from pipeline.usecases.intake import application_files
    from tests import makefiles

    record = parse_record(
        json.loads((PACKETS / "CQC-2026-606079" / "application.json").read_text("utf-8"))
    )
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = makefiles.jpeg(tmp_path / "one" / "licence.jpg", size=(600, 800))
    intake_application(workspace, record, [first], "clerk")
    with workspace.session() as session:
        app = session.get_one(Application, record.application_id)
        lifecycle.mark_checked(session, app, "flagged", "clerk")
        lifecycle.decide(session, app, "prereview", False, "rui", "营业执照看不清")
    second = makefiles.jpeg(tmp_path / "two" / "licence.jpg", size=(800, 600))
    intake_application(workspace, record, [second], "clerk")
    with workspace.session() as session:
        files = application_files(session, record.application_id)
        assert [(f.name, f.round) for f in files] == [
            ("licence.jpg（第 1 轮）", 1),
            ("licence.jpg", 2),
        ]
        shas = [page_image_sha(session, record.application_id, f.name, 0) for f in files]
    assert None not in shas and shas[0] != shas[1]
