"""Who may see and decide which application: the CA's service company everything; a MOFCOM
issuing authority (发证机构) the 核验 of its own region's applications (the MOFCOM guide:
the authority checks, the service company re-checks, issues and ships). The region is read
off the credit code (pipeline.model.authorities); an application whose region cannot be told
stays with the service company."""

from __future__ import annotations

from pipeline.model.authorities import issuing_authority
from pipeline.model.messages import Say, say
from pipeline.records.models import Application, User


def authority_of(app: Application) -> str | None:
    """The issuing authority whose 核验 ``app`` is: MOFCOM applications only."""
    if app.scheme != "mofcom":
        return None
    return issuing_authority(app.company_uscc or "")


def sees(user: User, app: Application) -> bool:
    """Whether ``user`` may see ``app`` at all (its page, its evidence, its packet)."""
    return user.organisation is None or authority_of(app) == user.organisation


def outside(user: User, app: Application, stage: str | None) -> Say | None:
    """Why ``app``'s ``stage`` is not ``user``'s organisation's to decide, or None."""
    if user.organisation is None:
        return None
    if not sees(user, app):
        return say("{id} 不属于{authority}核验的地区", id=app.id, authority=user.organisation)
    if stage != "prereview":
        return say("{authority}只办理核验；复核由服务公司办理", authority=user.organisation)
    return None
