"""The request pipeline: template -> messages -> route -> shape -> answer. No transport types here."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from orchestrator.domain import (
    ChatMessage,
    GenerationRequest,
    GenerationResult,
    OutputFormat,
    SamplingParams,
    StreamStarted,
    TextDelta,
    TokenCount,
)
from orchestrator.errors import FieldViolation, QuotaViolation, ResourceExhaustedError, invalid_fields
from orchestrator.responses import InvalidModelOutputError, shape
from orchestrator.routing.catalog import CatalogModel
from orchestrator.routing.router import RouteFinished, Router, RouteStarted
from orchestrator.templates.registry import RenderedPrompt, TemplateRegistry


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    request: GenerationRequest
    messages: tuple[ChatMessage, ...]
    params: SamplingParams
    plan: list[CatalogModel]
    output_format: OutputFormat
    schema_validator: Any
    template_id: str
    template_version: str
    deadline: float | None
    started: float


class Admission:
    """Load shedding: at most `limit` generations in flight; the next one is refused at once."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.in_flight = 0

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        if self.limit is not None and self.in_flight >= self.limit:
            raise ResourceExhaustedError(
                f"the server is at its limit of {self.limit} concurrent generations; retry shortly",
                reason="OVERLOADED",
                retry_after=1.0,
                quota_violations=[QuotaViolation("concurrent_requests", f"at most {self.limit} in flight")],
            )
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1


class Pipeline:
    def __init__(self, templates: TemplateRegistry, router: Router) -> None:
        self.templates = templates
        self.router = router
        self.admission = Admission(router.settings.max_concurrent_requests)

    async def _prepare(self, request: GenerationRequest) -> PreparedRequest:
        started = time.monotonic()
        if not request.template_id and not request.messages:
            raise invalid_fields(
                "the request has neither a template_id nor messages",
                [
                    FieldViolation("template_id", "give a template id, messages, or both"),
                    FieldViolation("messages", "give a template id, messages, or both"),
                ],
                reason="EMPTY_REQUEST",
            )
        validator = _schema_validator(request.json_schema)
        messages: tuple[ChatMessage, ...] = ()
        template_version = ""
        if request.template_id:
            rendered: RenderedPrompt = await self.templates.render(
                request.template_id, request.template_version, request.variables
            )
            messages = rendered.messages
            template_version = rendered.template.version
        output_format = OutputFormat.JSON if validator is not None else request.output_format
        messages = (*messages, *request.messages)
        params = request.params.merged_over(_task_params(self.router, request.task_type))
        # A rough count (4 characters a token) is enough to compare costs; windows are checked exactly later.
        prompt_estimate = sum(len(m.content) for m in messages) // 4
        plan = self.router.plan(request.selection, request.task_type, prompt_estimate, params.max_output_tokens)
        return PreparedRequest(
            request=request,
            messages=messages,
            params=params,
            plan=plan,
            output_format=output_format,
            schema_validator=validator,
            template_id=request.template_id,
            template_version=template_version,
            deadline=started + request.timeout if request.timeout is not None else None,
            started=started,
        )

    def _result(self, prepared: PreparedRequest, text: str, finished: RouteFinished) -> GenerationResult:
        shaped = shape(text, prepared.output_format, str(prepared.request.variables.get("language", "")))
        if prepared.schema_validator is not None:
            errors = list(prepared.schema_validator.iter_errors(shaped.structured))
            if errors:
                raise InvalidModelOutputError(
                    f"the model's JSON does not match the schema: {errors[0].message}",
                    reason="INVALID_MODEL_OUTPUT",
                )
        completion = finished.completion
        return GenerationResult(
            request_id=prepared.request.request_id,
            text=shaped.text,
            model=finished.model.name,
            provider=finished.model.provider,
            usage=completion.usage,
            cost_usd=finished.model.cost(completion.usage),
            finish_reason=completion.finish_reason,
            attempts=finished.attempts,
            latency_ms=(time.monotonic() - prepared.started) * 1000,
            structured=shaped.structured,
            has_structured=shaped.has_structured,
            code=shaped.code,
            template_id=prepared.template_id,
            template_version=prepared.template_version,
        )

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        with self.admission.admit():
            prepared = await self._prepare(request)
            finished = await self.router.complete(prepared.plan, prepared.messages, prepared.params, prepared.deadline)
            return self._result(prepared, finished.completion.text, finished)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamStarted | TextDelta | GenerationResult]:
        """StreamStarted, then TextDelta pieces, then the GenerationResult (its text is the whole answer)."""
        with self.admission.admit():
            async for event in self._stream(request):
                yield event

    async def _stream(self, request: GenerationRequest) -> AsyncIterator[StreamStarted | TextDelta | GenerationResult]:
        prepared = await self._prepare(request)
        parts: list[str] = []
        events = self.router.stream(prepared.plan, prepared.messages, prepared.params, prepared.deadline)
        try:
            async for event in events:
                if isinstance(event, TextDelta):
                    parts.append(event.text)
                    yield event
                elif isinstance(event, RouteStarted):
                    yield StreamStarted(request.request_id, event.model.name, event.model.provider)
                else:
                    yield self._result(prepared, "".join(parts), event)
        finally:
            await events.aclose()

    async def count_tokens(self, model_name: str, messages: tuple[ChatMessage, ...]) -> tuple[CatalogModel, TokenCount]:
        model = self.router.catalog.get(model_name)
        count = await self.router.provider(model).count_tokens(model.settings.wire_name, messages, exact=True)
        return model, count


def _task_params(router: Router, task_type: str) -> SamplingParams:
    p = router.task(task_type).params
    return SamplingParams(p.temperature, p.top_p, p.max_output_tokens, p.stop)


def _schema_validator(schema: dict[str, Any] | None) -> Any:
    if schema is None:
        return None
    cls = validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise invalid_fields(
            f"json_schema is not a valid JSON Schema: {exc.message}",
            [FieldViolation("json_schema", exc.message)],
            reason="INVALID_JSON_SCHEMA",
        ) from None
    return cls(schema)
