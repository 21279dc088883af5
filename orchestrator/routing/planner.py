"""Which models may answer a request, in what order (no I/O: a pure function of config and health).

Order: the preferred model (the request's, else the task's preferred list) if it meets the criteria;
then every other eligible model sorted by preferred provider, estimated cost of this prompt and
observed latency; then fallback models; then the default model. Criteria: required capabilities,
max_cost_usd (estimated for this prompt at its maximum output) and max_latency_ms (observed EWMA).
"""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.domain import ModelSelection
from orchestrator.errors import FailedPreconditionError, Reason
from orchestrator.routing.catalog import ModelCatalog, ModelSpec
from orchestrator.routing.policy import TaskRoute


def plan_models(
    catalog: ModelCatalog,
    selection: ModelSelection,
    task: TaskRoute,
    prompt_tokens: int,
    max_output_tokens: int | None,
    latency_ms: Callable[[ModelSpec], float | None],
    allowed: Callable[[ModelSpec], bool] | None = None,
) -> list[ModelSpec]:
    capabilities = selection.required_capabilities or task.required_capabilities

    def unmet(model: ModelSpec) -> str | None:
        if allowed is not None and not allowed(model):
            return "the caller's allowed models"
        if not model.has(capabilities):
            return f"capabilities {', '.join(capabilities)}"
        if selection.max_cost_usd is not None and (
            model.estimated_cost(prompt_tokens, max_output_tokens) > selection.max_cost_usd
        ):
            return f"max_cost_usd {selection.max_cost_usd}"
        observed = latency_ms(model)
        if selection.max_latency_ms is not None and observed is not None and observed > selection.max_latency_ms:
            return f"max_latency_ms {selection.max_latency_ms}"
        return None

    preferred = (
        [catalog.get(selection.preferred_model, "selection.preferred_model")]
        if selection.preferred_model
        else [catalog.get(name) for name in task.preferred_models]
    )
    fallbacks = [
        catalog.get(name, "selection.fallback_models") for name in (selection.fallback_models or task.fallback_models)
    ]
    candidates = sorted(
        catalog.models,
        key=lambda m: (
            bool(selection.preferred_provider) and m.provider != selection.preferred_provider,
            m.estimated_cost(prompt_tokens, max_output_tokens),
            latency_ms(m) or 0.0,
            -m.weight,
        ),
    )
    order: list[ModelSpec] = []
    reasons: set[str] = set()
    for model in (*preferred, *candidates, *fallbacks, catalog.default):
        if model in order:
            continue
        problem = unmet(model)
        if problem is None:
            order.append(model)
        else:
            reasons.add(problem)
    if not order:
        raise FailedPreconditionError(
            f"no configured model meets {' and '.join(sorted(reasons))}",
            reason=Reason.NO_ELIGIBLE_MODEL,
        )
    return order
