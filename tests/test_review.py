"""Review without OCR: users and roles, the queue's order and due dates, decisions as a
user through the service and the CLI, on a real SQLite workspace."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from pipeline.config import Settings
from pipeline.errors import ConfigError, LifecycleError, PermissionDenied
from pipeline.model.application import parse_record
from pipeline.model.report import CheckReport, Code, Finding, Severity
from pipeline.records.lifecycle import Status
from pipeline.records.models import Application, AuditEntry, CheckRun, User
from pipeline.records.users import (
    add_user,
    authenticate,
    check_password,
    hash_password,
    open_sign_in,
)
from pipeline.review import service
from pipeline.review.calendar import add_working_days, working_days_between
from pipeline.review.queue import review_queue
from pipeline.usecases.checking import save_report
from pipeline.usecases.intake import intake_application
from pipeline.workspace import Workspace
from sealdesk.cli import cli
from tests.conftest import REPO

PASSWORD = "a long enough secret"


def _record(data: dict[str, Any], app_id: str, company: str) -> Any:
    changed = copy.deepcopy(data)
    changed["application_id"] = app_id
    changed["company"]["name"] = company
    return parse_record(changed)


def _checked(workspace: Workspace, record: Any, flagged: bool) -> str:
    taken = intake_application(workspace, record, [], "clerk")
    findings = (
        (
            Finding(
                Code.SEAL_NAME_MISMATCH, Severity.ERROR, "公章印文不一致", 0, 1, {"expected": "x"}
            ),
        )
        if flagged
        else ()
    )
    with workspace.session() as session:
        save_report(session, CheckReport(taken.application_id, findings, ()), "clerk")
    return taken.application_id


def _users(workspace: Workspace) -> None:
    with workspace.session() as session:
        add_user(session, "rui", PASSWORD, ["reviewer"], "admin")
        add_user(session, "wen", PASSWORD, ["re-reviewer"], "admin")
        add_user(session, "li", PASSWORD, ["reviewer", "re-reviewer"], "admin")
        add_user(session, "ivy", PASSWORD, ["issuer"], "admin")


def test_passwords_are_salted_scrypt_and_checked_in_constant_time() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$") and PASSWORD not in first
    assert check_password(PASSWORD, first) and not check_password(PASSWORD + "x", first)
    assert not check_password(PASSWORD, "plain-text-in-the-database")


def test_users_need_good_names_passwords_and_known_roles(workspace: Workspace) -> None:
    with workspace.session() as session:
        for name, password, roles in (
            ("Rui", PASSWORD, ["reviewer"]),
            ("rui", "short", ["reviewer"]),
            ("rui", PASSWORD, ["pope"]),
            ("rui", PASSWORD, []),
        ):
            with pytest.raises(ConfigError):
                add_user(session, name, password, roles, "admin")
        add_user(session, "rui", PASSWORD, ["reviewer"], "admin")
        with pytest.raises(ConfigError, match="exists"):
            add_user(session, "rui", PASSWORD, ["reviewer"], "admin")
    with workspace.session() as session:
        assert authenticate(session, "rui", PASSWORD) is not None
        assert authenticate(session, "rui", "wrong password!") is None
        assert authenticate(session, "nobody", PASSWORD) is None
        session.get_one(User, "rui").active = False
    with workspace.session() as session:
        assert authenticate(session, "rui", PASSWORD) is None
        added = session.query(AuditEntry).filter_by(action="user.added").one()
        assert PASSWORD not in str(added.detail)


def test_working_days_skip_the_weekend() -> None:
    friday = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # 16:00 in Beijing
    assert add_working_days(friday, 2) == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert add_working_days(friday, 5) == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert working_days_between(friday, friday + timedelta(days=3)) == 1
    # counted on the Beijing date: 16:00 UTC on Friday is already Saturday there
    late = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    assert add_working_days(late, 1) == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # Mon 00:00


def test_working_days_follow_chinas_holidays_and_working_weekends() -> None:
    """The State Council's 2026 notice: National Day 1–7 October off, Sunday 20 September
    and Saturday 10 October worked (调休). Monday to Friday alone made a 核验 due over the
    holiday on 2 October, and a check on the working Sunday count from Monday."""
    day = timedelta(days=1)
    eve = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # Wednesday, 10:00 in Beijing
    assert add_working_days(eve, 2) == eve + 9 * day  # Friday 9 October
    assert add_working_days(eve + 9 * day, 1) == eve + 10 * day  # the working Saturday
    saturday = datetime(2026, 9, 19, 2, 0, tzinfo=UTC)
    assert add_working_days(saturday, 1) == saturday + day  # the working Sunday
    assert working_days_between(eve, eve + 10 * day) == 3
    # a year not yet announced: Monday to Friday
    assert add_working_days(datetime(2031, 1, 3, 2, 0, tzinfo=UTC), 1).day == 6


def test_queue_flagged_first_then_oldest_with_due_dates(
    workspace: Workspace, record_data: dict[str, Any]
) -> None:
    _users(workspace)
    clear_old = _checked(workspace, _record(record_data, "CQC-2026-000201", "甲公司"), False)
    flagged_new = _checked(workspace, _record(record_data, "CQC-2026-000202", "乙公司"), True)
    flagged_newer = _checked(workspace, _record(record_data, "CQC-2026-000203", "丙公司"), True)
    with workspace.session() as session:
        items = review_queue(session)
        assert [i.id for i in items] == [flagged_new, flagged_newer, clear_old]
        first = items[0]
        assert (first.stage, first.errors) == ("prereview", 1)
        assert first.due == add_working_days(first.since, 2)
        latest = max(i.due for i in items)
        overdue = review_queue(session, overdue_only=True, now=latest + timedelta(minutes=1))
        assert [i.id for i in overdue] == [flagged_new, flagged_newer, clear_old]
        early = min(i.due for i in items) - timedelta(minutes=1)
        assert review_queue(session, overdue_only=True, now=early) == []
        assert [i.id for i in review_queue(session, flagged_only=True, search="丙")] == [
            flagged_newer
        ]
        rui = session.get_one(User, "rui")
        service.decide(
            session,
            rui,
            flagged_new,
            True,
            overrides={1: "电话核实：公章为更名前刻制，已见名称变更通知书"},
        )
    with workspace.session() as session:
        (moved,) = review_queue(session, stage="rereview")
        assert moved.id == flagged_new and moved.due == add_working_days(moved.since, 5)


def test_roles_and_dual_control_through_the_service(
    workspace: Workspace, record_data: dict[str, Any]
) -> None:
    _users(workspace)
    app_id = _checked(workspace, _record(record_data, "CQC-2026-000211", "甲公司"), True)
    with workspace.session() as session:
        get = session.get_one
        with pytest.raises(PermissionDenied, match="reviewer"):
            service.decide(session, get(User, "wen"), app_id, True)  # 复核 only
        with pytest.raises(PermissionDenied):
            service.decide(session, get(User, "ivy"), app_id, True)
        with pytest.raises(LifecycleError, match="remarks"):
            service.decide(session, get(User, "li"), app_id, False, "  ")
        service.decide(
            session,
            get(User, "li"),
            app_id,
            True,
            overrides={1: "电话核实：公章为更名前刻制，已见名称变更通知书"},
        )
    with workspace.session() as session:
        li, app = session.get_one(User, "li"), session.get_one(Application, app_id)
        assert "另一人" in told(service.can_decide(session, li, app))
        with pytest.raises(LifecycleError, match="second person"):
            service.decide(
                session,
                li,
                app_id,
                True,
                overrides={1: "电话核实：公章为更名前刻制，已见名称变更通知书"},
            )
        service.decide(
            session,
            session.get_one(User, "wen"),
            app_id,
            True,
            overrides={1: "电话核实：公章为更名前刻制，已见名称变更通知书"},
        )
    with workspace.session() as session:
        assert session.get_one(Application, app_id).status == Status.REREVIEW_PASSED


def test_an_application_with_errors_is_approved_only_over_a_remark_on_each(
    workspace: Workspace, record_data: dict[str, Any]
) -> None:
    # the attack: a flagged application passed 核验 and 复核 with empty remarks, as if clean
    _users(workspace)
    app_id = _checked(workspace, _record(record_data, "CQC-2026-000212", "甲公司"), True)
    why = "已电话核实：公章为更名前刻制，名称变更通知书见补交材料"
    with workspace.session() as session:
        li = session.get_one(User, "li")
        for overrides in (None, {1: "  "}, {2: why}):
            with pytest.raises(LifecycleError):
                service.decide(session, li, app_id, True, overrides=overrides)
        with pytest.raises(LifecycleError, match="rejection"):
            service.decide(session, li, app_id, False, "请补交", overrides={1: why})
        assert session.get_one(Application, app_id).status == Status.CHECKED
        service.decide(session, li, app_id, True, overrides={1: why})
    with workspace.session() as session:
        app = session.get_one(Application, app_id)
        (made,) = service.decisions(session, app)
        (over,) = made["overrides"]
        assert (over["finding"], over["code"], over["remark"]) == (1, "seal_name_mismatch", why)
        entry = session.query(AuditEntry).filter_by(action="review.prereview.approve").one()
        assert entry.detail["overrides"] == [
            {
                "check_run": over["check_run"],
                "finding": 1,
                "code": "seal_name_mismatch",
                "remark": why,
            }
        ]
        wen = session.get_one(User, "wen")  # 复核 sees the override and must make its own
        with pytest.raises(LifecycleError, match="without a remark"):
            service.decide(session, wen, app_id, True)
        service.decide(session, wen, app_id, True, overrides={1: "复核同意：" + why})
    with workspace.session() as session:
        assert session.get_one(Application, app_id).status == Status.REREVIEW_PASSED


def _code(workspace: Workspace, username: str) -> list[str]:
    """--code and the user's current one-time code, for a user who has a second factor."""
    import pyotp

    with workspace.session() as session:
        secret = session.get_one(User, username).totp_secret
    return ["--code", pyotp.TOTP(secret).now()] if secret else []


