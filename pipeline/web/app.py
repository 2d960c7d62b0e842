"""The reviewer web app (``sealdesk web``): sign in, the queue, an application's findings
and evidence, its pages with the boxes of what was read, approve or reject, the packet,
the history.

Every route but the sign-in page needs a signed-in user with a role that may use it; every
form carries the session's CSRF token; images are served by application, document and
page number, never by a path, so nothing of the file store can be reached by name.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.config import Settings
from pipeline.errors import SealdeskError
from pipeline.records.lifecycle import STATUS_LABELS, Status
from pipeline.records.models import Application, User
from pipeline.records.users import ROLE_LABELS, Role, authenticate
from pipeline.review import queue as review_queue
from pipeline.review import service
from pipeline.review.evidence import crop, mask_id
from pipeline.validate.rules import KIND_NAMES
from pipeline.web import auth
from pipeline.workspace import Workspace, open_workspace

TEMPLATES = Path(__file__).parent / "templates"
VIEWERS = frozenset({Role.INTAKE, Role.REVIEWER, Role.REREVIEWER, Role.ADMIN})
"""Roles that may see the queue and the applications."""
SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}


class LoginRequired(Exception):
    pass


def create_app(settings: Settings, workspace: Workspace | None = None) -> FastAPI:
    workspace = workspace or open_workspace(settings)
    secret = auth.load_secret(settings.home)
    limiter = auth.LoginLimiter()
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.filters["mask_id"] = mask_id
    templates.env.globals.update(
        KIND_NAMES=KIND_NAMES,
        STATUS_LABELS={s.value: label for s, label in STATUS_LABELS.items()},
        SEVERITY_LABELS=SEVERITY_LABELS,
        ROLE_LABELS={r.value: label for r, label in ROLE_LABELS.items()},
    )
    app = FastAPI(title="sealdesk", docs_url=None, redoc_url=None, openapi_url=None)
    secure_cookie = (
        settings.web_secure_cookies if hasattr(settings, "web_secure_cookies") else False
    )

    @contextmanager
    def db() -> Iterator[Session]:
        with workspace.session() as session:
            yield session

    def current(request: Request) -> tuple[User, auth.Session]:
        signed = auth.decode(secret, request.cookies.get(auth.COOKIE))
        if signed is None:
            raise LoginRequired
        with db() as session:
            user = session.get(User, signed.username)
            if user is None or not user.active:
                raise LoginRequired
            session.expunge(user)
        return user, signed

    def viewer(request: Request) -> tuple[User, auth.Session]:
        user, signed = current(request)
        if not any(user.has(r) for r in VIEWERS):
            raise HTTPException(403, "你的角色不能查看审核队列")
        return user, signed

    def check_csrf(signed: auth.Session, token: str) -> None:
        import hmac

        if not token or not hmac.compare_digest(token, signed.csrf):
            raise HTTPException(403, "表单已失效（CSRF 校验未通过），请刷新页面后重试")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    def page(
        request: Request, name: str, user: User | None, signed: auth.Session | None, **ctx: Any
    ) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            name,
            {"user": user, "csrf": signed.csrf if signed else "", "now": datetime.now(UTC), **ctx},
        )

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
        )
        return response

    # --- sign in ---------------------------------------------------------------------

    def with_form_cookie(response: Response, token: str) -> Response:
        """The cookie half of the token a form without a session carries (double submit)."""
        response.set_cookie(
            auth.PRE_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=secure_cookie,
            max_age=3600,
        )
        return response

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/", error: str = "") -> Response:
        token = auth.pre_login_token(secret)
        response = page(
            request, "login.html", None, None, next=_safe_next(next), error=error, login_token=token
        )
        return with_form_cookie(response, token)

    @app.post("/login")
    def login(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        csrf: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        if not auth.pre_login_valid(secret, request.cookies.get(auth.PRE_COOKIE), csrf):
            raise HTTPException(403, "登录表单已失效，请刷新页面后重试")
        address = request.client.host if request.client else "?"
        keys = (f"user:{username}", f"addr:{address}")
        if limiter.blocked(*keys):
            return Response("登录失败次数过多，请 15 分钟后再试。", status_code=429)
        with db() as session:
            user = authenticate(session, username.strip(), password)
            if user is not None:
                from pipeline.records.audit import record_event

                record_event(
                    session,
                    user.username,
                    "user.signed_in",
                    ("user", user.username),
                    {"from": "web"},
                )
        if user is None:
            limiter.failed(*keys)
            return RedirectResponse(f"/login?error=1&next={_safe_next(next)}", status_code=303)
        limiter.succeeded(*keys)
        signed = auth.new_session(user.username)
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(
            auth.COOKIE,
            auth.encode(secret, signed),
            httponly=True,
            samesite="strict",
            secure=secure_cookie,
            max_age=auth.SESSION_SECONDS,
        )
        response.delete_cookie(auth.PRE_COOKIE)
        return response

    # --- public certificate verification (no sign-in) ---------------------------------

    def verify_page(request: Request, **ctx: Any) -> Response:
        token = auth.pre_login_token(secret)
        response = page(
            request,
            "verify.html",
            None,
            None,
            form_token=token,
            max_mb=VERIFY_MAX_BYTES >> 20,
            CHECK_LABELS=CHECK_LABELS,
            **ctx,
        )
        return with_form_cookie(response, token)

    @app.get("/verify", response_class=HTMLResponse)
    def verify_form(request: Request) -> Response:
        return verify_page(request)

    @app.get("/verify/{serial}", response_class=HTMLResponse)
    def verify_serial(request: Request, serial: str) -> Response:
        return verify_page(request, serial=serial[:80], credential=_credential(workspace, serial))

    @app.post("/verify", response_class=HTMLResponse)
    def verify_upload(
        request: Request, file: UploadFile, csrf: Annotated[str, Form()] = ""
    ) -> Response:
        if not auth.pre_login_valid(secret, request.cookies.get(auth.PRE_COOKIE), csrf):
            raise HTTPException(403, "表单已失效，请刷新页面后重试")
        from pipeline.issue.verify import registry_for, verify_pdf

        # a plain function (run in a worker thread): pyHanko's validation runs its own loop
        data = file.file.read(VERIFY_MAX_BYTES + 1)
        if len(data) > VERIFY_MAX_BYTES:
            raise HTTPException(413, f"文件超过 {VERIFY_MAX_BYTES >> 20} MB 的上限")
        with tempfile.TemporaryDirectory(prefix="sealdesk-verify-") as folder:
            path = Path(folder) / "upload.pdf"
            path.write_bytes(data)
            result = verify_pdf(path, registry_for(settings, [], workspace=workspace))
        name = Path(file.filename or "upload.pdf").name[:120]
        return verify_page(request, result=result, filename=name)

    @app.post("/logout")
    def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        _, signed = current(request)
        check_csrf(signed, csrf)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(auth.COOKIE)
        return response

    # --- the queue -------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def queue_page(
        request: Request,
        who: tuple[User, auth.Session] = Depends(viewer),
        stage: str = "",
        flagged: str = "",
        overdue: str = "",
        q: str = "",
    ) -> Response:
        user, signed = who
        now = datetime.now(UTC)
        with db() as session:
            items = review_queue.review_queue(
                session,
                stage=stage or None,
                flagged_only=bool(flagged),
                overdue_only=bool(overdue),
                search=q,
                now=now,
            )
        filters = {"stage": stage, "flagged": flagged, "overdue": overdue, "q": q}
        return page(request, "queue.html", user, signed, items=items, filters=filters)

    @app.get("/next")
    def next_flagged(who: tuple[User, auth.Session] = Depends(viewer), after: str = "") -> Response:
        """The next flagged application of the queue after ``after`` (keyboard: n)."""
        with db() as session:
            items = [i for i in review_queue.review_queue(session) if i.flagged]
        ids = [i.id for i in items]
        if not ids:
            return RedirectResponse("/", status_code=303)
        at = ids.index(after) + 1 if after in ids else 0
        return RedirectResponse(f"/applications/{ids[at % len(ids)]}", status_code=303)

    # --- one application -------------------------------------------------------------

    def _load(session: Session, app_id: str) -> Application:
        app_row = session.get(Application, app_id)
        if app_row is None:
            raise HTTPException(404, f"没有申请 {app_id}")
        return app_row

    def _report(session: Session, app_id: str) -> dict[str, Any]:
        """The latest check's report of the application's round (404 before any)."""
        run = service.latest_report(session, _load(session, app_id))
        if run is None:
            raise HTTPException(404, "尚未检查")
        return dict(run.report)

    @app.get("/applications/{app_id}", response_class=HTMLResponse)
    def application_page(
        request: Request,
        app_id: str,
        who: tuple[User, auth.Session] = Depends(viewer),
        message: str = "",
    ) -> Response:
        user, signed = who
        with db() as session:
            row = _load(session, app_id)
            run = service.latest_report(session, row)
            report = dict(run.report) if run is not None else {"documents": [], "findings": []}
            ctx = {
                "app": service.summary(session, row),
                "record": dict(row.record),
                "findings": _ordered(report.get("findings") or []),
                "documents": report.get("documents") or [],
                "decisions": service.decisions(session, row),
                "history": review_queue.history(session, app_id),
                "blocked": service.can_decide(session, user, row),
                "stage": service.stage_waiting(row),
                "can_upload": user.has(Role.INTAKE)
                and Status(row.status) in (Status.PREREVIEW_FAILED, Status.REREVIEW_FAILED),
                "message": message,
            }
        return page(request, "application.html", user, signed, **ctx)

    @app.post("/applications/{app_id}/decision")
    def decision(
        app_id: str,
        action: Annotated[str, Form()],
        csrf: Annotated[str, Form()] = "",
        remarks: Annotated[str, Form()] = "",
        who: tuple[User, auth.Session] = Depends(viewer),
    ) -> Response:
        user, signed = who
        check_csrf(signed, csrf)
        if action not in ("approve", "reject"):
            raise HTTPException(400, "action must be approve or reject")
        try:
            with db() as session:
                made = service.decide(session, user, app_id, action == "approve", remarks)
                stage = "核验" if made.stage == "prereview" else "复核"
                said = stage + ("通过" if made.decision == "approve" else "退回")
        except SealdeskError as exc:
            return RedirectResponse(
                f"/applications/{app_id}?message=" + _quote(f"未能记录：{exc}"), status_code=303
            )
        return RedirectResponse(
            f"/applications/{app_id}?message=" + _quote(f"已记录：{said}"), status_code=303
        )

    @app.post("/applications/{app_id}/files")
    async def resubmit(
        app_id: str,
        csrf: Annotated[str, Form()],
        files: Annotated[list[UploadFile], File()],
        who: tuple[User, auth.Session] = Depends(current),
    ) -> Response:
        """Files the applicant sent again after a rejection: taken in, then checked."""
        user, signed = who
        check_csrf(signed, csrf)
        if not user.has(Role.INTAKE):
            raise HTTPException(403, "只有收件人员可以补交文件")
        limit = settings.limits.max_file_bytes
        folder = Path(tempfile.mkdtemp(prefix="sealdesk-upload-"))
        try:
            paths = []
            for number, upload in enumerate(files):
                name = Path(upload.filename or f"file-{number}").name or f"file-{number}"
                target = folder / name
                size = 0
                with target.open("wb") as out:
                    while chunk := await upload.read(1 << 20):
                        size += len(chunk)
                        if size > limit:
                            raise HTTPException(413, f"{name} 超过 {limit // (1 << 20)} MB 的上限")
                        out.write(chunk)
                paths.append(target)
            message = _take_files(workspace, app_id, paths, user.username)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return RedirectResponse(
            f"/applications/{app_id}?message=" + _quote(message), status_code=303
        )

    @app.get("/applications/{app_id}/packet.pdf")
    def packet(app_id: str, who: tuple[User, auth.Session] = Depends(viewer)) -> Response:
        with db() as session:
            _load(session, app_id)
        path = service.write_packet(workspace, app_id)
        return FileResponse(path, media_type="application/pdf", filename=f"{app_id}-审核材料.pdf")

    @app.get("/applications/{app_id}/documents/{document}/pages/{number}.png")
    def page_image(
        app_id: str,
        document: int,
        number: int,
        who: tuple[User, auth.Session] = Depends(viewer),
        width: int = 1400,
    ) -> Response:
        with db() as session:
            report = _report(session, app_id)
            source = service.Evidence(workspace, session, app_id, report)
            image = source.page(document, number, True)
        if image is None:
            raise HTTPException(404, "没有这一页")
        return _png(image, max(200, min(width, 2400)))

    @app.get("/applications/{app_id}/findings/{index}/crop.png")
    def finding_crop(
        app_id: str, index: int, who: tuple[User, auth.Session] = Depends(viewer), rim: int = 0
    ) -> Response:
        with db() as session:
            report = _report(session, app_id)
            findings = _ordered(report.get("findings") or [])
            if not 0 <= index < len(findings):
                raise HTTPException(404, "没有这一项")
            finding = findings[index]
            bbox = (finding.get("evidence") or {}).get("bbox")
            if finding.get("document") is None or not bbox or not finding.get("page"):
                raise HTTPException(404, "这一项没有图像证据")
            source = service.Evidence(workspace, session, app_id, report)
            image = source.page(int(finding["document"]), int(finding["page"]), False)
            if image is not None and rim:
                seal = next(
                    (
                        s
                        for s in source.documents[int(finding["document"])].get("seals") or []
                        if list(s.get("bbox") or []) == list(bbox)
                    ),
                    None,
                )
                image = source.rim(int(finding["document"]), seal) if seal else None
            elif image is not None:
                image = crop(image, bbox)
        if image is None:
            raise HTTPException(404, "没有图像")
        return _png(image, 900)

    return app


VERIFY_MAX_BYTES = 20 << 20
CHECK_LABELS = {
    "intact": "签名完好",
    "whole_file": "签名覆盖全文",
    "chain": "链到根证书",
    "not_revoked": "未被吊销",
    "newest_version": "最新版本",
}
REASON_LABELS = {
    "keyCompromise": "密钥遗失或泄露（补办）",
    "superseded": "已被新版本替代",
    "affiliationChanged": "单位信息变更",
    "cessationOfOperation": "停止使用",
    "certificateHold": "暂停",
    "privilegeWithdrawn": "资格撤销",
    "unspecified": "未说明",
}


def _credential(workspace: Workspace, serial: str) -> dict[str, Any] | None:
    """What the QR code on an electronic certificate leads to: the certificate's status."""
    from pipeline.errors import NotFound
    from pipeline.issue.ca import normalise_serial
    from pipeline.records.models import Credential

    try:
        wanted = normalise_serial(serial)
    except NotFound:
        return None
    with workspace.session() as session:
        cred = session.scalar(select(Credential).where(Credential.serial == wanted))
        if cred is None:
            return None
        newest = session.scalar(
            select(func.max(Credential.version)).where(Credential.company_uscc == cred.company_uscc)
        )
        app = session.get(Application, cred.application_id)
        return {
            "serial": cred.serial,
            "company": app.company_name if app else "",
            "uscc": cred.company_uscc,
            "version": cred.version,
            "newest": cred.version == newest,
            "newest_version": newest,
            "status": cred.status,
            "reason_label": REASON_LABELS.get(cred.revocation_reason or "", cred.revocation_reason),
            "revoked_at": f"{cred.revoked_at:%Y-%m-%d}" if cred.revoked_at else "",
            "superseded_by": cred.superseded_by,
            "not_before": f"{cred.not_before:%Y-%m-%d %H:%M}",
            "not_after": f"{cred.not_after:%Y-%m-%d %H:%M}",
        }


