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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from pipeline.config import Settings
from pipeline.model.application import KIND_LABELS as APPLICATION_KINDS
from pipeline.model.messages import (
    DEFAULT,
    LANGUAGES,
    N_,
    NP_,
    Say,
    catalogue,
    language_of,
    say,
    translator,
)
from pipeline.model.progress import FILES, PAGES, Progress, silent
from pipeline.records.lifecycle import STATUS_LABELS
from pipeline.records.models import User
from pipeline.records.users import ROLE_LABELS, Role, signed_in_user
from pipeline.review.calendar import beijing
from pipeline.review.evidence import mask_id
from pipeline.review.wording import CODE_LABELS, action_label, difference_of, told_finding
from pipeline.validate.rules import KIND_NAMES
from pipeline.web import auth
from pipeline.workspace import Workspace

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).parent / "templates"
VIEWERS = frozenset({Role.INTAKE, Role.REVIEWER, Role.REREVIEWER, Role.ADMIN})
"""Roles that may see the queue and the applications."""
SEVERITY_LABELS = {"error": N_("错误"), "warning": N_("警告"), "info": N_("提示")}

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
        self.templates.env.filters["label"] = lambda key, labels: labels.get(key, key)
        self.templates.env.globals.update(LANGUAGES=LANGUAGES)

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
        """A template rendered in the reader's language (see ``language``): ``_`` and the
        code labels come translated, ``told`` tells a finding or sentence in it."""
        language = language_for(request)
        _ = translator(language)
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return self.templates.TemplateResponse(
            request,
            name,
            {
                "user": user,
                "csrf": signed.csrf if signed else "",
                "now": datetime.now(UTC),
                "_": _,
                "pgettext": catalogue(language).pgettext,
                "lang": language,
                "lang_tag": language.replace("_", "-"),
                "here": quote(here, safe=""),
                "told": lambda item: told(item, language),
                "action": lambda code: action_label(code, language),
                "difference_of": lambda code, ev: difference_of(code, ev, language),
                **labels(language),
                **ctx,
            },
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


LANGUAGE_COOKIE = "lang"


def language_for(request: Request) -> str:
    """The reader's language: the one they chose (a cookie), else the first their browser
    asks for that we have, else Chinese."""
    return language_of(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))


def words(request: Request) -> Callable[[str], str]:
    """``_`` in the reader's language."""
    return translator(language_for(request))


def labels(language: str) -> dict[str, dict[str, str]]:
    """The code labels a template shows, translated."""
    _ = translator(language)
    tables = {
        "KIND_NAMES": KIND_NAMES,
        "APPLICATION_KINDS": APPLICATION_KINDS,
        "CODE_LABELS": CODE_LABELS,
        "STATUS_LABELS": {s.value: label for s, label in STATUS_LABELS.items()},
        "SEVERITY_LABELS": SEVERITY_LABELS,
    }
    translated = {name: {k: _(v) for k, v in table.items()} for name, table in tables.items()}
    in_roles = catalogue(language).pgettext
    translated["ROLE_LABELS"] = {r.value: in_roles("role", v) for r, v in ROLE_LABELS.items()}
    return translated


def told(item: Any, language: str) -> str:
    """A finding (its kept sentence), a sentence or a plain string, in ``language``. A
    finding recorded before sentences were kept has only its Chinese message: in another
    language nothing is shown of it (its title and evidence still are)."""
    if isinstance(item, Say):
        return item.told(language)
    if isinstance(item, Mapping):
        return told_finding(item, language)
    return "" if item is None else str(item)


GENERIC_REFUSALS = {
    400: N_("请求有误。"),
    403: N_("没有权限。"),
    404: N_("没有这个页面。"),
    405: N_("不支持这种操作。"),
    413: N_("文件太大。"),
    422: N_("表单内容不完整或有误，请检查后重新提交。"),
}


def refusal_page(
    request: Request, status: int, detail: Any, headers: Mapping[str, str] | None = None
) -> Response:
    """A refusal told in the reader's language: an error page for a browser, JSON for a
    script. A bare HTTP phrase ("Not Found") becomes a sentence of our own."""
    language = language_for(request)
    if not isinstance(detail, Say) and str(detail) == _phrase(status):
        detail = GENERIC_REFUSALS.get(status, N_("请求未被接受。"))
    text = told(detail, language) if isinstance(detail, Say) else translator(language)(str(detail))
    if "text/html" in request.headers.get("accept", ""):
        page = site(request).page(request, "error.html", None, None, status=status, detail=text)
        page.status_code = status
        page.headers.update(headers or {})
        return page
    return JSONResponse({"detail": text}, status_code=status, headers=dict(headers or {}))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


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
        raise HTTPException(403, N_("你的角色不能查看审核队列"))
    return user, signed


