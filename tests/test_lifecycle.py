"""The life cycle the seeds describe, with dual control, on a real SQLite workspace."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pipeline.errors import LifecycleError
from pipeline.model.application import ApplicationRecord
from pipeline.records import lifecycle
from pipeline.records.lifecycle import Status
from pipeline.records.models import Application, AuditEntry, ReviewDecision
from pipeline.usecases.intake import intake_application
from pipeline.workspace import Workspace


def taken_in(workspace: Workspace, record: ApplicationRecord) -> str:
    return intake_application(workspace, record, [], "clerk").application_id


def status_of(workspace: Workspace, app_id: str) -> str:
    with workspace.session() as session:
        return session.get_one(Application, app_id).status


def step(workspace: Workspace, app_id: str, action: str, *args: object, **kwargs: object) -> None:
    with workspace.session() as session:
        app = session.get_one(Application, app_id)
        getattr(lifecycle, action)(session, app, *args, **kwargs)


def test_happy_path_to_shipped(workspace: Workspace, record: ApplicationRecord) -> None:
    app_id = taken_in(workspace, record)
    assert status_of(workspace, app_id) == Status.RECEIVED
    step(workspace, app_id, "mark_checked", "flagged", "clerk")
    step(workspace, app_id, "decide", "prereview", True, "alice", "材料齐全")
    assert status_of(workspace, app_id) == Status.PREREVIEW_PASSED
    step(workspace, app_id, "decide", "rereview", True, "bob")
    step(workspace, app_id, "mark_issued", "nightly", "0A1B")
    step(workspace, app_id, "mark_shipped", "courier", "EMS123")
    assert status_of(workspace, app_id) == Status.SHIPPED
    with workspace.session() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions == [
        "application.received",
        "application.checked",
        "review.prereview.approve",
        "review.rereview.approve",
        "application.issued",
        "application.shipped",
    ]


def test_rejection_goes_back_and_resubmission_starts_a_new_round(
    workspace: Workspace, record: ApplicationRecord
) -> None:
    app_id = taken_in(workspace, record)
    step(workspace, app_id, "mark_checked", "flagged", "clerk")
    step(workspace, app_id, "decide", "prereview", False, "alice", "营业执照复印件未加盖公章")
    assert status_of(workspace, app_id) == Status.PREREVIEW_FAILED
    step(workspace, app_id, "resubmit", "clerk")
    with workspace.session() as session:
        app = session.get_one(Application, app_id)
        assert (app.status, app.round, app.verdict) == (Status.RECEIVED, 2, None)
    # a new round: alice may pre-review again, and bob re-review
    step(workspace, app_id, "mark_checked", "clear", "clerk")
    step(workspace, app_id, "decide", "prereview", True, "alice")
    step(workspace, app_id, "decide", "rereview", False, "bob", "公章名称与申请单位不一致")
    assert status_of(workspace, app_id) == Status.REREVIEW_FAILED
    with workspace.session() as session:
        decisions = session.scalars(select(ReviewDecision).order_by(ReviewDecision.id)).all()
        assert [(d.round, d.stage, d.decision) for d in decisions] == [
            (1, "prereview", "reject"),
            (2, "prereview", "approve"),
            (2, "rereview", "reject"),
        ]


def test_one_person_cannot_decide_both_stages(
    workspace: Workspace, record: ApplicationRecord
) -> None:
    app_id = taken_in(workspace, record)
    step(workspace, app_id, "mark_checked", "clear", "clerk")
    step(workspace, app_id, "decide", "prereview", True, "alice")
    with pytest.raises(LifecycleError, match="second person"):
        step(workspace, app_id, "decide", "rereview", True, "alice")
    assert status_of(workspace, app_id) == Status.PREREVIEW_PASSED


def test_nobody_reviews_what_they_took_in(workspace: Workspace, record: ApplicationRecord) -> None:
    app_id = taken_in(workspace, record)
    step(workspace, app_id, "mark_checked", "clear", "clerk")
    with pytest.raises(LifecycleError, match="took"):
        step(workspace, app_id, "decide", "prereview", True, "clerk")


def test_rejection_needs_remarks(workspace: Workspace, record: ApplicationRecord) -> None:
    app_id = taken_in(workspace, record)
    step(workspace, app_id, "mark_checked", "flagged", "clerk")
    with pytest.raises(LifecycleError, match="remarks"):
        step(workspace, app_id, "decide", "prereview", False, "alice", "   ")


@pytest.mark.parametrize(
    ("action", "args"),
    [
        ("decide", ("prereview", True, "alice")),  # not checked yet
        ("decide", ("rereview", True, "alice")),
        ("mark_issued", ("nightly", "01")),
        ("mark_shipped", ("courier",)),
        ("resubmit", ("clerk",)),
    ],
)
def test_steps_out_of_order_are_refused(
    workspace: Workspace, record: ApplicationRecord, action: str, args: tuple[object, ...]
) -> None:
    app_id = taken_in(workspace, record)
    with pytest.raises(LifecycleError, match="received"):
        step(workspace, app_id, action, *args)
    assert status_of(workspace, app_id) == Status.RECEIVED


def test_issue_only_after_both_stages(workspace: Workspace, record: ApplicationRecord) -> None:
    app_id = taken_in(workspace, record)
    step(workspace, app_id, "mark_checked", "clear", "clerk")
    step(workspace, app_id, "decide", "prereview", True, "alice")
    with pytest.raises(LifecycleError, match="rereview_passed"):
        step(workspace, app_id, "mark_issued", "nightly", "01")


def test_renewal_and_replacement_are_applications_of_their_own_kind(
    workspace: Workspace, record: ApplicationRecord
) -> None:
    for kind, number in (("renewal", "000102"), ("replacement", "000103")):
        data = {
            **record.data,
            "kind": kind,
            "application_id": f"CQC-2026-{number}",
            "previous_certificate_serial": "5A0F",
        }
        taken_in(workspace, ApplicationRecord(data))
    with workspace.session() as session:
        kinds = session.execute(select(Application.id, Application.kind)).all()
    assert sorted(k for _, k in kinds) == ["renewal", "replacement"]
