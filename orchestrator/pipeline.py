"""The request pipeline: template -> context -> route -> shape (re-ask on schema failure) -> answer.

No transport types here. Streams send deltas as they come; their final event carries the shaped
answer (code, or JSON validated against the schema). A streamed answer that fails its schema cannot
be re-asked (its text has been sent) and ends with INVALID_MODEL_OUTPUT.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from orchestrator.cache import ResponseCache
from orchestrator.context import strategy_from_name
from orchestrator.domain import (
    Attempt,
    AttemptOutcome,
    CachePolicy,
    ChatMessage,
    GenerationRequest,
    GenerationResult,
    OutputFormat,
    SamplingParams,
    StreamStarted,
    TextDelta,
    TokenCount,
    TokenUsage,
)
from orchestrator.errors import (
    FieldViolation,
    OrchestratorError,
    QuotaViolation,
    Reason,
    ResourceExhaustedError,
    invalid_fields,
)
from orchestrator.observe import GenerationOutcome, NullObserver, Observer
from orchestrator.prompt import PromptBuilder
from orchestrator.responses import InvalidModelOutputError, ShapedAnswer, shape
from orchestrator.routing.catalog import CatalogModel
from orchestrator.routing.router import Call, RouteFinished, Router, RouteStarted
from orchestrator.telemetry.tracing import TRACING
from orchestrator.templates.registry import TemplateRegistry

MAX_CONTEXT_ITEMS = 10_000


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    request: GenerationRequest
    call: Call
    plan: list[CatalogModel]
    output_format: OutputFormat
    schema_validator: Any
    template_version: str
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
                reason=Reason.OVERLOADED,
                retry_after=1.0,
                quota_violations=[QuotaViolation("concurrent_requests", f"at most {self.limit} in flight")],
            )
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1


class Pipeline:
    def __init__(
        self,
        templates: TemplateRegistry,
        router: Router,
        observer: Observer | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        self.templates = templates
        self.router = router
        self.admission = Admission(router.settings.max_concurrent_requests)
        self.observer: Observer = observer or NullObserver()
        self.cache = cache or ResponseCache(None, 0, CachePolicy.BYPASS)

    def _observe(
        self,
        request: GenerationRequest,
        started: float,
        streamed: bool,
        result: GenerationResult | None = None,
        error: BaseException | None = None,
        ttft: float | None = None,
    ) -> None:
        latency = time.monotonic() - started
        if result is not None:
            outcome = GenerationOutcome(request, streamed, latency, result, time_to_first_token=ttft,
                                        attempts=tuple(result.attempts))  # fmt: skip
            if TRACING.enabled:
                TRACING.annotate(
                    {
                        "gen_ai.response.model": result.model,
                        "orchestrator.attempts": len(result.attempts),
                        "orchestrator.context.dropped": result.context_dropped,
                    }
                )
        elif isinstance(error, OrchestratorError):
            outcome = GenerationOutcome(
                request, streamed, latency, error_reason=error.reason, error_kind=error.kind.value,
                failed_model=error.metadata.get("model", ""), time_to_first_token=ttft, attempts=error.attempts,
            )  # fmt: skip
        elif isinstance(error, asyncio.CancelledError | GeneratorExit):
            outcome = GenerationOutcome(
                request, streamed, latency, error_reason=Reason.CANCELLED, error_kind="CANCELLED"
            )
        else:
            outcome = GenerationOutcome(request, streamed, latency, error_reason=Reason.INTERNAL, error_kind="INTERNAL")
        self.observer.generation_finished(outcome)

    async def _prepare(self, request: GenerationRequest) -> PreparedRequest:
        started = time.monotonic()
        _check_shape(request)
        validator = _schema_validator(request.json_schema)
        task = self.router.task(request.task_type)
        rendered = None
        base: tuple[ChatMessage, ...] = ()
        if request.template_id:
            rendered = await self.templates.render(request.template_id, request.template_version, request.variables)
            base = rendered.messages
        messages = (*base, *request.messages)
        params = request.params.merged_over(_task_params(task.params))
        # A rough count (4 characters a token) is enough to compare costs; windows are checked exactly later.
        prompt_estimate = sum(len(m.content) for m in messages) // 4
        plan = self.router.plan(request.selection, request.task_type, prompt_estimate, params.max_output_tokens)
        strategy = strategy_from_name(
            request.context_strategy or task.context_strategy, task.relevance_weight, task.recency_weight
        )
        prompt = PromptBuilder(
            messages,
            request.context,
            strategy,
            self.router.provider,
            lambda m: min(params.max_output_tokens or m.settings.max_output_tokens, m.settings.max_output_tokens),
            rendered,
            tuple(request.messages),
        )
        if TRACING.enabled:
            TRACING.annotate(
                {
                    "orchestrator.task_type": request.task_type,
                    "orchestrator.template.id": request.template_id,
                    "orchestrator.template.version": rendered.template.version if rendered else None,
                    "orchestrator.routing.plan": [m.name for m in plan],
                    "orchestrator.context.items": len(request.context),
                }
            )
        return PreparedRequest(
            request=request,
            call=Call(prompt, params, started + request.timeout if request.timeout else None, request.json_schema),
            plan=plan,
            output_format=OutputFormat.JSON if validator is not None else request.output_format,
            schema_validator=validator,
            template_version=rendered.template.version if rendered else "",
            started=started,
        )

    def _shape(self, prepared: PreparedRequest, text: str) -> ShapedAnswer:
        shaped = shape(text, prepared.output_format, str(prepared.request.variables.get("language", "")))
        if prepared.schema_validator is not None:
            errors = sorted(prepared.schema_validator.iter_errors(shaped.structured), key=_error_path)
            if errors:
                details = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors)
                raise InvalidModelOutputError(
                    f"the model's JSON does not match the schema: {details}", reason=Reason.INVALID_MODEL_OUTPUT
                )
        return shaped

    def _result(
        self,
        prepared: PreparedRequest,
        shaped: ShapedAnswer,
        finished: RouteFinished,
        attempts: list[Attempt],
        usage: TokenUsage,
        cost: float,
    ) -> GenerationResult:
        return GenerationResult(
            request_id=prepared.request.request_id,
            text=shaped.text,
            model=finished.model.name,
            provider=finished.model.provider,
            usage=usage,
            cost_usd=cost,
            finish_reason=finished.completion.finish_reason,
            attempts=attempts,
            latency_ms=(time.monotonic() - prepared.started) * 1000,
            structured=shaped.structured,
            has_structured=shaped.has_structured,
            code=shaped.code,
            template_id=prepared.request.template_id,
            template_version=prepared.template_version,
            context_used=finished.prompt.context_used,
            context_dropped=finished.prompt.context_dropped,
        )

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        started = time.monotonic()
        try:
            with self.admission.admit():
                prepared = await self._prepare(request)
                result = await self.cache.lookup(request, prepared.template_version)
                if result is None:
                    result = await self._generate(prepared)
                    await self.cache.store(request, prepared.template_version, result)
        except BaseException as exc:
            self._observe(request, started, False, error=exc)
            raise
        self._observe(request, started, False, result)
        return result

    async def _generate(self, prepared: PreparedRequest) -> GenerationResult:
        """Route; when the answer has not the requested shape, re-ask the same model, then fall back."""
        attempts: list[Attempt] = []
        usage, cost = TokenUsage(), 0.0
        plan, call = prepared.plan, prepared.call
        reasks = self.router.settings.schema_reasks if prepared.schema_validator is not None else 0
        asked = 0
        while True:
            finished = await self.router.complete(plan, call)
            attempts += finished.attempts
            usage += finished.completion.usage
            cost += finished.model.cost(finished.completion.usage)
            try:
                shaped = self._shape(prepared, finished.completion.text)
            except InvalidModelOutputError as invalid:
                attempts[-1] = replace(attempts[-1], outcome=AttemptOutcome.INVALID_OUTPUT, error_reason=invalid.reason)
                rest = plan[plan.index(finished.model) + 1 :]
                if asked < reasks:
                    asked += 1
                    plan = [finished.model, *rest]
                    call = replace(call, prompt=_Reask(prepared.call.prompt, finished.completion.text, invalid.message))
                elif rest:
                    asked, plan, call = 0, rest, prepared.call
                else:
                    raise InvalidModelOutputError(
                        f"{invalid.message} (after {len(attempts)} attempts)",
                        reason=invalid.reason,
                        metadata={"model": finished.model.name},
                        attempts=tuple(attempts),
                    ) from None
                continue
            return self._result(prepared, shaped, finished, attempts, usage, cost)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamStarted | TextDelta | GenerationResult]:
        """StreamStarted, then TextDelta pieces, then the GenerationResult (its text is the whole answer)."""
        started = time.monotonic()
        progress = _StreamProgress()
        try:
            with self.admission.admit():
                async for event in self._stream_events(request, started, progress):
                    yield event
        except BaseException as exc:
            self._observe(request, started, True, error=exc, ttft=progress.ttft)
            raise
        self._observe(request, started, True, progress.result, ttft=progress.ttft)
        if progress.result is not None:
            yield progress.result

    async def _stream_events(
        self, request: GenerationRequest, started: float, progress: _StreamProgress
    ) -> AsyncIterator[StreamStarted | TextDelta]:
        prepared = await self._prepare(request)
        cached = await self.cache.lookup(request, prepared.template_version)
        if cached is not None:
            progress.ttft, progress.result = time.monotonic() - started, cached
            yield StreamStarted(request.request_id, cached.model, cached.provider)
            yield TextDelta(cached.text)
            return
        parts: list[str] = []
        events = self.router.stream(prepared.plan, prepared.call)
        try:
            async for event in events:
                if isinstance(event, TextDelta):
                    if progress.ttft is None:
                        progress.ttft = time.monotonic() - started
                    parts.append(event.text)
                    yield event
                elif isinstance(event, RouteStarted):
                    yield StreamStarted(request.request_id, event.model.name, event.model.provider)
                else:
                    usage = event.completion.usage
                    shaped = self._shape(prepared, "".join(parts))
                    progress.result = self._result(
                        prepared, shaped, event, event.attempts, usage, event.model.cost(usage)
                    )
        finally:
            await events.aclose()
        if progress.result is not None:
            await self.cache.store(request, prepared.template_version, progress.result)

    async def count_tokens(self, model_name: str, messages: tuple[ChatMessage, ...]) -> tuple[CatalogModel, TokenCount]:
        model = self.router.catalog.get(model_name)
        count = await self.router.provider(model).count_tokens(model.settings.wire_name, messages, exact=True)
        return model, count


@dataclass(slots=True)
class _StreamProgress:
    ttft: float | None = None
    result: GenerationResult | None = None


class _Reask:
    """The original prompt plus the rejected answer and what was wrong with it."""

    def __init__(self, original: Any, answer: str, problem: str) -> None:
        self._original = original
        self._turns = (
            ChatMessage("assistant", answer),
            ChatMessage(
                "user",
                f"That answer was rejected: {problem}\nAnswer again with only the corrected JSON, no explanations.",
            ),
        )

    async def for_model(self, model: CatalogModel) -> Any:
        built = await self._original.for_model(model)
        return replace(built, messages=(*built.messages, *self._turns))


def _check_shape(request: GenerationRequest) -> None:
    problems = []
    if not request.template_id and not request.messages:
        problems += [
            FieldViolation("template_id", "give a template id, messages, or both"),
            FieldViolation("messages", "give a template id, messages, or both"),
        ]
        raise invalid_fields(
            "the request has neither a template_id nor messages", problems, reason=Reason.EMPTY_REQUEST
        )
    if len(request.context) > MAX_CONTEXT_ITEMS:
        problems.append(FieldViolation("context", f"at most {MAX_CONTEXT_ITEMS} items"))
    if request.context_strategy not in ("", "relevance", "recency", "hybrid"):
        problems.append(FieldViolation("context_strategy", "unknown strategy"))
    if problems:
        raise invalid_fields(f"the request is invalid: {problems[0].description}", problems)


def _task_params(p: Any) -> SamplingParams:
    return SamplingParams(p.temperature, p.top_p, p.max_output_tokens, p.stop)


def _error_path(error: Any) -> list[str]:
    """A sort key for validation errors (paths mix indices and names, which do not compare)."""
    return [str(part) for part in error.absolute_path]


def _schema_validator(schema: dict[str, Any] | None) -> Any:
    if schema is None:
        return None
    return _compiled_schema(json.dumps(schema, sort_keys=True))


@functools.lru_cache(maxsize=256)
def _compiled_schema(schema_json: str) -> Any:
    """Checked and compiled once per distinct schema: callers send the same few schemas over and over."""
    schema = json.loads(schema_json)
    cls = validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise invalid_fields(
            f"json_schema is not a valid JSON Schema: {exc.message}",
            [FieldViolation("json_schema", exc.message)],
            reason=Reason.INVALID_JSON_SCHEMA,
        ) from None
    return cls(schema)
