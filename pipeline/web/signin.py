"""Signing in and out. Sign-in is limited per user name and per address (LoginLimiter);
each attempt's form carries a token bound to a cookie (double submit), since there is no
session yet to hold one."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pipeline.records.users import (
    authenticate,
    end_sign_in,
    login_name,
    open_sign_in,
    refuse_sign_in,
)
from pipeline.web import auth
from pipeline.web.site import check_csrf, current, safe_next, site

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/", error: str = "") -> Response:
    here = site(request)
    token = auth.pre_login_token(here.secret)
    response = here.page(
        request, "login.html", None, None, next=safe_next(next), error=error, login_token=token
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
        raise HTTPException(403, "登录表单已失效，请刷新页面后重试")
    address = request.client.host if request.client else "?"
    name = login_name(username)
    keys = (f"user:{name}", f"addr:{address}")
    if here.limiter.blocked(*keys):
        with here.db() as session:
            refuse_sign_in(session, name, "web", "refused", address)
        return Response("登录失败次数过多，请 15 分钟后再试。", status_code=429)
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
    response = RedirectResponse(safe_next(next), status_code=303)
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
