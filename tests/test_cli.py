"""The ``sealdesk`` command as a user runs it: the installed script, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLE_RECORD, SAMPLES
from tests.hostile import secrets

SEALDESK = Path(sys.executable).parent / "sealdesk"
GOOD = [
    "form-scan.pdf",
    "licence.jpg",
    "id-card.png",
    "envelope.tif",
    "phone-photo.jpg",
    "payment-receipt.pdf",
]
BAD = {"truncated.pdf": "truncated", "notes.docx.pdf": "unsupported_type"}


def run(
    home: Path, *args: str, user: str = "clerk", timeout: float = 120, session: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SEALDESK_HOME": str(home), "SEALDESK_USER": user}
    env["SEALDESK_SESSION"] = session
    return subprocess.run(
        [str(SEALDESK), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=timeout,
    )


def samples(*names: str) -> list[str]:
    return [str(SAMPLES / n) for n in names]


def test_a_mistyped_path_is_an_input_error_not_a_flagged_application(tmp_path: Path) -> None:
    for command in ("check", "intake"):
        missing = tmp_path / "scan-typo.pdf"
        done = run(tmp_path / "home", command, str(SAMPLE_RECORD), *samples(GOOD[0]), str(missing))
        assert done.returncode == 66 and f"{missing}: no such file" in done.stderr
        folder = run(tmp_path / "home", command, str(SAMPLE_RECORD), str(SAMPLES))
        assert folder.returncode == 66 and "is a folder" in folder.stderr
    assert (
        not (tmp_path / "home" / "sealdesk.db").exists()
        or "CQC" not in run(tmp_path / "home", "list").stdout
    )  # nothing recorded


def test_intake_then_checks_and_check_takes_a_recorded_application_by_its_id(
    tmp_path: Path,
) -> None:
    # intake and check were two worlds: after intake nothing waited for review
    home = tmp_path / "home"
    taken = run(home, "intake", str(SAMPLE_RECORD), *samples(*GOOD))
    assert taken.returncode == 0, taken.stderr
    assert "\nFindings (" in taken.stdout  # checked at once
    assert "checked" in run(home, "list").stdout
    again = run(home, "check", "CQC-2026-000101", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["application_id"] == "CQC-2026-000101"
    unknown = run(home, "check", "CQC-2026-999999")
    assert unknown.returncode == 66 and "no application CQC-2026-999999" in unknown.stderr
    with_files = run(home, "check", "CQC-2026-000101", *samples(GOOD[0]))
    assert with_files.returncode == 2 and "sealdesk intake" in with_files.stderr
    quiet = run(home, "intake", "--no-check", str(SAMPLE_RECORD))
    assert quiet.returncode == 0 and "Findings (" not in quiet.stdout


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run(tmp_path, "--help")
    assert result.returncode == 0
    for command in ("init", "intake", "check", "list", "show", "audit", "demo"):
        assert f"  {command} " in result.stdout


def test_intake_prints_what_was_kept(tmp_path: Path) -> None:
    result = run(tmp_path, "intake", str(SAMPLE_RECORD), *samples(*GOOD, *BAD))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "CQC-2026-000101: new application, received"
    for name in GOOD:
        assert any(line.split()[0] == "new" and line.endswith(name) for line in lines), name
    assert "the PDF is cut short" in result.stdout
    listing = run(tmp_path, "list")
    assert "CQC-2026-000101" in listing.stdout and "checked" in listing.stdout  # and checked
    shown = run(tmp_path, "show", "CQC-2026-000101")
    assert "2 p." in shown.stdout and "Received" in shown.stdout
    # times as a person here reads them: Beijing time, the offset said (they are kept in UTC)
    taken = next(line for line in shown.stdout.splitlines() if line.startswith("taken in by"))
    at = datetime.strptime(taken.split(" at ", 1)[1], "%Y-%m-%d %H:%M %z")
    assert at.utcoffset() == timedelta(hours=8)
    assert abs(at - datetime.now(UTC)) < timedelta(minutes=5)
    assert "UTC" not in shown.stdout and "+0800  " in shown.stdout  # the history rows too
    assert run(tmp_path, "audit", "verify").returncode == 0


def test_check_json_is_the_contract(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        "check",
        str(SAMPLE_RECORD),
        *samples(*GOOD, *BAD),
        "--today",
        "2026-11-21",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # stdout holds the report and nothing else
    assert set(report) == {"application_id", "verdict", "findings", "documents"}
    assert report["application_id"] == "CQC-2026-000101"
    invalid = {f["evidence"]["file"]: f for f in report["findings"] if f["code"] == "invalid_file"}
    assert {name: f["evidence"]["reason"] for name, f in invalid.items()} == BAD
    assert all(f["severity"] == "error" and f["document"] is None for f in invalid.values())
    documents = report["documents"]
    assert {d["source"] for d in documents} == set(GOOD)
    for document in documents:
        assert set(document) >= {"source", "page", "kind", "confidence", "fields", "seals"}
    kinds = {d["source"]: d["kind"] for d in documents}
    assert kinds["form-scan.pdf"] == "application_form"
    assert kinds["licence.jpg"] == "business_licence"
    assert kinds["phone-photo.jpg"] == "authorization_letter"  # turned upright by EXIF
    licence = next(d for d in documents if d["source"] == "licence.jpg")
    assert licence["fields"]["uscc"] == "91110108MA01ABCD2H"
    assert {s["text"] for s in licence["seals"]} == {"北京示例信息科技有限公司"}
    for finding in report["findings"]:
        assert set(finding) >= {"code", "severity", "message", "document", "page", "evidence"}
    assert report["verdict"] == "flagged"
    assert not (tmp_path / "sealdesk.db").exists()  # a dry run records nothing


def test_check_validates_the_documents_against_the_record(tmp_path: Path) -> None:
    result = run(
        tmp_path, "check", str(SAMPLE_RECORD), *samples(*GOOD), "--today", "2026-11-21", "--json"
    )
    report = json.loads(result.stdout)
    found = {(f["code"], f["severity"], f["document"]) for f in report["findings"]}
    kinds = [d["kind"] for d in report["documents"]]
    form, card = kinds.index("application_form"), kinds.index("id_card_copy")
    # the sample form is a black-and-white copy: its grey seal is found by its shape,
    # read, and marked grey (no colour to find it by)
    (seal,) = report["documents"][form]["seals"]
    company = json.loads(SAMPLE_RECORD.read_text(encoding="utf-8"))["company"]["name"]
    assert seal["grey"] is True and seal["text"] == company
    assert not any(code == "seal_missing" and doc == form for code, _, doc in found)
    # the sample ID card copy shows the front only
    assert ("document_missing", "warning", card) in found
    assert not any(code == "check_incomplete" for code, _, _ in found)
    # the licence's name, code and seal agree with the record: nothing raised about them;
    # the sample licence prints no operating period, which cannot pass unseen
    licence = kinds.index("business_licence")
    about = {(f["code"], f["severity"]) for f in report["findings"] if f["document"] == licence}
    assert about == {("licence_expired", "warning")}
    assert report["verdict"] == "flagged"


def test_check_save_records_the_check(tmp_path: Path) -> None:
    result = run(tmp_path, "check", "--save", str(SAMPLE_RECORD), *samples("licence.jpg"))
    assert result.returncode == 0, result.stderr
    assert "flagged" in result.stdout and "document_missing" in result.stdout
    assert "checked" in run(tmp_path, "list").stdout


def test_bad_record_is_refused_with_every_problem(tmp_path: Path) -> None:
    data = json.loads(SAMPLE_RECORD.read_text(encoding="utf-8"))
    data["application_id"] = "nope"
    del data["company"]["uscc"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = run(tmp_path, "check", str(bad), *samples("licence.jpg"), "--json")
    assert result.returncode == 65 and result.stdout == ""
    assert "application_id: 'nope' does not match" in result.stderr
    assert "company: 'uscc' is a required property" in result.stderr


@pytest.mark.parametrize("args", [["check"], ["intake", "/nonexistent.json"], ["show", "X"]])
def test_usage_errors_exit_non_zero(tmp_path: Path, args: list[str]) -> None:
    result = run(tmp_path, *args)
    assert result.returncode != 0 and result.stderr


def test_demo_runs_the_main_path(tmp_path: Path) -> None:
    result = run(tmp_path, "demo", "--dir", str(tmp_path / "demo"), timeout=600)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "reviewer01: CQC-2026-000101 prereview_failed  remarks: " in out
    assert "reviewer02: CQC-2026-000101 rereview_passed  remarks: " in out
    assert "0 read, 7 from the cache" in out  # the same scans again: no OCR
    assert "pages [2, 3, 5] → CQC-2026-606078: clear" in out  # the mailroom's batch
    assert "pages [4, 6, 7] → CQC-2026-606081: flagged" in out
    assert out.count("    queued  p.") == 3
    assert "reviewer02: CQC-2026-606078 rereview_passed  remarks: " in out
    assert "issued CQC-2026-000101" in out and "issued CQC-2026-606078" in out
    assert "intact: True" in out
    assert "certificate.pdf: VALID" in out
    assert "application-form.sealed.pdf: VALID" in out
    assert "tampered-certificate.pdf: NOT VALID (whole_file" in out
    assert (tmp_path / "demo" / "issued" / "CQC-2026-000101" / "v1" / "e-seal.png").exists()
    report = json.loads((tmp_path / "demo" / "CQC-2026-000101.check.json").read_text())
    assert report["verdict"] == "flagged"
    assert (tmp_path / "demo" / "prefect").is_dir()  # the flow runs, for `sealdesk serve`
    # no full ID number, PIN or private key in its database dumps, logs, packets, reports
    assert secrets.pins_of(tmp_path / "demo"), "the scan knows the PINs it looks for"
    assert secrets.scan(tmp_path / "demo") == []


def test_a_demo_workspace_is_made_afresh_and_nothing_else_is_touched(tmp_path: Path) -> None:
    from sealdesk.demo import MARKER, _fresh

    demo = _fresh(tmp_path / "demo")
    (demo / "left-over").write_text("from the last demo")
    assert list(_fresh(tmp_path / "demo").iterdir()) == [demo / MARKER]
    elsewhere = tmp_path / "precious"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    refused = run(tmp_path, "demo", "--dir", str(elsewhere))
    assert refused.returncode != 0 and "not a demo workspace" in refused.stderr
    assert (elsewhere / "keep.txt").read_text() == "mine"


def test_the_exception_queue_from_the_command_line(tmp_path: Path) -> None:
    """Pages no rule routed, listed and assigned by hand (no OCR: the routing reads are
    given), with the role the assignment needs."""
    from pipeline.config import load_settings
    from pipeline.mail.mailroom import receive_batch, route_batch
    from pipeline.mail.route import Known, RouteRead, plan_routes
    from pipeline.model.application import load_record
    from pipeline.records.models import Application
    from pipeline.usecases.intake import intake_application
    from pipeline.workspace import open_workspace

    home = tmp_path / "home"
    workspace = open_workspace(load_settings(home, environ={}))
    packets = Path(__file__).resolve().parents[1] / "fixtures" / "packets"
    app_id = "CQC-2026-606078"
    intake_application(workspace, load_record(packets / app_id / "application.json"), [], "x")
    batch = receive_batch(workspace, [packets / app_id / "scan-envelope.pdf"], "clerk")
    reads = [RouteRead("id_card_copy")] * len(batch.pages)  # nothing names an application
    route_batch(workspace, batch, reads, plan_routes(reads, Known({})), "clerk")
    listed = run(home, "mail", "unrouted")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("no application form comes before it") == 3
    assert "3 page(s)" in listed.stdout
    queue = json.loads(run(home, "mail", "unrouted", "--json").stdout)["unrouted"]
    ids = [str(p["page_id"]) for p in queue]
    added = subprocess.run(
        [str(SEALDESK), "user", "add", "clerk", "--role", "intake", "--password-stdin"],
        input="a-long-password\n",
        capture_output=True,
        text=True,
        env={**os.environ, "SEALDESK_HOME": str(home), "SEALDESK_USER": "root"},
        check=False,
    )
    assert added.returncode == 0, added.stderr
    refused = run(home, "mail", "assign", *ids, "--to", app_id, "--no-intake", user="nobody")
    assert refused.returncode != 0 and "nobody" in refused.stderr
    unproven = run(home, "mail", "assign", *ids, "--to", app_id, "--no-intake")
    assert unproven.returncode != 0 and "login" in unproven.stderr  # the name alone
    signed = subprocess.run(
        [str(SEALDESK), "login", "--password-stdin"],
        input="a-long-password\n",
        capture_output=True,
        text=True,
        env={**os.environ, "SEALDESK_HOME": str(home), "SEALDESK_USER": "clerk"},
        check=False,
    )
    token = signed.stdout.strip().removeprefix("export SEALDESK_SESSION=")
    assigned = run(home, "mail", "assign", *ids, "--to", app_id, "--no-intake", session=token)
    assert assigned.returncode == 0, assigned.stderr
    assert f"mail/{batch.batch_id}/{app_id}/scan-envelope.pdf" in assigned.stdout  # all of it
    assert run(home, "mail", "unrouted").stdout.strip() == "the exception queue is empty"
    batches = run(home, "mail", "batches").stdout
    assert batch.batch_id in batches and "0 unrouted, 3 assigned" in batches
    again = run(home, "mail", "assign", ids[0], "--to", app_id, "--no-intake", session=token)
    assert again.returncode != 0 and "only pages in the exception queue" in again.stderr
    with workspace.session() as db:
        assert db.get_one(Application, app_id).status == "received"  # not taken in yet
    workspace.db.engine.dispose()


def test_page_workers_do_not_import_the_command_line_again(tmp_path: Path) -> None:
    # a spawned worker imports its parent's main module; run as the console script, that
    # was the whole command line. The script below stands for it: importing it again in
    # the child would leave a mark.
    mark = tmp_path / "imported-again"
    script = tmp_path / "console.py"
    script.write_text(
        "import multiprocessing, os, sys\n"
        "from sealdesk.cli import run_as_package_main\n"
        "if __name__ != '__main__':\n"
        f"    open({str(mark)!r}, 'w').close()\n"
        "if __name__ == '__main__':\n"
        "    if sys.argv[1] == 'fixed':\n"
        "        run_as_package_main()\n"
        "    from concurrent.futures import ProcessPoolExecutor\n"
        "    from pipeline.config import default_home\n"
        "    context = multiprocessing.get_context('spawn')\n"
        "    with ProcessPoolExecutor(1, mp_context=context) as pool:\n"
        "        print(pool.submit(default_home).result())\n",
        encoding="utf-8",
    )
    for how, imported in (("as-is", True), ("fixed", False)):
        done = subprocess.run(
            [sys.executable, str(script), how], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert mark.exists() is imported
        mark.unlink(missing_ok=True)


def test_the_command_line_speaks_english_whole_but_the_data(tmp_path: Path) -> None:
    # seen: "received (已接收)", Chinese finding sentences and action codes among English
    from tests.test_messages import CJK

    files = samples(*GOOD[:3])
    report = json.loads(run(tmp_path, "check", str(SAMPLE_RECORD), *files, "--json").stdout)
    data = {report_value for report_value in _data_of(report)}
    record = json.loads(SAMPLE_RECORD.read_text(encoding="utf-8"))
    data |= {record["company"]["name"], record["contact"]["name"]}
    said = run(tmp_path, "intake", str(SAMPLE_RECORD), *files).stdout
    said += run(tmp_path, "show", report["application_id"]).stdout
    assert "Automatic check done" in said  # a history row says what happened, not a code
    for value in sorted(data, key=len, reverse=True):
        said = said.replace(value, "")
    left = [line for line in said.splitlines() if CJK.search(line)]
    assert not left, left


def _data_of(report: dict[str, Any]) -> list[str]:
    """What a report read and compared (names, reads, fields): the data a sentence carries."""
    found: list[str] = []

    def leaves(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                leaves(v)
        elif isinstance(value, list):
            for v in value:
                leaves(v)
        elif value not in (None, ""):
            found.append(str(value))

    for finding in report["findings"]:
        leaves((finding.get("wording") or {}).get("args") or {})
        leaves(finding.get("evidence") or {})
    for document in report["documents"]:
        leaves(document["fields"])
        leaves([seal.get("text") for seal in document["seals"]])
    return found