def test_an_admin_signs_in_with_a_one_time_code_as_well(
    settings: Settings, workspace: Workspace
) -> None:
    home = ["--home", str(settings.home)]
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [*home, "--as", "boss", "user", "add", "boss", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert "otpauth://totp/sealdesk:boss?secret=" in added.stdout

    def login(*code: str) -> Any:
        argv = [*home, "--as", "boss", "login", "--password-stdin", *code]
        return runner.invoke(cli, argv, input=PASSWORD + "\n")

    assert isinstance(login("--code", "000000").exception, PermissionDenied)
    assert login().exit_code != 0  # asked for the code, none given
    assert login(*_code(workspace, "boss")).exit_code == 0
    # a second factor enrolled anew: the old codes stop working
    with workspace.session() as session:
        token = open_sign_in(session, session.get_one(User, "boss"))
        before = session.get_one(User, "boss").totp_secret
    renewed = runner.invoke(
        cli, [*home, "user", "second-factor", "boss"], env={"SEALDESK_SESSION": token}
    )
    assert renewed.exit_code == 0 and "otpauth://" in renewed.stdout
    with workspace.session() as session:
        assert session.get_one(User, "boss").totp_secret not in (None, before)
        assert session.query(AuditEntry).filter_by(action="user.second_factor_enrolled").count()


def test_a_name_after_as_proves_nobody(
    settings: Settings, workspace: Workspace, record_data: dict[str, Any]
) -> None:
    # the attack: one OS account ran --as rev1 review approve, then --as rev2, and the trail
    # recorded two people
    from pipeline.records.models import SignIn

    _users(workspace)
    app_id = _checked(workspace, _record(record_data, "CQC-2026-000241", "甲公司"), False)
    home = ["--home", str(settings.home)]
    runner = CliRunner()

    def approve(user: str, token: str) -> Any:
        argv = [*home, "--as", user, "review", "approve", app_id]
        return runner.invoke(cli, argv, env={"SEALDESK_SESSION": token})

    assert isinstance(approve("li", "").exception, PermissionDenied)  # a name alone
    assert isinstance(approve("li", "made-up").exception, PermissionDenied)
    wrong = runner.invoke(
        cli, [*home, "--as", "li", "login", "--password-stdin"], input="not the password\n"
    )
    assert isinstance(wrong.exception, PermissionDenied)
    done = runner.invoke(
        cli, [*home, "--as", "li", "login", "--password-stdin"], input=PASSWORD + "\n"
    )
    li = done.stdout.strip().removeprefix("export SEALDESK_SESSION=")
    assert done.exit_code == 0 and li
    assert isinstance(approve("wen", li).exception, PermissionDenied)  # li's sign-in, wen's name
    assert approve("li", li).exit_code == 0
    # li cannot do the 复核 as well, and a sign-in that ended or expired proves nobody
    assert approve("li", li).exit_code != 0
    with workspace.session() as session:
        wen = open_sign_in(session, session.get_one(User, "wen"))
        old = open_sign_in(
            session, session.get_one(User, "wen"), now=datetime.now(UTC) - timedelta(hours=2)
        )
    assert isinstance(approve("wen", old).exception, PermissionDenied)
    out = runner.invoke(cli, [*home, "logout"], env={"SEALDESK_SESSION": wen})
    assert out.exit_code == 0 and "unset SEALDESK_SESSION" in out.stdout
    assert isinstance(approve("wen", wen).exception, PermissionDenied)
    with workspace.session() as session:
        assert session.get_one(Application, app_id).status == Status.PREREVIEW_PASSED
        assert session.query(SignIn).count() == 3
        actions = [e.action for e in session.query(AuditEntry).filter_by(subject_id="li")]
        assert "user.signed_in" in actions
        failed = session.query(AuditEntry).filter_by(action="user.sign_in_failed").all()
        assert [e.subject_id for e in failed] == ["li"]
    assert li.encode() not in (settings.home / "sealdesk.db").read_bytes()  # only its hash


def test_each_check_keeps_its_whole_report(
    workspace: Workspace, record_data: dict[str, Any]
) -> None:
    app_id = _checked(workspace, _record(record_data, "CQC-2026-000221", "甲公司"), True)
    with workspace.session() as session:
        (run,) = session.query(CheckRun).filter_by(application_id=app_id).all()
        assert (
            run.verdict == "flagged" and run.report["findings"][0]["code"] == "seal_name_mismatch"
        )


def test_cli_user_and_review_commands(
    settings: Settings, workspace: Workspace, record_data: dict[str, Any], tmp_path: Path
) -> None:
    home = ["--home", str(settings.home)]
    runner = CliRunner()

    signed: dict[str, str] = {}

    def run(*args: str, user: str = "admin", stdin: str | None = None) -> Any:
        env = {"SEALDESK_SESSION": signed.get(user, "")}
        return runner.invoke(cli, [*home, "--as", user, *args], input=stdin, env=env)

    def sign_in(user: str) -> None:
        code = _code(workspace, user)
        done = run("login", "--password-stdin", *code, user=user, stdin=PASSWORD + "\n")
        assert done.exit_code == 0, done.output
        signed[user] = done.stdout.strip().removeprefix("export SEALDESK_SESSION=")

    first = run("user", "add", "boss", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert first.exit_code == 0, first.output
    sign_in("boss")
    # once there is a user, only an admin adds more
    refused = run(
        "user",
        "add",
        "rui",
        "--role",
        "reviewer",
        "--password-stdin",
        user="rui",
        stdin=PASSWORD + "\n",
    )
    assert refused.exit_code != 0 and isinstance(refused.exception, PermissionDenied)
    # and a name typed after --as is no admin: the admin's own sign-in is
    unproven = runner.invoke(
        cli,
        [*home, "--as", "boss", "user", "add", "eve", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
        env={"SEALDESK_SESSION": ""},
    )
    assert isinstance(unproven.exception, PermissionDenied) and "signed in" in str(
        unproven.exception
    )
    for name, role in (("rui", "reviewer"), ("wen", "re-reviewer")):
        added = run(
            "user",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
            user="boss",
            stdin=PASSWORD + "\n",
        )
        assert added.exit_code == 0, added.output
    assert "rui" in run("user", "list").output
    app_id = _checked(workspace, _record(record_data, "CQC-2026-000231", "甲公司"), True)
    listed = run("review", "list", user="rui")
    assert listed.exit_code == 0 and app_id in listed.output and "flagged" in listed.output
    shown = run("review", "show", app_id, user="rui")
    assert "seal_name_mismatch" in shown.output and "may decide" in shown.output
    assert isinstance(run("review", "list", user="stranger").exception, PermissionDenied)
    sign_in("rui")
    no_remarks = run("review", "reject", app_id, user="rui")
    assert no_remarks.exit_code != 0 and "--remarks" in no_remarks.output
    assert run("review", "approve", app_id, user="wen").exit_code != 0  # not signed in
    sign_in("wen")
    assert run("review", "approve", app_id, user="wen").exit_code != 0  # wrong stage role
    bare = run("review", "approve", app_id, user="rui")
    assert bare.exit_code != 0 and "1 seal_name_mismatch" in str(bare.exception)
    assert "--override" in run("review", "approve", app_id, "--override", "x", user="rui").output
    why = "印章为更名前刻制，名称变更通知书已核"
    assert run("review", "approve", app_id, "--override", f"1={why}", user="rui").exit_code == 0
    seen = run("review", "show", app_id, user="wen").output
    assert f"over finding 1 seal_name_mismatch: {why}" in seen
    assert run("review", "approve", app_id, "--override", f"1={why}", user="wen").exit_code == 0
    with workspace.session() as session:
        assert session.get_one(Application, app_id).status == Status.REREVIEW_PASSED


def test_times_are_shown_in_beijing_time_from_utc() -> None:
    # seen: UTC on the serial page and the queue, Beijing time in the certificate PDF
    from pipeline.review.calendar import beijing

    assert beijing(datetime(2026, 12, 7, 16, 30, tzinfo=UTC)) == "2026-12-08 00:30"
    assert beijing(datetime(2026, 12, 7, 16, 30)) == "2026-12-08 00:30"  # stored without zone
    assert beijing(None) == ""


def test_a_one_time_code_signs_in_once(settings: Settings, workspace: Workspace) -> None:
    """The attack: a code read over a shoulder (or from a proxy's log) used again within
    its 30 seconds. Refused; the next step's code works."""
    import pyotp

    with workspace.session() as session:
        add_user(session, "boss", PASSWORD, ["admin"], "setup")
    with workspace.session() as session:
        secret = session.get_one(User, "boss").totp_secret
        assert secret is not None
        code = pyotp.TOTP(secret).now()
        assert authenticate(session, "boss", PASSWORD, code) is not None
    with workspace.session() as session:
        assert authenticate(session, "boss", PASSWORD, code) is None  # replayed
        later = pyotp.TOTP(secret).at(datetime.now(UTC), counter_offset=1)
        assert authenticate(session, "boss", PASSWORD, later) is not None


def test_a_password_change_or_disabling_ends_every_sign_in(
    settings: Settings, workspace: Workspace
) -> None:
    """The attack: a session stolen (a cookie, a token in a shell's history) outlives the
    password it was opened with. A password change ends every sign-in of that person, on
    the web and the command line; so does disabling them."""
    from pipeline.records.users import password_fits, signed_in_user

    _users(workspace)
    home = ["--home", str(settings.home)]
    runner = CliRunner()
    with workspace.session() as session:
        rui = session.get_one(User, "rui")
        stolen = [open_sign_in(session, rui, via="web"), open_sign_in(session, rui)]
    wrong = runner.invoke(
        cli,
        [*home, "--as", "rui", "user", "password", "--password-stdin"],
        input="not the password\nanother long secret\n",
    )
    assert wrong.exit_code != 0
    with workspace.session() as session:
        assert all(signed_in_user(session, t) is not None for t in stolen)
    changed = runner.invoke(
        cli,
        [*home, "--as", "rui", "user", "password", "--password-stdin"],
        input=f"{PASSWORD}\nanother long secret\n",
    )
    assert changed.exit_code == 0 and "2 sign-in(s) ended" in changed.stdout, changed.output
    with workspace.session() as session:
        assert all(signed_in_user(session, t) is None for t in stolen)
        assert password_fits(session, "rui", "another long secret") is not None
        entry = session.query(AuditEntry).filter_by(action="user.password_changed").one()
        assert entry.actor == "rui" and "another" not in str(entry.detail)
        # disabling: an admin, signed in, ends wen's sign-ins
        wen_token = open_sign_in(session, session.get_one(User, "wen"))
    with workspace.session() as session:
        add_user(session, "boss", PASSWORD, ["admin"], "setup")
        boss = open_sign_in(session, session.get_one(User, "boss"))
    disabled = runner.invoke(cli, [*home, "user", "disable", "wen"], env={"SEALDESK_SESSION": boss})
    assert disabled.exit_code == 0 and "1 sign-in(s) ended" in disabled.stdout, disabled.output
    with workspace.session() as session:
        assert signed_in_user(session, wen_token) is None
        assert session.get_one(User, "wen").active is False
    # a reviewer cannot set another's password
    with workspace.session() as session:
        li = open_sign_in(session, session.get_one(User, "li"))
    refused = runner.invoke(
        cli,
        [*home, "user", "password", "rui", "--password-stdin"],
        input="x" * 20 + "\n",
        env={"SEALDESK_SESSION": li, "SEALDESK_USER": "li"},
    )
    assert isinstance(refused.exception, PermissionDenied)


def _mofcom(uscc: str, app_id: str) -> Any:
    data = json.loads(
        (REPO / "fixtures" / "packets" / "MOF-2026-606082" / "application.json").read_text(
            encoding="utf-8"
        )
    )
    data["application_id"] = app_id
    data["company"]["uscc"] = uscc
    return parse_record(data)


def test_an_issuing_authority_does_the_preview_of_its_own_region_only(
    workspace: Workspace, record_data: dict[str, Any]
) -> None:
    # MOFCOM: 核验 by the issuing authority of the company's region, 复核 by the service
    # company; the region is the credit code's division (11: Beijing, 2102: Dalian)
    with workspace.session() as session:
        add_user(session, "bj", PASSWORD, ["reviewer"], "admin", organisation="北京市商务局")
        add_user(session, "dl", PASSWORD, ["reviewer"], "admin", organisation="大连市商务局")
        add_user(session, "wen", PASSWORD, ["re-reviewer"], "admin")
        with pytest.raises(ConfigError, match="核验 only"):
            add_user(session, "xx", PASSWORD, ["re-reviewer"], "admin", organisation="北京市商务局")
        with pytest.raises(ConfigError, match="no issuing authority"):
            add_user(session, "yy", PASSWORD, ["reviewer"], "admin", organisation="北京商务局")
    beijing = _checked(workspace, _mofcom("91110108MA01ABCD2H", "MOF-2026-000301"), False)
    dalian = _checked(workspace, _mofcom("91210202MAXBDQ2Q42", "MOF-2026-000302"), False)
    cqc = _checked(workspace, _record(record_data, "CQC-2026-000303", "丙公司"), False)
    with workspace.session() as session:
        bj, dl = session.get_one(User, "bj"), session.get_one(User, "dl")
        assert [i.id for i in review_queue(session, viewer=bj)] == [beijing]
        assert [i.id for i in review_queue(session, viewer=dl)] == [dalian]
        assert {i.id for i in review_queue(session)} == {beijing, dalian, cqc}
        for other in (dalian, cqc):
            assert "不属于北京市商务局" in told(
                service.can_decide(session, bj, session.get_one(Application, other))
            )
            with pytest.raises(PermissionDenied, match="北京市商务局"):
                service.decide(session, bj, other, True)
        service.decide(session, bj, beijing, True)
    with workspace.session() as session:
        bj = session.get_one(User, "bj")
        app = session.get_one(Application, beijing)
        assert app.status == Status.PREREVIEW_PASSED
        assert review_queue(session, viewer=bj) == []  # 复核 is not the authority's
        assert "复核由服务公司办理" in told(service.can_decide(session, bj, app))
        service.decide(session, session.get_one(User, "wen"), beijing, True)
        assert session.get_one(Application, beijing).status == Status.REREVIEW_PASSED


def test_moving_a_user_between_organisations_is_audited(workspace: Workspace) -> None:
    from pipeline.records.users import set_organisation

    with workspace.session() as session:
        add_user(session, "rui", PASSWORD, ["reviewer"], "admin")
        add_user(session, "li", PASSWORD, ["reviewer", "re-reviewer"], "admin")
        set_organisation(session, session.get_one(User, "rui"), "厦门市商务局", "admin")
        with pytest.raises(ConfigError, match="核验 only"):
            set_organisation(session, session.get_one(User, "li"), "厦门市商务局", "admin")
    with workspace.session() as session:
        assert session.get_one(User, "rui").organisation == "厦门市商务局"
        moved = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.organisation")
        ).all()
        assert [(e.actor, e.detail) for e in moved] == [
            ("admin", {"from": None, "to": "厦门市商务局"})
        ]


def told(sentence: Any) -> str:
    """Why a person may not decide, as the Chinese page says it ("" when they may)."""
    return sentence.told() if sentence is not None else ""
