"""The benchmark driver: starts every process, runs the phases, writes bench/results/latest.json, prints the table.

    python -m tests.bench            # full run (~6-8 minutes on 2 cores)
    BENCH_QUICK=1 python -m tests.bench   # smoke run (~2 minutes), written to bench/results/quick.json

Phases: in-process micro costs; interleaved rounds of unary / streaming calls against the orchestrator, the fake
upstream called directly and the grpc.aio floor; a py-spy profile of unary Generate at c=64 (when py-spy is
installed); auth + quotas counted in a throwaway Redis vs none (tests/bench/quota.py); 1,000 concurrent streams
with the orchestrator's RSS; the embedded model against llama-cpp-python. `make bench-peers` (tests/bench/peers_run.py)
adds LiteLLM proxy and the Portkey gateway side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from tests.bench import clientcost, micro, profile, quota, report
from tests.bench.procs import (
    MODEL,
    ROOT,
    Child,
    Children,
    CpuMeter,
    LoadGenClient,
    RssSampler,
    children,
    local_config,
    routed_config,
    rss_kib,
    settle,
    source_fingerprint,
)

RESULTS = ROOT / "bench" / "results"
DELTAS = 64  # the fake's deltas per streamed answer
REQUEST: dict[str, Any] = {  # GenerateRequest as JSON: the shipped code_generation template, 256 tokens max
    "taskType": micro.TASK,
    "templateId": micro.TEMPLATE_ID,
    "variables": micro.VARIABLES,
    "params": {"maxOutputTokens": micro.MAX_OUTPUT_TOKENS},
    "cache": {"policy": "CACHE_POLICY_BYPASS"},  # every call goes to the model: the uncached path is measured
}


@dataclass(frozen=True)
class Plan:
    mode: str
    rounds: int
    warmup_s: float
    c1_s: float  # per target per round, concurrency 1
    load_s: float  # per target per round, concurrency 32 / 64
    micro_n: int
    profile_s: float
    hold_streams: int
    hold_ramp_s: float
    hold_chunk_delay_ms: float
    hold_stall_s: float
    embedded_rounds: int
    embedded_tokens: int
    time_limit_s: int

    @classmethod
    def from_env(cls) -> Plan:
        full = cls(
            mode="full",
            rounds=5,
            warmup_s=3.0,
            c1_s=3.0,
            load_s=4.0,
            micro_n=10_000,
            profile_s=15,
            hold_streams=1000,
            hold_ramp_s=2.0,
            hold_chunk_delay_ms=50,
            hold_stall_s=1.0,
            embedded_rounds=5,
            embedded_tokens=128,
            time_limit_s=900,
        )
        if os.environ.get("BENCH_QUICK", "") in ("", "0"):
            return full
        quick = {"rounds": 2, "warmup_s": 1.0, "c1_s": 1.0, "load_s": 1.0, "profile_s": 5, "embedded_rounds": 2}
        return replace(full, mode="quick", time_limit_s=300, **quick)


def _grpc(child: Child) -> dict[str, str]:
    return {"kind": "grpc", "addr": child.addr}


def _http(fake: Child) -> dict[str, str]:
    return {"kind": "http", "url": f"http://{fake.addr}/v1/chat/completions"}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, plan: Plan, group: Children, log_dir: Path) -> None:
        self.plan = plan
        self.group = group
        self.log_dir = log_dir
        self.results: dict[str, Any] = {}

    def run(self) -> dict[str, Any]:
        plan = self.plan
        log(f"micro: template render and routing, {plan.micro_n} calls each (in-process, nothing else running)")
        self.results["micro"] = micro.run(routed_config(9), plan.micro_n)
        messages = asyncio.run(micro.rendered_messages())
        loadgen = LoadGenClient(self.log_dir)
        self.group.add(loadgen)
        self.loadgen = loadgen
        self.routed(messages)
        plan = self.plan
        self.results["auth_quota"] = quota.measure(
            self.group, self.send, loadgen.pid, plan.rounds, plan.c1_s, plan.load_s, log
        )
        self.streams_held()
        self.embedded(messages)
        self.results["orchestrator_code"] = dict(self.group.code)
        return self.results

    def send(self, command: dict[str, Any], seconds: float) -> dict[str, Any]:
        return self.loadgen.send(command, timeout=seconds + 120)

    # -- latency, throughput, streaming, profile ----------------------------------------------------------------------

    def routed(self, messages: list[dict[str, str]]) -> None:
        plan, group = self.plan, self.group
        log("starting fakes (0 ms, 20 ms), floor, two orchestrators")
        fake0, fake20 = group.fake("fake-0ms"), group.fake("fake-20ms", latency_ms=20)
        floor = group.floor()
        for fake in (fake0, fake20):
            fake.wait_port()
        orch0 = group.orchestrator("orch-fake-0ms", routed_config(fake0.port))
        orch20 = group.orchestrator("orch-fake-20ms", routed_config(fake20.port))
        for child in (floor, orch0, orch20):
            child.wait_port()
        body = {"model": MODEL, "messages": messages, "max_tokens": micro.MAX_OUTPUT_TOKENS}
        self.send({"op": "setup", "request": REQUEST, "http_body": body}, 10)
        targets = {
            "orch": _grpc(orch0),
            "direct": _http(fake0),
            "floor": _grpc(floor),
            "orch_20ms": _grpc(orch20),
            "direct_20ms": _http(fake20),
        }
        scenarios = [
            ("unary_c1_fake0", "unary", 1, plan.c1_s, ["orch", "direct"]),
            ("unary_c1_fake20", "unary", 1, plan.c1_s, ["orch_20ms", "direct_20ms"]),
            ("unary_c64_fake0", "unary", 64, plan.load_s, ["orch", "direct", "floor"]),
            ("unary_c64_fake20", "unary", 64, plan.load_s, ["orch_20ms", "direct_20ms"]),
            ("unary_c32_fake0", "unary", 32, plan.load_s, ["orch", "floor"]),
            ("stream_c1_fake0", "stream", 1, plan.c1_s, ["orch", "direct", "floor"]),
        ]
        log(f"warm-up: {plan.warmup_s:g}s per target")
        for name, target in targets.items():
            self.send({"op": "unary", "target": target, "concurrency": 64, "duration": plan.warmup_s}, plan.warmup_s)
            if name in ("orch", "direct", "floor"):
                self.send({"op": "stream", "target": target, "concurrency": 4, "duration": 0.5}, 1)
        # CPU seconds used by each process during each run: per-request CPU is steadier than wall time here.
        pids = {"orchestrator": orch0.pid, "orchestrator_20ms": orch20.pid, "floor": floor.pid}
        pids |= {"fake": fake0.pid, "fake_20ms": fake20.pid, "loadgen": self.loadgen.pid}
        rounds: list[dict[str, Any]] = []
        for r in range(plan.rounds):
            log(f"round {r + 1}/{plan.rounds}")
            this: dict[str, Any] = {}
            for scenario, op, concurrency, seconds, names in scenarios:
                this[scenario] = {}
                for name in names if r % 2 == 0 else reversed(names):  # alternate which target goes first
                    settle(0.2)
                    command = {"op": op, "target": targets[name], "concurrency": concurrency, "duration": seconds}
                    with CpuMeter(pids) as meter:
                        reply = self.send({**command, "deltas": DELTAS}, seconds)
                    this[scenario][name] = reply | {"cpu_s": meter.used}
            rounds.append(this)
        self.results["rounds"] = rounds
        self.results["orchestrator_rss_after_rounds_kib"] = rss_kib(orch0.pid)
        log("client cost: openai SDK vs raw httpx2, CPU per call in this process (c=1, 0 ms fake)")
        calls, streams = (300, 60) if plan.mode == "quick" else (1000, 200)
        self.results["client_cost"] = clientcost.run(f"http://{fake0.addr}/v1", messages, calls, streams, 2)
        self.profile("unary_c64", orch0, {"op": "unary", "target": targets["orch"], "concurrency": 64})
        self.profile("stream_c16", orch0, {"op": "stream", "target": targets["orch"], "concurrency": 16}, 0.5)
        for child in (orch0, orch20, floor, fake0, fake20):
            group.stop(child)

    def profile(self, name: str, orch: Child, load: dict[str, Any], share: float = 1.0) -> None:
        """py-spy (GIL-holding samples only: where the orchestrator's Python CPU goes) while the loadgen drives it."""
        seconds = max(3.0, self.plan.profile_s * share)
        profiles = self.results.setdefault("profiles", {})
        if profile.py_spy() is None:
            profiles[name] = {"skipped": "py-spy is not installed (pip install py-spy)"}
            log("profile skipped: py-spy is not installed")
            return
        log(f"profile {name}: py-spy on the orchestrator for {seconds:g}s")
        folded = self.log_dir / f"profile-{name}.folded"
        outcome: dict[str, Any] = {}

        def spy() -> None:
            time.sleep(1.0)  # let the load reach steady state
            try:
                outcome["py_spy"] = profile.record(orch.pid, seconds, folded)
            except Exception as exc:
                outcome["error"] = f"{type(exc).__name__}: {exc}"

        thread = threading.Thread(target=spy, daemon=True)
        thread.start()
        reply = self.send({**load, "duration": seconds + 2.5, "deltas": DELTAS}, seconds)
        thread.join(timeout=120)
        if "error" in outcome or not folded.exists():
            profiles[name] = {"skipped": outcome.get("error", "py-spy wrote nothing")}
            return
        RESULTS.mkdir(parents=True, exist_ok=True)
        kept = RESULTS / folded.name
        kept.write_text(folded.read_text())
        throughput = reply.get("rps") or reply.get("streams_per_s")
        note = "py-spy record --gil (GIL-holding samples; sampling slows the target, so use the shares, not the rate)"
        kept_as = str(kept.relative_to(ROOT))
        profiles[name] = {"tool": note, "load": load, "rate_while_profiled": throughput, "folded": kept_as}
        profiles[name] |= profile.summarize(folded.read_text(), str(ROOT))

    # -- 1,000 concurrent streams -------------------------------------------------------------------------------------

    def streams_held(self) -> None:
        plan, group = self.plan, self.group
        delay = plan.hold_chunk_delay_ms
        fake = group.fake("fake-stream-delay", chunk_delay_ms=delay).wait_port()
        orch = group.orchestrator("orch-streams", routed_config(fake.port)).wait_port()
        target = _grpc(orch)
        base = {"op": "hold", "target": target, "deltas": DELTAS, "stall_s": plan.hold_stall_s, "timeout": 180}
        log(f"streams: warm-up, then ramp to {plan.hold_streams} StreamGenerate calls ({DELTAS} deltas, {delay:g} ms)")
        self.send({**base, "streams": 50, "ramp_s": 0.5}, 30)
        settle(1.0)
        baseline = rss_kib(orch.pid)
        with RssSampler(orch.pid) as sampler:
            reply = self.send({**base, "streams": plan.hold_streams, "ramp_s": plan.hold_ramp_s}, 240)
        settle(1.0)
        self.results["streams_held"] = {
            **reply,
            "chunk_delay_ms": delay,
            "ramp_s": plan.hold_ramp_s,
            "stall_threshold_s": plan.hold_stall_s,
            "rss_baseline_kib": baseline,
            "rss_peak_kib": sampler.peak_kib,
            "rss_after_kib": rss_kib(orch.pid),
        }
        group.stop(orch)
        group.stop(fake)

    # -- the embedded model -------------------------------------------------------------------------------------------

    def embedded(self, messages: list[dict[str, str]]) -> None:
        from tests.bench.embedded import DirectLlama

        plan = self.plan
        tokens = plan.embedded_tokens
        log("embedded model: orchestrator with its default config (local provider) vs llama-cpp-python directly")
        orch = self.group.orchestrator("orch-local", local_config())
        direct = DirectLlama()
        try:
            orch.wait_port()
            request = {**REQUEST, "params": {"maxOutputTokens": tokens, "temperature": 0}}
            command = {"op": "calls", "target": _grpc(orch), "n": 1, "request": request, "timeout": 300}
            self.send(command, 300)  # warm-up both
            direct.generate(messages, tokens)
            via, plain = [], []
            for r in range(plan.embedded_rounds):
                log(f"embedded round {r + 1}/{plan.embedded_rounds}")
                pids = {"orchestrator": orch.pid, "loadgen": self.loadgen.pid}
                for which in ("direct", "orch") if r % 2 == 0 else ("orch", "direct"):
                    with CpuMeter(pids) as meter:
                        if which == "direct":
                            results = [direct.generate(messages, tokens)]
                            results[0].pop("text")
                        else:
                            results = self.send(command, 300)["calls"]
                    for result in results:
                        result["cpu_s"] = {k: round(v / len(results), 4) for k, v in meter.used.items()}
                    (plain if which == "direct" else via).extend(results)
            self.results["embedded"] = {
                "max_tokens": tokens,
                "n_threads": direct.threads,
                "direct": plain,
                "orchestrator": via,
            }
        finally:
            direct.close()
            self.group.stop(orch)


def _rounded(value: Any) -> Any:
    """Floats to 4 significant digits (the JSON stays small and diffable; the noise is larger than that)."""
    if isinstance(value, float):
        return float(f"{value:.4g}") if value == value else None  # NaN -> null
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def _install_signal_handlers(limit_s: int) -> None:
    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    def too_long(signum: int, frame: Any) -> None:
        raise TimeoutError(f"the benchmark exceeded its {limit_s}s time limit")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGALRM, too_long)
    signal.alarm(limit_s)


