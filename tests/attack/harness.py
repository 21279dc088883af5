"""The harness: a copy of the service in its own process, probes with time bounds, bystanders, the tally.

Every probe has a bound; a probe still running at its bound counts as hung and is abandoned. A server that no
longer answers its health check after a case is killed (it is our own child) and started again, so one hung case
cannot spoil the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import common_pb2
from orchestrator_client.v1 import generation_pb2 as gen

from tests.fakes import FakeUpstream
from tests.helpers import ErrorDetails

# The server's address space: a runaway allocation becomes a MemoryError there instead of eating the machine.
ADDRESS_SPACE_HEADROOM = 1536 * 1024 * 1024


@dataclass
class Tally:
    """One row of the table."""

    case: str
    tried: int = 0
    clean: int = 0
    slow: int = 0
    internal: int = 0
    hung: int = 0
    other: int = 0
    notes: list[str] = field(default_factory=list)
    bystanders: str = ""

    @property
    def ok(self) -> bool:
        return self.tried > 0 and self.clean == self.tried and not self.notes_fail

    notes_fail: bool = False

    def note(self, text: str, failing: bool = False) -> None:
        if text not in self.notes:
            self.notes.append(text)
        self.notes_fail = self.notes_fail or failing

    def merge(self, other: Tally) -> None:
        for outcome in ("tried", "clean", "slow", "internal", "hung", "other"):
            setattr(self, outcome, getattr(self, outcome) + getattr(other, outcome))
        for text in other.notes:
            self.note(text, other.notes_fail)

    def count(self, outcome: str, detail: str = "") -> None:
        self.tried += 1
        setattr(self, outcome, getattr(self, outcome) + 1)
        if detail and outcome != "clean":
            self.note(detail)


@dataclass(frozen=True)
class Result:
    code: grpc.StatusCode
    reason: str = ""
    value: Any = None
    details: ErrorDetails | None = None


def expect(*codes: grpc.StatusCode, reasons: Iterable[str] = ()) -> Callable[[Result], bool]:
    wanted = set(reasons)
    return lambda r: r.code in codes and (not wanted or r.reason in wanted)


async def outcome_of(call: Awaitable[Any]) -> Result:
    try:
        return Result(grpc.StatusCode.OK, value=await call)
    except grpc.aio.AioRpcError as error:
        try:
            details = ErrorDetails(error)
            return Result(error.code(), details.reason, details=details)
        except AssertionError:  # no google.rpc details (grpc's own statuses)
            return Result(error.code(), (error.details() or "")[:60])


async def probe(
    tally: Tally, call: Awaitable[Any], clean: Callable[[Result], bool], bound: float, slow: float
) -> Result | None:
    """Run one call within `bound` seconds and count how it ended."""
    started = time.monotonic()
    task = asyncio.ensure_future(outcome_of(call))
    try:
        result = await asyncio.wait_for(asyncio.shield(task), bound)
    except TimeoutError:
        task.cancel()
        tally.count("hung", f"no answer within {bound:g}s")
        return None
    elapsed = time.monotonic() - started
    label = f"{result.code.name} {result.reason}".strip()
    if result.code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
        tally.count("internal", label)
    elif not clean(result):
        tally.count("other", label)
    elif elapsed > slow:
        tally.count("slow", f"{label} after {elapsed:.1f}s")
    else:
        tally.count("clean")
    return result


def metric_sum(port: int, name: str, **labels: str) -> float:
    """The sum of a Prometheus metric's samples (from the server's /metrics) whose labels include these."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    total = 0.0
    for match in re.finditer(rf"^{name}\{{([^}}]*)\}} (\S+)$", text, re.MULTILINE):
        if all(f'{key}="{value}"' in match[1] for key, value in labels.items()):
            total += float(match[2])
    return total


def supported(code: Path, key: str) -> bool:
    """Does the code under test know this setting? (So one harness runs before and after a change.)"""
    config = code / "orchestrator"
    sources = [config / "config.py", *sorted((config / "config").glob("*.py"))]
    return any(key in path.read_text() for path in sources if path.exists())


