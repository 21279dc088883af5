"""The benchmark's own parts that can be checked without measuring anything: the configurations it starts servers
with, the HTTP client it drives the peer gateways with, the CPU accounting of process trees, and how the peer goal
ratios are judged. (`make bench` and `make bench-peers` themselves are run by hand: their numbers are not tests.)"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest

from orchestrator.config import settings_from_mapping
from tests.bench import peers_report, quota
from tests.bench.httpclient import AiohttpTargets
from tests.bench.procs import cpu_seconds, tree_cpu_seconds
from tests.fakes import Behaviour, FakeUpstream


def test_the_auth_and_quota_phase_starts_valid_configurations_that_differ_only_in_auth_and_limits() -> None:
    plain_raw, guarded_raw = quota.configs(4321, "redis://127.0.0.1:6399/0")
    plain = settings_from_mapping(plain_raw, env={})
    guarded = settings_from_mapping(guarded_raw, env={})

    assert plain.auth.mode == "off"
    assert plain.shared_state.redis_url is None
    assert guarded.auth.mode == "required"
    (service,) = guarded.auth.services
    assert service.key_sha256 == (hashlib.sha256(quota.KEY.encode()).hexdigest(),)
    limits = service.limits
    assert None not in (
        limits.requests_per_minute,
        limits.tokens_per_minute,
        limits.tokens_per_day,
        limits.cost_usd_per_day,
    )
    assert guarded.tasks["code_generation"].limits.tokens_per_day is not None
    assert guarded.shared_state.redis_url is not None
    assert guarded.models == plain.models  # both priced alike: cost is computed in both, counted in one
    assert plain.models[0].output_cost_per_million_tokens > 0


async def test_the_peer_client_reads_openai_answers_and_sends_the_peer_headers() -> None:
    client = AiohttpTargets(timeout=10)
    async with FakeUpstream() as fake:
        fake.set_default(Behaviour(chunks=16))
        target = {"url": f"{fake.base_url}/v1/chat/completions", "headers": {"x-portkey-provider": "openai"}}
        body = b'{"model": "bench-model", "messages": [{"role": "user", "content": "say something"}]}'
        streamed = b'{"model": "bench-model", "stream": true, "stream_options": {"include_usage": true}, ' + body[24:]
        try:
            await client.unary(target, body)
            start, deltas, done, tokens = await client.stream(target, streamed)
            fake.enqueue(Behaviour(status=500))
            with pytest.raises(RuntimeError, match="HTTP 500"):
                await client.unary(target, body)
        finally:
            await client.aclose()

    assert len(deltas) == 16
    assert start <= deltas[0] <= deltas[-1]
    assert done
    assert tokens == 16
    assert [r.stream for r in fake.requests] == [False, True, False]
    assert all(r.headers["x-portkey-provider"] == "openai" for r in fake.requests)


def test_a_process_tree_is_charged_for_the_cpu_of_its_children() -> None:
    burn = "import time\nwhile time.process_time() < 0.2: pass\nprint('ready', flush=True)\ntime.sleep(60)"
    parent = subprocess.Popen(["sh", "-c", f'{sys.executable} -c "$0"; true', burn], stdout=subprocess.PIPE, text=True)
    children: list[int] = []
    try:
        assert parent.stdout is not None
        assert parent.stdout.readline().strip() == "ready"
        children = _children(parent.pid)
        (child,) = children
        assert cpu_seconds(child) >= 0.15
        assert cpu_seconds(parent.pid) < 0.1  # the shell itself only waits
        assert tree_cpu_seconds(parent.pid) >= cpu_seconds(child)
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        parent.kill()
        parent.wait()


def _children(pid: int) -> list[int]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        if found:
            return [int(p) for p in found]
        time.sleep(0.05)
    raise AssertionError("the shell started no child")


def test_peer_goals_are_ratios_of_the_orchestrator_to_the_peer_held_to_issue_15s_limits() -> None:
    def row(rps: float, added: float, cpu_stream: float, ttft: float) -> dict[str, float]:
        keys = ("unary_rps_c32", "added_latency_ms_p50_c1", "server_cpu_us_per_stream", "added_ttft_ms_p50_c1")
        return dict(zip(keys, (rps, added, cpu_stream, ttft), strict=True))

    figures = {
        "orch": row(1800.0, 0.7, 2000.0, 2.0),
        "portkey": row(900.0, 1.6, 3870.0, 28.9),
        "litellm": row(160.0, 11.65, 26760.0, 11.8),
    }
    goals = {g["goal"]: g for g in peers_report.goals(figures)}

    assert goals["unary RPS c=32, orchestrator / Portkey"]["ratio"] == pytest.approx(2.0)
    assert goals["unary RPS c=32, orchestrator / Portkey"]["met"]
    assert goals["unary RPS c=32, orchestrator / LiteLLM"]["ratio"] == pytest.approx(11.25)
    assert not goals["unary RPS c=32, orchestrator / LiteLLM"]["met"]
    assert goals["added latency p50 c=1, orchestrator / Portkey"]["met"]  # 0.44 <= 0.5
    assert not goals["server CPU per streamed answer, orchestrator / Portkey"]["met"]  # 0.52 > 0.5
    assert goals["added TTFT p50 c=1, orchestrator / Portkey"]["met"]
