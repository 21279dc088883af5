"""`make bench-peers` figures (medians over rounds), issue 15's goal ratios, and the printed Markdown table."""

from __future__ import annotations

import math
import os
from typing import Any

from tests.bench.stats import median

NAMES = {"orch": "orchestrator", "portkey": "Portkey", "litellm": "LiteLLM", "direct": "fake direct"}


def _median(rounds: list[dict[str, Any]], scenario: str, target: str, fn: Any) -> float:
    values = []
    for r in rounds:
        try:
            values.append(float(fn(r[scenario][target])))
        except (KeyError, TypeError, ZeroDivisionError):
            continue
    return median(values)


def _added(rounds: list[dict[str, Any]], scenario: str, target: str, metric: str) -> float:
    """target p50 - direct p50 in the same round (ms), median over rounds."""
    values = []
    for r in rounds:
        try:
            values.append((r[scenario][target][metric]["p50"] - r[scenario]["direct"][metric]["p50"]) / 1000)
        except (KeyError, TypeError):
            continue
    return median(values)


def _cpu_us(process: str) -> Any:
    return lambda run: run["cpu_s"][process] * 1e6 / run["n"]


def figures(rounds: list[dict[str, Any]], servers: list[str], stream_load: str) -> dict[str, Any]:
    """Per target: the issue's five figures plus what explains them (client CPU, errors, p99s)."""
    out: dict[str, Any] = {}
    for name in [*servers, "direct"]:
        server = "fake" if name == "direct" else name
        row = {
            "unary_rps_c32": _median(rounds, "unary_c32", name, lambda run: run["rps"]),
            "latency_ms_p50_c1": _median(rounds, "unary_c1", name, lambda run: run["latency_us"]["p50"] / 1000),
            "latency_ms_p99_c1": _median(rounds, "unary_c1", name, lambda run: run["latency_us"]["p99"] / 1000),
            "ttft_ms_p50_c1": _median(rounds, "stream_c1", name, lambda run: run["ttft_us"]["p50"] / 1000),
            "server_cpu_us_per_unary_c32": _median(rounds, "unary_c32", name, _cpu_us(server)),
            "server_cpu_us_per_unary_c1": _median(rounds, "unary_c1", name, _cpu_us(server)),
            "fake_cpu_us_per_unary_c32": _median(rounds, "unary_c32", name, _cpu_us("fake")),
            "client_cpu_us_per_unary_c32": _median(rounds, "unary_c32", name, _cpu_us("loadgen")),
            "client_cpu_us_per_unary_c1": _median(rounds, "unary_c1", name, _cpu_us("loadgen")),
            "client_cpu_us_per_stream_c1": _median(rounds, "stream_c1", name, _cpu_us("loadgen")),
            "errors": sum(s[name].get("errors", 0) for r in rounds for s in r.values() if name in s),
            "incomplete_streams": sum(s[name].get("incomplete", 0) for r in rounds for s in r.values() if name in s),
        }
        if name != "direct":
            row["added_latency_ms_p50_c1"] = _added(rounds, "unary_c1", name, "latency_us")
            row["added_ttft_ms_p50_c1"] = _added(rounds, "stream_c1", name, "ttft_us")
            row["server_cpu_us_per_stream"] = _median(rounds, stream_load, name, _cpu_us(server))
            row["streams_per_s_" + stream_load] = _median(rounds, stream_load, name, lambda run: run["streams_per_s"])
            row["client_cpu_us_per_stream_" + stream_load] = _median(rounds, stream_load, name, _cpu_us("loadgen"))
        out[name] = row
    interference = [
        100 * run["cpu_s"]["other"] / (run["cpu_s"]["wall"] * (os.cpu_count() or 1))
        for r in rounds
        for s in r.values()
        for run in s.values()
        if run.get("cpu_s", {}).get("wall")
    ]
    out["other_processes_cpu_pct_median"] = median(interference)
    return out


# name, figure, peer, comparison, limit: "orchestrator / peer" held to the limit (issue 15's goal).
GOALS: list[tuple[str, str, str, str, float]] = [
    ("unary RPS c=32, orchestrator / Portkey", "unary_rps_c32", "portkey", ">=", 2.0),
    ("unary RPS c=32, orchestrator / LiteLLM", "unary_rps_c32", "litellm", ">=", 12.0),
    ("added latency p50 c=1, orchestrator / Portkey", "added_latency_ms_p50_c1", "portkey", "<=", 0.5),
    ("server CPU per streamed answer, orchestrator / Portkey", "server_cpu_us_per_stream", "portkey", "<=", 0.5),
    ("added TTFT p50 c=1, orchestrator / Portkey", "added_ttft_ms_p50_c1", "portkey", "<=", 0.2),
]


