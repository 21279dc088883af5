"""Turning what the router saw into the one error the caller gets."""

from __future__ import annotations

import time

from orchestrator.domain import Attempt
from orchestrator.errors import (
    DeadlineExceededError,
    FailedPreconditionError,
    InvalidArgumentError,
    InvalidModelOutputError,
    OrchestratorError,
    Reason,
    ResourceExhaustedError,
    UnavailableError,
)
from orchestrator.providers.base import ProviderError, ProviderErrorKind
from orchestrator.routing.catalog import ModelSpec


def caller_error(exc: ProviderError, model: ModelSpec) -> OrchestratorError:
    """An upstream rejection of the request itself: no other model would accept it either."""
    return InvalidArgumentError(
        f"model {model.name} rejected the request: {exc.message}",
        reason=exc.reason,
        metadata={"model": model.name},
    )


def all_failed(
    attempts: list[Attempt], last: ProviderError | None, skipped: list[str], deadline: float | None
) -> OrchestratorError:
    tried = ", ".join(f"{a.model} ({a.error_reason})" for a in attempts) or "none"
    skipped_text = f"; skipped: {', '.join(skipped)}" if skipped else ""
    if deadline is not None and time.monotonic() >= deadline:
        return DeadlineExceededError(
            f"the deadline passed; tried: {tried}{skipped_text}", reason=Reason.DEADLINE_EXCEEDED
        )
    if not attempts and skipped and all(s.endswith("(context window)") for s in skipped):
        return FailedPreconditionError(
            "the prompt plus the requested output exceed every eligible model's context window",
            reason=Reason.NO_ELIGIBLE_MODEL,
        )
    reasons = {a.error_reason for a in attempts}
    if reasons == {ProviderErrorKind.RATE_LIMITED.value}:
        return ResourceExhaustedError(
            f"every eligible model is rate limited; tried: {tried}{skipped_text}",
            reason=Reason.UPSTREAM_RATE_LIMITED,
            retry_after=last.retry_after if last else None,
        )
    if reasons == {ProviderErrorKind.CONTEXT_LENGTH_EXCEEDED.value}:
        return InvalidArgumentError(
            f"the prompt does not fit any model's context window; tried: {tried}", reason=Reason.CONTEXT_LENGTH_EXCEEDED
        )
    return UnavailableError(
        f"every model route failed; tried: {tried}{skipped_text}",
        reason=Reason.ALL_ROUTES_FAILED,
        retry_after=last.retry_after if last else None,
    )


def rejected(last: InvalidModelOutputError, attempts: list[Attempt]) -> InvalidModelOutputError:
    """Every model that answered was rejected (after its re-asks): the last rejection, with the count."""
    return InvalidModelOutputError(
        f"{last.message} (after {len(attempts)} attempts)",
        reason=last.reason,
        field_violations=last.field_violations,
        # The check that rejected it (ErrorInfo metadata "validator") stays with the error.
        metadata={**last.metadata, "model": attempts[-1].model} if attempts else dict(last.metadata),
        attempts=tuple(attempts),
    )
