"""What every ``sealdesk`` subcommand module needs from the root command: its context
(settings, who acts) and the check that the actor holds one of the roles an action needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pipeline.errors import PermissionDenied
from pipeline.model.messages import translator
from pipeline.records.database import Session
from pipeline.records.models import User
from pipeline.records.users import Role, signed_in_user

if TYPE_CHECKING:
    from pipeline.workspace import Workspace
    from sealdesk.cli import Context


SPOKEN = "en"
"""The language the command line speaks, whole: its own sentences are English, and the labels
and findings it shows are told in English from the catalogue (pipeline/locale); the data
(names, what was read off a page) stay as they are. The web app speaks the reader's."""


def said(text: str) -> str:
    """A label of the catalogue (a status, a stage, a role) as the command line says it."""
    return translator(SPOKEN)(text)


def current() -> Context:
    return click.get_current_context().find_root().obj  # type: ignore[no-any-return]


def proven(session: Session, *roles: Role) -> User:
    """The acting user, proven by their sign-in (``sealdesk login`` put its token in
    SEALDESK_SESSION), holding one of ``roles`` if any are named: a decision, an issuance, a
    revocation or a user change is made by a person who gave their password, not by a name
    typed after --as. The actor becomes that person (--as, if given, must name them)."""
    ctx = current()
    login = f'eval "$(sealdesk --as {ctx.actor} login)"'
    if not ctx.session_token:
        raise PermissionDenied(
            f"{ctx.actor}: this needs you signed in (a name alone proves nobody): {login}"
        )
    user = signed_in_user(session, ctx.session_token)
    if user is None:
        raise PermissionDenied(f"the sign-in has expired or was ended; sign in again: {login}")
    if ctx.actor_given and ctx.actor != user.username:
        raise PermissionDenied(
            f"signed in as {user.username}, not {ctx.actor}: each person signs in in their own "
            "shell (dual control)"
        )
    if roles and not any(user.has(r) for r in roles):
        needed = " or ".join(r.value for r in roles)
        raise PermissionDenied(f"{user.username} lacks the {needed} role")
    ctx.actor = user.username
    return user


def acting_as(workspace: Workspace, *roles: Role) -> str:
    """The signed-in user's name, when they hold one of ``roles`` (see :func:`proven`)."""
    with workspace.session() as session:
        return proven(session, *roles).username
