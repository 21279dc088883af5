"""Figures from the raw measurements (medians over rounds), the targets they are held to, and the printed table."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import time
from importlib import metadata
from typing import Any

from tests.bench import quota
from tests.bench.procs import ROOT, source_fingerprint
from tests.bench.stats import median

SHARED_CPU_NOTE = (
    "the load generator, the fake upstream and the servers all share this machine's {cpus} cores, so every "
    "figure includes contention between them (the loadgen's Python gRPC client also caps the floor's RPS)"
)


def machine_info() -> dict[str, Any]:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu_model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "")
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "orchestrator"], cwd=ROOT, capture_output=True, text=True)
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {d: version(d) for d in ("grpcio", "protobuf", "openai", "httpx2", "pydantic", "llama_cpp_python")},
        "git_commit": commit.stdout.strip(),
        "orchestrator_uncommitted_changes": bool(dirty.stdout.strip()),
        "orchestrator_source_hash": source_fingerprint(),
        "load_average_start": list(os.getloadavg()),
        "note": SHARED_CPU_NOTE.format(cpus=os.cpu_count()),
    }


# -- figures --------------------------------------------------------------------------------------------------------


def _per_round(rounds: list[dict[str, Any]], scenario: str, fn: Any) -> float:
    values = []
    for r in rounds:
        try:
            values.append(fn(r[scenario]))
        except (KeyError, TypeError, ZeroDivisionError):
            continue
    return median(values)


def _ms(us: float) -> float:
    return us / 1000


def figures(raw: dict[str, Any]) -> dict[str, Any]:
    rounds = raw.get("rounds", [])
    out: dict[str, Any] = {}

    def added(scenario: str, orch: str, direct: str, metric: str, q: str) -> float:
        return _per_round(rounds, scenario, lambda s: s[orch][metric][q] - s[direct][metric][q])

    def value(scenario: str, target: str, *path: str) -> float:
        def get(s: dict[str, Any]) -> float:
            node: Any = s[target]
            for key in path:
                node = node[key]
            return float(node)

        return _per_round(rounds, scenario, get)

    for fake, orch, direct in (("fake0", "orch", "direct"), ("fake20", "orch_20ms", "direct_20ms")):
        for c in (1, 64):
            scenario = f"unary_c{c}_{fake}"
            out[f"added_latency_ms_c{c}_{fake}"] = {
                "p50": _ms(added(scenario, orch, direct, "latency_us", "p50")),
                "p99": _ms(added(scenario, orch, direct, "latency_us", "p99")),
                "orchestrator_p50": _ms(value(scenario, orch, "latency_us", "p50")),
                "orchestrator_p99": _ms(value(scenario, orch, "latency_us", "p99")),
                "direct_p50": _ms(value(scenario, direct, "latency_us", "p50")),
                "direct_p99": _ms(value(scenario, direct, "latency_us", "p99")),
                "orchestrator_rps": value(scenario, orch, "rps"),
                "direct_rps": value(scenario, direct, "rps"),
            }
    out["rps_c64_fake0"] = {
        "orchestrator": value("unary_c64_fake0", "orch", "rps"),
        "floor": value("unary_c64_fake0", "floor", "rps"),
        "direct_http": value("unary_c64_fake0", "direct", "rps"),
        "ratio_of_floor": _per_round(rounds, "unary_c64_fake0", lambda s: s["orch"]["rps"] / s["floor"]["rps"]),
    }
    out["rps_c32_fake0"] = {
        "orchestrator": value("unary_c32_fake0", "orch", "rps"),
        "floor": value("unary_c32_fake0", "floor", "rps"),
    }
    scenario = "stream_c1_fake0"
    out["stream_c1_fake0"] = {
        "added_ttft_ms_p50": _ms(added(scenario, "orch", "direct", "ttft_us", "p50")),
        "added_ttft_ms_p99": _ms(added(scenario, "orch", "direct", "ttft_us", "p99")),
        "added_per_token_us_p50": added(scenario, "orch", "direct", "per_token_us", "p50"),
        "added_per_token_us_p99": added(scenario, "orch", "direct", "per_token_us", "p99"),
        "added_gap_us_p99": added(scenario, "orch", "direct", "gap_us", "p99"),
        "orchestrator_ttft_ms_p99": _ms(value(scenario, "orch", "ttft_us", "p99")),
        "direct_ttft_ms_p99": _ms(value(scenario, "direct", "ttft_us", "p99")),
        "floor_ttft_ms_p99": _ms(value(scenario, "floor", "ttft_us", "p99")),
        "orchestrator_per_token_us_p99": value(scenario, "orch", "per_token_us", "p99"),
        "direct_per_token_us_p99": value(scenario, "direct", "per_token_us", "p99"),
        "floor_per_token_us_p99": value(scenario, "floor", "per_token_us", "p99"),
        "incomplete_streams": sum(r[scenario][t].get("incomplete", 0) for r in rounds for t in r.get(scenario, {})),
    }
    out["stream_c1_fake0"]["orchestrator_minus_floor_per_token_us_p99"] = added(
        scenario, "orch", "floor", "per_token_us", "p99"
    )
    out["cpu_us_per_request"] = _cpu(rounds)
    out["interference"] = _interference(rounds, raw.get("embedded"))
    out["errors"] = sum(t.get("errors", 0) for r in rounds for s in r.values() for t in s.values())
    if cost := raw.get("client_cost"):
        out["client_cost_us"] = {
            "unary_openai_create_per_call": cost["unary_openai_sdk_create"]["cpu_us_per_call"],
            "unary_openai_post_per_call": cost["unary_openai_sdk_post"]["cpu_us_per_call"],
            "unary_raw_httpx2_per_call": cost["unary_raw_httpx2"]["cpu_us_per_call"],
            "stream_openai_create_per_call": cost["stream_openai_sdk_create"]["cpu_us_per_call"],
            "stream_openai_post_per_call": cost["stream_openai_sdk_post"]["cpu_us_per_call"],
            "stream_raw_httpx2_per_call": cost["stream_raw_httpx2"]["cpu_us_per_call"],
            "post_minus_raw_per_call": cost["sdk_post_minus_raw_us_per_call"],
            "post_minus_raw_per_stream_chunk": cost["sdk_post_minus_raw_us_per_chunk"],
        }
    out["streams_held"] = _streams_held(raw.get("streams_held"))
    out["auth_quota"] = quota.figures(raw.get("auth_quota"))
    out["embedded"] = _embedded(raw.get("embedded"))
    out["micro_us"] = {
        k: {"p50": v.get("p50"), "p99": v.get("p99")} for k, v in raw.get("micro", {}).items() if isinstance(v, dict)
    }
    return out


# Which process serves each target (whose CPU a call costs), besides the load generator.
_SERVERS = {
    "orch": ("orchestrator", "fake"),
    "orch_20ms": ("orchestrator_20ms", "fake_20ms"),
    "floor": ("floor",),
    "direct": ("fake",),
    "direct_20ms": ("fake_20ms",),
}


def _cpu(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """CPU microseconds per completed call, per process, for each scenario and target (median over rounds)."""
    out: dict[str, Any] = {}
    for scenario in rounds[0] if rounds else {}:
        out[scenario] = {}
        for target in rounds[0][scenario]:
            per: dict[str, float] = {}
            for process in (*_SERVERS.get(target, ()), "loadgen"):

                def get(s: dict[str, Any], t: str = target, p: str = process) -> float:
                    return s[t]["cpu_s"][p] * 1e6 / s[t]["n"]

                per[process] = _per_round(rounds, scenario, get)
            out[scenario][target] = per
    return out


def _interference(rounds: list[dict[str, Any]], embedded: dict[str, Any] | None) -> dict[str, Any]:
    """Share of the machine's CPU capacity used by processes outside the benchmark during each measured run."""
    cpus = os.cpu_count() or 1
    runs = [t["cpu_s"] for r in rounds for s in r.values() for t in s.values() if "cpu_s" in t]
    runs += [c["cpu_s"] for side in ("direct", "orchestrator") for c in (embedded or {}).get(side, [])]
    shares = sorted(100 * u["other"] / (u["wall"] * cpus) for u in runs if u.get("wall"))
    return {
        "runs": len(shares),
        "other_cpu_pct_median": median(shares),
        "other_cpu_pct_max": shares[-1] if shares else math.nan,
        "runs_over_10pct": sum(v > 10 for v in shares),
    }


