"""One upstream attempt's CLIENT span (OpenTelemetry GenAI conventions); free when tracing is off."""

from __future__ import annotations

import json
from typing import Any

from opentelemetry.trace import Span

from orchestrator.providers.base import Completion, ProviderRequest
from orchestrator.routing.catalog import ModelSpec
from orchestrator.telemetry.tracing import TRACING


class AttemptSpan:
    def __init__(self, span: Span) -> None:
        self._span = span

    @classmethod
    def start(cls, model: ModelSpec, request: ProviderRequest, attempt: int) -> AttemptSpan:
        return cls(TRACING.attempt_span(model.provider_type, request.model, _attributes(request, attempt)))

    def fail(self, reason: str, message: str) -> None:
        TRACING.fail(self._span, reason, message)

    def first_chunk(self, seconds: float) -> None:
        if self._span.is_recording():
            self._span.set_attribute("gen_ai.response.time_to_first_chunk", seconds)

    def end(self, completion: Completion) -> None:
        span = self._span
        if not span.is_recording():
            return
        span.set_attributes(
            {
                "gen_ai.response.model": completion.response_model,
                "gen_ai.usage.input_tokens": completion.usage.input_tokens,
                "gen_ai.usage.output_tokens": completion.usage.output_tokens,
                "gen_ai.response.finish_reasons": [completion.finish_reason.value],
            }
        )
        if TRACING.record_content and completion.text:
            span.set_attribute(
                "gen_ai.output.messages", json.dumps([{"role": "assistant", "content": completion.text}])
            )
        span.end()


def _attributes(request: ProviderRequest, attempt: int) -> dict[str, Any]:
    if not TRACING.enabled:
        return {}
    params = request.params
    attributes: dict[str, Any] = {
        "orchestrator.attempt": attempt,
        "gen_ai.request.max_tokens": params.max_output_tokens,
    }
    if params.temperature is not None:
        attributes["gen_ai.request.temperature"] = params.temperature
    if params.top_p is not None:
        attributes["gen_ai.request.top_p"] = params.top_p
    if TRACING.record_content:
        attributes["gen_ai.input.messages"] = json.dumps(
            [{"role": m.role, "content": m.content} for m in request.messages]
        )
    return attributes
