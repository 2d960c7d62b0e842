"""Public certificate verification, without sign-in: a PDF uploaded (``/verify``) and the
status of a certificate by its serial (``/verify/SERIAL``, where an electronic
certificate's QR code leads)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from pipeline.model.messages import N_, say
from pipeline.records.issuances import credential, newest_credential
from pipeline.records.models import Application
from pipeline.review.calendar import beijing
from pipeline.web import auth
from pipeline.web.site import site, words
from pipeline.workspace import Workspace

router = APIRouter()

VERIFY_MAX_BYTES = 20 << 20
CHECK_LABELS = {
    "intact": N_("签名完好"),
    "whole_file": N_("签名覆盖全文"),
    "chain": N_("链到根证书"),
    "timestamp": N_("可信时间戳"),
    "not_revoked": N_("未被吊销"),
    "newest_version": N_("最新版本"),
}
REASON_LABELS = {
    "keyCompromise": N_("密钥遗失或泄露（补办）"),
    "superseded": N_("已被新版本替代"),
    "affiliationChanged": N_("单位信息变更"),
    "cessationOfOperation": N_("停止使用"),
    "certificateHold": N_("暂停"),
    "privilegeWithdrawn": N_("资格撤销"),
    "unspecified": N_("未说明"),
}


def _page(request: Request, **ctx: Any) -> Response:
    here = site(request)
    _ = words(request)
    token = auth.pre_login_token(here.secret)
    response = here.page(
        request,
        "verify.html",
        None,
        None,
        form_token=token,
        max_mb=VERIFY_MAX_BYTES >> 20,
        CHECK_LABELS={k: _(v) for k, v in CHECK_LABELS.items()},
        **ctx,
    )
    return here.with_form_cookie(response, token)


@router.get("/verify", response_class=HTMLResponse)
def verify_form(request: Request) -> Response:
    return _page(request)


@router.get("/verify/{serial}", response_class=HTMLResponse)
def verify_serial(request: Request, serial: str) -> Response:
    credential = _credential(site(request).workspace, serial)
    return _page(request, serial=serial[:80], credential=credential)


@router.post("/verify", response_class=HTMLResponse)
def verify_upload(
    request: Request, file: UploadFile, csrf: Annotated[str, Form()] = ""
) -> Response:
    here = site(request)
    if not auth.pre_login_valid(here.secret, request.cookies.get(auth.PRE_COOKIE), csrf):
        raise HTTPException(403, N_("表单已失效，请刷新页面后重试"))
    from pipeline.issue.verify import registry_for, verify_pdf

    # a plain function (run in a worker thread): pyHanko's validation runs its own loop
    data = file.file.read(VERIFY_MAX_BYTES + 1)
    if len(data) > VERIFY_MAX_BYTES:
        raise HTTPException(413, say("文件超过 {n} MB 的上限", n=VERIFY_MAX_BYTES >> 20))
    with tempfile.TemporaryDirectory(prefix="sealdesk-verify-") as folder:
        path = Path(folder) / "upload.pdf"
        path.write_bytes(data)
        result = verify_pdf(path, registry_for(here.settings, [], workspace=here.workspace))
    name = Path(file.filename or "upload.pdf").name[:120]
    return _page(request, result=result, filename=name)


def _credential(workspace: Workspace, serial: str) -> dict[str, Any] | None:
    """What the QR code on an electronic certificate leads to: the certificate's status."""
    from pipeline.errors import NotFound
    from pipeline.issue.ca import normalise_serial

    try:
        wanted = normalise_serial(serial)
    except NotFound:
        return None
    with workspace.session() as session:
        cred = credential(session, wanted)
        if cred is None:
            return None
        newest = newest_credential(session, cred.company_uscc)
        app = session.get(Application, cred.application_id)
        return {
            "serial": cred.serial,
            "company": app.company_name if app else "",
            "uscc": cred.company_uscc,
            "version": cred.version,
            "newest": newest is not None and cred.version == newest.version,
            "newest_version": newest.version if newest is not None else None,
            "status": cred.status,
            "reason_label": REASON_LABELS.get(cred.revocation_reason or "", cred.revocation_reason),
            "revoked_at": beijing(cred.revoked_at, "%Y-%m-%d %H:%M") if cred.revoked_at else "",
            "superseded_by": cred.superseded_by,
            "not_before": beijing(cred.not_before),
            "not_after": beijing(cred.not_after),
        }
