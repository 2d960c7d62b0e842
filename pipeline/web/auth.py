"""Sign-in for the web app: a signed session cookie, CSRF tokens, a login rate limit.

The cookie holds the user name, the session's CSRF token, its expiry and its sign-in token,
signed with HMAC-SHA256 under a secret kept in the workspace (``web-secret``, made on first
start, readable by its owner only). The sign-in is kept on the server too (its token's
sha256, see ``records.users.open_sign_in``) and checked on every request with the user's
roles: signing out, or a disabled user, ends it at once, whoever holds a copy of the cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

COOKIE = "sealdesk_session"
PRE_COOKIE = "sealdesk_login"
SESSION_SECONDS = 8 * 3600
LOGIN_ATTEMPTS = 5
LOGIN_WINDOW = 15 * 60
ADDRESS_ATTEMPTS = 50
"""Failed sign-ins from one address, any names, in LOGIN_WINDOW: high enough that an
office behind one NAT address is not locked out by a colleague's typos (each name has
its own LOGIN_ATTEMPTS), low enough to stop one address trying many names."""


def load_secret(home: Path) -> bytes:
    path = home / "web-secret"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


@dataclass(frozen=True, slots=True)
class Session:
    username: str
    csrf: str
    expires: float
    token: str = ""
    """The sign-in's token (its sha256 is on the server)."""


def _sign(secret: bytes, payload: bytes) -> str:
    return hmac.new(secret, payload, hashlib.sha256).hexdigest()


def sign(secret: bytes, payload: bytes) -> str:
    """The site's HMAC of ``payload`` (what other signed values of the app are made of)."""
    return _sign(secret, payload)


def encode(secret: bytes, session: Session) -> str:
    payload = base64.urlsafe_b64encode(
        json.dumps(
            {"u": session.username, "c": session.csrf, "e": session.expires, "t": session.token}
        ).encode()
    )
    return f"{payload.decode()}.{_sign(secret, payload)}"


def decode(secret: bytes, cookie: str | None) -> Session | None:
    """The session a cookie carries, or None when it is absent, forged or expired."""
    if not cookie or "." not in cookie:
        return None
    payload, signature = cookie.rsplit(".", 1)
    if not hmac.compare_digest(_sign(secret, payload.encode()), signature):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        session = Session(str(data["u"]), str(data["c"]), float(data["e"]), str(data["t"]))
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires > time.time() else None


def new_session(username: str, token: str) -> Session:
    return Session(username, secrets.token_urlsafe(24), time.time() + SESSION_SECONDS, token)


def pre_login_token(secret: bytes) -> str:
    """A CSRF token for the login form, before anyone is signed in (double submit: the
    same signed value in a cookie and in the form)."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_sign(secret, nonce.encode())}"


def pre_login_valid(secret: bytes, cookie: str | None, form: str | None) -> bool:
    if not cookie or not form or not hmac.compare_digest(cookie, form) or "." not in cookie:
        return False
    nonce, signature = cookie.rsplit(".", 1)
    return hmac.compare_digest(_sign(secret, nonce.encode()), signature)


class LoginLimiter:
    """At most LOGIN_ATTEMPTS failed sign-ins per user name (keys ``user:…``) and
    ADDRESS_ATTEMPTS per address (``addr:…``) in LOGIN_WINDOW seconds; further attempts
    are refused without checking the password."""

    def __init__(
        self,
        attempts: int = LOGIN_ATTEMPTS,
        window: float = LOGIN_WINDOW,
        address_attempts: int = ADDRESS_ATTEMPTS,
    ) -> None:
        self.attempts = attempts
        self.address_attempts = address_attempts
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] < now - self.window:
            times.popleft()
        return times

    def _limit(self, key: str) -> int:
        return self.address_attempts if key.startswith("addr:") else self.attempts

    def blocked(self, *keys: str) -> bool:
        now = time.time()
        return any(len(self._recent(k, now)) >= self._limit(k) for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.time()
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        """A right password clears its name's count, never its address's: else anyone with
        an account could reset the address between guesses at other names."""
        for key in keys:
            if not key.startswith("addr:"):
                self._failures.pop(key, None)
