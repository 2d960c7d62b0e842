"""One application: its findings with their evidence, its pages with the boxes of what was
read, the decision of a review stage, files sent again after a rejection, the packet.
Images are served by application, document and page number, never by a path."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from pipeline.errors import OverrideNeeded, SealdeskError
from pipeline.model.messages import N_, say, translator
from pipeline.records.lifecycle import Status
from pipeline.records.models import Application, User
from pipeline.records.users import Role
from pipeline.review import queue as review_queue
from pipeline.review import scope, service
from pipeline.review.evidence import crop
from pipeline.review.wording import CODE_LABELS, action_label
from pipeline.web.site import (
    SignedIn,
    Viewer,
    check_csrf,
    error_words,
    language_for,
    ordered,
    png,
    quoted,
    save_uploads,
    site,
    words,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter(prefix="/applications/{app_id}")


def _load(session: Session, app_id: str, user: User) -> Application:
    """The application, if ``user``'s organisation may see it (an issuing authority sees
    its own region's; to anyone else it is as if there were none)."""
    row = session.get(Application, app_id)
    if row is None or not scope.sees(user, row):
        raise HTTPException(404, say("没有申请 {id}", id=app_id))
    return row


def _report(session: Session, app_id: str, user: User) -> dict[str, Any]:
    """The latest check's report of the application's round (404 before any)."""
    run = service.latest_report(session, _load(session, app_id, user))
    if run is None:
        raise HTTPException(404, N_("尚未检查"))
    return dict(run.report)


def _back(app_id: str, message: str, refused: bool = False) -> Response:
    """Back to the application's page with ``message`` shown (as an error if ``refused``)."""
    kind = "&refused=1" if refused else ""
    return RedirectResponse(
        f"/applications/{app_id}?message=" + quoted(message) + kind, status_code=303
    )


@router.get("", response_class=HTMLResponse)
def application_page(
    request: Request, app_id: str, who: Viewer, message: str = "", refused: int = 0
) -> Response:
    here = site(request)
    user, signed = who
    with here.db() as session:
        row = _load(session, app_id, user)
        run = service.latest_report(session, row)
        report = dict(run.report) if run is not None else {"documents": [], "findings": []}
        ctx = {
            "app": service.summary(session, row),
            "record": dict(row.record),
            # each with its number in the report, which an override names
            "findings": ordered(
                [{**f, "number": n} for n, f in enumerate(report.get("findings") or [], 1)]
            ),
            "documents": report.get("documents") or [],
            # in every image's address: a document's or finding's number means another one
            # after a new check, and a browser must not show the old image from its cache
            "check": run.id if run is not None else 0,
            "decisions": service.decisions(session, row),
            "history": review_queue.history(session, app_id),
            "blocked": service.can_decide(session, user, row),
            "stage": service.stage_waiting(row),
            "can_upload": user.has(Role.INTAKE)
            and Status(row.status) in (Status.PREREVIEW_FAILED, Status.REREVIEW_FAILED),
            "message": message,
            "refused": bool(refused),
            "checking": here.checks.running(app_id),
        }
    return here.page(request, "application.html", user, signed, **ctx)


