"""Prometheus families per template version (prompt experiments) and for feedback.

`template_version` is a bounded label: a version the task's `template_variants` names, "none" for requests
without a template, "other" for any other version (callers pinning versions cannot grow the series).
`validator` is bounded by configuration too: the task's validator names, "format" and "json_schema".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry

from orchestrator.domain import total_usage
from orchestrator.observe import GenerationOutcome
from orchestrator.telemetry.families import Counter, Histogram
from orchestrator.telemetry.metrics import LLM_LATENCY_BUCKETS

SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


class ExperimentMetrics:
    def __init__(
        self,
        registry: CollectorRegistry,
        variants: Mapping[str, Iterable[str]],
        task_label: Callable[[str], str],
    ) -> None:
        self._versions = {task: frozenset(versions) for task, versions in variants.items()}
        self._task_label = task_label
        r, by_variant = registry, ["task_type", "template_version"]
        self.requests = Counter(
            "orchestrator_variant_requests", "Generations per template version, by outcome",
            [*by_variant, "status"], registry=r,
        )  # fmt: skip
        self.validation_failures = Counter(
            "orchestrator_validation_failures", "Answers rejected by the acceptance check, by the check that failed",
            [*by_variant, "validator"], registry=r,
        )  # fmt: skip
        self.reasks = Counter(
            "orchestrator_reasks", "Rejected answers re-asked of the same model", by_variant, registry=r
        )
        self.latency = Histogram(
            "orchestrator_variant_latency_seconds", "Generation latency per template version", by_variant,
            buckets=LLM_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.tokens = Counter(
            "orchestrator_variant_tokens", "Tokens per template version (every attempt)", [*by_variant, "token_type"],
            registry=r,
        )  # fmt: skip
        self.cost = Counter(
            "orchestrator_variant_cost_dollars", "Cost per template version in US dollars (every attempt)", by_variant,
            registry=r,
        )  # fmt: skip
        self.feedback = Counter(
            "orchestrator_feedback", "Feedback recorded, by kind (score or label)", [*by_variant, "kind"], registry=r
        )
        self.feedback_score = Histogram(
            "orchestrator_feedback_score", "Feedback scores (0 to 1; labels counted as their configured score)",
            by_variant, buckets=SCORE_BUCKETS, registry=r,
        )  # fmt: skip
        self.ledger_dropped = Counter(
            "orchestrator_request_ledger_dropped", "Requests not written to the ledger (queue full or store down)",
            registry=r,
        )  # fmt: skip

    def version_label(self, task_type: str, version: str) -> str:
        if not version:
            return "none"
        return version if version in self._versions.get(task_type, ()) else "other"

    def _labels(self, task_type: str, version: str) -> tuple[str, str]:
        return self._task_label(task_type), self.version_label(task_type, version)

    def generation_finished(self, outcome: GenerationOutcome) -> None:
        labels = self._labels(outcome.request.task_type, outcome.template_version)
        self.requests.labels(*labels, "success" if outcome.result is not None else "error").inc()
        self.latency.labels(*labels).observe(outcome.latency_seconds)
        for rejected in outcome.rejections:
            self.validation_failures.labels(*labels, rejected.validator or "format").inc()
        if reasks := outcome.reasks:
            self.reasks.labels(*labels).inc(reasks)
        usage, cost = total_usage(outcome.attempts)
        if usage.input_tokens or usage.output_tokens:
            self.tokens.labels(*labels, "input").inc(usage.input_tokens)
            self.tokens.labels(*labels, "output").inc(usage.output_tokens)
        if cost:
            self.cost.labels(*labels).inc(cost)

    def feedback_recorded(self, task_type: str, version: str, kind: str, score: float | None) -> None:
        labels = self._labels(task_type, version)
        self.feedback.labels(*labels, kind).inc()
        if score is not None:
            self.feedback_score.labels(*labels).observe(score)
