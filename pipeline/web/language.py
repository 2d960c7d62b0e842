"""The reader's choice of language (``/language/CODE?next=PATH``): kept in a cookie for a
year, then back to the page they were on. Without a choice, the browser's languages
decide (see ``site.language_for``)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import RedirectResponse, Response

from pipeline.model.messages import LANGUAGES, N_
from pipeline.web.site import LANGUAGE_COOKIE, safe_next

router = APIRouter()


@router.get("/language/{code}")
def choose_language(code: str, next: str = "/") -> Response:
    if code not in LANGUAGES:
        raise HTTPException(404, N_("没有这种语言"))
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 86400, samesite="lax")
    return response
