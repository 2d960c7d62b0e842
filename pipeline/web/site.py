"""What every route of the web app shares: the workspace, the signing secret, the sign-in
limiter and the templates (one ``Site`` per app, in ``app.state``), the dependencies that
say who is signed in, and the small helpers of a response."""

from __future__ import annotations

import hmac
import io
import logging
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from pipeline.config import Settings
from pipeline.model.application import KIND_LABELS as APPLICATION_KINDS
from pipeline.model.progress import FILES, PAGES, Progress, silent
from pipeline.records.lifecycle import STATUS_LABELS
from pipeline.records.models import User
from pipeline.records.users import ROLE_LABELS, Role, signed_in_user
from pipeline.review.calendar import beijing
from pipeline.review.evidence import mask_id
from pipeline.review.wording import CODE_LABELS, action_label, difference_of
from pipeline.validate.rules import KIND_NAMES
from pipeline.web import auth
from pipeline.workspace import Workspace

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).parent / "templates"
VIEWERS = frozenset({Role.INTAKE, Role.REVIEWER, Role.REREVIEWER, Role.ADMIN})
"""Roles that may see the queue and the applications."""
SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}

Who = tuple[User, auth.Session]
"""The signed-in user and their session."""


class LoginRequired(Exception):
    """No valid session: the app answers with the sign-in page."""


class Site:
    """The app's shared parts."""

    def __init__(self, settings: Settings, workspace: Workspace) -> None:
        self.settings = settings
        self.workspace = workspace
        self.secret = auth.load_secret(settings.home)
        self.limiter = auth.LoginLimiter()
        self.checks = RunningChecks()
        self.secure_cookie = settings.web.secure_cookies
        self.templates = Jinja2Templates(directory=str(TEMPLATES))
        self.templates.env.filters["mask_id"] = mask_id
        self.templates.env.filters["beijing"] = beijing
        self.templates.env.filters["action"] = action_label
        self.templates.env.globals.update(
            KIND_NAMES=KIND_NAMES,
            APPLICATION_KINDS=APPLICATION_KINDS,
            CODE_LABELS=CODE_LABELS,
            difference_of=difference_of,
            STATUS_LABELS={s.value: label for s, label in STATUS_LABELS.items()},
            SEVERITY_LABELS=SEVERITY_LABELS,
            ROLE_LABELS={r.value: label for r, label in ROLE_LABELS.items()},
        )

    @contextmanager
    def db(self) -> Iterator[Session]:
        with self.workspace.session() as session:
            yield session

    def page(
        self,
        request: Request,
        name: str,
        user: User | None,
        signed: auth.Session | None,
        **ctx: Any,
    ) -> HTMLResponse:
        return self.templates.TemplateResponse(
            request,
            name,
            {"user": user, "csrf": signed.csrf if signed else "", "now": datetime.now(UTC), **ctx},
        )

    def with_form_cookie(self, response: Response, token: str) -> Response:
        """The cookie half of the token a form without a session carries (double submit)."""
        response.set_cookie(
            auth.PRE_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=self.secure_cookie,
            max_age=3600,
        )
        return response


def site(request: Request) -> Site:
    found: Site = request.app.state.site
    return found


def current(request: Request) -> Who:
    """The signed-in user (any role), or the sign-in page."""
    here = site(request)
    signed = auth.decode(here.secret, request.cookies.get(auth.COOKIE))
    if signed is None:
        raise LoginRequired
    with here.db() as session:
        user = signed_in_user(session, signed.token)
        if user is None or user.username != signed.username:
            raise LoginRequired
        session.expunge(user)
    return user, signed


def viewer(request: Request) -> Who:
    """The signed-in user, who must hold a role that may see the queue."""
    user, signed = current(request)
    if not any(user.has(r) for r in VIEWERS):
        raise HTTPException(403, "你的角色不能查看审核队列")
    return user, signed


SignedIn = Annotated[Who, Depends(current)]
"""A route's parameter: the signed-in user, any role."""
Viewer = Annotated[Who, Depends(viewer)]
"""A route's parameter: the signed-in user, who may see the queue."""


def check_csrf(signed: auth.Session, token: str) -> None:
    if not token or not hmac.compare_digest(token, signed.csrf):
        raise HTTPException(403, "表单已失效（CSRF 校验未通过），请刷新页面后重试")


