"""One structured log line per request (never per token)."""

from __future__ import annotations

import logging

from orchestrator.observe import GenerationOutcome
from orchestrator.telemetry.tracing import current_trace_id

log = logging.getLogger("orchestrator.requests")


class RequestLogger:
    def generation_finished(self, outcome: GenerationOutcome) -> None:
        request, result = outcome.request, outcome.result
        fields: dict[str, object] = {
            "request_id": request.request_id,
            "trace_id": current_trace_id(),
            "task_type": request.task_type,
            "template_id": request.template_id,
            "streamed": outcome.streamed,
            "outcome": "success" if result else "error",
            "latency_ms": round(outcome.latency_seconds * 1000, 2),
            "attempts": len(outcome.attempts),
        }
        if result is not None:
            fields.update(
                model=result.model,
                provider=result.provider,
                input_tokens=result.usage.input_tokens,
                output_tokens=result.usage.output_tokens,
                cached_input_tokens=result.usage.cached_input_tokens,
                cost_usd=round(result.cost_usd, 8),
                finish_reason=result.finish_reason.value,
                context_dropped=result.context_dropped,
            )
        else:
            fields.update(model=outcome.failed_model, reason=outcome.error_reason, status=outcome.error_kind)
        if outcome.time_to_first_token is not None:
            fields["ttft_ms"] = round(outcome.time_to_first_token * 1000, 2)
        log.log(logging.INFO if result else logging.WARNING, "generation", extra=fields)


class Observers:
    """Fans one outcome out to several observers."""

    def __init__(self, *observers: object) -> None:
        self._observers = observers

    def generation_finished(self, outcome: GenerationOutcome) -> None:
        for observer in self._observers:
            observer.generation_finished(outcome)  # type: ignore[attr-defined]
