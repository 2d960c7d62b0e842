"""The applicant's status page (``/status/TOKEN``): per application, a link with an
unguessable token, and the company's credit code typed as a second factor. It shows the
application's state, the date the waiting stage is due, the remarks of a rejection, the
files received per round, and takes corrected files into the next round, checked in the
background while the page shows how far it got. Nothing of the back office (findings,
reviewers) is shown; guesses at the credit code are limited like sign-ins."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import time
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from pipeline.model.messages import N_, translator
from pipeline.records.applications import by_status_token
from pipeline.records.models import Application
from pipeline.review.service import OPEN_TO_APPLICANT, applicant_view
from pipeline.web import auth
from pipeline.web.site import APPLICANT, language_for, save_uploads, site, words

router = APIRouter(prefix="/status/{token}")

COOKIE = "sealdesk_applicant"
SECONDS = 3600
"""How long the applicant's page stays open after the credit code was given."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _pass(secret: bytes, token: str, until: int) -> str:
    return auth.sign(secret, f"applicant|{_digest(token)}|{until}".encode())


def _csrf(secret: bytes, cookie: str) -> str:
    return auth.sign(secret, f"applicant-form|{cookie}".encode())


def _admitted(request: Request, token: str) -> str | None:
    """The applicant's cookie for this link, when it is theirs and fresh."""
    cookie = request.cookies.get(COOKIE) or ""
    until, _, signature = cookie.partition(".")
    if not until.isdigit() or int(until) < time.time():
        return None
    secret = site(request).secret
    return cookie if hmac.compare_digest(_pass(secret, token, int(until)), signature) else None


def _application(request: Request, token: str) -> Application:
    with site(request).db() as session:
        app = by_status_token(session, token)
        if app is None:
            raise HTTPException(404, N_("这个查询链接无效或已失效，请向受理机构索取新的链接。"))
        session.expunge(app)
    return app


@router.get("", response_class=HTMLResponse)
def status_page(request: Request, token: str, message: str = "", error: str = "") -> Response:
    here = site(request)
    app = _application(request, token)
    cookie = _admitted(request, token)
    if cookie is None:
        form = auth.pre_login_token(here.secret)
        page = here.page(
            request, "status_login.html", None, None, token=token, error=error, form=form
        )
        return here.with_form_cookie(page, form)
    with here.db() as session:
        view = applicant_view(session, session.get_one(Application, app.id))
    return here.page(
        request,
        "status.html",
        None,
        None,
        view=view,
        token=token,
        message=message,
        form=_csrf(here.secret, cookie),
        checking=here.checks.running(app.id),
    )


@router.post("")
def give_credit_code(
    request: Request,
    token: str,
    uscc: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    here = site(request)
    if not auth.pre_login_valid(here.secret, request.cookies.get(auth.PRE_COOKIE), csrf):
        raise HTTPException(403, N_("表单已失效，请刷新页面后重试"))
    app = _application(request, token)
    address = request.client.host if request.client else "?"
    keys = (f"user:status:{_digest(token)}", f"addr:{address}")
    if here.limiter.blocked(*keys):
        return Response(words(request)("尝试次数过多，请 15 分钟后再试。"), status_code=429)
    typed = uscc.strip().upper()
    if not hmac.compare_digest(typed.encode(), app.company_uscc.upper().encode()):
        here.limiter.failed(*keys)
        return RedirectResponse(f"/status/{token}?error=1", status_code=303)
    here.limiter.succeeded(*keys)
    until = int(time.time()) + SECONDS
    response = RedirectResponse(f"/status/{token}", status_code=303)
    response.set_cookie(
        COOKIE,
        f"{until}.{_pass(here.secret, token, until)}",
        httponly=True,
        samesite="strict",
        secure=here.secure_cookie,
        max_age=SECONDS,
        path=f"/status/{token}",
    )
    return response


@router.post("/files")
async def upload(
    request: Request,
    token: str,
    files: Annotated[list[UploadFile], File()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Corrected materials after a rejection: the next round, taken in and checked in the
    background (see pipeline.web.site.RunningChecks) while the page shows how far it got."""
    here = site(request)
    cookie = _admitted(request, token)
    if cookie is None:
        return RedirectResponse(f"/status/{token}", status_code=303)
    if not csrf or not hmac.compare_digest(csrf, _csrf(here.secret, cookie)):
        raise HTTPException(403, N_("表单已失效，请刷新页面后重试"))
    app = _application(request, token)
    if app.status not in {s.value for s in OPEN_TO_APPLICANT}:
        raise HTTPException(409, N_("当前不需要补交材料。"))
    folder, paths = await save_uploads(files, here.settings.limits.max_file_bytes)
    language = language_for(request)
    actor = f"{APPLICANT}{app.id}"
    if not here.checks.start(here.workspace, app.id, folder, paths, actor, language):
        shutil.rmtree(folder, ignore_errors=True)
        busy = translator(language)("上次补交的材料还在检查，请等检查完成后再提交。")
        return RedirectResponse(f"/status/{token}?message={quote(busy)}", status_code=303)
    return RedirectResponse(f"/status/{token}", status_code=303)


@router.get("/progress")
def check_progress(request: Request, token: str) -> Response:
    """How far the check of the files just sent got (polled by the page), or
    ``{"running": false}``; only with the applicant's pass for this link."""
    if _admitted(request, token) is None:
        return JSONResponse({"running": False}, status_code=403)
    state = site(request).checks.get(_application(request, token).id)
    return JSONResponse(state.to_json() if state is not None else {"running": False})
