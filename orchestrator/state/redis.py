"""The one Redis connection pool, from `shared_state.redis_url`, and the one place its failures are handled."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from orchestrator.redaction import SECRETS
from orchestrator.state.redis_pipe import Arg, RedisPipe, RedisUnavailable, Script

if TYPE_CHECKING:
    from redis.asyncio import Redis

T = TypeVar("T")
log = logging.getLogger(__name__)
# One warning per operation this often: an outage at 1,000 requests/s must not flood the log.
WARN_EVERY_SECONDS = 10.0


class SharedRedis:
    """Every shared-state command goes through `call` (or `script` on the hot path), which turn an outage into
    the caller's fallback."""

    def __init__(
        self,
        url: str,
        timeout_seconds: float = 0.5,
        max_connections: int = 64,
        on_error: Callable[[str], None] | None = None,
        key_prefix: str = "orchestrator:",
    ) -> None:
        self.key_prefix = key_prefix
        self.timeout_seconds = timeout_seconds
        import redis.asyncio as redis

        # Blocking pool: beyond max_connections a command waits (at most the timeout), it is never refused.
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout_seconds,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
        )
        self.client: Redis = redis.Redis(connection_pool=pool)
        self._on_error = on_error
        self._warned: dict[str, float] = {}
        self.failures = 0
        # The scripts every request runs (quotas) take one pipelined connection instead of the pool.
        self._pipe = RedisPipe(url, timeout_seconds, self.failed)

    async def call(self, operation: str, command: Callable[[Redis], Awaitable[T]], fallback: T) -> T:
        """`command(client)`, or `fallback` when Redis is unreachable, slow or refuses (logged and metered)."""
        from redis.exceptions import RedisError

        try:
            return await command(self.client)
        except (RedisError, OSError, TimeoutError) as exc:
            self.failed(operation, exc)
            return fallback

    async def script(self, operation: str, script: Script, keys: list[str], args: list[Arg], fallback: T) -> T:
        """Run a Lua script on the pipelined connection; `fallback` when Redis is unreachable (logged, metered)."""
        try:
            return await self._pipe.run(script, keys, args)  # type: ignore[no-any-return]
        except RedisUnavailable as exc:
            self.failed(operation, exc)
            return fallback

    def send_script(self, operation: str, script: Script, keys: list[str], args: list[Arg]) -> None:
        """Run a Lua script without waiting for it (a failure is logged and metered)."""
        self._pipe.send(operation, script, keys, args)

    def failed(self, operation: str, exc: BaseException) -> None:
        """Record a failure seen outside `call` (e.g. by a script runner that needs the exception)."""
        self.failures += 1
        if self._on_error is not None:
            self._on_error(operation)
        now = time.monotonic()
        if now - self._warned.get(operation, -WARN_EVERY_SECONDS) >= WARN_EVERY_SECONDS:
            self._warned[operation] = now
            log.warning(
                "shared state unavailable; going on without it",
                extra={"operation": operation, "error": SECRETS(f"{type(exc).__name__}: {exc}")},
            )

    async def aclose(self) -> None:
        await self._pipe.aclose()
        await self.client.aclose()
