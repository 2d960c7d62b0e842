"""The RA's screens: certificates found by company name, credit code or serial; one
certificate with its company's versions (renewals 更新 and replacements 补办, each
superseding the one before) and applications; and revocation with an RFC 5280 reason and
the officer's remarks, an issuer's or admin's decision, audited, the new CRL published at
once."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pipeline.errors import NotFound, SealdeskError
from pipeline.model.messages import N_, say
from pipeline.records.issuances import (
    applications_of,
    credential,
    credentials,
    search_credentials,
)
from pipeline.records.models import Application, Credential, User
from pipeline.records.users import Role
from pipeline.review.calendar import beijing
from pipeline.web.site import (
    VIEWERS,
    Who,
    check_csrf,
    current,
    error_words,
    language_for,
    site,
    words,
)
from pipeline.web.verification import REASON_LABELS

router = APIRouter()
log = logging.getLogger(__name__)

RA_VIEWERS = VIEWERS | {Role.ISSUER}
REVOKERS = (Role.ISSUER, Role.ADMIN)
RA_REASONS = (
    "keyCompromise",
    "affiliationChanged",
    "cessationOfOperation",
    "privilegeWithdrawn",
    "unspecified",
)
"""What an officer may give: superseded is the renewal's own, certificateHold is never
lifted here (a hold would need unrevoking)."""


def _ra(request: Request) -> Who:
    user, signed = current(request)
    if not any(user.has(r) for r in RA_VIEWERS):
        raise HTTPException(403, N_("你的角色不能查看证书"))
    return user, signed


def _row(cred: Credential, company: str) -> dict[str, Any]:
    revoked = cred.status == "revoked"
    reason = REASON_LABELS.get(cred.revocation_reason or "", cred.revocation_reason or "")
    return {
        "serial": cred.serial,
        "company": company,
        "uscc": cred.company_uscc,
        "version": cred.version,
        "application": cred.application_id,
        "not_before": beijing(cred.not_before, "%Y-%m-%d"),
        "not_after": beijing(cred.not_after, "%Y-%m-%d"),
        "revoked": revoked,
        "status": say("已吊销（{reason}）", reason=say(reason)) if revoked else say("有效"),
        "revoked_at": beijing(cred.revoked_at, "%Y-%m-%d %H:%M") if cred.revoked_at else "",
        "superseded_by": cred.superseded_by or "",
        "key_serial": cred.token_serial,
    }


def _company(session: Any, cred: Credential) -> str:
    app = session.get(Application, cred.application_id)
    return app.company_name if app else ""


@router.get("/certificates", response_class=HTMLResponse)
def certificate_search(request: Request, q: str = "") -> Response:
    user, signed = _ra(request)
    here = site(request)
    with here.db() as session:
        rows = [_row(c, _company(session, c)) for c in search_credentials(session, q)]
    return here.page(request, "certificates.html", user, signed, rows=rows, q=q)


@router.get("/certificates/{serial}", response_class=HTMLResponse)
def certificate_page(request: Request, serial: str, error: str = "", done: str = "") -> Response:
    user, signed = _ra(request)
    return _certificate(request, user, signed, serial, error=error, done=done)


def _certificate(
    request: Request, user: User, signed: Any, serial: str, status: int = 200, **ctx: Any
) -> Response:
    here = site(request)
    with here.db() as session:
        cred = credential(session, serial.lower())
        if cred is None:
            raise HTTPException(404, say("没有序列号为 {serial} 的证书", serial=serial))
        row = _row(cred, _company(session, cred))
        versions = [_row(c, _company(session, c)) for c in credentials(session, cred.company_uscc)]
        apps = [
            {
                "id": a.id,
                "kind": a.kind,
                "status": a.status,
                "round": a.round,
                "created": beijing(a.created_at, "%Y-%m-%d"),
            }
            for a in applications_of(session, cred.company_uscc)
        ]
    page = here.page(
        request,
        "certificate.html",
        user,
        signed,
        cert=row,
        versions=versions,
        applications=apps,
        may_revoke=any(user.has(r) for r in REVOKERS) and not row["revoked"],
        reasons=[(r, REASON_LABELS[r]) for r in RA_REASONS],
        **ctx,
    )
    page.status_code = status
    return page


@router.post("/certificates/{serial}/revoke")
def revoke_certificate(
    request: Request,
    serial: str,
    csrf: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    remarks: Annotated[str, Form()] = "",
) -> Response:
    """Revoke, publish the CRL, in one transaction: if the CRL cannot be signed (the HSM
    away), nothing is recorded and the page says why."""
    from pipeline.issue.ca import load_ca, publish_crl, revoke

    user, signed = _ra(request)
    check_csrf(signed, csrf)
    _ = words(request)
    if not any(user.has(r) for r in REVOKERS):
        raise HTTPException(403, N_("只有制证人员或管理员可以吊销证书"))
    if reason not in RA_REASONS:
        return _certificate(request, user, signed, serial, 400, error=_("请选择吊销原因。"))
    if not remarks.strip():
        why = _("请写明吊销的依据（申请人来函、核实情况等）。")
        return _certificate(request, user, signed, serial, 400, error=why)
    here = site(request)
    try:
        authority = load_ca(here.settings)
        with here.db() as session:
            cred = revoke(session, serial, reason, user.username, remarks=remarks.strip())
            number = publish_crl(session, authority, user.username).number
            serial = cred.serial
    except NotFound as exc:
        raise HTTPException(404, error_words(exc, language_for(request))) from exc
    except SealdeskError as exc:
        log.warning("revoking %s failed: %s", serial, exc)
        why = error_words(exc, language_for(request)) or _(
            "CA 的签名令牌不可用，或证书状态已有变化；未作任何更改。"
        )
        return _certificate(
            request, user, signed, serial, 409, error=_("未能吊销：{why}").format(why=why)
        )
    return RedirectResponse(f"/certificates/{serial}?done={number}", status_code=303)
