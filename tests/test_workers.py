"""Worker processes: several servers on one port under a supervisor, one /metrics for all, drained together.

Real processes on a free loopback port, the fake upstream behind them. Connections are spread by the kernel
(SO_REUSEPORT), so the calls below go over many separate connections: with 24 connections the chance that all
land on one of two workers is 2 in 2**24.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from orchestrator_client.v1 import common_pb2
from orchestrator_client.v1 import generation_pb2 as gen
from orchestrator_client.v1.generation_pb2_grpc import GenerationServiceStub
from prometheus_client.parser import text_string_to_metric_families

from orchestrator.workers import available_cpus, cgroup_cpu_limit, worker_count
from tests.fakes import FakeUpstream
from tests.helpers import ROOT, ServerProcess

pytestmark = pytest.mark.timeout(120)
CONNECTIONS = 24
METRICS_FREE_PORT = {"ORCHESTRATOR_METRICS_PORT": "-1"}


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


def _config(fake: FakeUpstream, workers: int, **server: Any) -> dict[str, Any]:
    return {
        "server": {"workers": workers, **server},
        "providers": {"upstream": {"type": "openai_compatible", "base_url": f"{fake.base_url}/v1"}},
        "models": [{"name": "primary", "provider": "upstream", "context_window": 8000, "max_output_tokens": 64}],
    }


def _request(text: str = "hello") -> gen.GenerateRequest:
    return gen.GenerateRequest(
        messages=[common_pb2.Message(role=common_pb2.ROLE_USER, content=text)],
        params=gen.GenerationParams(max_output_tokens=16),
    )


async def _call_over_many_connections(target: str, calls_per_connection: int = 1) -> list[gen.GenerateResponse]:
    """Each channel its own connection (a local subchannel pool: grpc would otherwise share one)."""
    channels = [
        grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)]) for _ in range(CONNECTIONS)
    ]
    try:
        stubs = [GenerationServiceStub(channel) for channel in channels]
        calls = [stub.Generate(_request(f"{i}"), timeout=60) for stub in stubs for i in range(calls_per_connection)]
        return list(await asyncio.gather(*calls))
    finally:
        await asyncio.gather(*(channel.close() for channel in channels))


def _log_lines(server: ServerProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in server.stderr_text().splitlines() if line.startswith("{")]


def _workers_that_logged(server: ServerProcess, message: str) -> list[int]:
    return sorted(line["worker"] for line in _log_lines(server) if line["message"] == message and "worker" in line)


def _eventually(condition: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    """Poll until the condition holds (a bound for a hung process, not a speed check)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def _metrics_port(server: ServerProcess) -> int:
    match = re.search(r"metrics on port (\d+)", server.stdout_text())
    assert match, server.stdout_text()
    return int(match.group(1))


def _scrape(port: int) -> list[tuple[str, dict[str, str], float]]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples]


