"""Signing in and out. Sign-in is limited per user name and per address (LoginLimiter);
each attempt's form carries a token bound to a cookie (double submit), since there is no
session yet to hold one."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pipeline.errors import ConfigError
from pipeline.model.messages import N_
from pipeline.records.models import User
from pipeline.records.users import (
    MIN_PASSWORD,
    authenticate,
    change_password,
    end_sign_in,
    login_name,
    open_sign_in,
    password_fits,
    refuse_sign_in,
)
from pipeline.web import auth
from pipeline.web.site import (
    VIEWERS,
    check_csrf,
    current,
    safe_next,
    site,
    words,
)

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/", error: str = "", changed: str = "") -> Response:
    here = site(request)
    token = auth.pre_login_token(here.secret)
    response = here.page(
        request,
        "login.html",
        None,
        None,
        next=safe_next(next),
        error=error,
        changed=changed,
        login_token=token,
    )
    return here.with_form_cookie(response, token)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    code: Annotated[str, Form()] = "",
) -> Response:
    here = site(request)
    if not auth.pre_login_valid(here.secret, request.cookies.get(auth.PRE_COOKIE), csrf):
        raise HTTPException(403, N_("登录表单已失效，请刷新页面后重试"))
    address = request.client.host if request.client else "?"
    name = login_name(username)
    keys = (f"user:{name}", f"addr:{address}")
    if here.limiter.blocked(*keys):
        with here.db() as session:
            refuse_sign_in(session, name, "web", "refused", address)
        return Response(words(request)("登录失败次数过多，请 15 分钟后再试。"), status_code=429)
    with here.db() as session:
        user = authenticate(session, name, password, code or None)
        if user is not None:
            lasting = timedelta(seconds=auth.SESSION_SECONDS)
            token = open_sign_in(session, user, via="web", lasting=lasting)
        else:
            refuse_sign_in(session, name, "web", "failed", address)
    if user is None:
        here.limiter.failed(*keys)
        return RedirectResponse(f"/login?error=1&next={safe_next(next)}", status_code=303)
    here.limiter.succeeded(*keys)
    signed = auth.new_session(user.username, token)
    target = safe_next(next)
    if target == "/" and not any(user.has(r) for r in VIEWERS):
        target = "/certificates"  # an issuer's work is there, not in the review queue
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        auth.COOKIE,
        auth.encode(here.secret, signed),
        httponly=True,
        samesite="strict",
        secure=here.secure_cookie,
        max_age=auth.SESSION_SECONDS,
    )
    response.delete_cookie(auth.PRE_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    _, signed = current(request)
    check_csrf(signed, csrf)
    with site(request).db() as session:
        end_sign_in(session, signed.token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.COOKIE)
    return response


@router.get("/password", response_class=HTMLResponse)
def password_form(request: Request, error: str = "") -> Response:
    user, signed = current(request)
    return site(request).page(
        request, "password.html", user, signed, error=error, min_length=MIN_PASSWORD
    )


@router.post("/password")
def password(
    request: Request,
    current_password: Annotated[str, Form(alias="current")] = "",
    new: Annotated[str, Form()] = "",
    again: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Change one's own password: every sign-in of that person ends, this one too."""
    user, signed = current(request)
    check_csrf(signed, csrf)
    here = site(request)

    _ = words(request)

    def again_with(error: str) -> Response:
        page = here.page(
            request, "password.html", user, signed, error=error, min_length=MIN_PASSWORD
        )
        page.status_code = 400
        return page

    if new != again:
        return again_with(_("两次输入的新密码不一致。"))
    with here.db() as session:
        if password_fits(session, user.username, current_password) is None:
            return again_with(_("当前密码不正确。"))
        try:
            change_password(session, session.get_one(User, user.username), new, user.username)
        except ConfigError:
            return again_with(_("新密码至少需要 {n} 个字符。").format(n=MIN_PASSWORD))
    response = RedirectResponse("/login?changed=1", status_code=303)
    response.delete_cookie(auth.COOKIE)
    return response
