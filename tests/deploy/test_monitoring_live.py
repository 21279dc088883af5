"""Dashboards and alerts against a real Prometheus scraping a real orchestrator that has served generations.

The server (fake upstream behind it; auth required, one service with limits and a task budget; Redis named but
refusing connections) serves successes on every seed task, streams, cache hits, upstream errors and failures
that open a circuit, in two rounds a few scrapes apart so that rates are not zero, and exports its metrics;
Debian's Prometheus scrapes them every second and loads the chart's rendered alert rules. Every dashboard and
alert expression must parse, name only metrics and labels the server exports and evaluate; every panel must
return data.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import generation_pb2 as gen

from orchestrator.policy.keys import digest
from tests.deploy.chart import NAMESPACE, RELEASE, alert_rules, render, tool
from tests.deploy.expressions import (
    TARGET_LABELS,
    Expression,
    alert_expressions,
    dashboard_expressions,
    variable_queries,
)
from tests.fakes import Behaviour, FakeUpstream
from tests.routing_env import ask, routed_server

pytestmark = pytest.mark.timeout(180)

TASKS = ("code_generation", "bug_fixing", "documentation_generation", "requirement_analysis")
SCRAPE_SECONDS = 1
KEY = "orc_rd-live-test-key"
# Generous limits: they are there to be metered (orchestrator_*quota_used_ratio), not to refuse anything.
LIMITS = {"requests_per_minute": 10_000, "tokens_per_day": 10_000_000, "cost_usd_per_day": 1_000.0}
# Series Prometheus itself adds to the job's (per target, and for the alert rules), not the server's.
PROMETHEUS_OWN = (
    "up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added",
    "scrape_samples_post_metric_relabeling", "ALERTS", "ALERTS_FOR_STATE",
)  # fmt: skip


@dataclass
class Live:
    """What the running Prometheus said."""

    series: dict[str, set[str]]  # metric name -> label names, as scraped from the server
    results: dict[str, dict[str, Any]]  # expression source -> the /api/v1/query answer
    rules: list[dict[str, Any]]  # /api/v1/rules, the loaded alerting rules
    label_values: dict[tuple[str, str], list[str]]  # (dashboard, label) -> values


class Prometheus:
    def __init__(self, workdir: Path, metrics_port: int, rules: dict[str, Any]) -> None:
        (workdir / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
        config = {
            "global": {"scrape_interval": f"{SCRAPE_SECONDS}s", "evaluation_interval": f"{SCRAPE_SECONDS}s"},
            "rule_files": ["rules.yaml"],
            "scrape_configs": [{
                "job_name": RELEASE,  # what the ServiceMonitor's job is: the Service's name
                "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"], "labels": {"namespace": NAMESPACE}}],
            }],
        }  # fmt: skip
        (workdir / "prometheus.yaml").write_text(yaml.safe_dump(config))
        self.port = _free_port()
        self.log = (workdir / "prometheus.log").open("w")
        self.process = subprocess.Popen(
            [
                tool("prometheus"),
                f"--config.file={workdir / 'prometheus.yaml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )

    def get(self, path: str, **params: str | list[str]) -> Any:
        query = urllib.parse.urlencode(params, doseq=True)
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}?{query}", timeout=10) as response:
            return json.loads(response.read())

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def last_scrape(self) -> float:
        result = self.get("/api/v1/query", query=f'timestamp(up{{job="{RELEASE}"}} == 1)')["data"]["result"]
        return float(result[0]["value"][1]) if result else 0.0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _until(condition: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout}s for {what}")
        await asyncio.sleep(0.2)


async def _scrapes_after(prometheus: Prometheus, count: int) -> None:
    """Wait until Prometheus has scraped `count` times after now."""
    since = time.time()
    await _until(lambda: prometheus.last_scrape() >= since + (count - 1) * SCRAPE_SECONDS, f"{count} scrapes")


async def _serve_a_round(client: OrchestratorClient, fake: FakeUpstream) -> None:
    """Successes on every seed task, streams, a cache hit, upstream errors, and failures that open a circuit."""
    for task in TASKS:
        request = ask(f"write {task}")
        request.task_type = task
        await client.generate(request)
    stream = ask("stream this please")
    stream.task_type = "code_generation"
    async for _ in client.stream_generate(stream):
        pass
    cached = ask("the same question")
    cached.cache.policy = gen.CACHE_POLICY_USE
    await client.generate(cached)
    assert (await client.generate(cached)).cache_hit
    fake.enqueue(Behaviour(status=400, error_type="invalid_request_error"), model="primary")
    with contextlib.suppress(Exception):
        await client.generate(ask("rejected upstream", fallbacks=()))
    for _ in range(2):  # `large` answers 503: retried, then its circuit opens (failure_threshold 2)
        with contextlib.suppress(Exception):
            await client.generate(ask("needs a large window", preferred="large", fallbacks=(), capability="long"))


@pytest.fixture(scope="module")
def rules() -> dict[str, Any]:
    return alert_rules(render())


@pytest_asyncio.fixture(scope="module")
async def live(rules: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    workdir = tmp_path_factory.mktemp("prometheus")
    async with FakeUpstream() as fake:
        fake.set_default(Behaviour(prompt_tokens=1200, completion_tokens=30))
        fake.set_default(Behaviour(status=503), model="large")
        breaker = {"failure_threshold": 2, "cooldown_seconds": 120, "max_cooldown_seconds": 120}
        sections = {
            "auth": {"mode": "required", "services": [{"name": "rd", "key_sha256": digest(KEY), "limits": LIMITS}]},
            "tasks": {"code_generation": {"limits": LIMITS}},
        }
        # A Redis that refuses connections: the requests go on, and orchestrator_shared_state_errors_total counts.
        refused = {"redis_url": f"redis://127.0.0.1:{_free_port()}/0", "timeout_seconds": 0.2}
        async with (
            routed_server(fake, metrics_port=-1, sections=sections, shared_state=refused, breaker=breaker) as anonymous,
            OrchestratorClient(f"127.0.0.1:{anonymous.server.port}", api_key=KEY, default_timeout=30) as client,  # type: ignore[attr-defined]
        ):
            prometheus = Prometheus(workdir, anonymous.server.metrics_port, rules)  # type: ignore[attr-defined]
            try:
                await _until(prometheus.ready, "Prometheus to be ready")
                await _scrapes_after(prometheus, 1)
                await _serve_a_round(client, fake)
                await _scrapes_after(prometheus, 2)
                await _serve_a_round(client, fake)
                await _scrapes_after(prometheus, 2)
                yield await asyncio.to_thread(_observe, prometheus, rules)
            finally:
                prometheus.stop()


def _observe(prometheus: Prometheus, rules: dict[str, Any]) -> Live:
    series: dict[str, set[str]] = {}
    for labels in prometheus.get("/api/v1/series", **{"match[]": f'{{job="{RELEASE}"}}'})["data"]:
        series.setdefault(labels["__name__"], set()).update(k for k in labels if k != "__name__")
    for own in PROMETHEUS_OWN:
        series.pop(own, None)
    results = {}
    for expression in [*dashboard_expressions(), *alert_expressions(rules)]:
        results[expression.source] = prometheus.get("/api/v1/query", query=expression.promql)
    label_values = {
        (board, label): prometheus.get(f"/api/v1/label/{label}/values", **{"match[]": selector})["data"]
        for board, label, selector in variable_queries()
    }
    loaded = prometheus.get("/api/v1/rules", type="alert")["data"]["groups"]
    return Live(series, results, [rule for group in loaded for rule in group["rules"]], label_values)


def _all_expressions() -> Iterator[Expression]:
    yield from dashboard_expressions()
    yield from alert_expressions(alert_rules(render()))


def test_every_expression_parses() -> None:
    expressions = list(_all_expressions())  # Expression() parses with promql-parser and raises on bad syntax

    assert len(expressions) >= 30
    assert all(e.metrics for e in expressions), [e.source for e in expressions if not e.metrics]


def test_every_expression_names_only_metrics_the_server_exports(live: Live) -> None:
    unknown = {e.source: sorted(e.metrics - live.series.keys()) for e in _all_expressions()}

    assert {source: names for source, names in unknown.items() if names} == {}


def test_every_expression_uses_only_labels_those_metrics_carry(live: Live) -> None:
    unknown = {}
    for expression in _all_expressions():
        carried = set().union(*(live.series.get(m, set()) for m in expression.metrics)) | TARGET_LABELS
        missing = expression.labels - carried
        if missing:
            unknown[expression.source] = sorted(missing)

    assert unknown == {}


def test_every_expression_is_accepted_by_prometheus(live: Live) -> None:
    rejected = {source: answer.get("error") for source, answer in live.results.items() if answer["status"] != "success"}

    assert rejected == {}


def test_every_dashboard_panel_returns_data(live: Live) -> None:
    empty = []
    for expression in dashboard_expressions():
        values = [float(sample["value"][1]) for sample in live.results[expression.source]["data"]["result"]]
        if not any(math.isfinite(v) for v in values):
            empty.append(expression.source)

    assert empty == []


def test_costs_and_quotas_are_booked_to_the_calling_service(live: Live) -> None:
    def labels(source: str, name: str) -> set[str]:
        return {sample["metric"].get(name, "") for sample in live.results[source]["data"]["result"]}

    assert labels("cost: Spend by calling service (USD/hour) [A]", "service") == {"rd"}
    assert labels("cost: Quota used by service and limit [A]", "limit") == set(LIMITS)
    assert labels("cost: Task quota used by task and limit [A]", "task_type") == {"code_generation"}


def test_dashboard_variables_list_the_scraped_namespace_and_job(live: Live) -> None:
    assert {key[1]: values for key, values in live.label_values.items()} == {"namespace": [NAMESPACE], "job": [RELEASE]}


def test_prometheus_loads_and_evaluates_every_alert_rule(live: Live, rules: dict[str, Any]) -> None:
    names = [rule["alert"] for group in rules["groups"] for rule in group["rules"]]

    assert sorted(rule["name"] for rule in live.rules) == sorted(names)
    assert all(rule["health"] == "ok" for rule in live.rules), live.rules


def test_alert_conditions_hold_for_what_was_served(live: Live) -> None:
    """Errors were a large share, one circuit is open and Redis refuses; latency and budgets stayed low."""

    def firing(alert: str) -> list[dict[str, str]]:
        return [sample["metric"] for sample in live.results[f"alert {alert}"]["data"]["result"]]

    assert firing("LLMOrchestratorHighErrorRatio") == [{"namespace": NAMESPACE, "job": RELEASE}]
    assert firing("LLMOrchestratorModelCircuitOpen") == [{"namespace": NAMESPACE, "job": RELEASE, "model": "large"}]
    assert {m["operation"] for m in firing("LLMOrchestratorSharedStateFailing")} >= {"quota_reserve", "holds_poll"}
    assert firing("LLMOrchestratorHighLatencyP99") == []
    assert firing("LLMOrchestratorBudgetNearlySpent") == []
