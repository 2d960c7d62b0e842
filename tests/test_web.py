"""The web app's guards, through FastAPI's test client on a real SQLite workspace: every
route but sign-in needs a user with the right role, forms need their CSRF token, sign-in
is rate-limited, cookies are HttpOnly and SameSite, uploads are size-limited and nothing of
the file store is reachable by path."""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pipeline.config import IngestLimits, Settings
from pipeline.model.application import parse_record
from pipeline.model.report import CheckReport, Code, Finding, Severity
from pipeline.records.users import add_user
from pipeline.usecases.checking import save_report
from pipeline.usecases.intake import intake_application
from pipeline.web.app import create_app
from pipeline.workspace import Workspace

PASSWORD = "a long enough secret"
APP_ID = "CQC-2026-000301"


@pytest.fixture
def client(settings: Settings, workspace: Workspace, record_data: dict[str, Any]) -> TestClient:
    with workspace.session() as session:
        add_user(session, "rui", PASSWORD, ["reviewer"], "admin")
        add_user(session, "ivy", PASSWORD, ["issuer"], "admin")
        add_user(session, "ingrid", PASSWORD, ["intake"], "admin")
    data = copy.deepcopy(record_data)
    data["application_id"] = APP_ID
    taken = intake_application(workspace, parse_record(data), [], "ingrid")
    finding = Finding(Code.NAME_MISMATCH, Severity.ERROR, "名称不一致", None, None, {})
    with workspace.session() as session:
        save_report(session, CheckReport(taken.application_id, (finding,), ()), "ingrid")
    limited = replace(settings, limits=replace(IngestLimits(), max_file_bytes=1000))
    return TestClient(create_app(limited, workspace), base_url="http://127.0.0.1")


def sign_in(client: TestClient, username: str, password: str = PASSWORD, code: str = "") -> Any:
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    data = {"username": username, "password": password, "csrf": token.group(1), "code": code}
    return client.post("/login", data=data, follow_redirects=False)


def code_of(workspace: Workspace, username: str) -> str:
    """The user's current one-time code, as their authenticator app shows it."""
    import pyotp

    from pipeline.records.models import User

    with workspace.session() as session:
        secret = session.get_one(User, username).totp_secret
    assert secret is not None
    return str(pyotp.TOTP(secret).now())


