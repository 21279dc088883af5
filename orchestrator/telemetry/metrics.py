"""Prometheus families (the seed's names and labels, plus TTFT, circuit state and gRPC server metrics).

Label values are bounded: task types are the configured ones (others become "other"), models are
catalog names, error types are ErrorInfo reasons. No request ids, no user text.

With worker processes (`Metrics(..., multiprocess=True)`), every series lives in files under
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode) and /metrics serves the sum over the workers:
counters and histograms add up, gauges say how (`livesum`, `livemax`: over the workers alive now). Values read
through callbacks (circuit states, template store counts, single-flight waiters) are copied into such series by
`sync()`, which the server calls every second.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable

from prometheus_client import (
    CollectorRegistry,
    disable_created_metrics,
    start_http_server,
    values,
)
from prometheus_client import multiprocess as prom_multiprocess

from orchestrator.domain import CircuitState
from orchestrator.errors import ConfigError, Reason
from orchestrator.observe import GenerationOutcome
from orchestrator.telemetry.callbacks import Family, Reading, watch
from orchestrator.telemetry.families import Counter, Gauge, Histogram

log = logging.getLogger("orchestrator.requests")

LLM_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
TTFT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
SEMANTIC_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
RPC_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
# The seed's task types are always labelled by name, configured or not.
SEED_TASK_TYPES = frozenset({"code_generation", "requirement_analysis", "bug_fixing", "documentation_generation"})
_CIRCUIT_VALUES = {CircuitState.CLOSED: 0.0, CircuitState.HALF_OPEN: 1.0, CircuitState.OPEN: 2.0}
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_CIRCUITS = Family(
    "llm_model_circuit_state", "Circuit breaker state per model (0 closed, 1 half-open, 2 open)", ("model",),
    multiprocess_mode="livemax",
)  # fmt: skip
_STORE_ERRORS = Family("template_store_errors", "Template store reads by renders that failed or timed out", total=True)
_STALE_SERVES = Family(
    "template_stale_serves", "Renders served from a cached template copy while the store was unreachable", total=True
)
_EMBEDDED_QUEUED = Family(
    "orchestrator_embedded_queued_requests", "Requests to the embedded model waiting for a sequence slot", ("provider",)
)
_EMBEDDED_RUNNING = Family(
    "orchestrator_embedded_running_sequences", "Sequences the embedded model is prefilling or decoding", ("provider",)
)
_EMBEDDED_REUSED = Family(
    "orchestrator_embedded_reused_prompt_tokens", "Prompt tokens not prefilled again: a slot's kept prefix was reused",
    ("provider",), total=True,
)  # fmt: skip
_QUOTAS = {  # subject kind -> family
    "service": Family(
        "orchestrator_quota_used_ratio", "Share of a service's budget used in the current window", ("service", "limit"),
        multiprocess_mode="livemax",
    ),
    "task": Family(
        "orchestrator_task_quota_used_ratio", "Share of a task type's budget used in the current window",
        ("task_type", "limit"), multiprocess_mode="livemax",
    ),
}  # fmt: skip


def metrics_port_error(host: str, port: int, exc: OSError) -> ConfigError:
    return ConfigError(
        f"server.metrics_port / ORCHESTRATOR_METRICS_PORT: cannot serve metrics on "
        f"{f'[{host}]' if ':' in host else host}:{port} "
        f"({exc.strerror or exc}); choose another port, or 0 to turn metrics off"
    )


def worker_gone(pid: int) -> None:
    """A worker exited: its `live*` gauges stop counting (its counters and histograms stay in the sums)."""
    if os.environ.get(MULTIPROC_ENV):
        prom_multiprocess.mark_process_dead(pid)


class Metrics:
    def __init__(
        self, task_types: Iterable[str], registry: CollectorRegistry | None = None, multiprocess: bool = False
    ) -> None:
        self.multiprocess = multiprocess
        if multiprocess:
            if not os.environ.get(MULTIPROC_ENV):
                raise RuntimeError(f"multiprocess metrics need {MULTIPROC_ENV} (set by the worker supervisor)")
            # prometheus_client picks its value class when it is first imported; this process may have imported
            # it before the variable was set, so pick again: series created from here on live in the files.
            values.ValueClass = values.get_value_class()
        self._syncs: list[Callable[[], None]] = []
        self.registry = registry or CollectorRegistry()
        self._tasks = SEED_TASK_TYPES | frozenset(task_types)
        disable_created_metrics()  # the *_created series only add noise to every scrape
        r = self.registry
        # `service` is the calling service: configured names and "anonymous" only (callers are authenticated
        # before they reach the pipeline), so cost per service is one query.
        self.requests = Counter(
            "llm_requests", "LLM requests by outcome", ["task_type", "model", "status", "service"], registry=r
        )
        self.latency = Histogram(
            "llm_request_latency_seconds", "LLM request latency", ["task_type", "model"],
            buckets=LLM_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.tokens = Counter(
            "llm_token_usage", "Tokens used", ["task_type", "model", "token_type", "service"], registry=r
        )  # exported as llm_token_usage_total
        self.cost = Counter("llm_request_cost_dollars", "Cost of LLM requests in US dollars",
                            ["task_type", "model", "service"], registry=r)  # fmt: skip
        self.errors = Counter("llm_errors", "LLM errors", ["task_type", "model", "error_type", "service"], registry=r)
        self.cache_hits = Counter("llm_cache_hits", "Answers served from the response cache", ["task_type"], registry=r)
        self.semantic_hits = Counter(
            "llm_semantic_cache_hits", "Answers served from the cache to a paraphrase of the cached request",
            ["task_type"], registry=r,
        )  # fmt: skip
        self.cache_joined = Counter(
            "orchestrator_cache_joined", "Requests answered by an identical request's upstream call (single-flight)",
            ["task_type"], registry=r,
        )  # fmt: skip
        self.cache_waiting = Gauge(
            "orchestrator_cache_waiting", "Requests waiting now for an identical request's answer (single-flight)",
            registry=r, multiprocess_mode="livesum",
        )  # fmt: skip
        self.semantic_lookup = Histogram(
            "orchestrator_semantic_lookup_seconds", "Semantic cache lookup: embedding plus nearest-neighbour search",
            buckets=SEMANTIC_BUCKETS, registry=r,
        )  # fmt: skip
        self.ttft = Histogram(
            "llm_time_to_first_token_seconds", "Time from request to the first streamed token", ["task_type", "model"],
            buckets=TTFT_BUCKETS, registry=r,
        )  # fmt: skip
        self.rpc_started = Counter(
            "grpc_server_started", "RPCs started on the server", ["grpc_service", "grpc_method", "grpc_type"],
            registry=r,
        )  # fmt: skip
        self.rpc_handled = Counter(
            "grpc_server_handled", "RPCs completed on the server, by status code",
            ["grpc_service", "grpc_method", "grpc_type", "grpc_code"], registry=r,
        )  # fmt: skip
        self.rpc_seconds = Histogram(
            "grpc_server_handling_seconds", "Time to handle an RPC", ["grpc_service", "grpc_method", "grpc_type"],
            buckets=RPC_BUCKETS, registry=r,
        )  # fmt: skip
        self.shared_state_errors = Counter(
            "orchestrator_shared_state_errors", "Shared-state (Redis) operations that failed; the request went on",
            ["operation"], registry=r,
        )  # fmt: skip
        self._http: object | None = None

    def task_label(self, task_type: str) -> str:
        if not task_type:
            return "none"
        return task_type if task_type in self._tasks else "other"

    def watch_circuits(self, states: Callable[[], Iterable[tuple[str, CircuitState]]]) -> None:
        # Each worker keeps its own breakers; the worst state any live worker sees is the one to alert on.
        self._watch([_CIRCUITS], lambda: ((_CIRCUITS, (model,), _CIRCUIT_VALUES[state]) for model, state in states()))

    def watch_embedded(self, stats: Callable[[], Iterable[tuple[str, int, int, int]]]) -> None:
        """`stats()` -> (provider, requests queued for a slot, sequences running, prompt tokens reused so far)."""

        def read() -> Reading:
            for provider, waiting, busy, tokens in stats():
                yield from ((_EMBEDDED_QUEUED, (provider,), waiting), (_EMBEDDED_RUNNING, (provider,), busy))
                yield _EMBEDDED_REUSED, (provider,), tokens

        self._watch([_EMBEDDED_QUEUED, _EMBEDDED_RUNNING, _EMBEDDED_REUSED], read)

    def watch_template_store(self, counts: Callable[[], tuple[int, int]]) -> None:
        """`counts()` -> (store errors, stale serves) as seen by template renders."""

        def read() -> Reading:
            errors, stale = counts()
            return ((_STORE_ERRORS, (), errors), (_STALE_SERVES, (), stale))

        self._watch([_STORE_ERRORS, _STALE_SERVES], read)

    def watch_quotas(self, ratios: Callable[[], Iterable[tuple[str, str, float]]]) -> None:
        """Budgets' use in their current windows, read when scraped (not set on every request).

        `ratios()` -> (subject "service:NAME" or "task:NAME", limit name, share used at the last booking).
        """

        def read() -> Reading:
            for subject, limit, ratio in ratios():
                kind, _, name = subject.partition(":")
                if kind in _QUOTAS:
                    yield _QUOTAS[kind], (self.task_label(name) if kind == "task" else name, limit), ratio

        self._watch(_QUOTAS.values(), read)

    def _watch(self, families: Iterable[Family], read: Callable[[], Reading]) -> None:
        watch(self.registry, self._syncs if self.multiprocess else None, families, read)

    def shared_state_failed(self, operation: str) -> None:
        self.shared_state_errors.labels(operation).inc()

    def watch_waiting(self, waiting: Callable[[], int]) -> None:
        """Requests waiting now for an identical request's answer (single-flight)."""
        if self.multiprocess:
            self._syncs.append(lambda: self.cache_waiting.set(waiting()))
        else:
            self.cache_waiting.set_function(waiting)

    def sync(self) -> None:
        """Copy the callback-read values into their multiprocess series (a no-op with one process)."""
        for sync in self._syncs:
            sync()

    def serve(self, port: int, host: str = "0.0.0.0") -> int:
        """Expose /metrics over HTTP on a background thread; returns the bound port.

        A port already taken is a configuration problem (ConfigError naming the settings), not a traceback.
        """
        registry = self.registry
        if self.multiprocess:  # every worker's series, summed as each family's type and gauge mode say
            registry = CollectorRegistry()
            prom_multiprocess.MultiProcessCollector(registry)
        try:
            server, _ = start_http_server(port, addr=host, registry=registry)
        except OSError as exc:
            raise metrics_port_error(host, port, exc) from None
        self._http = server
        return int(server.server_port)

    def close(self) -> None:
        if self._http is not None:
            self._http.shutdown()  # type: ignore[attr-defined]
            self._http.server_close()  # type: ignore[attr-defined]
            self._http = None

    def generation_finished(self, outcome: GenerationOutcome) -> None:
        task = self.task_label(outcome.request.task_type)
        service = outcome.request.caller.service
        # Tokens and dollars are booked per upstream attempt, whatever the request's outcome: a rejected
        # answer or a failed request was paid for all the same.
        for attempt in outcome.attempts:
            if attempt.error_reason:
                self.errors.labels(task, attempt.model, attempt.error_reason, service).inc()
            usage = attempt.usage
            if usage.input_tokens or usage.output_tokens:
                self.tokens.labels(task, attempt.model, "input", service).inc(usage.input_tokens)
                self.tokens.labels(task, attempt.model, "output", service).inc(usage.output_tokens)
                self.tokens.labels(task, attempt.model, "cached_input", service).inc(usage.cached_input_tokens)
            if attempt.cost_usd:
                self.cost.labels(task, attempt.model, service).inc(attempt.cost_usd)
        result = outcome.result
        if result is None:
            model = outcome.failed_model or "none"
            self.requests.labels(task, model, "error", service).inc()
            self.errors.labels(task, model, outcome.error_reason or Reason.INTERNAL, service).inc()
        else:
            model = result.model
            if result.joined:
                self.cache_joined.labels(task).inc()
            elif result.cache_similarity:
                self.semantic_hits.labels(task).inc()
            elif result.cache_hit:
                self.cache_hits.labels(task).inc()
            self.requests.labels(task, model, "success", service).inc()
        self.latency.labels(task, model).observe(outcome.latency_seconds)
        if outcome.time_to_first_token is not None:
            self.ttft.labels(task, model).observe(outcome.time_to_first_token)
