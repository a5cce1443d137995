"""Who may use the server: API tokens, users, web sessions, roles, and the audit log.

Kept in ``<project>/.segmint/server.sqlite`` (stdlib sqlite3 in WAL mode; the DuckDB store
is held by runs, so the server's own small writes go elsewhere). Secrets are never stored:
a token and a session id are kept as their SHA-256, a password as a salted
:func:`hashlib.scrypt` hash. Nothing here knows about HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from segmint.exceptions import ConfigError

Role = Literal["viewer", "analyst", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "analyst", "admin")
AUTH_FILE = Path(".segmint") / "server.sqlite"
TOKEN_PREFIX = "sgm_"
SESSION_HOURS = 12
#: how long a checked credential is trusted without asking sqlite again (a revoked token
#: stops working within this time)
CACHE_SECONDS = 2.0
CACHE_ENTRIES = 10_000
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL, created_by TEXT, last_used_at TEXT, revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, salt TEXT NOT NULL, hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    hash TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, role TEXT NOT NULL,
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL,
    role TEXT NOT NULL, action TEXT NOT NULL, target TEXT, status TEXT NOT NULL,
    detail TEXT
);
"""


@dataclass(frozen=True)
class Principal:
    """Who is asking: a token's or a user's name, and the role it has."""

    name: str
    role: Role
    kind: Literal["token", "user"]

    def allows(self, role: Role) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role


