"""What the pipeline tells observers (metrics, the request log) and the current span about each generation."""

from __future__ import annotations

import asyncio
import time

from orchestrator.domain import Attempt, GenerationRequest, GenerationResult
from orchestrator.errors import ErrorKind, OrchestratorError, Reason
from orchestrator.observe import GenerationOutcome
from orchestrator.routing.catalog import ModelSpec
from orchestrator.telemetry.tracing import TRACING


def annotate_prepared(
    request: GenerationRequest, template_version: str, plan: list[ModelSpec], experiment: bool = False
) -> None:
    """`experiment`: the version is the task's prompt-experiment pick (tasks.<t>.template_variants)."""
    if TRACING.enabled:
        TRACING.annotate(
            {
                "orchestrator.service": request.caller.service,
                "orchestrator.task_type": request.task_type,
                "orchestrator.template.id": request.template_id,
                "orchestrator.template.version": template_version or None,
                "orchestrator.template.experiment": experiment or None,
                "orchestrator.routing.plan": [m.name for m in plan],
                "orchestrator.context.items": len(request.context),
            }
        )


def outcome_of(
    request: GenerationRequest,
    started: float,
    streamed: bool,
    result: GenerationResult | None = None,
    error: BaseException | None = None,
    ttft: float | None = None,
    attempts: list[Attempt] | None = None,
    template_version: str = "",
) -> GenerationOutcome:
    """The outcome for observers; `attempts` is the request's ledger (every upstream call, whatever happened),
    `template_version` the version rendered for a request that failed."""
    latency = time.monotonic() - started
    if result is not None:
        if TRACING.enabled:
            TRACING.annotate(
                {
                    "gen_ai.response.model": result.model,
                    "orchestrator.attempts": len(result.attempts),
                    "orchestrator.context.dropped": result.context_dropped,
                }
            )
        return GenerationOutcome(
            request, streamed, latency, result, time_to_first_token=ttft, attempts=tuple(result.attempts),
            template_version=result.template_version,
        )  # fmt: skip
    if isinstance(error, OrchestratorError):
        return GenerationOutcome(
            request, streamed, latency, error_reason=error.reason, error_kind=error.kind.value,
            failed_model=error.metadata.get("model", ""), time_to_first_token=ttft,
            attempts=tuple(attempts) if attempts is not None else error.attempts, template_version=template_version,
        )  # fmt: skip
    if isinstance(error, asyncio.CancelledError | GeneratorExit):
        return GenerationOutcome(
            request, streamed, latency, error_reason=Reason.CANCELLED, error_kind=ErrorKind.CANCELLED.value,
            time_to_first_token=ttft, attempts=tuple(attempts or ()), template_version=template_version,
        )  # fmt: skip
    return GenerationOutcome(
        request,
        streamed,
        latency,
        error_reason=Reason.INTERNAL,
        error_kind=ErrorKind.INTERNAL.value,
        attempts=tuple(attempts or ()),
        template_version=template_version,
    )
