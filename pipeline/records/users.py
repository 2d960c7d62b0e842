"""The people who use sealdesk, their roles, and their passwords (scrypt, salted)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.errors import ConfigError, PermissionDenied
from pipeline.model import authorities
from pipeline.model.messages import NP_
from pipeline.records.audit import record_event
from pipeline.records.models import SignIn, User


class Role(StrEnum):
    INTAKE = "intake"
    REVIEWER = "reviewer"
    """Pre-review, 核验."""
    REREVIEWER = "re-reviewer"
    """Re-review, 复核."""
    ISSUER = "issuer"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.INTAKE: NP_("role", "收件"),
    Role.REVIEWER: NP_("role", "核验"),
    Role.REREVIEWER: NP_("role", "复核"),
    Role.ISSUER: NP_("role", "制证"),
    Role.ADMIN: NP_("role", "管理"),
}
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 10
# scrypt at 16 MiB and about 50 ms: costly to guess offline, cheap for one sign-in
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join(("scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)))


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def add_user(
    session: Session,
    username: str,
    password: str,
    roles: list[str],
    actor: str,
    display_name: str = "",
    organisation: str | None = None,
) -> User:
    if not USERNAME.match(username):
        raise ConfigError(
            f"user name {username!r}: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter, 2–32 characters"
        )
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password needs at least {MIN_PASSWORD} characters")
    try:
        parsed = sorted({Role(r) for r in roles})
    except ValueError as exc:
        raise ConfigError(f"{exc}; roles are {', '.join(r.value for r in Role)}") from exc
    if not parsed:
        raise ConfigError("a user needs at least one role")
    if session.get(User, username) is not None:
        raise ConfigError(f"user {username} exists already")
    _check_organisation(organisation, parsed)
    user = User(
        username=username,
        display_name=display_name or username,
        roles=",".join(r.value for r in parsed),
        password_hash=hash_password(password),
        active=True,
        organisation=organisation,
    )
    if any(r in SECOND_FACTOR for r in parsed):
        user.totp_secret = pyotp.random_base32()
    session.add(user)
    record_event(
        session,
        actor,
        "user.added",
        ("user", username),
        {
            "roles": [r.value for r in parsed],
            **({"organisation": organisation} if organisation else {}),
        },
    )
    return user


AUTHORITY_ROLES = frozenset({Role.REVIEWER})
"""What an issuing authority's people may do in sealdesk: 核验 (MOFCOM guide: the
authority checks, the service company re-checks, issues and ships)."""


def _check_organisation(organisation: str | None, roles: list[Role]) -> None:
    if organisation is None:
        return
    if organisation not in authorities.ALL:
        raise ConfigError(
            f"{organisation!r} is no issuing authority; one of: "
            + "、".join(sorted(authorities.ALL))
        )
    beyond = [r.value for r in roles if r not in AUTHORITY_ROLES]
    if beyond:
        raise ConfigError(
            f"an issuing authority's user does 核验 only (role reviewer), not {', '.join(beyond)}"
        )


def set_organisation(session: Session, user: User, organisation: str | None, actor: str) -> None:
    """Move ``user`` to ``organisation`` (None: the CA's service company); audited."""
    _check_organisation(organisation, [Role(r) for r in user.role_list])
    before = user.organisation
    user.organisation = organisation
    record_event(
        session,
        actor,
        "user.organisation",
        ("user", user.username),
        {"from": before, "to": organisation},
    )


SECOND_FACTOR = frozenset({Role.ADMIN, Role.ISSUER})
"""Roles that sign in with a one-time code (RFC 6238, pyotp) besides the password: they
add users and issue and revoke certificates."""


def needs_second_factor(user: User) -> bool:
    return any(user.has(r) for r in SECOND_FACTOR)


def totp_uri(user: User) -> str:
    """The otpauth:// address an authenticator app takes (typed in or as a QR code)."""
    if user.totp_secret is None:
        raise ConfigError(f"{user.username} has no second factor")
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name="sealdesk")


def enrol_second_factor(session: Session, user: User, actor: str) -> str:
    """A new second-factor secret for ``user`` (the old one stops working); its otpauth://
    address, to be shown once to that person. In the audit trail (not the secret)."""
    user.totp_secret = pyotp.random_base32()
    user.totp_last_step = None
    record_event(session, actor, "user.second_factor_enrolled", ("user", user.username), {})
    return totp_uri(user)


def code_fits(user: User, code: str | None, now: datetime | None = None) -> bool:
    """Whether ``code`` is the user's current one-time code (a step either side allowed for
    clocks apart) and no code of its step or a later one was accepted before; accepting it
    records its step. True for users whose roles need none."""
    if not needs_second_factor(user):
        return True
    if user.totp_secret is None or not code:
        return False
    totp = pyotp.TOTP(user.totp_secret)
    moment = now or datetime.now(UTC)
    step = totp.timecode(moment)
    for offset in (-1, 0, 1):
        if hmac.compare_digest(totp.at(moment, counter_offset=offset), code.strip()):
            if user.totp_last_step is not None and step + offset <= user.totp_last_step:
                return False  # used already (or an older one): a replay
            user.totp_last_step = step + offset
            return True
    return False


