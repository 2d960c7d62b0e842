"""The reviewer web app in Debian's Chromium, driven by Playwright: a flagged application
rejected with remarks, resubmitted, then approved in two stages by two people (the same
person cannot do both). Screenshots of the queue and the application page are kept in
``build/screenshots/``."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvicorn
from PIL import Image

from pipeline.config import Settings
from pipeline.model.application import load_record
from pipeline.records.lifecycle import Status
from pipeline.records.models import Application, CheckRun, ReviewDecision, User
from pipeline.records.users import add_user
from pipeline.usecases.checking import check_and_save
from pipeline.usecases.intake import intake_application
from pipeline.web.app import create_app
from pipeline.workspace import Workspace
from tests.conftest import REPO

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
PACKET = REPO / "fixtures" / "packets" / "CQC-2026-606080"  # a seal that nearly matches
SHOTS = REPO / "build" / "screenshots"
PASSWORD = "correct horse battery"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(workspace: Workspace, settings: Settings) -> Iterator[str]:
    with workspace.session() as session:
        add_user(session, "ingrid", PASSWORD, ["intake"], "admin", "收件员英")
        add_user(session, "li", PASSWORD, ["reviewer", "re-reviewer"], "admin", "李审")
        add_user(session, "wen", PASSWORD, ["re-reviewer"], "admin", "文复")
    record = load_record(PACKET / "application.json")
    files = sorted(p for p in PACKET.iterdir() if p.name not in ("application.json", "truth.json"))
    taken = intake_application(workspace, record, files, "ingrid")
    assert check_and_save(workspace, taken, "ingrid").verdict == "flagged"
    port = _free_port()
    config = uvicorn.Config(create_app(settings, workspace), port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    for _ in range(100):
        if running.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(5)


@pytest.fixture
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: scripts/setup.sh installs it (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


def _sign_in(browser: object, base: str, username: str, locale: str = "zh-CN"):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale=locale)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base}/")
    assert "/login" in page.url  # nothing without signing in
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def _shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    page.screenshot(path=str(path), full_page=False)
    return path


def _acknowledge(page: Any) -> None:
    """Write, for each error finding the form lists, why it does not stand in the way."""
    for box in page.locator("#overrides textarea").all():
        box.fill("已对照原件核对，不影响通过")


def test_reject_resubmit_and_two_people_approve(
    server: str, browser: object, workspace: Workspace, tmp_path: Path
) -> None:
    app_id = PACKET.name
    # li works through the queue: the flagged application comes first
    li = _sign_in(browser, server, "li")
    row = li.locator("#queue tbody tr").first
    assert app_id in row.inner_text() and "需核对" in row.inner_text()
    queue_shot = _shot(li, "queue.png")
    li.keyboard.press("n")  # the next flagged application
    li.wait_for_url(f"{server}/applications/{app_id}")
    assert "seal_name_mismatch" in li.content()
    crops = li.locator("img[alt='证据截图']")
    assert crops.count() >= 1
    # the crops load lazily: bring the first into view and wait until it has decoded (a
    # fixed wait for the network to go quiet raced the crop's rendering once in CI)
    crops.first.scroll_into_view_if_needed()
    crops.first.evaluate(
        "img => img.complete && img.naturalWidth > 0 ? true : "
        "new Promise((ok, fail) => { img.onload = () => ok(true); img.onerror = fail; })"
    )
    assert crops.first.evaluate("img => img.naturalWidth") > 0
    li.evaluate("window.scrollTo(0, 0)")
    li.wait_for_load_state("networkidle")
    application_shot = _shot(li, "application.png")
    li.fill("#remarks", "公章印文与申请单位名称不一致，请加盖正确的公章后重新提交。")
    li.click("#reject")
    li.wait_for_selector("text=已记录：核验退回")
    with workspace.session() as session:
        assert session.get_one(Application, app_id).status == Status.PREREVIEW_FAILED

    # the applicant sends a file again; intake takes it in and the check runs anew
    again = tmp_path / "01-application-form-again.png"
    with Image.open(PACKET / "01-application-form.jpg") as form:
        form.save(again)
    ingrid = _sign_in(browser, server, "ingrid")
    ingrid.goto(f"{server}/applications/{app_id}")
    ingrid.set_input_files("#resubmit input[type=file]", str(again))
    ingrid.click("#resubmit button")
    ingrid.wait_for_selector("text=已收到 1 个文件", timeout=120_000)
    with workspace.session() as session:
        app = session.get_one(Application, app_id)
        assert (app.round, app.status) == (2, Status.CHECKED)

    # li passes the pre-review of the new round ...
    li.goto(f"{server}/applications/{app_id}")
    _acknowledge(li)
    li.click("#approve")
    li.wait_for_selector("text=已记录：核验通过")
    # ... and may not do the re-review too: no buttons, and the reason why
    li.goto(f"{server}/applications/{app_id}")
    assert li.locator("#approve").count() == 0
    assert "须由另一人审核" in li.locator("#blocked").inner_text()
    # a hand-made request is refused as well
    token = li.locator("input[name=csrf]").first.get_attribute("value")
    forced = li.request.post(
        f"{server}/applications/{app_id}/decision", form={"action": "approve", "csrf": token}
    )
    assert "未能记录" in forced.text()
    # wen, a second person, passes the re-review
    wen = _sign_in(browser, server, "wen")
    wen.goto(f"{server}/applications/{app_id}")
    _acknowledge(wen)
    wen.click("#approve")
    wen.wait_for_selector("text=已记录：复核通过")
    with workspace.session() as session:
        assert session.get_one(Application, app_id).status == Status.REREVIEW_PASSED
        decisions = session.query(ReviewDecision).order_by(ReviewDecision.id).all()
        assert [(d.round, d.stage, d.decision, d.actor) for d in decisions] == [
            (1, "prereview", "reject", "li"),
            (2, "prereview", "approve", "li"),
            (2, "rereview", "approve", "wen"),
        ]
    # the screenshots show a real page at 1366 × 768, not an error or a blank
    for shot in (queue_shot, application_shot):
        with Image.open(shot) as image:
            assert image.size == (1366, 768)
            assert len(np.unique(np.asarray(image.convert("L").resize((64, 36))))) > 20
    # the packet downloads as a PDF
    response = wen.request.get(f"{server}/applications/{app_id}/packet.pdf")
    assert response.ok and response.body()[:5] == b"%PDF-"


CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def test_a_reviewer_whose_browser_asks_for_english_works_in_english(
    server: str, browser: object, workspace: Workspace
) -> None:
    """The same flagged application, read by a reviewer whose browser asks for English:
    every word on the queue and the application page is English but the data (names,
    files, what was read off the pages), and a decision is confirmed in English."""
    app_id = PACKET.name
    record = load_record(PACKET / "application.json")
    data = {record.company_name, record.contact["name"], "李审", "中文"}
    with workspace.session() as session:
        run = session.query(CheckRun).filter_by(application_id=app_id).one()
        for finding in run.report["findings"]:
            data.update(str(v) for v in (finding.get("evidence") or {}).values() if v)
            data.update(_said(finding.get("wording") or {}))
    li = _sign_in(browser, server, "li", locale="en-GB")
    assert li.locator("html").get_attribute("lang") == "en"
    shots = {"queue-en.png": f"{server}/", "application-en.png": f"{server}/applications/{app_id}"}
    for name, address in shots.items():
        li.goto(address)
        li.wait_for_load_state("networkidle")
        text = li.locator("body").inner_text()
        # where a read differs, the places are said in English around pieces of the data
        pieces = set(li.locator(".difference strong").all_inner_texts())
        for value in sorted(data | pieces, key=len, reverse=True):
            text = text.replace(value, "")
        assert not CJK.findall(text), (name, sorted(set(CJK.findall(text))))
        _shot(li, name)
    assert "Seal text differs from the company name" in li.content()
    li.fill("#remarks", "The seal's text differs from the applicant's name; stamp again.")
    li.click("#reject")
    li.wait_for_selector("text=Recorded: Pre-review sent back")


def _said(wording: dict[str, Any]) -> list[str]:
    """The data a kept sentence carries (names, files, reads), not its words."""
    values: list[str] = []
    for value in (wording.get("args") or {}).values():
        values.extend(_said(value) if isinstance(value, dict) else [str(value)])
    return values


CLEAN = REPO / "fixtures" / "packets" / "CQC-2026-606079"
OTHER_LICENCE = REPO / "fixtures" / "packets" / "CQC-2026-606090" / "02-business-licence.pdf"


def _serve(settings: Settings, workspace: Workspace) -> tuple[str, Any]:
    port = _free_port()
    config = uvicorn.Config(create_app(settings, workspace), port=port, log_level="warning")
    running = uvicorn.Server(config)
    threading.Thread(target=running.run, daemon=True).start()
    for _ in range(100):
        if running.started:
            break
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", running


WALK_WORDS = {
    "zh-CN": {
        "rejected": "已记录：核验退回",
        "received": "已收到 1 个文件",
        "round 2": "第 2 轮",
        "replaced": "已由第 2 轮补交的同类材料替换",
        "passed": "已记录：核验通过",
        "re-passed": "已记录：复核通过",
        "revoked": "证书已吊销",
        "revoked why": "已吊销（停止使用）",
        "remarks": "营业执照不是本单位的，请补交加盖公章的本单位营业执照复印件。",
        "shot": "",
    },
    "en-GB": {
        "rejected": "Recorded: Pre-review sent back",
        "received": "Files received: 1",
        "round 2": "round 2",
        "replaced": "was replaced by the one sent in round 2",
        "passed": "Recorded: Pre-review passed",
        "re-passed": "Recorded: Re-review passed",
        "revoked": "The certificate is revoked",
        "revoked why": "Revoked (Cessation of operation)",
        "remarks": "The licence is another company's: send your own, stamped with your seal.",
        "shot": "-en",
    },
}
"""What the walk reads on the screen in each language, and its screenshots' suffix."""


