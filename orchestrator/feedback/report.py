"""`orchestrator experiments report --task T`: per template version (variant) and model, how the task did.

For each group: requests, feedback received, mean score with its 95% confidence interval (Student's t on
the scores, clipped to [0, 1]), validation failure rate (requests with at least one rejected answer) with its 95% Wilson
interval, re-asks, and cost per request. The leading variant is the one with the highest mean score; it
leads clearly when its interval lies above every other variant's, else the report says more feedback is
needed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from orchestrator.feedback.records import GroupTotals

# Two-sided 95% critical values of Student's t for 1..30 degrees of freedom, then a few beyond.
_T95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
    2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_T95_LARGE = ((120, 1.980), (60, 2.000), (40, 2.021), (31, 2.042))
Z95 = 1.959964
ALL_MODELS = "*"


def t95(df: int) -> float:
    """The critical value for `df` degrees of freedom (for df over 30, that of the nearest tabulated df
    below it: slightly conservative)."""
    if df <= len(_T95):
        return _T95[df - 1]
    return next(t for at_least, t in _T95_LARGE if df >= at_least)


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Row:
    template_version: str
    model: str  # "*": the variant over all its models
    requests: int
    feedback: int
    scored: int
    mean_score: float | None
    score_interval: Interval | None  # needs at least two scores
    failure_rate: float
    failure_interval: Interval
    reasks: int
    cost_per_request: float


@dataclass(frozen=True, slots=True)
class Report:
    task_type: str
    days: float
    rows: list[Row]  # per variant and model
    variants: list[Row]  # per variant, every model together
    leader: str | None
    verdict: str


def mean_interval(n: int, total: float, squares: float) -> tuple[float | None, Interval | None]:
    if n == 0:
        return None, None
    mean = total / n
    if n < 2:
        return mean, None
    variance = max(squares - n * mean * mean, 0.0) / (n - 1)
    half = t95(n - 1) * math.sqrt(variance / n)
    # Scores lie in [0, 1]; so does any interval worth printing.
    return mean, Interval(max(mean - half, 0.0), min(mean + half, 1.0))


def wilson(k: int, n: int) -> Interval:
    """The Wilson score interval of a proportion k/n (sensible at 0 and n, unlike mean ± z·se)."""
    if n == 0:
        return Interval(0.0, 1.0)
    p, z2 = k / n, Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Interval(max(centre - half, 0.0), min(centre + half, 1.0))


def _row(g: GroupTotals) -> Row:
    mean, interval = mean_interval(g.scored, g.score_sum, g.score_squares)
    return Row(
        g.template_version, g.model, g.requests, g.feedback, g.scored, mean, interval,
        g.rejected_requests / g.requests if g.requests else 0.0, wilson(g.rejected_requests, g.requests),
        g.reasks, g.cost_usd / g.requests if g.requests else 0.0,
    )  # fmt: skip


def _merged(version: str, groups: list[GroupTotals]) -> GroupTotals:
    def total(field: str) -> Any:
        return sum(getattr(g, field) for g in groups)

    return GroupTotals(
        version, ALL_MODELS, total("requests"), total("rejected_requests"), total("reasks"), total("cost_usd"),
        total("feedback"), total("scored"), total("score_sum"), total("score_squares"),
    )  # fmt: skip


def _verdict(variants: list[Row]) -> tuple[str | None, str]:
    scored = sorted((r for r in variants if r.mean_score is not None), key=lambda r: r.mean_score or 0, reverse=True)
    if not scored:
        return None, "no scored feedback yet: no variant leads"
    leader = scored[0]
    if len(scored) == 1:
        return leader.template_version, f"variant {leader.template_version} is the only one with scored feedback"
    others = scored[1:]
    clear = leader.score_interval is not None and all(
        o.score_interval is not None and leader.score_interval.low > o.score_interval.high for o in others
    )
    if clear:
        return leader.template_version, (
            f"variant {leader.template_version} leads: its 95% interval lies above every other variant's"
        )
    return leader.template_version, (
        f"variant {leader.template_version} has the highest mean score, but the 95% intervals overlap: "
        "collect more feedback before deciding"
    )


def build_report(task_type: str, days: float, totals: list[GroupTotals]) -> Report:
    by_version: dict[str, list[GroupTotals]] = {}
    for group in totals:
        by_version.setdefault(group.template_version, []).append(group)
    variants = [_row(_merged(version, groups)) for version, groups in sorted(by_version.items())]
    leader, verdict = _verdict(variants)
    return Report(task_type, days, [_row(g) for g in totals], variants, leader, verdict)


def report_json(report: Report) -> dict[str, Any]:
    return asdict(report)


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _interval(interval: Interval | None) -> str:
    return "-" if interval is None else f"[{interval.low:.3f}, {interval.high:.3f}]"


def report_text(report: Report) -> str:
    if not report.rows:
        return f"task {report.task_type}: no requests recorded in the last {report.days:g} days"
    header = ("variant", "model", "requests", "feedback", "mean score", "95% CI", "validation fail", "95% CI",
              "re-asks", "cost/request")  # fmt: skip
    lines = [
        (r.template_version or "(none)", r.model, str(r.requests), str(r.feedback), _number(r.mean_score),
         _interval(r.score_interval), f"{r.failure_rate:.1%}", _interval(r.failure_interval), str(r.reasks),
         f"${r.cost_per_request:.6f}")
        for r in [*report.rows, *report.variants]
    ]  # fmt: skip
    widths = [max(len(cell) for cell in column) for column in zip(header, *lines, strict=True)]
    table = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
             for line in (header, *lines)]  # fmt: skip
    table.insert(1 + len(report.rows), "")  # the per-variant totals (model "*") below the groups
    return "\n".join([f"task {report.task_type}, last {report.days:g} days", "", *table, "", report.verdict])