def main() -> int:
    plan = Plan.from_env()
    out = RESULTS / ("quick.json" if plan.mode == "quick" else "latest.json")
    log_dir = Path(tempfile.mkdtemp(prefix="orchestrator-bench-"))
    log(f"{plan.mode} run; child logs in {log_dir}")
    _install_signal_handlers(plan.time_limit_s)
    machine = report.machine_info()
    started = time.monotonic()
    bench: Bench | None = None
    try:
        with children(log_dir) as group:
            bench = Bench(plan, group, log_dir)
            results = bench.run()
    except BaseException as exc:
        if bench is not None:  # what was measured before the failure, for inspection
            (log_dir / "partial.json").write_text(json.dumps(_rounded(bench.results), indent=1, default=str))
        log(f"FAILED: {type(exc).__name__}: {exc} (child logs and partial.json in {log_dir})")
        raise
    finally:
        signal.alarm(0)
    machine["load_average_end"] = list(os.getloadavg())
    machine["source_changed_during_run"] = source_fingerprint() != machine["orchestrator_source_hash"]
    figures = report.figures(results)
    targets = report.targets(figures)
    document = {
        "machine": machine,
        "plan": asdict(plan),
        "duration_s": round(time.monotonic() - started, 1),
        "figures": figures,
        "targets": targets,
        "raw": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    scratch = out.with_suffix(".json.tmp")
    scratch.write_text(json.dumps(_rounded(document), indent=1, default=str) + "\n")
    scratch.replace(out)
    print(report.table(document))
    print(f"\nresults: {out.relative_to(ROOT)}")
    with contextlib.suppress(OSError):
        for path in log_dir.iterdir():
            path.unlink()
        log_dir.rmdir()
    return 0