SignedIn = Annotated[Who, Depends(current)]
"""A route's parameter: the signed-in user, any role."""
Viewer = Annotated[Who, Depends(viewer)]
"""A route's parameter: the signed-in user, who may see the queue."""


def check_csrf(signed: auth.Session, token: str) -> None:
    if not token or not hmac.compare_digest(token, signed.csrf):
        raise HTTPException(403, N_("表单已失效（CSRF 校验未通过），请刷新页面后重试"))


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
    language: str = DEFAULT,
) -> str:
    """Files sent again after a rejection, taken in as the next round and checked; what
    happened, in a sentence for the screen (in ``language``)."""
    from pipeline.errors import SealdeskError
    from pipeline.ingest.problems import refusal
    from pipeline.model.application import parse_record
    from pipeline.records.models import Application
    from pipeline.usecases.checking import check_and_save
    from pipeline.usecases.intake import intake_application

    _ = translator(language)
    with workspace.session() as session:
        row = session.get(Application, app_id)
        if row is None:
            raise HTTPException(404, say("没有申请 {id}", id=app_id))
        record = parse_record(dict(row.record))
    try:
        result = intake_application(workspace, record, paths, actor, progress)
        refused = [f for f in result.files if f.outcome == "rejected"]
        report = check_and_save(workspace, result, actor, progress=progress)
    except SealdeskError as exc:
        return _("未能补交：{why}").format(why=error_words(exc, language))
    taken = len(paths) - len(refused)
    if actor.startswith(APPLICANT):  # the check's verdict is the back office's, not theirs
        said = _("已收到 {n} 个文件，材料已转交审核，结果请留意本页").format(n=taken)
    elif report.verdict == "flagged":
        said = _("已收到 {n} 个文件，重新检查：需人工核对").format(n=taken)
    else:
        said = _("已收到 {n} 个文件，重新检查：通过").format(n=taken)
    if refused:
        listed = _("、").join(
            _("{name}（{why}）").format(name=f.name, why=refusal(f.problem_code).told(language))
            for f in refused
        )
        said += _("；拒收：{files}").format(files=listed)
    return said


def error_words(exc: BaseException, language: str) -> str:
    """An error of sealdesk's as a person reading ``language`` is told it: its Chinese
    sentence (``zh``) or its English one (``str``)."""
    chinese = getattr(exc, "zh", "")
    return chinese if language == DEFAULT and chinese else str(exc)


@dataclass
class CheckProgress:
    """A check the web app runs in the background: how far it got, and what came of it."""

    stage: str = FILES
    done: int = 0
    total: int = 0
    finished: bool = False
    message: str = ""
    language: str = DEFAULT

    def to_json(self) -> dict[str, object]:
        label = {FILES: NP_("progress", "收件"), PAGES: NP_("progress", "读取页面")}
        return {
            "running": not self.finished,
            "stage": catalogue(self.language).pgettext("progress", label.get(self.stage, "")),
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
        language: str = DEFAULT,
    ) -> bool:
        """Take the files in and check them in a thread of their own (the files' folder is
        removed after); False when a check of this application is already running."""
        with self._lock:
            running = self._runs.get(app_id)
            if running is not None and not running.finished:
                return False
            state = self._runs[app_id] = CheckProgress(total=len(paths), language=language)

        def tick(stage: str, done: int, total: int) -> None:
            state.stage, state.done, state.total = stage, done, total

        def run() -> None:
            try:
                state.message = take_files(workspace, app_id, paths, actor, tick, language)
            except Exception as exc:  # the page says so; the log has the rest
                log.exception("checking %s failed", app_id)
                why = told(getattr(exc, "detail", None), language) or error_words(exc, language)
                state.message = translator(language)("未能补交：{why}").format(why=why)
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
                        raise HTTPException(
                            413, say("{name} 超过 {n} MB 的上限", name=name, n=limit // (1 << 20))
                        )
                    out.write(chunk)
            paths.append(target)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, paths