def csrf_of(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


ROUTES = [
    ("GET", "/"),
    ("GET", "/next"),
    ("GET", f"/applications/{APP_ID}"),
    ("GET", f"/applications/{APP_ID}/packet.pdf"),
    ("GET", f"/applications/{APP_ID}/documents/0/pages/1.png"),
    ("GET", f"/applications/{APP_ID}/findings/0/crop.png"),
    ("POST", f"/applications/{APP_ID}/decision"),
    ("POST", f"/applications/{APP_ID}/files"),
    ("GET", f"/applications/{APP_ID}/progress"),
    ("POST", "/logout"),
    ("GET", "/password"),
    ("POST", "/password"),
    ("GET", "/certificates"),
    ("GET", "/certificates/{serial}"),
    ("POST", "/certificates/{serial}/revoke"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_but_sign_in_needs_a_user(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_the_routes_listed_are_all_the_routes(client: TestClient) -> None:
    listed = {re.sub(r"/[^/]*CQC[^/]*", "/{app_id}", p) for _, p in ROUTES}
    # every route the app serves, as FastAPI itself lists them (routers included)
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    served = {
        path.replace("{document}", "0").replace("{number}", "1").replace("{index}", "0")
        for path in paths
        if path not in PUBLIC
    }
    assert served == listed


PUBLIC = (
    "/login",
    "/verify",
    "/verify/{serial}",
    "/status/{token}",
    "/status/{token}/files",
    "/status/{token}/progress",
    "/language/{code}",
)
"""Sign-in, the certificate verification that anyone may use (tests/test_issue.py
verifies real certificates through it), the applicant's status page, guarded by its
link and the credit code instead (tests/test_status_page.py), and the choice of language
(a cookie and a redirect to a path of this site)."""


@pytest.mark.parametrize("path", ["/login", "/verify", "/verify/0123abcd"])
def test_sign_in_and_verification_need_no_user(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 200 and "csrf" in response.text


def test_sign_in_sets_a_strict_httponly_cookie(client: TestClient) -> None:
    response = sign_in(client, "rui")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/").status_code == 200


def test_an_issuer_signs_in_with_a_one_time_code_too(
    client: TestClient, workspace: Workspace, settings: Settings
) -> None:
    assert sign_in(client, "ivy").headers["location"].startswith("/login?error=1")
    assert sign_in(client, "ivy", code="000000").headers["location"].startswith("/login?error")
    signed_in = sign_in(client, "ivy", code=code_of(workspace, "ivy"))
    assert signed_in.headers["location"] == "/certificates"  # an issuer's own screens
    from pipeline.records.models import User

    with workspace.session() as session:
        plain = session.get_one(User, "ivy").totp_secret
    assert plain is not None and plain.encode() not in (settings.home / "sealdesk.db").read_bytes()


def test_a_role_that_may_not_see_the_queue_is_refused(
    client: TestClient, workspace: Workspace
) -> None:
    sign_in(client, "ivy", code=code_of(workspace, "ivy"))
    assert client.get("/").status_code == 403
    assert client.get(f"/applications/{APP_ID}").status_code == 403


def test_a_forged_or_expired_cookie_is_no_session(client: TestClient) -> None:
    client.cookies.set("sealdesk_session", "eyJ1IjogInJ1aSJ9.0000")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_forms_need_their_csrf_token(client: TestClient) -> None:
    sign_in(client, "rui")
    bare = client.post(f"/applications/{APP_ID}/decision", data={"action": "approve"})
    assert bare.status_code == 403
    wrong = client.post(
        f"/applications/{APP_ID}/decision", data={"action": "approve", "csrf": "guess"}
    )
    assert wrong.status_code == 403
    token = csrf_of(client, f"/applications/{APP_ID}")
    done = client.post(
        f"/applications/{APP_ID}/decision",
        data={"action": "approve", "csrf": token, "override-1": WHY},
    )
    assert done.status_code == 200 and "已记录：核验通过" in done.text


WHY = "已电话核实：执照为更名前版本，名称变更通知书见第 3 页"


def test_approving_over_an_error_needs_a_remark_on_it_and_shows_it(client: TestClient) -> None:
    sign_in(client, "rui")
    page = client.get(f"/applications/{APP_ID}")
    assert 'name="override-1"' in page.text  # the form asks, finding by finding
    token = csrf_of(client, f"/applications/{APP_ID}")
    for data in ({}, {"override-1": "   "}):
        refused = client.post(
            f"/applications/{APP_ID}/decision", data={"action": "approve", "csrf": token, **data}
        )
        assert "未能记录：第 1 项（单位名称不一致）为错误" in refused.text
        assert "without" not in refused.text  # one language on the screen
    done = client.post(
        f"/applications/{APP_ID}/decision",
        data={"action": "approve", "csrf": token, "override-1": WHY},
    )
    assert "已记录：核验通过" in done.text
    assert f"确认第 1 项 单位名称不一致 不影响通过：{WHY}" in done.text


def test_a_cookie_copied_before_logout_is_worthless_after_it(client: TestClient) -> None:
    sign_in(client, "rui")
    copied = client.cookies.get("sealdesk_session")
    assert copied and client.get("/", follow_redirects=False).status_code == 200
    token = csrf_of(client, "/")
    assert client.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    client.cookies.set("sealdesk_session", copied)  # the attack: the old cookie, replayed
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_refusal_is_said_in_chinese_and_looks_like_an_error(client: TestClient) -> None:
    # seen: 未能记录：a rejection needs remarks …, in blue like a notice
    sign_in(client, "rui")
    token = csrf_of(client, f"/applications/{APP_ID}")
    page = client.post(f"/applications/{APP_ID}/decision", data={"action": "reject", "csrf": token})
    assert "未能记录：退回须填写备注" in page.text and 'class="notice refused"' in page.text
    assert "rejection" not in page.text and 'role="alert"' in page.text


def test_the_due_date_is_shown_in_beijing_time(client: TestClient, workspace: Workspace) -> None:
    from pipeline.records.models import Application
    from pipeline.review.calendar import beijing
    from pipeline.review.queue import item_for

    sign_in(client, "rui")
    with workspace.session() as session:
        item = item_for(session, session.get_one(Application, APP_ID))
        assert item is not None
        due = item.due
    page = client.get(f"/applications/{APP_ID}").text
    assert f"应于 {beijing(due)} 前完成" in page
    assert due.strftime("%Y-%m-%d %H:%M") not in page  # the UTC wall clock, 8 h off, is not


def test_the_login_form_itself_needs_its_token(client: TestClient) -> None:
    response = client.post(
        "/login", data={"username": "rui", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403


def test_sign_in_is_rate_limited(client: TestClient) -> None:
    for _ in range(5):
        assert sign_in(client, "rui", "wrong password!!").status_code == 303
    # the sixth try is refused without looking at the password, even the right one
    assert sign_in(client, "rui").status_code == 429


def test_the_sign_in_limit_counts_a_name_however_it_is_typed(client: TestClient) -> None:
    # the attack: " rui", "RUI", "ｒｕｉ" each counted apart, from addresses of their own
    app = client.app
    for k, typed in enumerate(("rui", " rui", "RUI", "ｒｕｉ", "rui ")):
        elsewhere = TestClient(app, base_url="http://127.0.0.1", client=(f"10.0.0.{k}", 5000))
        assert sign_in(elsewhere, typed, "wrong password!!").status_code == 303
    last = TestClient(app, base_url="http://127.0.0.1", client=("10.0.0.99", 5000))
    assert sign_in(last, "rui").status_code == 429


def test_failed_and_refused_sign_ins_are_in_the_audit_trail(
    client: TestClient, workspace: Workspace
) -> None:
    from pipeline.records.models import AuditEntry

    for _ in range(6):
        sign_in(client, " Rui", "wrong password!!")
    with workspace.session() as session:
        tried = [
            e
            for e in session.query(AuditEntry).filter_by(subject_id="rui")
            if e.action.startswith("user.sign_in")
        ]
        actions = [e.action for e in tried]
    assert actions.count("user.sign_in_failed") == 5 and "user.sign_in_refused" in actions
    assert all(e.detail == {"from": "web", "address": "testclient"} for e in tried)


def test_secure_cookies_and_proxies_come_from_the_configuration(
    settings: Settings, workspace: Workspace
) -> None:
    from pipeline.config import load_settings
    from pipeline.web.app import server_options

    # by default no X-Forwarded-For is believed, from anyone
    assert server_options(settings) == {"proxy_headers": False, "forwarded_allow_ips": None}
    (settings.home / "sealdesk.toml").write_text(
        '[web]\nsecure_cookies = true\ntrusted_proxies = ["10.1.2.3"]\n', encoding="utf-8"
    )
    configured = load_settings(settings.home, environ={})
    assert server_options(configured) == {"proxy_headers": True, "forwarded_allow_ips": "10.1.2.3"}
    with workspace.session() as session:
        add_user(session, "rui", PASSWORD, ["reviewer"], "admin")
    secure = TestClient(create_app(configured, workspace), base_url="https://127.0.0.1")
    cookie = sign_in(secure, "rui").headers["set-cookie"].lower()
    assert "secure" in cookie


def test_after_sign_in_only_paths_of_this_site(client: TestClient) -> None:
    form = client.get("/login?next=//evil.example/x")
    assert "//evil.example" not in form.text


def test_no_path_into_the_file_store(client: TestClient) -> None:
    sign_in(client, "rui")
    for path in (
        "/applications/..%2F..%2Fstore/documents/0/pages/1.png",
        f"/applications/{APP_ID}/documents/-1/pages/1.png",
        f"/applications/{APP_ID}/documents/99/pages/1.png",
        "/store/ab/abcdef",
        "/../web-secret",
    ):
        assert client.get(path).status_code in (404, 422), path


def test_uploads_are_size_limited_and_for_intake_only(client: TestClient) -> None:
    sign_in(client, "rui")
    token = csrf_of(client, f"/applications/{APP_ID}")
    files = {"files": ("scan.pdf", b"%PDF-1.4\n" + b"0" * 2000, "application/pdf")}
    refused = client.post(f"/applications/{APP_ID}/files", data={"csrf": token}, files=files)
    assert refused.status_code == 403  # a reviewer takes no files in
    client.cookies.clear()
    sign_in(client, "ingrid")
    token = csrf_of(client, f"/applications/{APP_ID}")
    too_big = client.post(f"/applications/{APP_ID}/files", data={"csrf": token}, files=files)
    assert too_big.status_code == 413


def test_the_audit_trail_names_the_signed_in_user(client: TestClient, workspace: Workspace) -> None:
    """The web app writes to the same trail as the CLI and the flows, under the name of the
    user signed in (the fixture's intake, made by a caller passing its user, beside it)."""
    from sqlalchemy import select

    from pipeline.records.models import AuditEntry

    sign_in(client, "rui")
    token = csrf_of(client, f"/applications/{APP_ID}")
    client.post(
        f"/applications/{APP_ID}/decision",
        data={"action": "approve", "csrf": token, "override-1": WHY},
    )
    with workspace.session() as session:
        trail = (
            session.execute(
                select(AuditEntry.actor, AuditEntry.action).where(AuditEntry.subject_id == APP_ID)
            )
            .tuples()
            .all()
        )
    assert ("ingrid", "application.received") in trail
    assert ("rui", "review.prereview.approve") in trail


def test_changing_the_password_ends_every_sign_in(
    client: TestClient, settings: Settings, workspace: Workspace
) -> None:
    """The attack: a session cookie copied from one browser outlives the password change
    its owner made in another. Every sign-in of that person ends, this one too."""
    other = TestClient(client.app, base_url="http://127.0.0.1")
    assert sign_in(client, "rui").status_code == 303
    assert sign_in(other, "rui").status_code == 303
    assert other.get("/").status_code == 200
    page = client.get("/password")
    assert page.status_code == 200 and "修改密码" in page.text
    token = csrf_of(client, "/password")
    form = {"csrf": token, "current": "not my password", "new": "x" * 12, "again": "x" * 12}
    wrong = client.post("/password", data=form, follow_redirects=False)
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.text
    assert other.get("/", follow_redirects=False).status_code == 200  # nothing ended
    mismatch = {**form, "current": PASSWORD, "again": "y" * 12}
    assert "不一致" in client.post("/password", data=mismatch).text
    no_csrf = {**form, "csrf": "", "current": PASSWORD}
    assert client.post("/password", data=no_csrf).status_code == 403
    done = client.post(
        "/password",
        data={
            **form,
            "current": PASSWORD,
            "new": "a new long secret",
            "again": "a new long secret",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/login")
    for browser in (client, other):
        assert browser.get("/", follow_redirects=False).status_code in (303, 307)
    assert sign_in(client, "rui").headers["location"].startswith("/login?error")
    assert sign_in(client, "rui", "a new long secret").headers["location"] == "/"


def test_one_address_is_limited_apart_from_the_names_behind_it(client: TestClient) -> None:
    """An office behind one NAT address: a colleague's five wrong passwords lock out that
    name only, the others still sign in. One address guessing at many names is stopped
    (the attacker's own good sign-in between guesses does not reset the count)."""
    from pipeline.web.auth import ADDRESS_ATTEMPTS

    for _ in range(5):
        assert sign_in(client, "ivy", "wrong password!!").status_code == 303
    assert sign_in(client, "ivy", "wrong password!!").status_code == 429
    assert sign_in(client, "rui").headers["location"] == "/"  # same address, other name
    for k in range(ADDRESS_ATTEMPTS - 5):
        sign_in(client, f"guess{k}", "wrong password!!")
        if k % 4 == 0 and 5 + k + 1 < ADDRESS_ATTEMPTS:
            assert sign_in(client, "ingrid").status_code == 303  # the attacker's own account
    assert sign_in(client, "ingrid").status_code == 429  # the address now, whatever the name


def test_the_queue_shows_what_is_being_checked(
    client: TestClient, workspace: Workspace, record_data: dict[str, Any]
) -> None:
    """The complaint: after intake the queue said nothing waits, while the check ran (or
    was left for later). Taken in, not yet checked: listed apart, with its id."""
    data = copy.deepcopy(record_data)
    data["application_id"] = "CQC-2026-000302"
    intake_application(workspace, parse_record(data), [], "ingrid")
    sign_in(client, "rui")
    page = client.get("/").text
    assert "正在检查（1）" in page and "CQC-2026-000302" in page.split('id="queue"')[0]
    assert APP_ID in page.split('id="queue"')[1]  # the checked one waits in the queue


def test_a_resubmission_is_checked_in_the_background_with_its_progress_shown(
    client: TestClient, workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """The complaint: a check took half a minute with nothing shown. Files uploaded after a
    rejection are checked in the background; the page shows how far it got (polling
    /progress) and, when done, what came of it; a second upload while it runs is refused."""
    import threading
    import time

    from pipeline.records import lifecycle
    from pipeline.records.models import Application
    from pipeline.web import site as site_module

    with workspace.session() as session:
        lifecycle.decide(
            session,
            session.get_one(Application, APP_ID),
            "prereview",
            False,
            "rui",
            "请补交营业执照",
        )
    release = threading.Event()
    real = site_module.take_files

    def slow(
        workspace: Workspace, app_id: str, paths: list[Any], actor: str, progress: Any, *more: Any
    ) -> str:
        progress("pages", 1, 3)
        release.wait(30)
        return real(workspace, app_id, paths, actor, progress, *more)

    monkeypatch.setattr(site_module, "take_files", slow)
    sign_in(client, "ingrid")
    token = csrf_of(client, f"/applications/{APP_ID}")
    from PIL import Image

    scan = tmp_path / "licence.png"  # a blank page small enough for the 1000-byte limit
    Image.new("1", (320, 450), 1).save(scan)
    files = {"files": ("licence.png", scan.read_bytes(), "image/png")}
    sent = client.post(
        f"/applications/{APP_ID}/files", data={"csrf": token}, files=files, follow_redirects=False
    )
    assert sent.status_code == 303
    assert client.get(f"/applications/{APP_ID}/progress").json() == {
        "running": True,
        "stage": "读取页面",
        "done": 1,
        "total": 3,
        "message": "",
    }
    page = client.get(f"/applications/{APP_ID}").text
    assert 'id="checking"' in page and "正在收件并重新检查" in page
    again = client.post(f"/applications/{APP_ID}/files", data={"csrf": token}, files=files)
    assert "正在检查" in again.text
    release.set()
    for _ in range(300):
        state = client.get(f"/applications/{APP_ID}/progress").json()
        if not state["running"]:
            break
        time.sleep(0.1)
    assert not state["running"] and "已收到 1 个文件" in state["message"], state
    with workspace.session() as session:
        assert session.get_one(Application, APP_ID).round == 2


def test_an_issuing_authority_sees_only_its_own_regions_applications(
    client: TestClient, workspace: Workspace
) -> None:
    # APP_ID is a CQC application: no authority's; a Dalian MOFCOM one is 大连市商务局's
    from pipeline.records.models import Application

    with workspace.session() as session:
        add_user(session, "dl", PASSWORD, ["reviewer"], "admin", organisation="大连市商务局")
        app = session.get_one(Application, APP_ID)
        data = copy.deepcopy(dict(app.record))
    data["application_id"], data["scheme"] = "MOF-2026-000401", "mofcom"
    data["company"]["uscc"] = "91210202MAXBDQ2Q42"
    data.pop("payment", None)
    taken = intake_application(workspace, parse_record(data), [], "ingrid")
    with workspace.session() as session:
        save_report(session, CheckReport(taken.application_id, (), ()), "ingrid")
    sign_in(client, "dl")
    queue = client.get("/").text
    assert "MOF-2026-000401" in queue and APP_ID not in queue
    assert client.get("/applications/MOF-2026-000401").status_code == 200
    for path in (f"/applications/{APP_ID}", f"/applications/{APP_ID}/packet.pdf"):
        assert client.get(path).status_code == 404  # as if there were none
    sign_in(client, "rui")  # the service company's reviewer sees both
    queue = client.get("/").text
    assert "MOF-2026-000401" in queue and APP_ID in queue


def _visible_text(html: str) -> str:
    """What a person reads on a page: no scripts, styles or tags."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_a_reader_who_chose_english_reads_only_english_but_the_data(
    client: TestClient, workspace: Workspace, record_data: dict[str, Any]
) -> None:
    # seen: Chinese labels beside English outcomes, English words on the verify page
    chosen = client.get("/language/en?next=/login", follow_redirects=False)
    assert chosen.status_code == 303 and chosen.headers["location"] == "/login"
    assert sign_in(client, "rui").status_code == 303
    data = [
        record_data["company"]["name"],
        record_data["contact"]["name"],
        (record_data.get("agent") or {}).get("name") or "",
        "名称不一致",  # the fixture's finding, recorded without a kept sentence: not shown
        "中文",  # the way back to Chinese, named in Chinese as language switches are
    ]
    cjk = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
    for path in ("/", f"/applications/{APP_ID}", "/certificates", "/password", "/verify"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert '<html lang="en">' in page.text
        text = _visible_text(page.text)
        for value in data:
            text = text.replace(value, "") if value else text
        assert not cjk.findall(text), (path, sorted(set(cjk.findall(text))))
    missing = client.get("/applications/NO-SUCH-ID", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "No application NO-SUCH-ID" in missing.text
    assert 'class="notice refused"' in missing.text  # a refusal looks like an error
    scripted = client.get("/applications/NO-SUCH-ID", headers={"accept": "application/json"})
    assert scripted.json() == {"detail": "No application NO-SUCH-ID"}


def test_without_a_choice_the_browser_s_language_decides_and_chinese_is_the_default(
    client: TestClient,
) -> None:
    assert '<html lang="zh-CN">' in client.get("/login").text
    english = client.get("/login", headers={"accept-language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    back = client.get("/language/zh_CN?next=//evil.example/", follow_redirects=False)
    assert back.headers["location"] == "/"  # never a page elsewhere
    assert client.get("/language/xx", follow_redirects=False).status_code == 404


def test_why_a_person_may_not_decide_is_said_in_their_language(client: TestClient) -> None:
    sign_in(client, "ingrid")  # intake: the pre-review is not hers
    page = client.get(f"/applications/{APP_ID}")
    assert "ingrid 没有核验权限" in page.text
    client.cookies.set("lang", "en")
    page = client.get(f"/applications/{APP_ID}")
    assert "ingrid may not do Pre-review (role reviewer)" in page.text