def _streams_held(held: dict[str, Any] | None) -> dict[str, Any]:
    if not held:
        return {}
    peak = held["peak_concurrent"]
    grown = max(held["rss_peak_kib"] - held["rss_baseline_kib"], 0)
    return {
        "streams": held["streams"],
        "peak_concurrent": peak,
        "complete": held["complete"],
        "stalled": held["stalled"],
        "dropped": held["errors"] + held["missing_frames"] + held["out_of_order"],
        "max_gap_ms": held["max_gap_ms"].get("max"),
        "p99_stream_max_gap_ms": held["max_gap_ms"].get("p99"),
        "elapsed_s": held["elapsed_s"],
        "rss_baseline_mib": held["rss_baseline_kib"] / 1024,
        "rss_peak_mib": held["rss_peak_kib"] / 1024,
        "rss_mib_per_1000_streams": grown / 1024 * 1000 / peak if peak else math.nan,
        "first_error": held.get("first_error", ""),
    }


def _embedded(emb: dict[str, Any] | None) -> dict[str, Any]:
    if not emb:
        return {}

    def rate(calls: list[dict[str, Any]], time_key: str, minus_one: bool) -> float:
        values = []
        for c in calls:
            seconds = c.get(time_key)
            if seconds:
                values.append((c["output_tokens"] - (1 if minus_one else 0)) / seconds)
        return median(values)

    direct, via = emb["direct"], emb["orchestrator"]
    out = {
        "direct_tokens_per_s": rate(direct, "total_s", False),
        "orchestrator_tokens_per_s": rate(via, "total_s", False),
        "direct_decode_tokens_per_s": rate(direct, "decode_s", True),
        "orchestrator_decode_tokens_per_s": rate(via, "decode_s", True),
        "direct_output_tokens": [c["output_tokens"] for c in direct],
        "orchestrator_output_tokens": [c["output_tokens"] for c in via],
        "direct_ttft_ms": median(c["ttft_s"] * 1000 for c in direct if c.get("ttft_s")),
        "orchestrator_ttft_ms": median(c["ttft_s"] * 1000 for c in via if c.get("ttft_s")),
    }
    # CPU per output token: the direct call's process (this bench) vs the orchestrator's process, and the client's.
    out["direct_cpu_us_per_token"] = median(c["cpu_s"]["bench"] * 1e6 / c["output_tokens"] for c in direct)
    out["orchestrator_cpu_us_per_token"] = median(c["cpu_s"]["orchestrator"] * 1e6 / c["output_tokens"] for c in via)
    out["loadgen_cpu_us_per_token"] = median(c["cpu_s"]["loadgen"] * 1e6 / c["output_tokens"] for c in via)
    out["ratio"] = out["orchestrator_tokens_per_s"] / out["direct_tokens_per_s"]
    out["decode_ratio"] = out["orchestrator_decode_tokens_per_s"] / out["direct_decode_tokens_per_s"]
    return out