def _total(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    return sum(v for n, found, v in samples if n == name and labels.items() <= found.items())


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def test_calls_land_on_every_worker_and_metrics_add_up_across_them(fake: FakeUpstream, tmp_path: Path) -> None:
    server = ServerProcess(_config(fake, workers=2), tmp_path, env=METRICS_FREE_PORT)
    try:
        answers = await _call_over_many_connections(server.target, calls_per_connection=2)
        calls = len(answers)
        metrics_port = _metrics_port(server)
        # Booked after the answer is sent: wait for the last one, then read the sum.
        _eventually(lambda: len(_workers_that_logged(server, "generation")) == calls, "a log line per call")
        _eventually(
            lambda: _total(_scrape(metrics_port), "llm_requests_total", status="success") == calls,
            "every worker's requests in the one /metrics",
        )
        _eventually(  # read through a callback in each worker, copied into the shared files every second
            lambda: [v for n, labels, v in _scrape(metrics_port) if n == "llm_model_circuit_state"] == [0.0],
            "the circuit state of the live workers",
        )
        samples = _scrape(metrics_port)
    finally:
        assert server.stop() == 0

    assert all(answer.text for answer in answers)
    assert "with 2 workers" in server.stdout_text()
    assert set(_workers_that_logged(server, "generation")) == {0, 1}
    assert _total(samples, "grpc_server_handled_total", grpc_method="Generate", grpc_code="OK") == calls
    assert _total(samples, "llm_request_latency_seconds_count") == calls
    # Summed, not one series per process: no pid label anywhere.
    assert not [name for name, labels, _ in samples if "pid" in labels]
    assert [v for n, _, v in samples if n == "orchestrator_cache_waiting"] == [0.0]


async def test_sigterm_drains_in_flight_calls_in_every_worker_and_all_exit_zero(
    fake: FakeUpstream, tmp_path: Path
) -> None:
    server = ServerProcess(_config(fake, workers=2, grace_seconds=30), tmp_path)
    fake.hold()  # every call waits at the upstream until released
    try:
        calls = asyncio.ensure_future(_call_over_many_connections(server.target))
        await fake.wait_for_requests(CONNECTIONS, timeout=30)
        workers = _children(server.process.pid)

        server.terminate()
        await asyncio.to_thread(
            _eventually, lambda: _workers_that_logged(server, "shutting down") == [0, 1], "both workers draining"
        )
        fake.release()
        answers = await calls
        status = await asyncio.to_thread(server.process.wait, 60)
    finally:
        fake.release()
        server.stop()

    assert len(workers) == 2
    assert "forking workers with other threads running" not in server.stderr_text()  # forked from one thread
    assert len(answers) == CONNECTIONS and all(answer.text for answer in answers)
    assert set(_workers_that_logged(server, "generation")) == {0, 1}  # both held calls in flight at SIGTERM
    assert _workers_that_logged(server, "stopped") == [0, 1]
    exits = [line for line in _log_lines(server) if line["message"] == "worker exited"]
    assert sorted(line["pid"] for line in exits) == sorted(workers)
    assert {line["status"] for line in exits} == {0}
    assert status == 0


async def test_a_worker_that_dies_is_replaced_and_the_service_goes_on(fake: FakeUpstream, tmp_path: Path) -> None:
    server = ServerProcess(_config(fake, workers=2), tmp_path)
    try:
        first = _children(server.process.pid)
        os.kill(first[1], signal.SIGKILL)
        await asyncio.to_thread(
            _eventually,
            lambda: len([line for line in _log_lines(server) if line["message"] == "worker serving"]) == 3,
            "a new worker serving",
        )
        answers = await _call_over_many_connections(server.target)
        now = _children(server.process.pid)
    finally:
        status = server.stop()

    assert len(answers) == CONNECTIONS
    assert len(now) == 2 and first[0] in now and first[1] not in now
    crash = next(line for line in _log_lines(server) if line["message"].startswith("worker exited unexpectedly"))
    assert crash["pid"] == first[1] and crash["status"] == 128 + signal.SIGKILL
    assert status == 0  # replaced, then drained cleanly: the service recovered


async def test_each_worker_runs_its_exit_handlers_so_spans_are_flushed(fake: FakeUpstream, tmp_path: Path) -> None:
    server = ServerProcess(_config(fake, workers=2), tmp_path, env={"OTEL_TRACES_EXPORTER": "console"})
    try:
        await _call_over_many_connections(server.target)
    finally:
        assert server.stop() == 0

    assert server.stdout_text().count('"name": "orchestrator.v1.GenerationService/Generate"') == CONNECTIONS


def _serve(tmp_path: Path, config: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "serve", "--config", str(path), *args],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=env, check=False,
    )  # fmt: skip


def _listener(reuse_port: bool) -> socket.socket:
    sock = socket.socket()
    if reuse_port:  # another server of ours, as a supervisor's workers bind: must not be joined silently
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


@pytest.mark.parametrize("reuse_port", [False, True], ids=["plain-listener", "reuse-port-listener"])
def test_a_grpc_port_in_use_stops_start_up_with_status_2(fake: FakeUpstream, tmp_path: Path, reuse_port: bool) -> None:
    with _listener(reuse_port) as taken:
        port = taken.getsockname()[1]
        config = _config(fake, workers=2, host="127.0.0.1", port=port, metrics_port=0)
        result = _serve(tmp_path, config)

    assert result.returncode == 2
    assert f"server.port / --port: cannot listen for gRPC on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr and "worker started" not in result.stderr