@router.post("/decision")
async def decision(
    request: Request,
    app_id: str,
    action: Annotated[str, Form()],
    who: Viewer,
    csrf: Annotated[str, Form()] = "",
    remarks: Annotated[str, Form()] = "",
) -> Response:
    """核验 or 复核 decided; an approval carries a remark (override-N) for each error finding."""
    user, signed = who
    check_csrf(signed, csrf)
    if action not in ("approve", "reject"):
        raise HTTPException(400, N_("未知的操作：只能通过或退回。"))
    form = await request.form()
    overrides = {
        int(key.removeprefix("override-")): str(value)
        for key, value in form.items()
        if key.startswith("override-") and key.removeprefix("override-").isdigit()
    }
    approve = action == "approve"
    _ = words(request)
    try:
        with site(request).db() as session:
            made = service.decide(
                session, user, app_id, approve, remarks, overrides if approve else None
            )
            said = _(action_label(f"review.{made.stage}.{made.decision}"))
    except OverrideNeeded as exc:
        listed = _("、").join(
            _("第 {n} 项（{code}）").format(n=n, code=_(CODE_LABELS.get(code, code)))
            for n, code in exc.missing
        )
        said = _("未能记录：{listed}为错误，通过前须逐条写明为何不影响通过；否则请退回。")
        return _back(app_id, said.format(listed=listed), refused=True)
    except SealdeskError as exc:
        why = error_words(exc, language_for(request)) or _(
            "操作未被接受。请刷新页面后重试；如仍不行，请联系管理员。"
        )
        return _back(app_id, _("未能记录：{why}").format(why=why), refused=True)
    return _back(app_id, _("已记录：{what}").format(what=said))


@router.post("/files")
async def resubmit(
    request: Request,
    app_id: str,
    csrf: Annotated[str, Form()],
    files: Annotated[list[UploadFile], File()],
    who: SignedIn,
) -> Response:
    """Files the applicant sent again after a rejection: taken in, then checked."""
    here = site(request)
    user, signed = who
    check_csrf(signed, csrf)
    if not user.has(Role.INTAKE):
        raise HTTPException(403, N_("只有收件人员可以补交文件"))
    with here.db() as session:
        _load(session, app_id, user)
    folder, paths = await save_uploads(files, here.settings.limits.max_file_bytes)
    language = language_for(request)
    if not here.checks.start(here.workspace, app_id, folder, paths, user.username, language):
        shutil.rmtree(folder, ignore_errors=True)
        busy = translator(language)("未能补交：这份申请正在检查，请稍候再试。")
        return _back(app_id, busy, refused=True)
    return RedirectResponse(f"/applications/{app_id}", status_code=303)


@router.get("/progress")
def check_progress(request: Request, app_id: str, who: Viewer) -> Response:
    """How far the check the web app is running for this application got (polled by the
    page), or ``{"running": false}``."""
    with site(request).db() as session:
        _load(session, app_id, who[0])
    state = site(request).checks.get(app_id)
    return JSONResponse(state.to_json() if state is not None else {"running": False})


@router.get("/packet.pdf")
def packet(request: Request, app_id: str, who: Viewer) -> Response:
    here = site(request)
    with here.db() as session:
        _load(session, app_id, who[0])
    path = service.write_packet(here.workspace, app_id, language=language_for(request))
    return FileResponse(path, media_type="application/pdf", filename=f"{app_id}-packet.pdf")


@router.get("/documents/{document}/pages/{number}.png")
def page_image(
    request: Request,
    app_id: str,
    document: int,
    number: int,
    who: Viewer,
    width: int = 1400,
) -> Response:
    here = site(request)
    with here.db() as session:
        report = _report(session, app_id, who[0])
        source = service.Evidence(here.workspace, session, app_id, report)
        image = source.page(document, number, True)
    if image is None:
        raise HTTPException(404, N_("没有这一页"))
    return png(image, max(200, min(width, 2400)))


@router.get("/findings/{index}/crop.png")
def finding_crop(request: Request, app_id: str, index: int, who: Viewer, rim: int = 0) -> Response:
    here = site(request)
    with here.db() as session:
        report = _report(session, app_id, who[0])
        findings = ordered(report.get("findings") or [])
        if not 0 <= index < len(findings):
            raise HTTPException(404, N_("没有这一项"))
        finding = findings[index]
        bbox = (finding.get("evidence") or {}).get("bbox")
        if finding.get("document") is None or not bbox or not finding.get("page"):
            raise HTTPException(404, N_("这一项没有图像证据"))
        source = service.Evidence(here.workspace, session, app_id, report)
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
        raise HTTPException(404, N_("没有图像"))
    return png(image, 900)
