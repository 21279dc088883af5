"""The `make bench` phase for issue 12's row: what identity and quotas cost per call, with Redis.

Two orchestrators on the same 0 ms fake, in the same interleaved rounds: `plain` (auth off, no limits, no Redis:
what `make run` does) and `guarded` (auth required with a bearer key, the service's four limits
requests_per_minute, tokens_per_minute, tokens_per_day, cost_usd_per_day, a task limit, all counted in a throwaway
redis-server started here; limits far too high ever to refuse). The model is priced in both, so cost is computed in
both and counted only in `guarded`. Figures: added p50 at c=1 (guarded - plain, per round) and the RPS ratio at
c=32. Targets (issue 12): <= 0.25 ms added p50, <= 10% fewer RPS.
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import tempfile
from collections.abc import Callable
from typing import Any

from tests.bench import micro
from tests.bench.procs import MODEL, Children, CpuMeter, routed_config, settle
from tests.bench.stats import median

KEY = "bench-" + secrets.token_urlsafe(24)
HIGH = 10**12  # limits that never refuse


class ThrowawayRedis:
    """tests/redis_server.py's redis-server on a free port, in a temporary directory; Stoppable for Children."""

    def __init__(self) -> None:
        from tests.redis_server import RedisProcess

        self._dir = tempfile.TemporaryDirectory(prefix="bench-redis-")
        self._server = RedisProcess(self._dir.name)
        self._server.start()
        self.url = self._server.url
        self.pid = self._server.process.pid if self._server.process else 0

    def stop(self) -> None:
        self._server.kill()
        self._dir.cleanup()


