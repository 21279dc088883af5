"""The template registry: validates and compiles on create, caches compiled versions, renders.

Renders read the store through a small cache of last good copies. A copy younger than `cache_seconds`
is used as is; an older one is refreshed. If the store fails, or does not answer within
`store_wait_seconds`, a copy younger than `stale_serve_seconds` is served instead and the store is
marked unreachable: until one background read per template succeeds again, renders use their copies
at once instead of waiting. Stale serves and store errors are counted in `health`. Without a usable
copy the render fails with UNAVAILABLE. Writes (create, delete) and reads (get, list) always go to
the store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from orchestrator.domain import ChatMessage
from orchestrator.errors import FieldViolation, NotFoundError, Reason, UnavailableError, clip, invalid_fields
from orchestrator.schemas import CompiledSchema, compile_schema
from orchestrator.templates.model import PromptTemplate, validate_template
from orchestrator.templates.renderer import CompiledTemplate, TemplateCompiler
from orchestrator.templates.store import TemplatePage, TemplateStore

log = logging.getLogger(__name__)
T = TypeVar("T")
Key = tuple[str, str]

# Variables the pipeline provides to every template (callers may override them).
CONTEXT_VARIABLES = {"context": "", "context_items": []}
# A store read that takes longer than this is abandoned (the next render starts another).
_FETCH_SECONDS = 5.0
_MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class _Compiled:
    system: CompiledTemplate
    user: CompiledTemplate
    schema: CompiledSchema | None

    @property
    def places_context(self) -> bool:
        return bool((self.system.variables | self.user.variables) & CONTEXT_VARIABLES.keys())

    async def messages(self, values: dict[str, Any]) -> tuple[ChatMessage, ...]:
        system = await self.system.render(values)
        user = await self.user.render(values)
        return (*((ChatMessage("system", system),) if system.strip() else ()), ChatMessage("user", user))


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    template: PromptTemplate
    messages: tuple[ChatMessage, ...]
    # True when the template itself puts `context` / `context_items` somewhere.
    places_context: bool
    _compiled: _Compiled
    _values: dict[str, Any]

    async def with_values(self, extra: dict[str, Any]) -> tuple[ChatMessage, ...]:
        """The same template and variables rendered again with `extra` on top (e.g. the pruned context)."""
        return await self._compiled.messages({**self._values, **extra})


@dataclass(slots=True)
class StoreHealth:
    """What the render path saw of the store (for metrics)."""

    store_errors: int = 0  # reads that failed or timed out
    stale_serves: int = 0  # renders served from a copy older than cache_seconds

    def counts(self) -> tuple[int, int]:
        """(store errors, stale serves), as `Metrics.watch_template_store` wants them."""
        return self.store_errors, self.stale_serves


@dataclass(slots=True)
class _Copy:
    template: PromptTemplate
    fetched: float  # time.monotonic() of the store read


class TemplateRegistry:
    def __init__(
        self,
        store: TemplateStore,
        compiler: TemplateCompiler | None = None,
        cache_seconds: float = 0.0,
        stale_serve_seconds: float = 300.0,
        store_wait_seconds: float = 0.5,
    ) -> None:
        self.store = store
        self._compiler = compiler or TemplateCompiler()
        self._compiled: dict[Key, _Compiled] = {}
        # Store look-ups for rendering, kept briefly so the hot path does not query the store on every
        # request; this replica's own writes clear it at once, other replicas' show within cache_seconds.
        self._cache_seconds = cache_seconds
        self._stale_seconds = stale_serve_seconds
        self._store_wait = store_wait_seconds
        self._copies: dict[Key, _Copy] = {}
        self._in_flight: dict[tuple[str, Key], asyncio.Future[Any]] = {}
        self.health = StoreHealth()
        self._degraded = False

    def _shared(self, kind: str, key: Key, work: Callable[[], Awaitable[T]]) -> asyncio.Future[T]:
        """One `work` per (kind, key) at a time; later callers share its result."""
        running = self._in_flight.get((kind, key))
        if running is None:
            running = self._in_flight[(kind, key)] = asyncio.ensure_future(work())
            running.add_done_callback(lambda f: self._in_flight.pop((kind, key), None))
            running.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved even if nobody waits
        return running

    async def _fetch(self, key: Key) -> PromptTemplate:
        try:
            template = await self.store.get(*key)
        except NotFoundError:
            self._copies.pop(key, None)
            raise
        except UnavailableError:
            self.health.store_errors += 1
            raise
        if len(self._copies) >= _MAX_ENTRIES:
            self._copies.clear()
        self._copies[key] = _Copy(template, time.monotonic())
        if self._degraded:
            self._degraded = False
            log.warning("template store reachable again")
        return template

    async def _read(self, key: Key) -> PromptTemplate:
        """A store read on its own task, so a render can stop waiting for it (cancelling a PostgreSQL call
        waits for the connection's cleanup, which on a frozen server takes the whole call timeout)."""
        try:
            async with asyncio.timeout(_FETCH_SECONDS):
                return await self._fetch(key)
        except TimeoutError:
            self.health.store_errors += 1
            raise _unavailable() from None

    async def _lookup(self, template_id: str, version: str) -> PromptTemplate:
        key = (template_id, version)
        now = time.monotonic()
        copy = self._copies.get(key)
        if copy is not None and now - copy.fetched < self._cache_seconds:
            return copy.template
        if not self.store.may_be_unreachable:  # in this process: nothing to wait for or fall back from
            return await self._fetch(key)
        if copy is not None and now - copy.fetched >= self._stale_seconds:
            copy = None  # too old to fall back on
        read = self._shared("read", key, lambda: self._read(key))
        if copy is None:
            return await asyncio.shield(read)
        if self._degraded:  # a known outage: the read goes on in the background, this render does not wait
            return self._stale(copy)
        try:
            return await asyncio.wait_for(asyncio.shield(read), self._store_wait)
        except (UnavailableError, TimeoutError):
            self._degraded = True
            log.warning("template store unreachable; rendering from copies up to %.0f s old", self._stale_seconds)
        return self._stale(copy)

    def _stale(self, copy: _Copy) -> PromptTemplate:
        self.health.stale_serves += 1
        return copy.template

    async def _compile(self, template: PromptTemplate, prefix: str = "template") -> _Compiled:
        schema = None
        if template.variables_schema is not None:
            schema = await asyncio.to_thread(
                compile_schema, template.variables_schema, f"{prefix}.variables_schema", Reason.INVALID_VARIABLES_SCHEMA
            )
        compiler = self._compiler
        system, user = await asyncio.gather(
            compiler.compile(template.system_message, f"{prefix}.system_message"),
            compiler.compile(template.user_message_template, f"{prefix}.user_message_template"),
        )
        return _Compiled(system, user, schema)

    async def create(self, template: PromptTemplate) -> PromptTemplate:
        validate_template(template)
        compiled = await self._compile(template)  # syntax errors surface before anything is stored
        stored = await self.store.create(template)
        self._compiled[(stored.template_id, stored.version)] = compiled
        self._forget(stored.template_id)
        return stored

    async def get(self, template_id: str, version: str = "") -> PromptTemplate:
        return await self.store.get(template_id, version)

    async def list(self, page_size: int, page_token: str = "", use_case: str = "") -> TemplatePage:
        return await self.store.list(page_size, page_token, use_case)

    async def delete(self, template_id: str, version: str = "", etag: str = "") -> list[str]:
        removed = await self.store.delete(template_id, version, etag)
        for v in removed:
            self._compiled.pop((template_id, v), None)
        self._forget(template_id)
        return removed

    def _forget(self, template_id: str) -> None:
        for key in [k for k in self._copies if k[0] == template_id]:
            del self._copies[key]

    async def _compiled_for(self, template: PromptTemplate) -> _Compiled:
        key = (template.template_id, template.version)
        compiled = self._compiled.get(key)
        if compiled is None:  # stored by another replica, or before a restart
            compiling = self._shared("compile", key, lambda: self._compile(template))
            compiled = self._compiled[key] = await asyncio.shield(compiling)
        return compiled

    async def render(self, template_id: str, version: str, variables: dict[str, Any]) -> RenderedPrompt:
        template = await self._lookup(template_id, version)
        missing = [name for name in template.required_variables if name not in variables]
        if missing:
            raise invalid_fields(
                f"template {template.template_id!r} needs variables: {clip(', '.join(missing), 300)}",
                [FieldViolation(f"variables.{clip(name)}", "required by the template") for name in missing[:20]],
                reason=Reason.MISSING_TEMPLATE_VARIABLES,
            )
        compiled = self._compiled.get((template.template_id, template.version)) or await self._compiled_for(template)
        values = {**template.optional_variables, **variables}
        if compiled.schema is not None:
            errors = compiled.schema.errors(values, "variables")
            if errors:
                raise invalid_fields(
                    f"variables do not satisfy the template's schema: {errors[0].description}",
                    errors,
                    reason=Reason.VARIABLES_SCHEMA_MISMATCH,
                )
        values = {**CONTEXT_VARIABLES, **values}
        messages = await compiled.messages(values)
        return RenderedPrompt(template, messages, compiled.places_context, compiled, values)

    async def aclose(self) -> None:
        """Stop the template workers and close the store."""
        await self._compiler.aclose()
        await self.store.aclose()


def _unavailable() -> UnavailableError:
    return UnavailableError(
        "the template store did not answer; retry later", reason=Reason.TEMPLATE_STORE_UNAVAILABLE, retry_after=1.0
    )