@pytest.mark.usefixtures("softhsm_dir")
@pytest.mark.parametrize("locale", sorted(WALK_WORDS))
def test_a_corrected_resubmission_comes_out_clear_then_the_ra_revokes(
    browser: object, tmp_path: Path, locale: str
) -> None:
    """Round 1 brings another company's licence: flagged, rejected in the browser. The
    applicant's own licence, uploaded in the browser, makes round 2 clear (the round rule),
    two people approve it, the nightly batch issues it; then an issuer finds the
    certificate on the RA screen and revokes it with a reason and remarks. Once in each
    language, as the browser asks for it."""
    words = WALK_WORDS[locale]
    import pyotp

    from pipeline.config import load_settings
    from pipeline.issue.batch import run_batch
    from pipeline.issue.ca import init_ca, load_ca
    from pipeline.workspace import open_workspace
    from tests.conftest import issuing_settings

    settings = issuing_settings(tmp_path / "home")
    workspace = open_workspace(settings)
    init_ca(workspace, "admin")
    settings = load_settings(settings.home, environ={})
    workspace = open_workspace(settings)
    with workspace.session() as session:
        add_user(session, "ingrid", PASSWORD, ["intake"], "admin", "收件员英")
        add_user(session, "li", PASSWORD, ["reviewer", "re-reviewer"], "admin", "李审")
        add_user(session, "wen", PASSWORD, ["re-reviewer"], "admin", "文复")
        add_user(session, "ivy", PASSWORD, ["issuer"], "admin", "制证艾")
        secret = session.get_one(User, "ivy").totp_secret
    record = load_record(CLEAN / "application.json")
    app_id = record.application_id
    first = [CLEAN / "01-application-form.jpg", OTHER_LICENCE, CLEAN / "03-id-card-copy.png"]
    taken = intake_application(workspace, record, first, "ingrid")
    assert check_and_save(workspace, taken, "ingrid").verdict == "flagged"
    base, running = _serve(settings, workspace)
    try:
        li = _sign_in(browser, base, "li", locale)
        li.goto(f"{base}/applications/{app_id}")
        assert "name_mismatch" in li.content()
        pictures = "figure img"
        before = {img.get_attribute("src") for img in li.locator(pictures).all()}
        li.fill("#remarks", words["remarks"])
        li.click("#reject")
        li.wait_for_selector(f"text={words['rejected']}")

        ingrid = _sign_in(browser, base, "ingrid", locale)
        ingrid.goto(f"{base}/applications/{app_id}")
        ingrid.set_input_files("#resubmit input[type=file]", str(CLEAN / "02-business-licence.jpg"))
        ingrid.click("#resubmit button")
        # checked in the background: the page shows how far it got, then what came of it
        ingrid.wait_for_selector("#checking progress", timeout=10_000)
        _shot(ingrid, f"check-progress{words['shot']}.png")
        ingrid.wait_for_selector(f"text={words['received']}", timeout=120_000)
        with workspace.session() as session:
            app = session.get_one(Application, app_id)
            assert (app.round, app.status, app.verdict) == (2, Status.CHECKED, "clear")
        li.goto(f"{base}/applications/{app_id}")
        text = li.content()
        assert words["round 2"] in text and words["replaced"] in text
        # document 1 was the other company's licence, now it is the ID card: no image of
        # round 1 may come back from the browser's cache under the same address
        after = {img.get_attribute("src") for img in li.locator(pictures).all()}
        assert after and not after & before
        for img in li.locator(pictures).all():  # loaded, so that the screenshot shows them
            img.evaluate(
                "img => img.complete && img.naturalWidth > 0 ? true : "
                "new Promise((ok, fail) => { img.onload = () => ok(true); img.onerror = fail; })"
            )
        _shot(li, f"resubmission-clear{words['shot']}.png")
        # a page opens to fill the screen; a click shows it at full size; Esc closes
        li.locator("figure img").first.click()
        viewer = li.locator("#viewer")
        viewer.locator("img").evaluate(
            "img => img.complete && img.naturalWidth > 0 ? true : "
            "new Promise((ok, fail) => { img.onload = () => ok(true); img.onerror = fail; })"
        )
        fitted = viewer.locator("img").bounding_box()
        assert fitted is not None and fitted["height"] > 700  # of a 768 px screen
        viewer.locator("img").click()
        zoomed = viewer.locator("img").bounding_box()
        assert zoomed is not None and zoomed["width"] > fitted["width"] * 2
        _shot(li, f"viewer-zoomed{words['shot']}.png")
        li.keyboard.press("Escape")
        assert not viewer.is_visible()
        li.click("#approve")
        li.wait_for_selector(f"text={words['passed']}")
        wen = _sign_in(browser, base, "wen", locale)
        wen.goto(f"{base}/applications/{app_id}")
        wen.click("#approve")
        wen.wait_for_selector(f"text={words['re-passed']}")
        (issued,) = run_batch(workspace, load_ca(settings)).issued

        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale=locale)  # type: ignore[attr-defined]
        ivy = context.new_page()
        ivy.goto(f"{base}/login")
        ivy.fill("input[name=username]", "ivy")
        ivy.fill("input[name=password]", PASSWORD)
        ivy.fill("input[name=code]", pyotp.TOTP(secret).now())
        ivy.click("button[type=submit]")
        ivy.wait_for_url(f"{base}/certificates")
        ivy.fill("input[name=q]", record.company_name[:4])
        ivy.click("form.filters button")
        ivy.click(f"text={issued.serial}")
        ivy.wait_for_url(f"{base}/certificates/{issued.serial}")
        ivy.select_option("select[name=reason]", "cessationOfOperation")
        ivy.fill("textarea[name=remarks]", "申请人来函（加盖公章）申请停止使用，已电话核实。")
        ivy.click("#revoke button")
        ivy.wait_for_selector(f"text={words['revoked']}")
        assert words["revoked why"] in ivy.content()
        _shot(ivy, f"ra-revoked{words['shot']}.png")
    finally:
        running.should_exit = True
    with workspace.session() as session:
        assert session.get_one(Application, app_id).status == Status.ISSUED