def configs(fake_port: int, redis_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    plain = routed_config(fake_port)
    model = plain["models"][0]
    model["input_cost_per_million_tokens"] = 0.15
    model["output_cost_per_million_tokens"] = 0.60
    guarded = copy.deepcopy(plain)
    limits = {
        "requests_per_minute": HIGH,
        "tokens_per_minute": HIGH,
        "tokens_per_day": HIGH,
        "cost_usd_per_day": float(HIGH),
    }
    service = {"name": "bench", "key_sha256": hashlib.sha256(KEY.encode()).hexdigest(), "limits": limits}
    guarded["auth"] = {"mode": "required", "services": [service]}
    guarded["tasks"] = {micro.TASK: {"limits": {"tokens_per_day": HIGH}}}
    guarded["shared_state"] = {"redis_url": redis_url, "key_prefix": f"bench-{secrets.token_hex(4)}:"}
    return plain, guarded


def measure(
    group: Children,
    send: Callable[[dict[str, Any], float], dict[str, Any]],
    loadgen_pid: int,
    rounds: int,
    c1_s: float,
    load_s: float,
    log: Callable[[str], None],
) -> dict[str, Any]:
    log("auth + quota: a throwaway Redis, a fake, two orchestrators (auth off / auth + limits counted in Redis)")
    redis = ThrowawayRedis()
    group.add(redis)
    fake = group.fake("fake-quota").wait_port()
    plain_config, guarded_config = configs(fake.port, redis.url)
    plain = group.orchestrator("orch-plain", plain_config)
    guarded = group.orchestrator("orch-guarded", guarded_config)
    plain.wait_port()
    guarded.wait_port()
    targets = {
        "plain": {"kind": "grpc", "addr": plain.addr},
        "guarded": {"kind": "grpc", "addr": guarded.addr, "metadata": [["authorization", f"Bearer {KEY}"]]},
    }
    for target in targets.values():  # warm-up; also proves the key is accepted (an error fails the bench)
        reply = send({"op": "unary", "target": target, "concurrency": 32, "duration": max(1.0, c1_s)}, c1_s)
        if reply["errors"]:
            raise RuntimeError(f"auth + quota warm-up failed: {reply['first_error']}")
    pids = {"plain": plain.pid, "guarded": guarded.pid, "redis": redis.pid, "fake": fake.pid, "loadgen": loadgen_pid}
    scenarios = [("unary_c1", 1, c1_s), ("unary_c32", 32, load_s)]
    measured: list[dict[str, Any]] = []
    for r in range(rounds):
        log(f"auth + quota round {r + 1}/{rounds}")
        this: dict[str, Any] = {}
        for scenario, concurrency, seconds in scenarios:
            this[scenario] = {}
            for name in ("plain", "guarded") if r % 2 == 0 else ("guarded", "plain"):
                settle(0.2)
                command = {"op": "unary", "target": targets[name], "concurrency": concurrency, "duration": seconds}
                with CpuMeter(pids) as meter:
                    reply = send(command, seconds)
                this[scenario][name] = reply | {"cpu_s": meter.used}
        measured.append(this)
    counters = _counter_keys(redis.url, guarded_config["shared_state"]["key_prefix"])
    for child in (plain, guarded, fake, redis):
        group.stop(child)
    if not counters:
        raise RuntimeError("auth + quota: the guarded orchestrator wrote no quota counters to Redis")
    return {"model": MODEL, "redis_counter_keys": counters, "rounds": measured}


def _counter_keys(url: str, prefix: str) -> int:
    """How many keys the guarded orchestrator wrote under its prefix: proof the limits were counted in Redis."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        return sum(1 for _ in client.scan_iter(match=f"{prefix}*", count=1000))
    finally:
        client.close()


def figures(raw: dict[str, Any] | None) -> dict[str, Any]:
    if not raw:
        return {}
    rounds = raw["rounds"]

    def per_round(fn: Callable[[dict[str, Any]], float]) -> float:
        values = []
        for r in rounds:
            try:
                values.append(fn(r))
            except (KeyError, ZeroDivisionError):
                continue
        return median(values)

    def p50(r: dict[str, Any], name: str) -> float:
        return float(r["unary_c1"][name]["latency_us"]["p50"]) / 1000

    def cpu(r: dict[str, Any], scenario: str, name: str, process: str) -> float:
        run = r[scenario][name]
        return float(run["cpu_s"][process]) * 1e6 / run["n"]

    return {
        "added_p50_ms_c1": per_round(lambda r: p50(r, "guarded") - p50(r, "plain")),
        "plain_p50_ms_c1": per_round(lambda r: p50(r, "plain")),
        "guarded_p50_ms_c1": per_round(lambda r: p50(r, "guarded")),
        "rps_ratio_c32": per_round(lambda r: r["unary_c32"]["guarded"]["rps"] / r["unary_c32"]["plain"]["rps"]),
        "plain_rps_c32": per_round(lambda r: r["unary_c32"]["plain"]["rps"]),
        "guarded_rps_c32": per_round(lambda r: r["unary_c32"]["guarded"]["rps"]),
        "plain_cpu_us_per_call_c32": per_round(lambda r: cpu(r, "unary_c32", "plain", "plain")),
        "guarded_cpu_us_per_call_c32": per_round(lambda r: cpu(r, "unary_c32", "guarded", "guarded")),
        "redis_cpu_us_per_call_c32": per_round(lambda r: cpu(r, "unary_c32", "guarded", "redis")),
        # Steadier than the RPS ratio on a shared machine: the CPU each call costs the server, guarded - plain.
        "added_cpu_us_per_call_c32": per_round(
            lambda r: cpu(r, "unary_c32", "guarded", "guarded") - cpu(r, "unary_c32", "plain", "plain")
        ),
        "errors": sum(run.get("errors", 0) for r in rounds for s in r.values() for run in s.values()),
    }


def targets(f: dict[str, Any]) -> list[tuple[str, float, str, str, float]]:
    """Rows for report.targets: name, value, unit, comparison, limit."""
    if not f:
        return []
    return [
        ("auth + quota (Redis): added p50 c=1", f["added_p50_ms_c1"], "ms", "<=", 0.25),
        ("auth + quota (Redis): RPS c=32 lost", (1 - f["rps_ratio_c32"]) * 100, "%", "<=", 10),
        ("auth + quota: errors", f["errors"], "", "<=", 0),
    ]


def table_line(f: dict[str, Any]) -> str:
    if not f:
        return "  auth + quota: not measured"
    return (
        f"  auth + quota (Redis): p50 c=1 {f['guarded_p50_ms_c1']:.3f} vs {f['plain_p50_ms_c1']:.3f} ms plain; "
        f"RPS c=32 {f['guarded_rps_c32']:,.0f} vs {f['plain_rps_c32']:,.0f}; CPU us/call c=32 "
        f"{f['guarded_cpu_us_per_call_c32']:,.0f} (+ Redis {f['redis_cpu_us_per_call_c32']:,.0f}) vs "
        f"{f['plain_cpu_us_per_call_c32']:,.0f}"
    )
