"""Review as the CLI and the web app both do it: who may decide which stage, the decision
recorded under dual control, the packet kept up to date with the files."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from pipeline.errors import LifecycleError, NotFound, OverrideNeeded, PermissionDenied
from pipeline.model.messages import DEFAULT, N_, Say, say
from pipeline.records import lifecycle
from pipeline.records.applications import decisions_of, latest_check
from pipeline.records.database import Session
from pipeline.records.issuances import revoked_of
from pipeline.records.lifecycle import STATUS_LABELS, Status
from pipeline.records.models import Application, CheckRun, ReviewDecision, User
from pipeline.records.users import Role
from pipeline.review import evidence, scope
from pipeline.review.packet import PacketData, render_packet
from pipeline.review.queue import STAGE_LABELS, item_for
from pipeline.workspace import Workspace

STAGE_ROLES = {"prereview": Role.REVIEWER, "rereview": Role.REREVIEWER}
STAGE_OF = {Status.CHECKED: "prereview", Status.PREREVIEW_PASSED: "rereview"}


def stage_waiting(app: Application) -> str | None:
    return STAGE_OF.get(Status(app.status))


def can_decide(session: Session, user: User, app: Application) -> Say | None:
    """Why ``user`` may not decide ``app`` now, or None when they may (for the web page,
    which offers the buttons only to someone who may press them)."""
    stage = stage_waiting(app)
    if stage is None:
        status = say(STATUS_LABELS[Status(app.status)])
        return say("{id} 当前{status}，无待办审核", id=app.id, status=status)
    elsewhere = scope.outside(user, app, stage)
    if elsewhere is not None:
        return elsewhere
    role = STAGE_ROLES[stage]
    if not user.has(role):
        stage_name = say(STAGE_LABELS[stage])
        return say(
            "{user} 没有{stage}权限（{role}）",
            user=user.username,
            stage=stage_name,
            role=role.value,
        )
    if user.username == app.received_by:
        return say("{user} 是本申请的收件人，不能审核（双人控制）", user=user.username)
    if any(d.actor == user.username and d.round == app.round for d in app_decisions(session, app)):
        return say("{user} 已完成本轮另一审核环节，须由另一人审核（双人控制）", user=user.username)
    return None


def app_decisions(session: Session, app: Application) -> list[ReviewDecision]:
    return decisions_of(session, app.id)


def error_findings(session: Session, app: Application) -> list[tuple[int, dict[str, Any]]]:
    """(1-based place in the newest check report of the round, finding) of each error: what
    an approval must acknowledge one by one."""
    return _errors(latest_check(session, app))


def _errors(run: CheckRun | None) -> list[tuple[int, dict[str, Any]]]:
    findings = list((run.report if run else {}).get("findings") or [])
    return [(n, f) for n, f in enumerate(findings, 1) if f.get("severity") == "error"]


def acknowledged(
    session: Session, app: Application, overrides: Mapping[int, str]
) -> list[dict[str, Any]]:
    """The overrides an approval records: every error finding of the round's newest check
    report with the reviewer's remark on why it does not stand in the way. An approval that
    leaves one unremarked, or names a finding that is no error, is refused: a defective
    application must not pass 核验 or 复核 as if it were clean."""
    run = latest_check(session, app)
    errors = dict(_errors(run))
    remarks = {n: r.strip() for n, r in overrides.items()}
    strays = sorted(n for n in remarks if n not in errors)
    if strays:
        raise LifecycleError(
            f"{app.id}: finding(s) {', '.join(map(str, strays))} are not errors of the newest "
            "check report; only errors are overridden (sealdesk review show lists them)",
            zh=f"第 {'、'.join(map(str, strays))} 项不是最新检查结果中的错误：请刷新页面后重试。",
        )
    missing = [n for n in errors if not remarks.get(n)]
    if missing:
        listed = "; ".join(f"{n} {errors[n]['code']}" for n in missing)
        raise OverrideNeeded(
            f"{app.id} has error finding(s) without a remark: {listed}. Approving over an error "
            "needs, for each, why it does not stand in the way (--override N='remark'); "
            "otherwise reject it with what the applicant must fix",
            [(n, str(errors[n]["code"])) for n in missing],
        )
    return [
        {
            "check_run": run.id if run else None,
            "finding": n,
            "code": errors[n]["code"],
            "message": errors[n]["message"],
            "remark": remarks[n],
        }
        for n in sorted(errors)
    ]


def decide(
    session: Session,
    user: User,
    app_id: str,
    approve: bool,
    remarks: str = "",
    overrides: Mapping[int, str] | None = None,
) -> ReviewDecision:
    """Approve or reject the stage ``app_id`` waits for, as ``user``; an approval over error
    findings needs a remark for each (see :func:`acknowledged`)."""
    app = session.get(Application, app_id)
    if app is None:
        raise NotFound(f"no application {app_id}")
    if not user.active:
        raise PermissionDenied(f"{user.username} is disabled", zh=f"{user.username} 已停用。")
    stage = stage_waiting(app)
    if stage is not None and not user.has(STAGE_ROLES[stage]):
        raise PermissionDenied(
            f"{user.username} lacks the {STAGE_ROLES[stage].value} role needed for "
            f"{'核验' if stage == 'prereview' else '复核'}",
            zh=f"{user.username} 没有{'核验' if stage == 'prereview' else '复核'}权限。",
        )
    if stage is None:
        raise LifecycleError(
            f"{app.id} is {app.status} ({STATUS_LABELS[Status(app.status)]}): "
            "it waits for no review",
            zh=f"{app.id} 当前{STATUS_LABELS[Status(app.status)]}，无待办审核。",
        )
    elsewhere = scope.outside(user, app, stage)
    if elsewhere is not None:
        raise PermissionDenied(
            f"{user.username} belongs to {user.organisation}: {app.id}'s "
            f"{'核验' if stage == 'prereview' else '复核'} is not theirs to decide",
            zh=elsewhere.told() + "。",
        )
    if not approve and overrides:
        raise LifecycleError(
            "a rejection overrides nothing: its remarks say what to fix",
            zh="退回时无须逐条说明错误：请在备注中写明申请人要改正什么。",
        )
    over = acknowledged(session, app, overrides or {}) if approve else []
    return lifecycle.decide(session, app, stage, approve, user.username, remarks, over)


def latest_report(session: Session, app: Application) -> CheckRun | None:
    return latest_check(session, app)


def summary(session: Session, app: Application, now: datetime | None = None) -> dict[str, Any]:
    """The application as the packet's cover and the web page show it."""
    now = now or datetime.now(UTC)
    record = dict(app.record)
    item = item_for(session, app)
    contact = record.get("contact") or {}
    agent = record.get("agent") or None
    return {
        "id": app.id,
        "company": app.company_name,
        "uscc": app.company_uscc,
        "scheme": app.scheme,
        "kind": app.kind,
        "status": app.status,
        "status_label": (
            N_("已吊销") if revoked_of(session, [app.id]) else STATUS_LABELS[Status(app.status)]
        ),
        "verdict": app.verdict,
        "round": app.round,
        "received_by": app.received_by,
        "contact": contact.get("name"),
        "agent": agent.get("name") if agent else None,
        "stage_label": item.stage_label if item else None,
        "since": item.since if item else None,
        "due": item.due if item else None,
        "overdue": bool(item and item.overdue(now)),
    }