def test_a_metrics_port_in_use_stops_start_up_with_status_2(fake: FakeUpstream, tmp_path: Path) -> None:
    with _listener(False) as taken:
        port = taken.getsockname()[1]
        result = _serve(tmp_path, _config(fake, workers=2, host="127.0.0.1", port=0, metrics_port=port))

    assert result.returncode == 2
    assert f"server.metrics_port / ORCHESTRATOR_METRICS_PORT: cannot serve metrics on 127.0.0.1:{port}" in result.stderr


def test_a_worker_that_fails_while_starting_stops_them_all_with_its_status(fake: FakeUpstream, tmp_path: Path) -> None:
    # The template store is opened in each worker (after the fork); nothing listens on port 9 of this host.
    unreachable = {"store": {"type": "postgres", "dsn": "postgresql://nobody@127.0.0.1:9/none"}}
    single = _serve(tmp_path, {**_config(fake, workers=1, host="127.0.0.1", port=0), "templates": unreachable})
    several = _serve(tmp_path, {**_config(fake, workers=2, host="127.0.0.1", port=0), "templates": unreachable})

    assert single.returncode != 0
    assert several.returncode == single.returncode
    assert "worker exited while starting; stopping every worker" in several.stderr
    assert "listening on port" not in several.stdout


def test_workers_flag_must_be_a_count(fake: FakeUpstream, tmp_path: Path) -> None:
    result = _serve(tmp_path, _config(fake, workers=1, host="127.0.0.1", port=0), "--workers", "0")

    assert result.returncode == 2
    assert "--workers: 0 is not a worker count" in result.stderr


async def test_one_worker_is_one_process_as_before(fake: FakeUpstream, tmp_path: Path) -> None:
    server = ServerProcess(_config(fake, workers=1), tmp_path)
    try:
        answers = await _call_over_many_connections(server.target)
        children = _children(server.process.pid)
    finally:
        assert server.stop() == 0

    assert len(answers) == CONNECTIONS
    assert children == []
    assert re.fullmatch(r"orchestrator listening on port \d+ \(metrics on port 0\)\n", server.stdout_text())
    assert not [line for line in _log_lines(server) if "worker" in line]


def test_make_run_serves_from_one_process() -> None:
    dry = subprocess.run(["make", "-n", "run"], capture_output=True, text=True, cwd=ROOT, check=False, timeout=30)

    assert "orchestrator serve --port 50051 --workers 1" in dry.stdout


def _cgroup(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("files", "limit"),
    [
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu.max": "200000 50000\n"}, 4.0),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({"cpu,cpuacct/cpu.cfs_quota_us": "250000\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, 2.5),
        ({}, None),
    ],
    ids=["v2-unlimited", "v2-1.5", "v2-4", "v1-unlimited", "v1-2.5", "none"],
)
def test_the_cgroup_cpu_quota_is_read_from_v2_or_v1(tmp_path: Path, files: dict[str, str], limit: float | None) -> None:
    assert cgroup_cpu_limit(_cgroup(tmp_path, files)) == limit


def test_the_default_worker_count_is_the_cpus_this_process_may_use(tmp_path: Path) -> None:
    affinity = len(os.sched_getaffinity(0))
    half = _cgroup(tmp_path / "half", {"cpu.max": "50000 100000\n"})
    plenty = _cgroup(tmp_path / "plenty", {"cpu.max": "6400000 100000\n"})

    assert available_cpus(half) == 1  # 0.5 CPU rounds up to one worker
    assert available_cpus(plenty) == affinity  # a quota above the CPUs we may run on changes nothing
    assert available_cpus(_cgroup(tmp_path / "none", {})) == affinity
    assert worker_count(None, half) == 1
    assert worker_count(3, half) == 3  # configured wins
