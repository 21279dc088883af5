"""Per-request costs measured in-process: cached template render, routing decision, and the rest of `_prepare`.

Nothing here does I/O; the numbers are CPU microseconds per call on this machine (p50/p99 over `n` calls).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from typing import Any

from orchestrator.app import build_app
from orchestrator.config import settings_from_mapping
from orchestrator.domain import GenerationRequest, ModelSelection, SamplingParams
from orchestrator.routing.policy import TaskRoute
from orchestrator.templates.loader import load_directory
from orchestrator.templates.registry import TemplateRegistry
from orchestrator.templates.store import MemoryTemplateStore
from tests.bench.procs import TEMPLATES
from tests.bench.stats import summary

TEMPLATE_ID = "code_generation"
VARIABLES: dict[str, Any] = {
    "requirement": "a function that parses ISO-8601 durations and returns the total number of seconds",
    "language": "python",
}
TASK = "code_generation"
MAX_OUTPUT_TOKENS = 256


async def _timed(n: int, call: Callable[[], Awaitable[Any]], warmup: int = 500) -> dict[str, float]:
    for _ in range(warmup):
        await call()
    samples = []
    gc.collect()
    for _ in range(n):
        t0 = time.perf_counter_ns()
        await call()
        samples.append((time.perf_counter_ns() - t0) / 1000)
    return summary(samples)


def _sync(call: Callable[[], Any]) -> Callable[[], Awaitable[Any]]:
    async def wrapped() -> Any:
        return call()

    return wrapped


async def rendered_messages() -> list[dict[str, str]]:
    """The benchmark prompt as the orchestrator renders it (the direct HTTP baseline sends the same messages)."""
    registry = TemplateRegistry(MemoryTemplateStore())
    await load_directory(registry, TEMPLATES)
    rendered = await registry.render(TEMPLATE_ID, "", VARIABLES)
    return [{"role": m.role, "content": m.content} for m in rendered.messages]


async def measure(config: dict[str, Any], n: int) -> dict[str, Any]:
    # An empty `_sync` call: what the timing loop itself costs, to read the others against.
    loop_cost = await _timed(n, _sync(lambda: None))

    registry = TemplateRegistry(MemoryTemplateStore())
    await load_directory(registry, TEMPLATES)
    render = await _timed(n, lambda: registry.render(TEMPLATE_ID, "", VARIABLES))

    app = await build_app(settings_from_mapping(config, env={}))
    try:
        # Private APIs (the per-request path has no public seam): each figure is skipped if they change shape.
        pipeline: Any = app.pipeline
        router = pipeline._router
        estimate = sum(len(m["content"]) for m in await rendered_messages()) // 4
        selection, route = ModelSelection(), TaskRoute()
        results: dict[str, Any] = {"n": n, "timing_loop_us": loop_cost, "template_render_cached_us": render}
        try:
            plan = _sync(lambda: router.plan(selection, route, estimate, MAX_OUTPUT_TOKENS))
            results["routing_plan_us"] = await _timed(n, plan)
        except Exception as exc:
            results["routing_plan_us"] = {"skipped": f"{type(exc).__name__}: {exc}"}
        params = SamplingParams(max_output_tokens=MAX_OUTPUT_TOKENS)
        request = GenerationRequest(
            request_id="bench", task_type=TASK, template_id=TEMPLATE_ID, variables=dict(VARIABLES), params=params
        )
        try:  # render + rights + routing plan + context fit: everything before the upstream call
            results["pipeline_prepare_us"] = await _timed(n, lambda: pipeline._preparer.prepare(request))
        except Exception as exc:
            results["pipeline_prepare_us"] = {"skipped": f"{type(exc).__name__}: {exc}"}
        return results
    finally:
        await app.aclose()


def run(config: dict[str, Any], n: int) -> dict[str, Any]:
    return asyncio.run(measure(config, n))