STATUS_WORDS = {
    "zh-CN": {"received": "已收到 1 个文件", "passed on": "材料已转交审核", "verdict": "核对"},
    "en-GB": {
        "received": "Files received: 1",
        "passed on": "passed on for review",
        "verdict": "flagged",
    },
}
"""What the applicant reads in each language as the corrected files are taken."""


@pytest.mark.parametrize("locale", sorted(STATUS_WORDS))
def test_the_applicant_status_page_in_a_browser(
    browser: object, settings: Settings, workspace: Workspace, locale: str
) -> None:
    """The applicant's view: the link, the credit code, then the state, the due date and
    the remarks of the rejection, with the upload form (screenshot status.png); a corrected
    licence sent, the check running with its progress, then its outcome (status-checking.png,
    status-checked.png). In each language, as the browser asks."""
    words, shot = STATUS_WORDS[locale], "" if locale == "zh-CN" else "-en"
    from pipeline.records import lifecycle
    from pipeline.records.applications import new_status_token

    record = load_record(CLEAN / "application.json")
    intake_application(workspace, record, [], "ingrid")
    with workspace.session() as session:
        app = session.get_one(Application, record.application_id)
        lifecycle.mark_checked(session, app, "flagged", "ingrid")
        lifecycle.decide(
            session, app, "prereview", False, "li", "营业执照复印件未加盖公章，请加盖后补交。"
        )
        token = new_status_token(session, app, "ingrid")
    base, running = _serve(settings, workspace)
    try:
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale=locale)  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto(f"{base}/status/{token}")
        page.fill("input[name=uscc]", record.company_uscc)
        page.click("button[type=submit]")
        page.wait_for_selector("#remarks")
        assert "营业执照复印件未加盖公章" in page.inner_text("#remarks")
        assert page.locator("#upload input[type=file]").count() == 1
        _shot(page, f"status{shot}.png")
        # the corrected licence sent: the page shows the check running, then what came of it
        page.set_input_files("#upload input[type=file]", str(CLEAN / "02-business-licence.jpg"))
        page.click("#upload button")
        page.wait_for_selector("#checking")
        assert page.locator("#upload").count() == 0  # no second upload meanwhile
        _shot(page, f"status-checking{shot}.png")
        page.wait_for_selector(f"text={words['received']}", timeout=240_000)
        notice = page.inner_text(".notice")
        # what became of the files, and no back-office verdict
        assert words["passed on"] in notice and words["verdict"] not in notice
        assert page.locator("#checking").count() == 0
        _shot(page, f"status-checked{shot}.png")
    finally:
        running.should_exit = True
