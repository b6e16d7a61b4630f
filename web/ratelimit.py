"""Per-client rate limits on the chat routes (issue #13, point 3) and on staff log-ins.

`BOT_RATE_LIMIT_CHAT` (e.g. `30/minute;500/hour`) is counted per client over a moving window
by the `limits` library: in this process's memory, or in Redis (`BOT_REDIS_URL`) so that every
process and replica shares one counter per client. Chat and stream share it. Past it, 429 with
`Retry-After`. Redis unreachable: this process counts on its own until Redis answers again (a
warning is logged once per outage); a request is never refused or failed because of Redis.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import Request
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from bot.errors import RateLimitedError
from web.security import token_of

log = logging.getLogger(__name__)

NAMESPACE = "jiangan-chat"  # part of every counter's key (Redis may be shared with others)
LOGIN_NAMESPACE = "jiangan-login"
REDIS_TIMEOUT_S = 0.5  # a Redis that does not answer in this long counts as down
REDIS_RETRY_S = 5.0  # after a failure, try Redis again this much later (not on every request)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


def _address(host: str) -> str:
    """An IPv4 address as it is; an IPv6 one by its /64 (one subscriber's whole network,
    which a client can cycle through at will)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if ip.version == 6:
        mapped = ip.ipv4_mapped  # ::ffff:1.2.3.4 is the IPv4 client 1.2.3.4
        return str(mapped) if mapped else str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_key(request: Request) -> str:
    """Who is asking: a signed-in staff member (by a hash of the token, never the token), a
    WeChat user (`request.state.openid`, set by the WeChat channel once it authenticates
    one), else the client address as uvicorn reports it — which honours X-Forwarded-For only
    from `BOT_TRUSTED_PROXIES`. A token that is not a valid log-in counts as no token, so
    inventing tokens does not buy fresh counters."""
    token = token_of(request)
    if token and request.app.state.staff.user_for(token) is not None:
        return "staff:" + _digest(token)
    openid = getattr(request.state, "openid", None)
    if openid:
        return "openid:" + _digest(str(openid))
    return "addr:" + _address(request.client.host if request.client else "")


