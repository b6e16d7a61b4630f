"""Staff accounts for the knowledge-base pages and API: roles, hashed passwords, tokens.

Passwords are stored as bcrypt hashes; bearer tokens are random and stored only as their
SHA-256, so the records database never holds anything that logs a person in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

import bcrypt
from sqlalchemy import Connection, delete, exc, func, insert, select

from bot.errors import AuthError, ConflictError, InvalidInputError, NotFoundError
from bot.records import Database, advisory_lock
from bot.records.models import staff_tokens, staff_users

ROLES = ("editor", "admin")  # admin ⊃ editor
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's limit
# Checked against when the user does not exist, so timing does not tell names apart.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt())


@dataclass(frozen=True)
class StaffUser:
    username: str
    role: str

    def may(self, role: str) -> bool:
        """Whether this account has `role` or a stronger one."""
        return ROLES.index(self.role) >= ROLES.index(role)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffStore:
    """Staff accounts and their tokens in the records database: a token issued by one
    replica is valid on every replica of the same database."""

    def __init__(self, database: Database, token_hours: float = 12.0) -> None:
        self.database = database
        self.token_s = token_hours * 3600

    def create(self, username: str, password: str, role: str) -> StaffUser:
        """A new account; refuses bad names, short passwords, unknown roles and duplicates."""
        hashed = _hashed(username, password, role)
        try:
            with self.database.transaction() as conn:
                conn.execute(
                    insert(staff_users).values(
                        username=username, password_hash=hashed, role=role, created_at=time.time()
                    )
                )
        except exc.IntegrityError:
            raise ConflictError(
                f"user {username!r} exists", message_zh=f"用户 {username} 已存在"
            ) from None
        return StaffUser(username, role)

    def ensure(self, username: str, password: str, role: str = "admin") -> bool:
        """Create the account unless it exists (start-up provisioning); True if created.

        Replicas starting together with the same `BOT_ADMIN_USER` create it once: the others
        find it made and return False.
        """
        if self.get(username) is not None:
            return False
        try:
            self.create(username, password, role)
        except ConflictError:
            return False
        return True

    def get(self, username: str) -> StaffUser | None:
        with self.database.read() as conn:
            row = conn.execute(
                select(staff_users.c.username, staff_users.c.role).where(
                    staff_users.c.username == username
                )
            ).first()
        return StaffUser(row.username, row.role) if row else None

    def users(self) -> list[StaffUser]:
        with self.database.read() as conn:
            rows = conn.execute(
                select(staff_users.c.username, staff_users.c.role).order_by(staff_users.c.username)
            ).all()
        return [StaffUser(r.username, r.role) for r in rows]

    def login(self, username: str, password: str) -> tuple[str, StaffUser]:
        """A new bearer token for correct credentials; `AuthError` otherwise."""
        with self.database.read() as conn:
            row = conn.execute(
                select(staff_users.c.password_hash, staff_users.c.role).where(
                    staff_users.c.username == username
                )
            ).first()
        stored = row.password_hash.encode() if row else _DUMMY_HASH
        try:
            ok = bcrypt.checkpw(password.encode()[:MAX_PASSWORD_BYTES], stored) and row is not None
        except ValueError:
            ok = False
        if not ok or row is None:
            raise _wrong_credentials()
        token = secrets.token_urlsafe(32)
        now = time.time()
        try:
            with self.database.transaction() as conn:
                conn.execute(delete(staff_tokens).where(staff_tokens.c.expires_at < now))
                conn.execute(
                    insert(staff_tokens).values(
                        token_sha256=_digest(token),
                        username=username,
                        expires_at=now + self.token_s,
                    )
                )
        except exc.IntegrityError:  # the account was deleted (on any replica) meanwhile
            raise _wrong_credentials() from None
        return token, StaffUser(username, row.role)

    def user_for(self, token: str) -> StaffUser | None:
        t, u = staff_tokens.c, staff_users.c
        with self.database.read() as conn:
            row = conn.execute(
                select(u.username, u.role)
                .join_from(staff_tokens, staff_users, t.username == u.username)
                .where(t.token_sha256 == _digest(token), t.expires_at >= time.time())
            ).first()
        return StaffUser(row.username, row.role) if row else None

    def delete(self, username: str, by: str) -> None:
        """Remove an account and its log-ins; not your own, and never the last admin."""
        if username == by:
            raise ConflictError(
                "you cannot delete your own account", message_zh="不能删除自己的账号"
            )
        with self.database.transaction() as conn:
            # Two replicas deleting the two last admins at once must not both see two left:
            # the count and the delete happen under one lock on the set of admins.
            advisory_lock(conn, "staff:admins")
            role = conn.scalar(select(staff_users.c.role).where(staff_users.c.username == username))
            if role is None:
                raise NotFoundError(f"no user {username!r}", message_zh=f"用户 {username} 不存在")
            if role == "admin" and _admins(conn) <= 1:
                raise ConflictError(
                    "the last admin cannot be deleted", message_zh="不能删除最后一个管理员账号"
                )
            conn.execute(delete(staff_tokens).where(staff_tokens.c.username == username))
            conn.execute(delete(staff_users).where(staff_users.c.username == username))

    def logout(self, token: str) -> None:
        with self.database.transaction() as conn:
            conn.execute(delete(staff_tokens).where(staff_tokens.c.token_sha256 == _digest(token)))


def _admins(conn: Connection) -> int:
    counted = select(func.count()).select_from(staff_users).where(staff_users.c.role == "admin")
    return int(conn.scalar(counted) or 0)


def _wrong_credentials() -> AuthError:
    return AuthError("wrong username or password", message_zh="用户名或密码错误")


def _hashed(username: str, password: str, role: str) -> str:
    """The bcrypt hash of a new account's password, after checking name, password and role."""
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
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