def _ordered(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: order.get(f.get("severity", ""), 3))


def _png(image: Any, width: int) -> Response:
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return Response(
        buffer.getvalue(), media_type="image/png", headers={"Cache-Control": "private, max-age=60"}
    )


def _safe_next(target: str) -> str:
    """Only a path of this site: never an address elsewhere (an open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


def _take_files(workspace: Workspace, app_id: str, paths: list[Path], actor: str) -> str:
    from pipeline.application import parse_record
    from pipeline.usecases.checking import check_and_save
    from pipeline.usecases.intake import intake_application

    with workspace.session() as session:
        row = session.get(Application, app_id)
        if row is None:
            raise HTTPException(404, f"没有申请 {app_id}")
        record = parse_record(dict(row.record))
    try:
        result = intake_application(workspace, record, paths, actor)
        refused = [f for f in result.files if f.outcome == "rejected"]
        report = check_and_save(workspace, result, actor)
    except SealdeskError as exc:
        return f"未能补交：{exc}"
    verdict = "需人工核对" if report.verdict == "flagged" else "通过"
    said = f"已收到 {len(paths) - len(refused)} 个文件，重新检查：{verdict}"
    if refused:
        said += "；拒收：" + "、".join(f"{f.name}（{f.problem}）" for f in refused)
    return said
