"""Staff accounts for the knowledge-base pages and API: roles, hashed passwords, tokens.

Passwords are stored as bcrypt hashes; bearer tokens are random and stored only as their
SHA-256, so the records file never holds anything that logs a person in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import bcrypt

from bot.errors import AuthError, ConflictError, InvalidInputError, NotFoundError
from bot.sqlite import SQLiteTable

ROLES = ("editor", "admin")  # admin ⊃ editor
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's limit
# Checked against when the user does not exist, so timing does not tell names apart.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt())

_SCHEMA = """
CREATE TABLE IF NOT EXISTS staff_users (
    username TEXT PRIMARY KEY, password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('editor', 'admin')), created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS staff_tokens (
    token_sha256 TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES staff_users(username)
    ON DELETE CASCADE, expires_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class StaffUser:
    username: str
    role: str

    def may(self, role: str) -> bool:
        """Whether this account has `role` or a stronger one."""
        return ROLES.index(self.role) >= ROLES.index(role)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffStore(SQLiteTable):
    def __init__(self, path: Path, token_hours: float = 12.0) -> None:
        super().__init__(path, _SCHEMA)
        self._db.execute("PRAGMA foreign_keys=ON")
        self.token_s = token_hours * 3600

    def create(self, username: str, password: str, role: str) -> StaffUser:
        """A new account; refuses bad names, short passwords, unknown roles and duplicates."""
        if not _NAME.match(username):
            raise InvalidInputError(
                "username: 2–64 letters, digits or _ . @ -",
                message_zh="用户名须为 2–64 位字母、数字或 _ . @ -",
            )
        if len(password) < MIN_PASSWORD:
            raise InvalidInputError(
                f"password: at least {MIN_PASSWORD} characters",
                message_zh=f"密码至少 {MIN_PASSWORD} 位",
            )
        if len(password.encode()) > MAX_PASSWORD_BYTES:
            raise InvalidInputError(
                f"password: at most {MAX_PASSWORD_BYTES} bytes (about 24 Chinese characters)",
                message_zh="密码过长（最多 72 字节，约 24 个汉字）",
            )
        if role not in ROLES:
            raise InvalidInputError(
                f"role must be one of {', '.join(ROLES)}", message_zh="角色只能是 editor 或 admin"
            )
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO staff_users VALUES (?, ?, ?, ?)",
                    (username, hashed, role, time.time()),
                )
            except sqlite3.IntegrityError:
                raise ConflictError(
                    f"user {username!r} exists", message_zh=f"用户 {username} 已存在"
                ) from None
        return StaffUser(username, role)

    def ensure(self, username: str, password: str, role: str = "admin") -> bool:
        """Create the account unless it exists (start-up provisioning); True if created."""
        if self.get(username) is not None:
            return False
        self.create(username, password, role)
        return True

    def get(self, username: str) -> StaffUser | None:
        with self._lock:
            row = self._db.execute(
                "SELECT username, role FROM staff_users WHERE username=?", (username,)
            ).fetchone()
        return StaffUser(*row) if row else None

    def users(self) -> list[StaffUser]:
        with self._lock:
            rows = self._db.execute("SELECT username, role FROM staff_users ORDER BY username")
            return [StaffUser(*r) for r in rows.fetchall()]

    def login(self, username: str, password: str) -> tuple[str, StaffUser]:
        """A new bearer token for correct credentials; `AuthError` otherwise."""
        with self._lock:
            row = self._db.execute(
                "SELECT password_hash, role FROM staff_users WHERE username=?", (username,)
            ).fetchone()
        stored = row[0].encode() if row else _DUMMY_HASH
        try:
            ok = bcrypt.checkpw(password.encode()[:MAX_PASSWORD_BYTES], stored) and row is not None
        except ValueError:
            ok = False
        if not ok:
            raise AuthError("wrong username or password", message_zh="用户名或密码错误")
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.time()
            self._db.execute("DELETE FROM staff_tokens WHERE expires_at < ?", (now,))
            self._db.execute(
                "INSERT INTO staff_tokens VALUES (?, ?, ?)",
                (_digest(token), username, now + self.token_s),
            )
        return token, StaffUser(username, row[1])

    def user_for(self, token: str) -> StaffUser | None:
        with self._lock:
            row = self._db.execute(
                "SELECT u.username, u.role FROM staff_tokens t JOIN staff_users u"
                " ON u.username = t.username WHERE t.token_sha256=? AND t.expires_at >= ?",
                (_digest(token), time.time()),
            ).fetchone()
        return StaffUser(*row) if row else None

    def delete(self, username: str, by: str) -> None:
        """Remove an account and its log-ins; not your own, and never the last admin."""
        if username == by:
            raise ConflictError(
                "you cannot delete your own account", message_zh="不能删除自己的账号"
            )
        with self._lock:
            row = self._db.execute(
                "SELECT role FROM staff_users WHERE username=?", (username,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no user {username!r}", message_zh=f"用户 {username} 不存在")
            (admins,) = self._db.execute(
                "SELECT COUNT(*) FROM staff_users WHERE role='admin'"
            ).fetchone()
            if row[0] == "admin" and admins <= 1:
                raise ConflictError(
                    "the last admin cannot be deleted", message_zh="不能删除最后一个管理员账号"
                )
            self._db.execute("DELETE FROM staff_tokens WHERE username=?", (username,))
            self._db.execute("DELETE FROM staff_users WHERE username=?", (username,))

    def logout(self, token: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM staff_tokens WHERE token_sha256=?", (_digest(token),))
