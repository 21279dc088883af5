"""Write the Grafana dashboards the chart ships (helm/llm-orchestrator/dashboards/*.json), as code.

Three dashboards, after the seed: performance (latency by task and model, error rates and types, cache hit
ratio, time to first token, circuits), cost (tokens and dollars by model, task and calling service, daily and
monthly projections, budgets) and usage (requests by hour, task and model distribution). Every query is scoped
by the `namespace` and `job` variables; the chart ships each as a ConfigMap for Grafana's dashboard sidecar.
`make test` evaluates every expression against a real Prometheus scraping a real server (tests/deploy).

    python scripts/gen_dashboards.py          # regenerate
    python scripts/gen_dashboards.py --check  # exit 1 if the committed JSON is stale
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import barchart, dashboard, piechart, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DataSourceRef,
    VariableOption,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "helm/llm-orchestrator/dashboards"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
SCOPE = 'namespace=~"$namespace",job=~"$job"'
RATE = "$__rate_interval"
ERROR = 'status="error"'
SUCCESS = 'status="success"'
GENERATION = 'grpc_service="orchestrator.v1.GenerationService"'
Query = tuple[str, str]  # (PromQL, legend)


def scoped(metric: str, extra: str = "") -> str:
    return f"{metric}{{{SCOPE}{',' + extra if extra else ''}}}"


def rate(metric: str, extra: str = "", window: str = RATE) -> str:
    return f"rate({scoped(metric, extra)}[{window}])"


def increase(metric: str, extra: str = "", window: str = "$__range") -> str:
    return f"increase({scoped(metric, extra)}[{window}])"


def quantile(q: float, histogram: str, by: str) -> str:
    return f"histogram_quantile({q}, sum by (le, {by}) ({rate(histogram + '_bucket')}))"


def ratio(numerator: str, denominator: str) -> str:
    return f"{numerator}\n/\n{denominator}"


def _targets(panel: Any, queries: list[Query], instant: bool = False, table_format: bool = False) -> Any:
    for i, (expr, legend) in enumerate(queries):
        query = prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(chr(ord("A") + i))
        if instant:
            query = query.instant()
        if table_format:
            query = query.format(PromQueryFormat.TABLE)
        panel = panel.with_target(query)
    return panel


def ts(title: str, unit: str, queries: list[Query], description: str = "", width: int = 12) -> Any:
    panel = timeseries.Panel().title(title).unit(unit).datasource(DATASOURCE).height(8).span(width)
    return _targets(panel.description(description) if description else panel, queries)


def big(title: str, unit: str, query: Query, description: str = "") -> Any:
    panel = stat.Panel().title(title).unit(unit).datasource(DATASOURCE).height(4).span(6)
    return _targets(panel.description(description) if description else panel, [query])


def pie(title: str, query: Query) -> Any:
    panel = piechart.Panel().title(title).datasource(DATASOURCE).height(8).span(12)
    return _targets(panel, [query], instant=True)


def bars(title: str, unit: str, query: Query, interval: str) -> Any:
    panel = barchart.Panel().title(title).unit(unit).datasource(DATASOURCE).height(8).span(24).interval(interval)
    return _targets(panel, [query])


def grid(title: str, unit: str, query: Query) -> Any:
    panel = table.Panel().title(title).unit(unit).datasource(DATASOURCE).height(8).span(12)
    return _targets(panel, [query], instant=True, table_format=True)


def base(uid: str, title: str, description: str) -> dashboard.Dashboard:
    def label_variable(name: str, query: str) -> dashboard.QueryVariable:
        return (
            dashboard.QueryVariable(name)
            .label(name)
            .datasource(DATASOURCE)
            .query(query)
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(VariableSort.ALPHABETICAL_ASC)
            .multi(True)
            .include_all(True)
            .all_value(".*")
            .current(VariableOption(selected=True, text="All", value="$__all"))
        )

    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["llm-orchestrator", "generated"])
        .readonly()
        .time("now-6h", "now")
        .refresh("1m")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .with_variable(dashboard.DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
        .with_variable(label_variable("namespace", "label_values(llm_requests_total, namespace)"))
        .with_variable(label_variable("job", 'label_values(llm_requests_total{namespace=~"$namespace"}, job)'))
    )


Section = tuple[str | None, list[Any]]  # (row title or None, panels)


def assemble(board: dashboard.Dashboard, sections: list[Section]) -> dashboard.Dashboard:
    for row, panels in sections:
        if row:
            board.with_row(dashboard.Row(row))
        for panel in panels:
            board.with_panel(panel)
    return board


def per(by: str, q: float, histogram: str) -> Query:
    return quantile(q, histogram, by), f"{{{{{by}}}}} p{round(q * 100)}"


def performance() -> dashboard.Dashboard:
    requests = f"sum({rate('llm_requests_total')})"
    errors = f"sum({rate('llm_requests_total', ERROR)})"
    successes = f"sum({rate('llm_requests_total', SUCCESS)})"
    latency, ttft = "llm_request_latency_seconds", "llm_time_to_first_token_seconds"
    overview = [
        big("Requests", "reqps", (requests, "requests/s")),
        big("Error ratio", "percentunit", (ratio(errors, requests), "errors")),
        big("p99 latency", "s", (quantile(0.99, latency, "job"), "p99")),
        big("Cache hit ratio", "percentunit", (ratio(f"sum({rate('llm_cache_hits_total')})", successes), "hits"),
            "Answers served from the response cache, of the successful requests."),
    ]  # fmt: skip
    latencies = [
        ts("Latency by task (p50 / p95 / p99)", "s", [per("task_type", q, latency) for q in (0.5, 0.95, 0.99)]),
        ts("Latency by model (p50 / p95 / p99)", "s", [per("model", q, latency) for q in (0.5, 0.95, 0.99)]),
        ts("Time to first token by model (p50 / p95)", "s", [per("model", q, ttft) for q in (0.5, 0.95)],
           "StreamGenerate: from the request to the first delta."),
        ts("gRPC handling time by method (p95)", "s", [per("grpc_method", 0.95, "grpc_server_handling_seconds")]),
    ]  # fmt: skip
    by_model_errors = ratio(
        f"sum by (model) ({rate('llm_requests_total', ERROR)})", f"sum by (model) ({rate('llm_requests_total')})"
    )
    failures = [
        ts("Error ratio by model", "percentunit", [(by_model_errors, "{{model}}")]),
        ts("Errors by type", "reqps", [(f"sum by (error_type) ({rate('llm_errors_total')})", "{{error_type}}")],
           "Every failed attempt and failed request, by ErrorInfo reason (upstream retries included)."),
        ts("Circuit state by model (0 closed, 1 half-open, 2 open)", "short",
           [(f"max by (model) ({scoped('llm_model_circuit_state')})", "{{model}}")]),
        ts("Shared state (Redis) errors by operation", "reqps",
           [(f"sum by (operation) ({rate('orchestrator_shared_state_errors_total')})", "{{operation}}")],
           "Redis operations that failed; the request went on without shared state (quotas: the local share)."),
        ts("gRPC calls by method and code", "reqps",
           [(f"sum by (grpc_method, grpc_code) ({rate('grpc_server_handled_total')})",
             "{{grpc_method}} {{grpc_code}}")]),
    ]  # fmt: skip
    hit_ratio = ratio(
        f"sum by (task_type) ({rate('llm_cache_hits_total')})",
        f"sum by (task_type) ({rate('llm_requests_total', SUCCESS)})",
    )
    cache = [ts("Cache hit ratio by task", "percentunit", [(hit_ratio, "{{task_type}}")], width=24)]
    board = base(
        "llm-orchestrator-performance",
        "LLM Orchestrator / Performance",
        "Latency by task and model, error rates and types, cache hits, time to first token, circuits, Redis.",
    )
    return assemble(board, [("Overview", overview), ("Latency", latencies), ("Errors", failures), ("Cache", cache)])


def cost() -> dashboard.Dashboard:
    dollars, tokens = "llm_request_cost_dollars_total", "llm_token_usage_total"
    hourly = f"sum({rate(dollars, window='1h')})"
    per_request = ratio(hourly, f"sum({rate('llm_requests_total', SUCCESS, window='1h')})")
    spend = [
        big("Spend in range", "currencyUSD", (f"sum({increase(dollars)})", "USD")),
        big("Projected daily spend", "currencyUSD", (f"{hourly} * 86400", "USD/day"),
            "The last hour's rate, extrapolated to 24 hours."),
        big("Projected monthly spend", "currencyUSD", (f"{hourly} * 86400 * 30", "USD/30 days"),
            "The last hour's rate, extrapolated to 30 days."),
        big("Cost per successful request", "currencyUSD", (per_request, "USD")),
    ]  # fmt: skip
    by_dimension = [
        ts("Spend by model (USD/hour)", "currencyUSD", [(f"sum by (model) ({rate(dollars)}) * 3600", "{{model}}")]),
        ts("Spend by task (USD/hour)", "currencyUSD",
           [(f"sum by (task_type) ({rate(dollars)}) * 3600", "{{task_type}}")]),
        ts("Spend by calling service (USD/hour)", "currencyUSD",
           [(f"sum by (service) ({rate(dollars)}) * 3600", "{{service}}")],
           "The `service` label is the caller's identity (bearer key or client certificate)."),
        grid("Spend in range by model and task", "currencyUSD",
             (f"sum by (model, task_type) ({increase(dollars)})", "")),
    ]  # fmt: skip
    token_panels = [
        ts("Tokens by model and type", "short",
           [(f"sum by (model, token_type) ({rate(tokens)})", "{{model}} {{token_type}}")]),
        ts("Tokens by task", "short", [(f"sum by (task_type) ({rate(tokens)})", "{{task_type}}")]),
    ]  # fmt: skip
    budgets = [
        ts("Quota used by service and limit", "percentunit",
           [(f"max by (service, limit) ({scoped('orchestrator_quota_used_ratio')})", "{{service}} {{limit}}")],
           "Share of each service's limits used in the current window (1 = spent)."),
        ts("Task quota used by task and limit", "percentunit",
           [(f"max by (task_type, limit) ({scoped('orchestrator_task_quota_used_ratio')})",
             "{{task_type}} {{limit}}")],
           "Share of each task type's limits (tasks.<t>.limits, all callers together) used in the window."),
    ]  # fmt: skip
    board = base(
        "llm-orchestrator-cost",
        "LLM Orchestrator / Cost",
        "Tokens and dollars by model, task and calling service; projections from the last hour's rate.",
    )
    return assemble(
        board, [("Spend", spend), ("Dollars", by_dimension), ("Tokens", token_panels), ("Budgets", budgets)]
    )


def usage() -> dashboard.Dashboard:
    requests = "llm_requests_total"
    streams = f"sum by (grpc_method) ({rate('grpc_server_started_total', GENERATION)})"
    panels = [
        bars("Requests by hour", "short", (f"sum({increase(requests, window='1h')})", "requests"), "1h"),
        pie("Task distribution", (f"sum by (task_type) ({increase(requests)})", "{{task_type}}")),
        pie("Model distribution", (f"sum by (model) ({increase(requests)})", "{{model}}")),
        ts("Requests by task", "reqps", [(f"sum by (task_type) ({rate(requests)})", "{{task_type}}")]),
        ts("Requests by model", "reqps", [(f"sum by (model) ({rate(requests)})", "{{model}}")]),
        ts("Unary and streaming calls", "reqps", [(streams, "{{grpc_method}}")]),
        ts("Requests by calling service", "reqps", [(f"sum by (service) ({rate(requests)})", "{{service}}")]),
        ts("Cache hits by task", "reqps", [(f"sum by (task_type) ({rate('llm_cache_hits_total')})", "{{task_type}}")],
           width=24),
    ]  # fmt: skip
    board = base(
        "llm-orchestrator-usage",
        "LLM Orchestrator / Usage",
        "Requests by hour, task and model distribution, streaming and calling services.",
    )
    return assemble(board, [(None, panels)])


DASHBOARDS: dict[str, Callable[[], Builder[Any]]] = {
    "performance": performance,
    "cost": cost,
    "usage": usage,
}


def render(build: Callable[[], Builder[Any]]) -> str:
    return JSONEncoder(sort_keys=True, indent=2).encode(build().build()) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed JSON is stale")
    args = parser.parse_args()
    stale = []
    for name, build in DASHBOARDS.items():
        target = OUT_DIR / f"{name}.json"
        text = render(build)
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(str(target.relative_to(ROOT)))
        else:
            target.write_text(text)
    if stale:
        print(f"stale dashboards: {', '.join(stale)}: run `make chart`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