def end_sign_ins(session: Session, username: str) -> int:
    """End every open sign-in of ``username`` now (web and command line): after a password
    change or when the user is disabled. Returns how many were open."""
    now = datetime.now(UTC)
    open_ones = session.scalars(
        select(SignIn).where(SignIn.username == username, SignIn.ended_at.is_(None))
    ).all()
    for found in open_ones:
        found.ended_at = now
    return len(open_ones)


def change_password(session: Session, user: User, password: str, actor: str) -> int:
    """Set ``user``'s password; every sign-in they have open ends (a session stolen with
    the old password is worthless). Audited, without the password. Returns the sign-ins
    ended."""
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password needs at least {MIN_PASSWORD} characters")
    user.password_hash = hash_password(password)
    ended = end_sign_ins(session, user.username)
    record_event(
        session, actor, "user.password_changed", ("user", user.username), {"sign_ins_ended": ended}
    )
    return ended


def disable_user(session: Session, user: User, actor: str) -> int:
    """Disable ``user`` (kept for the audit trail, never deleted); their sign-ins end."""
    user.active = False
    ended = end_sign_ins(session, user.username)
    record_event(
        session, actor, "user.disabled", ("user", user.username), {"sign_ins_ended": ended}
    )
    return ended


def login_name(typed: str) -> str:
    """The user name as sign-in looks it up and limits it: NFKC, no surrounding white space,
    lower case (user names are lower case), so " rui" or "ＲＵＩ" count against rui."""
    return unicodedata.normalize("NFKC", typed).strip().lower()


def authenticate(
    session: Session, username: str, password: str, code: str | None = None
) -> User | None:
    """The user, when the name and password are right, the user is active and, for roles
    that need one, ``code`` is their current one-time code."""
    user = password_fits(session, username, password)
    return user if user is not None and code_fits(user, code) else None


def password_fits(session: Session, username: str, password: str) -> User | None:
    """The active user whose name and password these are (the password alone: a first
    factor)."""
    user = session.get(User, username)
    if user is None:
        # spend the same time as a real check, so timing does not tell who exists
        check_password(password, _dummy_hash())
        return None
    if not check_password(password, user.password_hash) or not user.active:
        return None
    return user


def refuse_sign_in(session: Session, name: str, via: str, why: str, address: str = "") -> None:
    """A sign-in that failed (``why`` "failed") or was refused unchecked ("refused": too many
    failures) in the audit trail, under the name tried (cut to the trail's 64 characters)."""
    detail = {"from": via, **({"address": address} if address else {})}
    record_event(session, "anonymous", f"user.sign_in_{why}", ("user", name[:64]), detail)


CLI_SIGN_IN = timedelta(hours=1)
"""How long a command-line sign-in lasts."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_sign_in(
    session: Session,
    user: User,
    now: datetime | None = None,
    via: str = "cli",
    lasting: timedelta = CLI_SIGN_IN,
) -> str:
    """A new sign-in for ``user`` (whose password was just checked) ``via`` the command line
    or the web app: the token to hand to them; only its sha256 is kept. In the audit trail."""
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    expires = now + lasting
    session.add(
        SignIn(
            token_sha256=_digest(token),
            username=user.username,
            created_at=now,
            expires_at=expires,
            via=via,
        )
    )
    record_event(
        session,
        user.username,
        "user.signed_in",
        ("user", user.username),
        {"from": via, "until": expires.isoformat(timespec="seconds")},
    )
    return token


def signed_in_user(session: Session, token: str, now: datetime | None = None) -> User | None:
    """The active user whose unexpired, not signed-out sign-in ``token`` is, else None."""
    found = session.get(SignIn, _digest(token))
    now = now or datetime.now(UTC)
    if found is None or found.ended_at is not None or found.expires_at <= now:
        return None
    user = session.get(User, found.username)
    return user if user is not None and user.active else None


def end_sign_in(session: Session, token: str) -> str | None:
    """Sign out: the sign-in ends now (in the audit trail); its user's name, if it was one."""
    found = session.get(SignIn, _digest(token))
    if found is None or found.ended_at is not None:
        return None
    found.ended_at = datetime.now(UTC)
    record_event(
        session, found.username, "user.signed_out", ("user", found.username), {"from": found.via}
    )
    return found.username


def acting_user(session: Session, username: str, role: Role | None = None) -> User:
    """The user the CLI acts as (``--as``), who must exist, be active and hold ``role``."""
    user = session.get(User, username)
    if user is None or not user.active:
        raise PermissionDenied(
            f"{username} is not an active sealdesk user: an admin adds one with "
            "'sealdesk user add NAME --role ...'"
        )
    if role is not None and not user.has(role):
        raise PermissionDenied(f"{username} lacks the {role.value} role")
    return user


def has_users(session: Session) -> bool:
    """Whether anyone has been added yet (the first user may be added by anyone)."""
    return bool(session.scalar(select(func.count()).select_from(User)))


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)).all())


@cache
def _dummy_hash() -> str:
    """A hash of nothing, made on first need (scrypt's 16 MB are not paid at import, in
    every extraction worker that imports the CLI)."""
    return hash_password(secrets.token_hex(8))