def ordered(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings as a reviewer reads them: errors, then warnings, then the rest."""
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: order.get(f.get("severity", ""), 3))


def png(image: Any, width: int) -> Response:
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return Response(
        buffer.getvalue(), media_type="image/png", headers={"Cache-Control": "private, max-age=60"}
    )


def safe_next(target: str) -> str:
    """Only a path of this site: never an address elsewhere (an open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def quoted(text: str) -> str:
    return quote(text)


APPLICANT = "applicant:"
"""How an applicant's own uploads are recorded (``applicant:APPLICATION_ID``)."""


def take_files(
    workspace: Workspace,
    app_id: str,
    paths: list[Path],
    actor: str,
    progress: Progress = silent,
) -> str:
    """Files sent again after a rejection, taken in as the next round and checked; what
    happened, in a sentence for the screen."""
    from pipeline.errors import SealdeskError
    from pipeline.ingest.problems import in_chinese
    from pipeline.model.application import parse_record
    from pipeline.records.models import Application
    from pipeline.usecases.checking import check_and_save
    from pipeline.usecases.intake import intake_application

    with workspace.session() as session:
        row = session.get(Application, app_id)
        if row is None:
            raise HTTPException(404, f"没有申请 {app_id}")
        record = parse_record(dict(row.record))
    try:
        result = intake_application(workspace, record, paths, actor, progress)
        refused = [f for f in result.files if f.outcome == "rejected"]
        report = check_and_save(workspace, result, actor, progress=progress)
    except SealdeskError as exc:
        return f"未能补交：{exc.zh or exc}"
    said = f"已收到 {len(paths) - len(refused)} 个文件"
    if actor.startswith(APPLICANT):  # the check's verdict is the back office's, not theirs
        said += "，材料已转交审核，结果请留意本页"
    else:
        said += "，重新检查：" + ("需人工核对" if report.verdict == "flagged" else "通过")
    if refused:
        said += "；拒收：" + "、".join(
            f"{f.name}（{in_chinese(f.problem_code, f.problem or '')}）" for f in refused
        )
    return said


@dataclass
class CheckProgress:
    """A check the web app runs in the background: how far it got, and what came of it."""

    stage: str = FILES
    done: int = 0
    total: int = 0
    finished: bool = False
    message: str = ""

    def to_json(self) -> dict[str, object]:
        label = {FILES: "收件", PAGES: "读取页面"}.get(self.stage, self.stage)
        return {
            "running": not self.finished,
            "stage": label,
            "done": self.done,
            "total": self.total,
            "message": self.message,
        }


class RunningChecks:
    """The checks running in this web app's process, by application (one at a time each)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, CheckProgress] = {}

    def get(self, app_id: str) -> CheckProgress | None:
        with self._lock:
            return self._runs.get(app_id)

    def running(self, app_id: str) -> bool:
        state = self.get(app_id)
        return state is not None and not state.finished

    def start(
        self,
        workspace: Workspace,
        app_id: str,
        folder: Path,
        paths: list[Path],
        actor: str,
    ) -> bool:
        """Take the files in and check them in a thread of their own (the files' folder is
        removed after); False when a check of this application is already running."""
        with self._lock:
            running = self._runs.get(app_id)
            if running is not None and not running.finished:
                return False
            state = self._runs[app_id] = CheckProgress(total=len(paths))

        def tick(stage: str, done: int, total: int) -> None:
            state.stage, state.done, state.total = stage, done, total

        def run() -> None:
            try:
                state.message = take_files(workspace, app_id, paths, actor, tick)
            except Exception as exc:  # the page says so; the log has the rest
                log.exception("checking %s failed", app_id)
                state.message = f"未能补交：{getattr(exc, 'detail', None) or exc}"
            finally:
                shutil.rmtree(folder, ignore_errors=True)
                state.finished = True

        threading.Thread(target=run, name=f"check-{app_id}", daemon=True).start()
        return True


async def save_uploads(files: list[UploadFile], limit: int) -> tuple[Path, list[Path]]:
    """The uploaded files in a new private folder (the caller removes it), each under its
    own name's last part; one over ``limit`` bytes is refused (413) and nothing is kept."""
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
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, paths