def decisions(session: Session, app: Application) -> list[dict[str, Any]]:
    return [
        {
            "round": d.round,
            "stage": d.stage,
            "decision": d.decision,
            "remarks": d.remarks,
            "overrides": list(d.overrides or []),
            "actor": d.actor,
            "at": d.decided_at,
        }
        for d in app_decisions(session, app)
    ]


class Evidence:
    """Page images and seal rims of one application's latest check, ID numbers masked."""

    def __init__(self, workspace: Workspace, session: Session, app_id: str, report: dict[str, Any]):
        self.workspace = workspace
        self.session = session
        self.app_id = app_id
        self.documents: list[dict[str, Any]] = list(report.get("documents") or [])
        self.flagged = {
            tuple(int(v) for v in f["evidence"]["bbox"])
            for f in report.get("findings") or []
            if (f.get("evidence") or {}).get("bbox") and f["severity"] in ("error", "warning")
        }
        self._last: tuple[tuple[int, int], Image.Image | None] | None = None
        """The page last asked for, masked: a packet asks for a page, then for its seals'
        rims (decoding a stored page is a tenth of a second; one page kept, not all)."""

    def page(self, document: int, page: int, boxes: bool) -> Image.Image | None:
        if not 0 <= document < len(self.documents):
            return None
        entry = self.documents[document]
        if self._last is not None and self._last[0] == (document, page):
            image: Image.Image | None = self._last[1]
        else:
            image = evidence.page_image(
                self.session, self.workspace.store, self.app_id, entry["source"], page
            )
            if image is not None:
                image = evidence.mask_pixels(image, evidence.id_boxes(entry, page))
            self._last = ((document, page), image)
        if image is None:
            return None
        if boxes:
            image = evidence.draw_boxes(
                image,
                evidence.document_boxes(entry, page, self.flagged),
            )
        return image

    def rim(self, document: int, seal: dict[str, Any]) -> Image.Image | None:
        from pipeline.extract.seals import unrolled_rim

        image = self.page(document, int(seal.get("page") or 1), False)
        if image is None or not seal.get("bbox"):
            return None
        strip = unrolled_rim(np.asarray(image), seal)
        return None if strip is None else Image.fromarray(strip)


