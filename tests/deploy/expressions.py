"""Every PromQL expression the chart ships: dashboard panel targets and alert rules, and what each one names.

Grafana's variables are substituted the way Grafana would for "All" over a short range, so that the text is
plain PromQL that Prometheus and promql-parser accept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import promql_parser

from tests.deploy.chart import CHART

GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "5m", "$namespace": ".*", "$job": ".*"}
# Labels that Prometheus attaches to every scraped series (the scrape target's), not the server.
TARGET_LABELS = frozenset({"namespace", "job", "instance", "pod"})


@dataclass
class Expression:
    source: str  # where it lives, for failure messages
    promql: str
    metrics: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        def visit(node: Any) -> None:
            if isinstance(node, promql_parser.VectorSelector):
                if node.name:
                    self.metrics.add(node.name)
                self.labels.update(m.name for m in node.matchers.matchers if m.name != "__name__")
            elif isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
                self.labels.update(node.modifier.labels)
            elif isinstance(node, promql_parser.BinaryExpr) and node.modifier is not None:
                if node.modifier.matching is not None:
                    self.labels.update(node.modifier.matching.labels)
                self.labels.update(node.modifier.group_labels or ())

        promql_parser.walk(promql_parser.parse(self.promql), visit)  # raises on a syntax error


def substitute(text: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        text = text.replace(variable, value)
    return text


def dashboards() -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted((CHART / "dashboards").glob("*.json"))}


def dashboard_expressions() -> list[Expression]:
    found = []
    for name, board in dashboards().items():
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                source = f"{name}: {panel['title']} [{target['refId']}]"
                found.append(Expression(source, substitute(target["expr"])))
    return found


def variable_queries() -> list[tuple[str, str, str]]:
    """(dashboard, label, series selector) of every label_values() variable."""
    found = []
    for name, board in dashboards().items():
        for variable in board["templating"]["list"]:
            query = variable.get("query", "")
            if isinstance(query, str) and query.startswith("label_values("):
                selector, label = query.removeprefix("label_values(").removesuffix(")").rsplit(",", 1)
                found.append((name, label.strip(), substitute(selector.strip())))
    return found


def alert_expressions(rules: dict[str, Any]) -> list[Expression]:
    return [
        Expression(f"alert {rule['alert']}", rule["expr"])
        for group in rules["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]
