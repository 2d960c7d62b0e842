"""What every ``sealdesk`` subcommand module needs from the root command: its context
(settings, who acts) and the check that the actor holds one of the roles an action needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pipeline.errors import PermissionDenied
from pipeline.records.users import Role, acting_user

if TYPE_CHECKING:
    from pipeline.workspace import Workspace
    from sealdesk.cli import Context


def current() -> Context:
    return click.get_current_context().find_root().obj  # type: ignore[no-any-return]


def acting_as(workspace: Workspace, *roles: Role) -> str:
    """The acting user's name, when they hold one of ``roles``."""
    actor = current().actor
    with workspace.session() as session:
        user = acting_user(session, actor)
        if not any(user.has(r) for r in roles):
            raise PermissionDenied(f"{actor} lacks the {' or '.join(r.value for r in roles)} role")
    return actor