# -- targets --------------------------------------------------------------------------------------------------------


def targets(f: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[tuple[str, float, str, str, float]] = []  # name, value, unit, comparison, limit
    for fake, label in (("fake0", "0 ms fake"), ("fake20", "20 ms fake")):
        rows.append((f"added latency c=1 p50 ({label})", f[f"added_latency_ms_c1_{fake}"]["p50"], "ms", "<=", 1))
        rows.append((f"added latency c=1 p99 ({label})", f[f"added_latency_ms_c1_{fake}"]["p99"], "ms", "<=", 3))
    for fake, label in (("fake20", "20 ms fake"), ("fake0", "0 ms fake")):
        rows.append((f"added latency c=64 p99 ({label})", f[f"added_latency_ms_c64_{fake}"]["p99"], "ms", "<=", 10))
    rows.append(("unary RPS c=64 / grpc.aio floor", f["rps_c64_fake0"]["ratio_of_floor"] * 100, "%", ">=", 60))
    rows.append(("unary RPS c=32 (0 ms fake)", f["rps_c32_fake0"]["orchestrator"], "rps", ">=", 2000))
    rows.append(("added TTFT p99 (stream, c=1)", f["stream_c1_fake0"]["added_ttft_ms_p99"], "ms", "<=", 2))
    rows.append(("added per-token p99 (stream, c=1)", f["stream_c1_fake0"]["added_per_token_us_p99"], "us", "<=", 100))
    held = f.get("streams_held") or {}
    if held:
        bad = held["stalled"] + held["dropped"] + (held["streams"] - held["complete"])
        rows.append((f"{held['streams']} streams: stalled+dropped+incomplete", bad, "", "<=", 0))
        rows.append((f"{held['streams']} streams: peak concurrent", held["peak_concurrent"], "", ">=", held["streams"]))
        rows.append(("RSS per 1,000 streams", held["rss_mib_per_1000_streams"], "MiB", "<=", 30))
    rows += quota.targets(f.get("auth_quota") or {})
    emb = f.get("embedded") or {}
    if emb:
        rows.append(("embedded tokens/s via StreamGenerate / direct", emb["ratio"] * 100, "%", ">=", 95))
    result = []
    for name, val, unit, op, limit in rows:
        met = not math.isnan(val) and (val <= limit if op == "<=" else val >= limit)
        result.append({"target": name, "value": val, "unit": unit, "limit": f"{op} {limit:g}", "met": met})
    return result


# -- the table ------------------------------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 2) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.{digits}f}" if abs(value) < 10_000 else f"{value:,.0f}"
    return str(value)


def table(doc: dict[str, Any]) -> str:
    m, f = doc["machine"], doc["figures"]
    lines = [
        f"LLM Orchestrator benchmark ({doc['plan']['mode']}, {doc['plan']['rounds']} interleaved rounds, "
        f"medians over rounds) - {m['date']}",
        f"{m['cpu_count']} CPUs ({m['cpu_model']}), Python {m['python']}, grpcio {m['versions']['grpcio']}, "
        f"{m['platform']}",
        f"NOTE: {m['note']}.",
        "code: commit "
        + m["git_commit"]
        + (" + uncommitted changes" if m.get("orchestrator_uncommitted_changes") else "")
        + (
            "; WARNING: orchestrator/ changed during the run; code each server started with: "
            + ", ".join(f"{k} {v}" for k, v in doc["raw"].get("orchestrator_code", {}).items())
            if m.get("source_changed_during_run")
            else ""
        ),
        "direct baseline: raw httpx2 (no openai SDK) against the same fake; added = orchestrator - direct.",
        "",
        f"{'target':<50} {'value':>12} {'limit':>10}  met",
        "-" * 80,
    ]
    for t in doc["targets"]:
        value = f"{_fmt(t['value'])} {t['unit']}".strip()
        lines.append(f"{t['target']:<50} {value:>12} {t['limit']:>10}  {'yes' if t['met'] else 'NO'}")
    lines += ["", "details (ms unless noted)"]
    for key in ("c1_fake0", "c1_fake20", "c64_fake0", "c64_fake20"):
        a = f[f"added_latency_ms_{key}"]
        lines.append(
            f"  unary {key:<10} orch p50 {_fmt(a['orchestrator_p50'])} p99 {_fmt(a['orchestrator_p99'])} | "
            f"direct p50 {_fmt(a['direct_p50'])} p99 {_fmt(a['direct_p99'])} | added p50 {_fmt(a['p50'])} "
            f"p99 {_fmt(a['p99'])} | rps orch {_fmt(a['orchestrator_rps'], 0)} direct {_fmt(a['direct_rps'], 0)}"
        )
    r64, r32, s = f["rps_c64_fake0"], f["rps_c32_fake0"], f["stream_c1_fake0"]
    lines.append(
        f"  RPS c=64: orch {_fmt(r64['orchestrator'], 0)}, floor {_fmt(r64['floor'], 0)}, direct http "
        f"{_fmt(r64['direct_http'], 0)}; c=32: orch {_fmt(r32['orchestrator'], 0)}, floor {_fmt(r32['floor'], 0)}"
    )
    lines.append(
        f"  stream c=1: TTFT p99 orch {_fmt(s['orchestrator_ttft_ms_p99'])} direct {_fmt(s['direct_ttft_ms_p99'])} "
        f"floor {_fmt(s['floor_ttft_ms_p99'])}; per-token p99 (us) orch {_fmt(s['orchestrator_per_token_us_p99'])} "
        f"direct {_fmt(s['direct_per_token_us_p99'])} floor {_fmt(s['floor_per_token_us_p99'])} "
        f"(orch - floor {_fmt(s['orchestrator_minus_floor_per_token_us_p99'])})"
    )
    if held := f.get("streams_held"):
        lines.append(
            f"  streams: {held['complete']}/{held['streams']} complete, peak {held['peak_concurrent']} concurrent, "
            f"stalled {held['stalled']}, dropped {held['dropped']}, worst gap {_fmt(held['max_gap_ms'], 0)} ms, "
            f"RSS {_fmt(held['rss_baseline_mib'], 1)} -> {_fmt(held['rss_peak_mib'], 1)} MiB"
        )
    if emb := f.get("embedded"):
        lines.append(
            f"  embedded: {_fmt(emb['orchestrator_tokens_per_s'], 1)} tok/s via StreamGenerate vs "
            f"{_fmt(emb['direct_tokens_per_s'], 1)} direct (decode only: {_fmt(emb['decode_ratio'] * 100, 1)}%); "
            f"TTFT {_fmt(emb['orchestrator_ttft_ms'], 1)} vs {_fmt(emb['direct_ttft_ms'], 1)} ms; "
            f"tokens {emb['orchestrator_output_tokens']} vs {emb['direct_output_tokens']}"
        )
        lines.append(
            f"  embedded CPU us/token: orchestrator process {_fmt(emb['orchestrator_cpu_us_per_token'], 0)} "
            f"(+ client {_fmt(emb['loadgen_cpu_us_per_token'], 0)}) vs direct {_fmt(emb['direct_cpu_us_per_token'], 0)}"
        )
    if "auth_quota" in f:
        lines.append(quota.table_line(f["auth_quota"]))
    micro_us = f.get("micro_us", {})
    lines.append(
        "  in-process (us p50/p99): "
        + ", ".join(f"{k.removesuffix('_us')} {_fmt(v['p50'])}/{_fmt(v['p99'])}" for k, v in micro_us.items())
    )
    cpu = f.get("cpu_us_per_request", {})
    for scenario in ("unary_c1_fake0", "unary_c64_fake0", "stream_c1_fake0"):
        if scenario in cpu:
            parts = [
                f"{t}: " + " ".join(f"{p} {_fmt(v, 0)}" for p, v in per.items()) for t, per in cpu[scenario].items()
            ]
            lines.append(f"  CPU us/call {scenario}: " + " | ".join(parts))
    if cost := f.get("client_cost_us"):
        lines.append(
            f"  upstream client CPU us/call (c=1, this process): unary openai create "
            f"{_fmt(cost['unary_openai_create_per_call'], 0)} / post {_fmt(cost['unary_openai_post_per_call'], 0)}"
            f" / raw httpx2 {_fmt(cost['unary_raw_httpx2_per_call'], 0)}; 64-delta stream "
            f"{_fmt(cost['stream_openai_create_per_call'], 0)} / {_fmt(cost['stream_openai_post_per_call'], 0)} / "
            f"{_fmt(cost['stream_raw_httpx2_per_call'], 0)}"
        )
    lines.append(f"  errors during rounds: {f['errors']}")
    if noise := f.get("interference"):
        lines.append(
            f"  interference: processes outside the benchmark used {_fmt(noise['other_cpu_pct_median'], 1)}% "
            f"(median) / {_fmt(noise['other_cpu_pct_max'], 1)}% (max) of the machine's CPU during the "
            f"{noise['runs']} measured runs; {noise['runs_over_10pct']} runs above 10%"
        )
    for name, prof in doc["raw"].get("profiles", {}).items():
        if not prof.get("samples"):
            lines.append(f"\nprofile {name}: {prof.get('skipped', 'no samples')}")
            continue
        lines += ["", f"profile {name} ({prof['samples']} GIL samples, 0 ms fake)"]
        lines.append("  own code, cumulative (share of samples with the function on the stack):")
        lines += [f"  {p['pct']:5.1f}%  {p['name']}" for p in prof["ours_cumulative"][:12]]
        lines.append("  own code, by deepest own frame (its time plus the library calls it makes):")
        lines += [f"  {p['pct']:5.1f}%  {p['name']}" for p in prof["ours_attributed"][:8]]
        lines.append("  self time by owner:")
        lines += [f"  {p['pct']:5.1f}%  {p['name']}" for p in prof["self_by_owner"][:10]]
    return "\n".join(lines)