def goals(f: dict[str, Any]) -> list[dict[str, Any]]:
    result = []
    for name, figure, peer, op, limit in GOALS:
        ours, theirs = f["orch"][figure], f[peer][figure]
        ratio = ours / theirs if theirs and not math.isnan(theirs) else math.nan
        met = not math.isnan(ratio) and (ratio >= limit if op == ">=" else ratio <= limit)
        result.append({"goal": name, "orchestrator": ours, "peer": theirs, "ratio": ratio, "limit": f"{op} {limit:g}"})
        result[-1]["met"] = met
    return result


def _fmt(value: Any, digits: int = 2) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        if isinstance(value, float) and math.isnan(value):
            return "n/a"
        return f"{value:,.{digits}f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


ROWS = [
    ("unary RPS, c=32", "unary_rps_c32", 0),
    ("added latency p50, unary, c=1 (ms)", "added_latency_ms_p50_c1", 2),
    ("added TTFT p50, stream, c=1 (ms)", "added_ttft_ms_p50_c1", 2),
    ("server CPU per unary call, c=32 (µs)", "server_cpu_us_per_unary_c32", 0),
    ("server CPU per 16-delta stream (µs)", "server_cpu_us_per_stream", 0),
    ("latency p50 / p99, unary, c=1 (ms)", ("latency_ms_p50_c1", "latency_ms_p99_c1"), 2),
    ("TTFT p50, stream, c=1 (ms)", "ttft_ms_p50_c1", 2),
    ("client (loadgen) CPU per unary call, c=32 (µs)", "client_cpu_us_per_unary_c32", 0),
    ("fake upstream CPU per unary call, c=32 (µs)", "fake_cpu_us_per_unary_c32", 0),
    ("errors / incomplete streams", ("errors", "incomplete_streams"), 0),
]


def table(doc: dict[str, Any]) -> str:
    m, f, v = doc["machine"], doc["figures"], doc["versions"]
    columns = ["orch", "portkey", "litellm", "direct"]
    lines = [
        f"Orchestrator vs peers ({doc['plan']['mode']}, {doc['plan']['rounds']} interleaved rounds, medians) - "
        f"{m['date']}, commit {m['git_commit']}",
        f"LiteLLM proxy {v['litellm']} (1 worker), Portkey gateway {v['portkey']} (Node, @hono/node-server "
        f"{v['hono_node_server']}), orchestrator workers: {doc['orchestrator_workers']}, "
        f"{'auth + quotas in Redis' if doc.get('orchestrator_auth_quota') else 'auth off, no limits'}; "
        f"{m['cpu_count']} CPUs, load average {', '.join(f'{x:.2f}' for x in m['load_average_start'])} at start, "
        f"other processes used {_fmt(f['other_processes_cpu_pct_median'], 1)}% of the CPUs (median per run)",
        "same fake (0 ms, 16 deltas); orchestrator over gRPC, the others over HTTP/JSON (aiohttp); "
        "added = target - fake direct, same round",
        "",
        "| figure | " + " | ".join(NAMES[c] for c in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for label, key, digits in ROWS:
        cells = []
        for c in columns:
            if isinstance(key, tuple):
                values = [f[c].get(k, math.nan) for k in key]
                cells.append(" / ".join(_fmt(x, digits) for x in values))
            else:
                cells.append(_fmt(f[c].get(key, math.nan), digits) if key in f[c] else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "| goal (issue 15) | orchestrator | peer | ratio | goal | met |", "|---|---|---|---|---|---|"]
    for g in doc["goals"]:
        lines.append(
            f"| {g['goal']} | {_fmt(g['orchestrator'])} | {_fmt(g['peer'])} | {_fmt(g['ratio'])} | {g['limit']} | "
            f"{'yes' if g['met'] else 'NO'} |"
        )
    met = sum(g["met"] for g in doc["goals"])
    lines.append(f"\n{met} of {len(doc['goals'])} goal ratios met.")
    return "\n".join(lines)