def _check_name(name: str, what: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise ConfigError(f"{what} name {name!r}: 1-100 characters without spaces")
    return name


class AuthStore:
    """Tokens, users, sessions and the audit log of one project's server."""

    def __init__(self, root: Path | str) -> None:
        self.path = Path(root) / AUTH_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        with self._con() as con:
            con.executescript(_SCHEMA)

    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA busy_timeout=10000")
            self._local.con = con
        return con

    # -- tokens -------------------------------------------------------------------------
    def create_token(self, name: str, role: str, *, created_by: str | None = None) -> str:
        """A new token (shown to the caller once; only its SHA-256 is kept)."""
        name = _check_name(name, "token")
        role = check_role(role)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        try:
            self._con().execute(
                "INSERT INTO tokens (name, role, hash, created_at, created_by) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, role, _sha256(token), _now().isoformat(), created_by),
            )
        except sqlite3.IntegrityError:
            raise ConfigError(
                f"a token named {name!r} exists already: revoke it first or choose another name"
            ) from None
        return token

    def tokens(self) -> list[dict[str, Any]]:
        rows = self._con().execute(
            "SELECT name, role, created_at, created_by, last_used_at, revoked_at "
            "FROM tokens ORDER BY name"
        )
        cols = ("name", "role", "created_at", "created_by", "last_used_at", "revoked_at")
        return [dict(zip(cols, r, strict=True)) for r in rows]

    def revoke_token(self, name: str) -> None:
        cur = self._con().execute(
            "UPDATE tokens SET revoked_at = ?, hash = 'revoked:' || name || ':' || ? "
            "WHERE name = ? AND revoked_at IS NULL",
            (_now().isoformat(), secrets.token_hex(8), name),
        )
        if cur.rowcount == 0:
            raise ConfigError(f"no active token named {name!r}: see 'segmint token list'")
        # a revoked token's name may be given to a new token
        self._con().execute(
            "UPDATE tokens SET name = name || '~' || ? WHERE name = ?",
            (str(int(time.time() * 1000)), name),
        )
        self._cache.clear()

    @staticmethod
    def _fresh(hit: tuple[float, Principal | None] | None) -> bool:
        return hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS

    def _remember(self, key: str, found: Principal | None) -> None:
        if len(self._cache) >= CACHE_ENTRIES:  # random tokens must not grow it without end
            self._cache.clear()
        self._cache[key] = (time.monotonic(), found)

    def token_principal(self, token: str) -> Principal | None:
        key = "t:" + _sha256(token)
        hit = self._cache.get(key)
        if self._fresh(hit):
            return hit[1] if hit else None
        row = (
            self._con()
            .execute(
                "SELECT name, role FROM tokens WHERE hash = ? AND revoked_at IS NULL",
                (key[2:],),
            )
            .fetchone()
        )
        found = Principal(row[0], row[1], "token") if row else None
        if found is not None and (hit is None or hit[1] is None):
            self._con().execute(
                "UPDATE tokens SET last_used_at = ? WHERE name = ?",
                (_now().isoformat(), found.name),
            )
        self._remember(key, found)
        return found

    # -- users --------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password: str) -> None:
        name = _check_name(name, "user")
        role = check_role(role)
        if len(password) < 8:
            raise ConfigError("the password must have at least 8 characters")
        salt = secrets.token_bytes(16)
        digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
        self._con().execute(
            "INSERT INTO users (name, role, salt, hash, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET role = excluded.role, salt = excluded.salt, "
            "hash = excluded.hash",
            (name, role, salt.hex(), digest.hex(), _now().isoformat()),
        )
        self._cache.clear()

    def users(self) -> list[dict[str, Any]]:
        rows = self._con().execute("SELECT name, role, created_at FROM users ORDER BY name")
        return [{"name": r[0], "role": r[1], "created_at": r[2]} for r in rows]

    def remove_user(self, name: str) -> None:
        if self._con().execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
            raise ConfigError(f"no user named {name!r}")
        self._con().execute("DELETE FROM sessions WHERE kind = 'user' AND name = ?", (name,))
        self._cache.clear()

    def check_password(self, name: str, password: str) -> Principal | None:
        row = (
            self._con()
            .execute("SELECT role, salt, hash FROM users WHERE name = ?", (name,))
            .fetchone()
        )
        salt = bytes.fromhex(row[1]) if row else b"0" * 16
        digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
        if row is None or not hmac.compare_digest(digest.hex(), row[2]):
            return None
        return Principal(name, row[0], "user")

    # -- sessions -----------------------------------------------------------------------
    def open_session(self, who: Principal) -> str:
        sid = secrets.token_urlsafe(32)
        now = _now()
        con = self._con()
        con.execute("DELETE FROM sessions WHERE expires_at < ?", (now.isoformat(),))
        con.execute(
            "INSERT INTO sessions (hash, name, kind, role, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                _sha256(sid),
                who.name,
                who.kind,
                who.role,
                now.isoformat(),
                (now + timedelta(hours=SESSION_HOURS)).isoformat(),
            ),
        )
        return sid

    def session_principal(self, sid: str) -> Principal | None:
        key = "s:" + _sha256(sid)
        hit = self._cache.get(key)
        if self._fresh(hit):
            return hit[1] if hit else None
        row = (
            self._con()
            .execute(
                "SELECT s.name, s.role, s.kind FROM sessions s WHERE s.hash = ? "
                "AND s.expires_at > ? AND (s.kind <> 'token' OR EXISTS "
                "(SELECT 1 FROM tokens t WHERE t.name = s.name AND t.revoked_at IS NULL))",
                (key[2:], _now().isoformat()),
            )
            .fetchone()
        )
        found = Principal(row[0], row[1], row[2]) if row else None
        self._remember(key, found)
        return found

    def close_session(self, sid: str) -> None:
        self._con().execute("DELETE FROM sessions WHERE hash = ?", (_sha256(sid),))
        self._cache.pop("s:" + _sha256(sid), None)

    # -- audit --------------------------------------------------------------------------
    def audit(
        self,
        who: Principal,
        action: str,
        target: str | None = None,
        *,
        status: str = "ok",
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Record one write or export (never personal data: names of things and counts)."""
        self._con().execute(
            "INSERT INTO audit (at, actor, role, action, target, status, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                datetime.now(UTC).replace(tzinfo=None).isoformat(),
                f"{who.kind}:{who.name}",
                who.role,
                action,
                target,
                status,
                json.dumps(detail, default=str) if detail else None,
            ),
        )

    def audit_log(self, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        rows = self._con().execute(
            "SELECT id, at, actor, role, action, target, status, detail FROM audit "
            "ORDER BY id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        cols = ("id", "at", "actor", "role", "action", "target", "status", "detail")
        out = []
        for r in rows:
            d = dict(zip(cols, r, strict=True))
            d["detail"] = json.loads(d["detail"]) if d["detail"] else None
            out.append(d)
        return out