def _redacted(url: str) -> str:
    """The Redis URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (
        f":{parts.port}" if parts.port else ""
    )
    return urlunsplit(parts._replace(netloc=netloc))


class ChatRateLimit:
    """Counts questions per client; `check` raises RateLimitedError (429) past the limit."""

    def __init__(
        self, items: list[RateLimitItem], redis_url: str = "", namespace: str = NAMESPACE
    ) -> None:
        self.items = items
        self.namespace = namespace
        self.redis_url = redis_url
        self.refused = 0
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._redis: RedisStorage | None = None
        self._shared: MovingWindowRateLimiter | None = None
        if redis_url and self.items:
            options: dict[str, Any] = {
                "socket_timeout": REDIS_TIMEOUT_S,
                "socket_connect_timeout": REDIS_TIMEOUT_S,
                "retry_on_timeout": False,
            }
            self._redis = RedisStorage(
                "async+" + redis_url,
                wrap_exceptions=True,
                implementation="redispy",
                **options,
            )
            self._shared = MovingWindowRateLimiter(self._redis)
        self._retry_redis_at = 0.0
        self._redis_down = False

    @property
    def enabled(self) -> bool:
        return bool(self.items)

    async def start(self) -> None:
        """Say at start-up where the counters live (and whether Redis answers)."""
        if not self.items:
            log.info("chat rate limit: off")
        elif self._redis is None:
            log.info("chat rate limit %s per client, counted per process", self._spec)
        elif await self._ping():
            log.info(
                "chat rate limit %s per client, shared in Redis at %s",
                self._spec,
                _redacted(self.redis_url),
            )

    async def aclose(self) -> None:
        """Close the Redis connections (the redis-py client behind `limits`' bridge)."""
        client = getattr(self._redis.bridge, "storage", None) if self._redis else None
        if client is not None:
            await client.aclose()

    @property
    def _spec(self) -> str:
        return "; ".join(str(item) for item in self.items)

    async def check(self, key: str) -> None:
        """Count one question for `key`, or refuse it when a limit is reached."""
        for item in self.items:
            retry_after = await self.hit(item, key)
            if retry_after:
                self.refused += 1
                raise RateLimitedError(
                    f"too many questions ({item}); try again in {retry_after} s",
                    retry_after=retry_after,
                    message_zh=f"提问过于频繁，请 {retry_after} 秒后再试",
                )

    async def hit(self, item: RateLimitItem, key: str) -> int:
        """0 when the question counts within `item`, else the seconds until one frees up."""
        if self._shared is not None and time.monotonic() >= self._retry_redis_at:
            try:
                if await self._shared.hit(item, self.namespace, key):
                    self._redis_up()
                    return 0
                stats = await self._shared.get_window_stats(item, self.namespace, key)
                self._redis_up()
                return max(1, math.ceil(stats.reset_time - time.time()))
            except StorageError as exc:
                self._redis_failed(exc.storage_error)
        if await self._local.hit(item, self.namespace, key):
            return 0
        stats = await self._local.get_window_stats(item, self.namespace, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def clear(self, item: RateLimitItem, key: str) -> None:
        """Forget `key`'s count for `item`, in Redis (when it answers) and in this process."""
        if self._shared is not None:
            try:
                await self._shared.clear(item, self.namespace, key)
            except StorageError as exc:
                self._redis_failed(exc.storage_error)
        await self._local.clear(item, self.namespace, key)

    async def _ping(self) -> bool:
        assert self._redis is not None
        try:
            if await self._redis.check():
                return True
            error: Exception = ConnectionError("no answer to PING")
        except Exception as exc:  # whatever the client raises, the limit must not fail start-up
            error = exc
        self._redis_failed(error)
        return False

    def _redis_failed(self, error: BaseException) -> None:
        self._retry_redis_at = time.monotonic() + REDIS_RETRY_S
        if not self._redis_down:
            self._redis_down = True
            log.warning(
                "chat rate limit: Redis at %s unreachable (%s: %s); counting per process "
                "until it answers again",
                _redacted(self.redis_url),
                type(error).__name__,
                error,
            )

    def _redis_up(self) -> None:
        if self._redis_down:
            self._redis_down = False
            log.info("chat rate limit: Redis at %s answers again", _redacted(self.redis_url))


class LoginRateLimit:
    """Failed staff log-ins: at most `attempts` per (client, username) and `per_client` per
    client in `window_s` — counted where the chat limit is (`BOT_REDIS_URL`: in Redis, so a
    password guesser gets the same five tries however many replicas there are; else, or
    while Redis is down, in this process). An attempt counts before the (slow) password
    check, so parallel guesses cannot all slip in; a correct password clears its pair."""

    def __init__(
        self,
        attempts: int = 5,
        window_s: int = 300,
        per_client: int = 20,
        redis_url: str = "",
    ) -> None:
        self.pair = RateLimitItemPerSecond(attempts, window_s)
        self.client = RateLimitItemPerSecond(per_client, window_s)
        self.counter = ChatRateLimit([self.pair, self.client], redis_url, LOGIN_NAMESPACE)

    @staticmethod
    def _keys(client: str, username: str) -> tuple[str, str]:
        return f"{client}|{username.lower()}", client

    async def attempt(self, client: str, username: str) -> None:
        """Count a log-in attempt, or refuse it (429) when too many failed recently."""
        pair_key, client_key_ = self._keys(client, username)
        for item, key in ((self.pair, pair_key), (self.client, client_key_)):
            retry_after = await self.counter.hit(item, key)
            if retry_after:
                raise RateLimitedError(
                    "too many failed log-ins; try again later",
                    retry_after=retry_after,
                    message_zh="登录失败次数过多，请稍后再试",
                )

    async def succeeded(self, client: str, username: str) -> None:
        """A correct password: the user's earlier failures from this client no longer count."""
        pair_key, _ = self._keys(client, username)
        await self.counter.clear(self.pair, pair_key)

    async def aclose(self) -> None:
        await self.counter.aclose()


async def limit_chat(request: Request) -> None:
    """Dependency of the chat routes: count the question before anything else is done."""
    limit: ChatRateLimit = request.app.state.chat_rate_limit
    if limit.enabled:
        await limit.check(client_key(request))
