"""The template registry: validates and compiles on create, caches compiled versions, renders."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from orchestrator.domain import ChatMessage
from orchestrator.errors import FieldViolation, Reason, invalid_fields
from orchestrator.templates.model import PromptTemplate, validate_template
from orchestrator.templates.renderer import CompiledTemplate, TemplateCompiler
from orchestrator.templates.store import TemplatePage, TemplateStore

# Variables the pipeline provides to every template (callers may override them).
CONTEXT_VARIABLES = {"context": "", "context_items": []}


@dataclass(frozen=True, slots=True)
class _Compiled:
    system: CompiledTemplate
    user: CompiledTemplate
    schema: Any  # a jsonschema validator, or None

    @property
    def places_context(self) -> bool:
        return bool((self.system.variables | self.user.variables) & CONTEXT_VARIABLES.keys())

    def messages(self, values: dict[str, Any]) -> tuple[ChatMessage, ...]:
        system = self.system.render(values)
        user = self.user.render(values)
        return (*((ChatMessage("system", system),) if system.strip() else ()), ChatMessage("user", user))


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    template: PromptTemplate
    messages: tuple[ChatMessage, ...]
    # True when the template itself puts `context` / `context_items` somewhere.
    places_context: bool
    _compiled: _Compiled
    _values: dict[str, Any]

    def with_values(self, extra: dict[str, Any]) -> tuple[ChatMessage, ...]:
        """The same template and variables rendered again with `extra` on top (e.g. the pruned context)."""
        return self._compiled.messages({**self._values, **extra})


class TemplateRegistry:
    def __init__(
        self, store: TemplateStore, compiler: TemplateCompiler | None = None, cache_seconds: float = 0.0
    ) -> None:
        self.store = store
        self._compiler = compiler or TemplateCompiler()
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        # Store look-ups for rendering, kept briefly so the hot path does not query the store on every
        # request; this replica's own writes clear it at once, other replicas' show within cache_seconds.
        self._cache_seconds = cache_seconds
        self._lookups: dict[tuple[str, str], tuple[float, PromptTemplate]] = {}

    async def _lookup(self, template_id: str, version: str) -> PromptTemplate:
        key = (template_id, version)
        now = time.monotonic()
        hit = self._lookups.get(key)
        if hit is not None and now - hit[0] < self._cache_seconds:
            return hit[1]
        template = await self.store.get(template_id, version)
        if self._cache_seconds > 0:
            if len(self._lookups) > 10_000:
                self._lookups.clear()
            self._lookups[key] = (now, template)
        return template

    def _compile(self, template: PromptTemplate, prefix: str = "template") -> _Compiled:
        schema_validator = None
        if template.variables_schema is not None:
            cls = validator_for(template.variables_schema, default=Draft202012Validator)
            try:
                cls.check_schema(template.variables_schema)
            except SchemaError as exc:
                raise invalid_fields(
                    "variables_schema is not a valid JSON Schema",
                    [FieldViolation(f"{prefix}.variables_schema", exc.message)],
                    reason=Reason.INVALID_VARIABLES_SCHEMA,
                ) from None
            schema_validator = cls(template.variables_schema)
        return _Compiled(
            system=self._compiler.compile(template.system_message, f"{prefix}.system_message"),
            user=self._compiler.compile(template.user_message_template, f"{prefix}.user_message_template"),
            schema=schema_validator,
        )

    async def create(self, template: PromptTemplate) -> PromptTemplate:
        validate_template(template)
        compiled = self._compile(template)  # syntax errors surface before anything is stored
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
        for key in [k for k in self._lookups if k[0] == template_id]:
            del self._lookups[key]

    async def render(self, template_id: str, version: str, variables: dict[str, Any]) -> RenderedPrompt:
        template = await self._lookup(template_id, version)
        missing = [name for name in template.required_variables if name not in variables]
        if missing:
            raise invalid_fields(
                f"template {template_id!r} needs variables: {', '.join(missing)}",
                [FieldViolation(f"variables.{name}", "required by the template") for name in missing],
                reason=Reason.MISSING_TEMPLATE_VARIABLES,
            )
        key = (template.template_id, template.version)
        compiled = self._compiled.get(key)
        if compiled is None:  # stored by another replica, or before a restart
            compiled = self._compiled[key] = self._compile(template)
        values = {**template.optional_variables, **variables}
        if compiled.schema is not None:
            errors = sorted(compiled.schema.iter_errors(values), key=lambda e: [str(p) for p in e.absolute_path])
            if errors:
                raise invalid_fields(
                    f"variables do not satisfy the template's schema: {errors[0].message}",
                    [
                        FieldViolation(".".join(["variables", *(str(p) for p in e.absolute_path)]), e.message)
                        for e in errors
                    ],
                    reason=Reason.VARIABLES_SCHEMA_MISMATCH,
                )
        values = {**CONTEXT_VARIABLES, **values}
        return RenderedPrompt(template, compiled.messages(values), compiled.places_context, compiled, values)
