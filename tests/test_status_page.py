"""The applicant's status page: a link and the credit code; the state, the due date, the
remarks of a rejection; corrected files taken into the next round. Nothing of the back
office, and nothing of another application."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from click.testing import CliRunner
from fastapi.testclient import TestClient

from pipeline.config import Settings
from pipeline.model.application import parse_record
from pipeline.model.progress import PAGES
from pipeline.records import lifecycle
from pipeline.records.applications import new_status_token
from pipeline.records.models import Application, AuditEntry
from pipeline.records.users import add_user, open_sign_in
from pipeline.usecases.checking import check_and_save
from pipeline.usecases.intake import intake_application
from pipeline.web.app import create_app
from pipeline.web.site import CheckProgress
from pipeline.workspace import Workspace
from sealdesk.cli import cli
from tests.conftest import REPO

PACKETS = REPO / "fixtures" / "packets"
OWN = PACKETS / "CQC-2026-606079"


def _form_token(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found is not None
    return found.group(1)


def _enter(client: TestClient, token: str, uscc: str) -> Any:
    form = client.get(f"/status/{token}")
    assert form.status_code == 200 and "统一社会信用代码" in form.text
    return client.post(
        f"/status/{token}",
        data={"uscc": uscc, "csrf": _form_token(form.text)},
        follow_redirects=False,
    )


def _progress_until_done(client: TestClient, token: str) -> dict[str, Any]:
    """The check's progress, polled as the page does, until it has ended."""
    for _ in range(600):
        state: dict[str, Any] = client.get(f"/status/{token}/progress").json()
        if not state["running"]:
            return state
        assert state["stage"] in ("收件", "读取页面") and 0 <= state["done"] <= state["total"]
        time.sleep(0.5)
    raise AssertionError("the check did not end in five minutes")


def test_an_applicant_reads_the_rejection_and_uploads_a_corrected_licence(
    settings: Settings, workspace: Workspace
) -> None:
    """Round 1 brought another company's licence and was rejected with remarks. The
    applicant opens the link, gives the credit code, reads the remarks and uploads the
    company's own licence: round 2, checked for real, clear."""
    record = parse_record(json.loads((OWN / "application.json").read_text("utf-8")))
    other = PACKETS / "CQC-2026-606090" / "02-business-licence.pdf"
    files = [OWN / "01-application-form.jpg", other, OWN / "03-id-card-copy.png"]
    check_and_save(workspace, intake_application(workspace, record, files, "ingrid"), "ingrid")
    remarks = "营业执照不是本单位的，请补交加盖公章的本单位营业执照复印件。"
    with workspace.session() as session:
        app = session.get_one(Application, record.application_id)
        lifecycle.decide(session, app, "prereview", False, "reviewer.zhao", remarks)
        token = new_status_token(session, app, "ingrid")
    client = TestClient(create_app(settings, workspace), base_url="http://127.0.0.1")
    # the link alone shows nothing; a wrong credit code neither
    assert remarks not in client.get(f"/status/{token}").text
    assert _enter(client, token, "91110108MA01ABCD2H").headers["location"].endswith("error=1")
    entered = _enter(client, token, record.company_uscc.lower())  # as typed, any case
    assert entered.status_code == 303
    page = client.get(f"/status/{token}")
    assert "核验未通过" in page.text and remarks in page.text
    assert "reviewer.zhao" not in page.text  # no reviewer named
    assert "name_mismatch" not in page.text and "名称不一致" not in page.text  # no findings
    # the corrected licence, uploaded by the applicant
    with (OWN / "02-business-licence.jpg").open("rb") as licence:
        done = client.post(
            f"/status/{token}/files",
            data={"csrf": _form_token(page.text)},
            files={"files": ("营业执照.jpg", licence, "image/jpeg")},
            follow_redirects=False,
        )
    assert done.status_code == 303
    # checked in the background: the page says so (no second upload meanwhile) and the
    # progress it polls ends with what came of it
    finished = _progress_until_done(client, token)
    assert "已收到 1 个文件" in finished["message"], finished
    assert "通过" not in finished["message"] and "核对" not in finished["message"]  # no verdict
    after = client.get(f"/status/{token}")
    assert "第 2 轮" in after.text and 'id="checking"' not in after.text, after.text
    # another link's visitor, or none, learns nothing of this check
    assert TestClient(client.app).get(f"/status/{token}/progress").status_code == 403
    with workspace.session() as session:
        app = session.get_one(Application, record.application_id)
        assert (app.round, app.status, app.verdict) == (2, "checked", "clear")
        actors = {e.actor for e in session.query(AuditEntry).filter_by(subject_id=app.id)}
    assert f"applicant:{record.application_id}" in actors


