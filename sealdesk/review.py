"""``sealdesk user``, ``sealdesk review`` and ``sealdesk web``: people, the review queue
and its decisions, the reviewer web app.

The CLI acts as the user named by ``--as`` (or ``$SEALDESK_USER``), who must be an active
sealdesk user holding the role the command needs; what changes anything needs that
person's sign-in (``sealdesk login``: password, and a one-time code for admins and
issuers), as the web app does.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline.errors import NotFound, PermissionDenied
from pipeline.model.messages import catalogue
from pipeline.records.models import Application, User
from pipeline.records.users import (
    ROLE_LABELS,
    Role,
    acting_user,
    add_user,
    all_users,
    has_users,
    totp_uri,
)
from pipeline.review import queue as review_queue
from pipeline.review import scope
from pipeline.review.calendar import beijing
from pipeline.review.wording import told_finding
from sealdesk.context import SPOKEN, proven, said
from sealdesk.context import current as _ctx

if TYPE_CHECKING:
    pass

SEVERITY_COLOURS = {"error": "red", "warning": "yellow", "info": "blue"}
VIEWERS = (Role.INTAKE, Role.REVIEWER, Role.REREVIEWER, Role.ADMIN)


def _viewer(session: object, username: str) -> User:
    user = acting_user(session, username)  # type: ignore[arg-type]
    if not any(user.has(r) for r in VIEWERS):
        raise PermissionDenied(f"{username} has no role that may see the review queue")
    return user


# --- users -------------------------------------------------------------------------------


@click.group()
def user() -> None:
    """The people who use sealdesk and their roles."""


@user.command("add")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="A role (give several --role for several).",
)
@click.option("--name", "display_name", default="", help="The name shown (default: USERNAME).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@click.option(
    "--org",
    "organisation",
    default=None,
    help="A MOFCOM issuing authority (e.g. 北京市商务局): the user does 核验 of its region's "
    "applications only. Default: the CA's service company.",
)
def user_add(
    username: str,
    roles: tuple[str, ...],
    display_name: str,
    password_stdin: bool,
    organisation: str | None,
) -> None:
    """Add a user. The first user can be added by whoever runs sealdesk on this machine;
    after that, only an admin (--as)."""
    ctx = _ctx()
    with ctx.workspace().session() as session:
        if has_users(session):
            proven(session, Role.ADMIN)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    with ctx.workspace().session() as session:
        made = add_user(
            session, username, password, list(roles), ctx.actor, display_name, organisation
        )
        uri = totp_uri(made) if made.totp_secret else None
    labels = ", ".join(catalogue(SPOKEN).pgettext("role", ROLE_LABELS[Role(r)]) for r in roles)
    where = f", {organisation}" if organisation else ""
    click.echo(f"added {username} ({', '.join(roles)}: {labels}{where})")
    if uri:
        click.echo(
            f"second factor: {username} signs in with a code from an authenticator app; "
            f"give them this address (once, in person):\n  {uri}"
        )


@user.command("org")
@click.argument("username")
@click.argument("authority", required=False)
def user_org(username: str, authority: str | None) -> None:
    """Put USERNAME in AUTHORITY, a MOFCOM issuing authority (its people do 核验 of their
    region's applications only), or, without AUTHORITY, back in the CA's service company.
    An admin does it; audited."""
    from pipeline.records.users import set_organisation

    ctx = _ctx()
    with ctx.workspace().session() as session:
        actor = proven(session, Role.ADMIN).username
        set_organisation(session, acting_user(session, username), authority, actor)
    click.echo(f"{username}: {authority or 'the service company (every application)'}")


@user.command("second-factor")
@click.argument("username")
@click.option(
    "--password-stdin", is_flag=True, help="Read USERNAME's password from standard input."
)
def user_second_factor(username: str, password_stdin: bool) -> None:
    """A new second-factor secret for USERNAME (an admin or issuer); the old one stops
    working. An admin signed in does it for anyone; a user without one yet (a workspace
    from before second factors) does it for themselves with their password."""
    from pipeline.records.users import enrol_second_factor, needs_second_factor, password_fits

    ctx = _ctx()
    with ctx.workspace().session() as session:
        target = acting_user(session, username)
        if not needs_second_factor(target):
            raise PermissionDenied(f"{username}'s roles need no second factor")
        if target.totp_secret is not None:
            actor = proven(session, Role.ADMIN).username
        else:
            if password_stdin:
                password = sys.stdin.readline().rstrip("\n")
            else:
                password = click.prompt(f"password for {username}", hide_input=True, err=True)
            if password_fits(session, username, password) is None:
                raise PermissionDenied(f"{username}: wrong password")
            actor = username
        uri = enrol_second_factor(session, target, actor)
    click.echo(f"second factor of {username} (give it once, in person):\n  {uri}")


@click.command()
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@click.option("--code", default=None, help="The one-time code (admins, issuers); else asked.")
def login(password_stdin: bool, code: str | None) -> None:
    """Sign in as the user --as names. Prints `export SEALDESK_SESSION=…` for your shell:
    run it as eval "$(sealdesk --as NAME login)". Decisions, issuance, revocation and user
    changes need it; it lasts an hour, or until 'sealdesk logout'."""
    from pipeline.records.models import User as UserRow
    from pipeline.records.users import (
        CLI_SIGN_IN,
        authenticate,
        login_name,
        needs_second_factor,
        open_sign_in,
        refuse_sign_in,
    )

    ctx = _ctx()
    name = login_name(ctx.actor)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(f"password for {name}", hide_input=True, err=True)
    with ctx.workspace().session() as session:
        known = session.get(UserRow, name)
        if code is None and known is not None and needs_second_factor(known):
            code = click.prompt("one-time code from your authenticator", err=True)
        user = authenticate(session, name, password, code)
        if user is None:
            refuse_sign_in(session, name, "cli", "failed")
        else:
            token = open_sign_in(session, user)
    if user is None:
        raise PermissionDenied(f"{name}: wrong user name or password, or the user is disabled")
    click.echo(f"export SEALDESK_SESSION={token}")
    click.echo(f"signed in as {user.username} for {CLI_SIGN_IN}", err=True)


@click.command()
def logout() -> None:
    """End the sign-in in SEALDESK_SESSION now (it is refused from then on). Prints
    `unset SEALDESK_SESSION` for your shell: eval "$(sealdesk logout)"."""
    from pipeline.records.users import end_sign_in

    ctx = _ctx()
    if ctx.session_token:
        with ctx.workspace().session() as session:
            ended = end_sign_in(session, ctx.session_token)
        click.echo(f"signed out {ended}" if ended else "that sign-in had already ended", err=True)
    else:
        click.echo("not signed in", err=True)
    click.echo("unset SEALDESK_SESSION")


def _read_password(prompt: str, from_stdin: bool, *, confirm: bool = False) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True))


@user.command("password")
@click.argument("username", required=False)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read from standard input: the current password, then the new one (your own), or "
    "the new one only (an admin setting another's).",
)
def user_password(username: str | None, password_stdin: bool) -> None:
    """Change your password (the current one asked first), or, signed in as an admin,
    set USERNAME's. Every sign-in of that user ends, on the web and the command line."""
    from pipeline.records.users import change_password, password_fits

    ctx = _ctx()
    name = username or ctx.actor
    with ctx.workspace().session() as session:
        target = acting_user(session, name)
        if name != ctx.actor:
            actor = proven(session, Role.ADMIN).username
        else:
            current = _read_password(f"current password for {name}", password_stdin)
            if password_fits(session, name, current) is None:
                raise PermissionDenied(f"{name}: wrong password")
            actor = name
        new = _read_password(f"new password for {name}", password_stdin, confirm=True)
        ended = change_password(session, target, new, actor)
    click.echo(f"password of {name} changed; {ended} sign-in(s) ended")


@user.command("disable")
@click.argument("username")
def user_disable(username: str) -> None:
    """Disable USERNAME (an admin): they can no longer sign in, their sign-ins end now;
    what they did stays in the audit trail under their name."""
    from pipeline.records.users import disable_user

    ctx = _ctx()
    with ctx.workspace().session() as session:
        actor = proven(session, Role.ADMIN).username
        target = acting_user(session, username)
        ended = disable_user(session, target, actor)
    click.echo(f"disabled {username}; {ended} sign-in(s) ended")


@user.command("list")
def user_list() -> None:
    """List the users and their roles."""
    with _ctx().workspace().session() as session:
        for row in all_users(session):
            state = "" if row.active else "  (disabled)"
            where = f"  {row.organisation}" if row.organisation else ""
            click.echo(f"{row.username:<16} {row.display_name:<12} {row.roles}{where}{state}")


# --- review ------------------------------------------------------------------------------


@click.group()
def review() -> None:
    """Work through the applications waiting for 核验 or 复核, as the user --as."""


@review.command("list")
@click.option("--stage", type=click.Choice(["prereview", "rereview"]), default=None)
@click.option("--flagged", is_flag=True, help="Only those the check flagged.")
@click.option("--overdue", is_flag=True, help="Only those past their due date.")
@click.option("--search", default="", help="Part of an application id or company name.")
def review_list(stage: str | None, flagged: bool, overdue: bool, search: str) -> None:
    """The queue: flagged first, then the longest waiting, with due dates."""
    ctx = _ctx()
    now = datetime.now(UTC)
    with ctx.workspace().session() as session:
        viewer = _viewer(session, ctx.actor)
        items = review_queue.review_queue(
            session,
            stage=stage,
            flagged_only=flagged,
            overdue_only=overdue,
            search=search,
            viewer=viewer,
        )
    if not items:
        click.echo("nothing waits for review")
        return
    click.echo(f"{'application':<18} {'stage':<10}  {'verdict':<8} {'E/W':<6} {'due':<17} company")
    for item in items:
        verdict = click.style(f"{item.verdict or '':<8}", fg="red" if item.flagged else "green")
        due = beijing(item.due)
        due = click.style(f"{due} !", fg="red", bold=True) if item.overdue(now) else f"{due}  "
        click.echo(
            f"{item.id:<18} {said(item.stage_label):<10}  {verdict} "
            f"{item.errors}/{item.warnings:<4} {due} {item.company}"
        )


@review.command("show")
@click.argument("application_id")
def review_show(application_id: str) -> None:
    """An application's findings with their evidence, and its decisions."""
    from pipeline.review import service

    ctx = _ctx()
    with ctx.workspace().session() as session:
        viewer = _viewer(session, ctx.actor)
        app = session.get(Application, application_id)
        if app is None or not scope.sees(viewer, app):
            raise NotFound(f"no application {application_id}")
        info = service.summary(session, app)
        run = service.latest_report(session, app)
        findings = list((run.report if run else {}).get("findings") or [])
        made = service.decisions(session, app)
        blocked = service.can_decide(session, viewer, app)
    click.echo(f"{info['id']}  {info['company']}  round {info['round']}")
    click.echo(f"status   {info['status']}, verdict {info['verdict']}")
    if info["due"] is not None:
        late = click.style(" overdue", fg="red", bold=True) if info["overdue"] else ""
        click.echo(f"waiting  {said(info['stage_label'])} until {beijing(info['due'])}{late}")
    click.echo(f"\nfindings ({len(findings)})")
    for number, finding in enumerate(findings, 1):
        colour = SEVERITY_COLOURS.get(finding["severity"], "white")
        click.echo(
            f"  {number:>2} "
            + click.style(f"{finding['severity']:<8}", fg=colour)
            + f"{finding['code']:<22} {told_finding(finding, SPOKEN)}"
        )
        evidence = finding.get("evidence") or {}
        shown = {
            k: evidence[k]
            for k in ("expected", "found", "disagreement")
            if evidence.get(k) is not None
        }
        if shown:
            click.echo("            " + ", ".join(f"{k}: {v}" for k, v in shown.items()))
    click.echo("\ndecisions")
    for d in made:
        click.echo(
            f"  {beijing(d['at'])}  round {d['round']}  {d['stage']:<9} "
            f"{d['decision']:<7} {d['actor']}  {d['remarks']}"
        )
        for o in d["overrides"]:
            click.echo(f"      over finding {o['finding']} {o['code']}: {o['remark']}")
    if not made:
        click.echo("  none yet")
    click.echo(f"\n{ctx.actor}: " + (blocked.told(SPOKEN) if blocked else "may decide this stage"))


@review.command("approve")
@click.argument("application_id")
@click.option("--remarks", default="", help="备注 (optional when approving).")
@click.option(
    "--override",
    "overrides",
    multiple=True,
    metavar="N=REMARK",
    help="Approve over error finding N (as `review show` numbers it), saying why it does not "
    "stand in the way; one for each error finding.",
)
def review_approve(application_id: str, remarks: str, overrides: tuple[str, ...]) -> None:
    """Approve the stage APPLICATION_ID waits for (核验 or 复核). Each error finding of the
    check needs --override N='why it does not stand in the way'."""
    _decide(application_id, True, remarks, _overrides(overrides))


def _overrides(given: tuple[str, ...]) -> dict[int, str]:
    out: dict[int, str] = {}
    for item in given:
        number, sep, remark = item.partition("=")
        if not sep or not number.strip().isdigit():
            raise click.BadParameter(
                f"{item!r}: write N=REMARK, N the finding's number in `sealdesk review show`",
                param_hint="--override",
            )
        out[int(number)] = remark
    return out


@review.command("reject")
@click.argument("application_id")
@click.option("--remarks", required=True, help="备注: what the applicant must fix.")
def review_reject(application_id: str, remarks: str) -> None:
    """Send APPLICATION_ID back to the applicant with the remarks."""
    _decide(application_id, False, remarks)


def _decide(
    application_id: str, approve: bool, remarks: str, overrides: dict[int, str] | None = None
) -> None:
    from pipeline.review import service

    ctx = _ctx()
    with ctx.workspace().session() as session:
        actor = proven(session)
        made = service.decide(session, actor, application_id, approve, remarks, overrides)
        stage, decision = made.stage, made.decision
    click.echo(f"{application_id}: {stage} {decision} by {ctx.actor}")


@review.command("packet")
@click.argument("application_id")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None)
def review_packet(application_id: str, output: Path | None) -> None:
    """Write the review packet (PDF) of APPLICATION_ID and print where it is."""
    from pipeline.review import service  # reportlab and the evidence: only when asked

    ctx = _ctx()
    workspace = ctx.workspace()
    with workspace.session() as session:
        viewer = _viewer(session, ctx.actor)
        app = session.get(Application, application_id)
        if app is None or not scope.sees(viewer, app):
            raise NotFound(f"no application {application_id}")
    path = service.write_packet(workspace, application_id)
    if output is not None:
        output.write_bytes(path.read_bytes())
        path = output
    click.echo(str(path))


# --- web ---------------------------------------------------------------------------------


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def web(host: str, port: int) -> None:
    """Run the reviewer web app (sign in with a user added by 'sealdesk user add')."""
    import uvicorn

    from pipeline.web.app import create_app, server_options

    ctx = _ctx()
    click.echo(f"sealdesk web on http://{host}:{port}/ (workspace {ctx.settings.home})")
    uvicorn.run(
        create_app(ctx.settings),
        host=host,
        port=port,
        log_level="warning",
        **server_options(ctx.settings),
    )
