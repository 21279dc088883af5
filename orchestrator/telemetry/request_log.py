"""One structured log line per request (never per token)."""

from __future__ import annotations

import logging

from orchestrator.domain import total_usage
from orchestrator.observe import GenerationOutcome
from orchestrator.redaction import SECRETS
from orchestrator.telemetry.tracing import current_trace_id

log = logging.getLogger("orchestrator.requests")
# GenerateRequest.metadata is the caller's: bounded so that no caller can inflate every log line.
MAX_METADATA_KEYS = 16
MAX_METADATA_CHARS = 256


def bounded_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """At most 16 keys (sorted, so the choice is stable), keys and values cut at 256 characters, redacted."""
    return {
        SECRETS(key[:MAX_METADATA_CHARS]): SECRETS(metadata[key][:MAX_METADATA_CHARS])
        for key in sorted(metadata)[:MAX_METADATA_KEYS]
    }


class RequestLogger:
    def generation_finished(self, outcome: GenerationOutcome) -> None:
        request, result = outcome.request, outcome.result
        fields: dict[str, object] = {
            "request_id": request.request_id,
            "trace_id": current_trace_id(),
            "service": request.caller.service,
            "task_type": request.task_type,
            "template_id": request.template_id,
            "template_version": outcome.template_version,
            "streamed": outcome.streamed,
            "outcome": "success" if result else "error",
            "latency_ms": round(outcome.latency_seconds * 1000, 2),
            "attempts": len(outcome.attempts),
        }
        usage, cost = total_usage(outcome.attempts)
        fields.update(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cached_input_tokens=usage.cached_input_tokens,
            cost_usd=round(cost, 8),
        )
        if result is not None:
            fields.update(
                model=result.model,
                provider=result.provider,
                finish_reason=result.finish_reason.value,
                context_dropped=result.context_dropped,
                cache_hit=result.cache_hit,
            )
        else:
            fields.update(model=outcome.failed_model, reason=outcome.error_reason, status=outcome.error_kind)
        if request.metadata:
            fields["metadata"] = bounded_metadata(request.metadata)
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