def packet_path(
    workspace: Workspace, app: Application, run: CheckRun | None, language: str = DEFAULT
) -> Path:
    folder = workspace.settings.home / "packets"
    folder.mkdir(parents=True, exist_ok=True)
    check = f"check{run.id}" if run is not None else "unchecked"
    said = "" if language == DEFAULT else f"-{language}"
    return folder / f"{app.id}-round{app.round}-{check}{said}.pdf"


def write_packet(
    workspace: Workspace, app_id: str, now: datetime | None = None, language: str = DEFAULT
) -> Path:
    """The application's review packet in ``language``, made anew whenever a new check (new
    files, a new round) or a decision has happened since it was last made."""
    with workspace.session() as session:
        app = session.get(Application, app_id)
        if app is None:
            raise NotFound(f"no application {app_id}")
        run = latest_report(session, app)
        report = dict(run.report) if run is not None else {"documents": [], "findings": []}
        made = decisions(session, app)
        out = packet_path(workspace, app, run, language)
        stamp = out.with_suffix(".decisions")
        seen = str(len(made))
        if out.exists() and stamp.exists() and stamp.read_text() == seen:
            return out
        source = Evidence(workspace, session, app.id, report)
        data = PacketData(
            application=summary(session, app, now),
            findings=list(report.get("findings") or []),
            documents=source.documents,
            decisions=made,
        )
        render_packet(data, source.page, source.rim, out, language)
        stamp.write_text(seen)
    return out


APPLICANT_NEXT = {
    Status.RECEIVED: N_("材料已收到，正在自动检查。"),
    Status.CHECKED: N_("等待核验。"),
    Status.PREREVIEW_PASSED: N_("核验已通过，等待复核。"),
    Status.PREREVIEW_FAILED: N_("核验未通过：请按下面的备注补交材料。"),
    Status.REREVIEW_PASSED: N_("复核已通过，等待制证。"),
    Status.REREVIEW_FAILED: N_("复核未通过：请按下面的备注补交材料。"),
    Status.ISSUED: N_("证书已制作，USB Key 将寄出。"),
    Status.SHIPPED: N_("USB Key 已寄出。"),
    Status.AT_AUTHORITY: N_(
        "USB Key 已到发证机构：请携带加盖公章的纸质材料原件和经办人身份证前往领取（现场盖章终审）。"
    ),
    Status.COLLECTED: N_("USB Key 已领取。"),
}
"""What the applicant is told of each state (the status page); a state not listed shows
its label alone."""
OPEN_TO_APPLICANT = (Status.PREREVIEW_FAILED, Status.REREVIEW_FAILED)
"""The states in which the applicant may upload corrected materials (the next round)."""


def applicant_view(session: Session, app: Application) -> dict[str, Any]:
    """What the applicant's status page shows: the application's own state, the date the
    waiting stage is due, the remarks of the latest rejection (what to fix), and the files
    received in each round. Nothing of the back office: no findings, no reviewer names."""
    from pipeline.records.files import received_files
    from pipeline.review.calendar import beijing

    status = Status(app.status)
    item = item_for(session, app)
    rejected = [d for d in app_decisions(session, app) if d.decision == "reject"]
    latest = rejected[-1] if rejected else None
    rounds: dict[int, list[str]] = {}
    for link, _ in received_files(session, app.id):
        rounds.setdefault(link.round, []).append(link.original_name)
    return {
        "id": app.id,
        "company": app.company_name,
        "status": STATUS_LABELS[status],
        "next": APPLICANT_NEXT.get(status, ""),
        "due": beijing(item.due, "%Y-%m-%d") if item is not None else "",
        "stage": item.stage_label if item is not None else "",
        "round": app.round,
        "remarks": latest.remarks if latest is not None else "",
        "remarks_stage": STAGE_LABELS.get(latest.stage, latest.stage) if latest else "",
        "remarks_round": latest.round if latest is not None else None,
        "rounds": sorted(rounds.items()),
        "may_upload": status in OPEN_TO_APPLICANT,
    }
