"""An application's life cycle, as the seeds describe it.

    received ──check──▶ checked (verdict clear / flagged)
    checked ──核验──▶ prereview_passed (核验通过) │ prereview_failed (核验未通过)
    prereview_passed ──复核──▶ rereview_passed (复核通过) │ rereview_failed (复核未通过)
    rereview_passed ──▶ issued ──▶ shipped
    prereview_failed / rereview_failed ──resubmit──▶ received (next round)

A rejection goes back to the applicant with the remarks; the resubmitted files start a new
round, which is checked and reviewed from the start. The two review stages of one round are
decided by two different people, neither of whom took the application in (dual control).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.errors import LifecycleError
from pipeline.model.messages import N_
from pipeline.records.audit import record_event
from pipeline.records.models import Application, ReviewDecision


class Status(StrEnum):
    RECEIVED = "received"
    CHECKED = "checked"
    PREREVIEW_PASSED = "prereview_passed"
    PREREVIEW_FAILED = "prereview_failed"
    REREVIEW_PASSED = "rereview_passed"
    REREVIEW_FAILED = "rereview_failed"
    ISSUED = "issued"
    SHIPPED = "shipped"
    AT_AUTHORITY = "at_authority"
    """MOFCOM: the key arrived at the issuing authority, where the company collects it."""
    COLLECTED = "collected"
    """MOFCOM: handed over after the on-site final check of the paper originals (终审)."""


STATUS_LABELS = {
    Status.RECEIVED: N_("已接收"),
    Status.CHECKED: N_("已检查"),
    Status.PREREVIEW_PASSED: N_("核验通过"),
    Status.PREREVIEW_FAILED: N_("核验未通过"),
    Status.REREVIEW_PASSED: N_("复核通过"),
    Status.REREVIEW_FAILED: N_("复核未通过"),
    Status.ISSUED: N_("已制证"),
    Status.SHIPPED: N_("已寄出"),
    Status.AT_AUTHORITY: N_("已到发证机构"),
    Status.COLLECTED: N_("已领取"),
}

REJECTED = frozenset({Status.PREREVIEW_FAILED, Status.REREVIEW_FAILED})
"""Back with the applicant: only a resubmission moves these on."""
OPEN_FOR_FILES = frozenset({Status.RECEIVED, Status.CHECKED})
"""Files may be added (the check then runs again) before review starts."""

_STAGES = {
    "prereview": (Status.CHECKED, Status.PREREVIEW_PASSED, Status.PREREVIEW_FAILED),
    "rereview": (Status.PREREVIEW_PASSED, Status.REREVIEW_PASSED, Status.REREVIEW_FAILED),
}


def _move(
    session: Session,
    app: Application,
    allowed_from: frozenset[Status],
    to: Status,
    actor: str,
    action: str,
    detail: dict[str, object] | None = None,
) -> None:
    current = Status(app.status)
    if current not in allowed_from:
        allowed = " or ".join(sorted(s.value for s in allowed_from))
        raise LifecycleError(
            f"{app.id} is {current.value} ({STATUS_LABELS[current]}); "
            f"{action} needs it to be {allowed}"
        )
    app.status = to.value
    record_event(
        session,
        actor,
        action,
        ("application", app.id),
        {"from": current.value, "to": to.value, "round": app.round, **(detail or {})},
    )


def mark_checked(session: Session, app: Application, verdict: str, actor: str) -> None:
    if verdict not in ("clear", "flagged"):
        raise ValueError(f"verdict must be clear or flagged, not {verdict!r}")
    _move(
        session,
        app,
        OPEN_FOR_FILES,
        Status.CHECKED,
        actor,
        "application.checked",
        {"verdict": verdict},
    )
    app.verdict = verdict


def mark_files_added(session: Session, app: Application, actor: str, count: int) -> None:
    """New files before review: the application must be checked again."""
    _move(
        session,
        app,
        OPEN_FOR_FILES,
        Status.RECEIVED,
        actor,
        "application.files_added",
        {"files": count},
    )
    app.verdict = None


def resubmit(session: Session, app: Application, actor: str) -> None:
    """The applicant answers a rejection: a new round starts from received."""
    _move(
        session,
        app,
        REJECTED,
        Status.RECEIVED,
        actor,
        "application.resubmitted",
        {"new_round": app.round + 1},
    )
    app.round += 1
    app.verdict = None


def decide(
    session: Session,
    app: Application,
    stage: str,
    approve: bool,
    actor: str,
    remarks: str = "",
    overrides: Sequence[dict[str, Any]] = (),
) -> ReviewDecision:
    """Record a 核验 (``prereview``) or 复核 (``rereview``) decision, enforcing dual control;
    ``overrides``: the error findings an approval goes over, each with the reviewer's remark
    (kept with the decision and in the audit entry)."""
    if stage not in _STAGES:
        raise ValueError(f"stage must be prereview or rereview, not {stage!r}")
    remarks = remarks.strip()
    if not approve and not remarks:
        raise LifecycleError(
            "a rejection needs remarks (备注) telling the applicant what to fix",
            zh="退回须填写备注，告诉申请人要改正什么。",
        )
    if actor == app.received_by:
        raise LifecycleError(
            f"{actor} took {app.id} in and so cannot review it",
            zh=f"{actor} 是本申请的收件人，不能审核（双人控制）。",
        )
    earlier = session.scalars(
        select(ReviewDecision).where(
            ReviewDecision.application_id == app.id, ReviewDecision.round == app.round
        )
    ).all()
    if any(d.actor == actor for d in earlier):
        raise LifecycleError(
            f"{actor} already decided a stage of {app.id} in this round; "
            "the other stage needs a second person",
            zh=f"{actor} 已完成本轮另一审核环节，须由另一人审核（双人控制）。",
        )
    source, passed, failed = _STAGES[stage]
    decision = ReviewDecision(
        application_id=app.id,
        round=app.round,
        stage=stage,
        decision="approve" if approve else "reject",
        remarks=remarks,
        actor=actor,
        overrides=list(overrides),
    )
    _move(
        session,
        app,
        frozenset({source}),
        passed if approve else failed,
        actor,
        f"review.{stage}.{'approve' if approve else 'reject'}",
        {
            "remarks": remarks,
            # the finding's place and code, not its message: the trail holds no ID number
            "overrides": [
                {k: o[k] for k in ("check_run", "finding", "code", "remark") if k in o}
                for o in overrides
            ],
        },
    )
    session.add(decision)
    return decision


def mark_issued(session: Session, app: Application, actor: str, serial: str) -> None:
    _move(
        session,
        app,
        frozenset({Status.REREVIEW_PASSED}),
        Status.ISSUED,
        actor,
        "application.issued",
        {"serial": serial},
    )


def mark_at_authority(session: Session, app: Application, actor: str, authority: str) -> None:
    """MOFCOM: the key arrived at the issuing authority (CQC keys go to the applicant)."""
    if app.scheme != "mofcom":
        raise LifecycleError(
            f"{app.id} is a {app.scheme.upper()} application: its key goes to the applicant by "
            "courier, not to an issuing authority",
            zh="该申请的 USB Key 直接寄给申请人，不经发证机构。",
        )
    _move(
        session,
        app,
        frozenset({Status.SHIPPED}),
        Status.AT_AUTHORITY,
        actor,
        "application.at_authority",
        {"authority": authority},
    )


def mark_collected(
    session: Session,
    app: Application,
    actor: str,
    *,
    originals: list[str],
    collector: str,
    collector_id_last4: str,
) -> None:
    """MOFCOM: handed over after the final on-site check (现场盖章终审): which stamped paper
    originals ``actor`` checked, who collected (name, and the last four characters of the
    ID card the officer checked: the trail keeps no full ID number)."""
    if not originals:
        raise LifecycleError(
            f"{app.id}: say which paper originals were checked (终审) before handing the key over",
            zh="请写明现场核对了哪些纸质材料原件（终审）后再交付。",
        )
    if not collector.strip() or len(collector_id_last4) != 4:
        raise LifecycleError(
            f"{app.id}: the collector's name and the last four characters of their ID card",
            zh="请填写领取人姓名及其身份证号后四位。",
        )
    _move(
        session,
        app,
        frozenset({Status.AT_AUTHORITY}),
        Status.COLLECTED,
        actor,
        "application.collected",
        {
            "originals_checked": originals,
            "collector": collector.strip(),
            "collector_id_last4": collector_id_last4.upper(),
            "id_checked": True,
        },
    )


def mark_shipped(session: Session, app: Application, actor: str, tracking: str = "") -> None:
    _move(
        session,
        app,
        frozenset({Status.ISSUED}),
        Status.SHIPPED,
        actor,
        "application.shipped",
        {"tracking": tracking},
    )