class Service:
    """`python -m orchestrator serve` from the code under test, in a child process of ours."""

    def __init__(self, code: Path, workdir: Path, config: dict[str, Any], nofile: tuple[int, int] | None = None):
        self.code, self.workdir, self.config, self.nofile = code, workdir, config, nofile
        self.process: subprocess.Popen[str] | None = None
        self.port = self.metrics_port = 0
        self.log_path = workdir / "server.log"
        self.client: OrchestratorClient | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _limits(self) -> None:
        os.setsid()
        if self.nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, self.nofile)

    def _spawn(self) -> subprocess.Popen[str]:
        path = self.workdir / "config.yaml"
        path.write_text(yaml.safe_dump(self.config))
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
        env["PYTHONPATH"] = str(self.code)
        with self.log_path.open("a") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "orchestrator", "serve", "--config", str(path), "--metrics-port", "-1"],
                cwd=self.workdir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                preexec_fn=self._limits,
            )

    async def start(self, timeout: float = 90) -> None:
        self.process = self._spawn()
        line = await asyncio.wait_for(asyncio.to_thread(self._port_line), timeout)
        match = re.search(r"listening on port (\d+) \(metrics on port (\d+)\)", line)
        if match is None:
            raise RuntimeError(f"the server did not start: {line!r}; see {self.log_path}")
        self.port, self.metrics_port = int(match[1]), int(match[2])
        self._limit_memory()
        self.client = OrchestratorClient(self.target, default_timeout=30)

    def _port_line(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            if "listening on port" in line:
                return line
        return f"exited with {self.process.wait()}"

    def _limit_memory(self) -> None:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        size = int(re.search(r"VmSize:\s+(\d+) kB", status)[1]) * 1024  # type: ignore[index]
        limit = size + ADDRESS_SPACE_HEADROOM
        resource.prlimit(self.process.pid, resource.RLIMIT_AS, (limit, limit))

    async def healthy(self, timeout: float = 3.0) -> bool:
        if self.client is None or self.process is None or self.process.poll() is not None:
            return False
        try:
            health = health_pb2_grpc.HealthStub(self.client.channel)
            reply = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.aio.AioRpcError:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def stop(self, grace: float = 15) -> int | None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.client.close(), 2)
            self.client = None
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.to_thread(self.process.wait), grace)
            except TimeoutError:
                self.process.kill()
        code = await asyncio.to_thread(self.process.wait)
        self.process = None
        return code

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def ask(text: str = "hello", model: str = "primary", **fields: Any) -> gen.GenerateRequest:
    fields.setdefault("selection", gen.ModelSelection(preferred_model=model))
    return gen.GenerateRequest(
        messages=[common_pb2.Message(role=common_pb2.ROLE_USER, content=text)],
        params=gen.GenerationParams(max_output_tokens=32),
        **fields,
    )


class Bystanders:
    """Ordinary callers during a case: a health check and a small Generate every half second."""

    def __init__(self, service: Service, fake: FakeUpstream, interval: float = 0.5) -> None:
        self.service, self.fake, self.interval = service, fake, interval
        self.total = self.ok = 0
        self.worst = 0.0
        self.failures: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Bystanders:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _one(self, call: Awaitable[Any]) -> None:
        started = time.monotonic()
        self.total += 1
        try:
            await asyncio.wait_for(call, 5)
            self.ok += 1
        except (grpc.aio.AioRpcError, TimeoutError) as error:
            name = error.code().name if isinstance(error, grpc.aio.AioRpcError) else "no answer in 5s"
            self.failures[name] = self.failures.get(name, 0) + 1
        self.worst = max(self.worst, time.monotonic() - started)

    async def _run(self) -> None:
        async with OrchestratorClient(self.service.target, default_timeout=5) as client:
            health = health_pb2_grpc.HealthStub(client.channel)
            while True:
                await asyncio.gather(
                    self._one(health.Check(health_pb2.HealthCheckRequest(service=""), timeout=4)),
                    self._one(client.generate(ask("bystander"), timeout=4)),
                )
                await asyncio.sleep(self.interval)

    def report(self, tally: Tally) -> None:
        tally.bystanders = f"{self.ok}/{self.total}" + (f" worst {self.worst:.1f}s" if self.worst > 1 else "")
        if self.ok < self.total:
            seen = ", ".join(f"{name} x{n}" for name, n in sorted(self.failures.items()))
            tally.note(f"other callers failed ({seen})", failing=True)
        elif self.worst > 1:
            tally.note("other callers slowed", failing=True)