def test_while_the_files_sent_are_checked_the_page_shows_how_far_and_takes_no_more(
    settings: Settings, workspace: Workspace, record_data: dict[str, Any]
) -> None:
    record = parse_record(record_data)
    check_and_save(workspace, intake_application(workspace, record, [], "ingrid"), "ingrid")
    with workspace.session() as session:
        app = session.get_one(Application, record.application_id)
        lifecycle.decide(session, app, "prereview", False, "reviewer.zhao", "请补交营业执照。")
        token = new_status_token(session, app, "ingrid")
    web = create_app(settings, workspace)
    client = TestClient(web, base_url="http://127.0.0.1")
    assert _enter(client, token, record.company_uscc).status_code == 303
    before = client.get(f"/status/{token}").text
    assert 'id="upload"' in before
    running = CheckProgress(stage=PAGES, done=2, total=5)
    web.state.site.checks._runs[record.application_id] = running
    page = client.get(f"/status/{token}")
    assert 'id="checking"' in page.text and 'id="upload"' not in page.text
    assert client.get(f"/status/{token}/progress").json() == {
        "running": True,
        "stage": "读取页面",
        "done": 2,
        "total": 5,
        "message": "",
    }
    form = _form_token(before)  # a page left open from before the files were sent
    busy = client.post(
        f"/status/{token}/files",
        data={"csrf": form},
        files={"files": ("营业执照.jpg", b"not read", "image/jpeg")},
        follow_redirects=False,
    )
    assert "%E8%BF%98%E5%9C%A8%E6%A3%80%E6%9F%A5" in busy.headers["location"]  # 还在检查
    running.finished, running.message = True, "已收到 1 个文件，材料已转交审核，结果请留意本页"
    assert client.get(f"/status/{token}/progress").json()["running"] is False
    assert 'id="checking"' not in client.get(f"/status/{token}").text


def test_the_link_is_guarded(
    settings: Settings, workspace: Workspace, record_data: dict[str, Any]
) -> None:
    """Guesses at the credit code are limited; another application's link with this
    application's pass opens nothing; no upload without the pass and the form's token; a
    new link ends the old; only staff signed in make links, printed once, kept hashed."""
    record = parse_record(record_data)
    intake_application(workspace, record, [], "ingrid")
    other = parse_record({**record_data, "application_id": "CQC-2026-000999"})
    intake_application(workspace, other, [], "ingrid")
    with workspace.session() as session:
        token = new_status_token(session, session.get_one(Application, record.application_id), "x")
        other_token = new_status_token(
            session, session.get_one(Application, other.application_id), "x"
        )
    client = TestClient(create_app(settings, workspace), base_url="http://127.0.0.1")
    assert client.get("/status/not-a-token").status_code == 404
    for _ in range(5):
        assert _enter(client, token, "9" * 18).status_code == 303
    assert _enter(client, token, record.company_uscc).status_code == 429
    fresh = TestClient(create_app(settings, workspace), base_url="http://127.0.0.1")
    assert _enter(fresh, other_token, other.company_uscc).status_code == 303
    # the pass is for its own link only (path and signature)
    stolen = fresh.cookies.get("sealdesk_applicant")
    assert stolen
    fresh.cookies.set("sealdesk_applicant", stolen, path=f"/status/{token}")
    assert "统一社会信用代码" in fresh.get(f"/status/{token}").text
    refused = fresh.post(f"/status/{other_token}/files", files={"files": ("a.jpg", b"x")})
    assert refused.status_code == 403  # no form token
    # links: only signed-in intake staff or admins; a new link ends the old one
    home = ["--home", str(settings.home)]
    runner = CliRunner()
    assert runner.invoke(cli, [*home, "status-link", record.application_id]).exit_code != 0
    with workspace.session() as session:
        add_user(session, "ingrid", "a long enough secret", ["intake"], "admin")
        from pipeline.records.models import User

        signed = open_sign_in(session, session.get_one(User, "ingrid"))
    made = runner.invoke(
        cli, [*home, "status-link", record.application_id], env={"SEALDESK_SESSION": signed}
    )
    assert made.exit_code == 0 and "/status/" in made.stdout
    new = made.stdout.strip().rsplit("/", 1)[1]
    assert new.encode() not in (settings.home / "sealdesk.db").read_bytes()
    assert client.get(f"/status/{token}").status_code == 404  # the old link
    assert client.get(f"/status/{new}").status_code == 200
