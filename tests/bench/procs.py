"""Child processes for the benchmark: started with a port on stdout, always stopped, their RSS read from /proc."""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
MODEL = "bench-model"
_PORT_LINE = re.compile(r"listening on port (\d+)")


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the benchmark dies without cleaning up (Linux prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def child_env() -> dict[str, str]:
    """Our environment without provider keys or base URLs (the orchestrator must use its config only)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("LOG_LEVEL", None)  # the configured level (INFO by default: one log line per request) is measured
    return env


class Child:
    """A child process that prints `... listening on port N`; stderr goes to a log file. Call `wait_port()`."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, start_timeout: float = 120.0) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[str] = self.log_path.open("w")
        self._start_timeout = start_timeout
        self.process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=child_env(),
            cwd=ROOT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self.pid = self.process.pid
        self.port = 0

    def wait_port(self) -> Child:
        if self.port:
            return self
        assert self.process.stdout is not None
        found: list[int] = []

        def read() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                if match := _PORT_LINE.search(line):
                    found.append(int(match.group(1)))
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(self._start_timeout)
        if not found:
            self.stop()
            raise RuntimeError(f"{self.name} did not report its port; log: {self.tail()}")
        self.port = found[0]
        # Drain stdout so the child never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _drain(self) -> None:
        assert self.process.stdout is not None
        with contextlib.suppress(ValueError, OSError):
            for _ in self.process.stdout:
                pass

    def tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        return ""

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, wait, then SIGKILL; idempotent."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB (0 when it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all threads (0 when it is gone)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14 and 15 of stat)
    return 0.0


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and of its live descendants (worker processes, a proxy's server children)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += cpu_seconds(current)
        todo.extend(parents.get(current, ()))
    return total


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all CPUs: user, nice, system, irq, softirq, steal)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
        return (user + nice + system + irq + softirq + steal) / _TICK
    return 0.0


class CpuMeter:
    """CPU seconds used by each of our process trees during a block, by this process, and by everything else."""

    def __init__(self, pids: dict[str, int], trees: bool = True) -> None:
        self.pids = pids
        self.used: dict[str, float] = {}
        # Each process with its descendants (an orchestrator's worker processes, a proxy's server children).
        self._cpu = tree_cpu_seconds if trees else cpu_seconds

    def __enter__(self) -> CpuMeter:
        self._start = {name: self._cpu(pid) for name, pid in self.pids.items()}
        self._self, self._busy, self._wall = time.process_time(), machine_busy_seconds(), time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        used = {name: max(self._cpu(pid) - self._start[name], 0.0) for name, pid in self.pids.items()}
        used["bench"] = time.process_time() - self._self
        busy = machine_busy_seconds() - self._busy
        # Other tenants of this machine (anything not started by the benchmark): the noise indicator.
        used["other"] = max(busy - sum(used.values()), 0.0)
        used["wall"] = time.monotonic() - self._wall
        self.used = {k: round(v, 3) for k, v in used.items()}


class Stoppable(Protocol):
    def stop(self) -> None: ...


class Children:
    """Every child started for the run (not yet waited for its port); `stop_all` in a finally block."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[Stoppable] = []
        self.code: dict[str, str] = {}  # orchestrator name -> source fingerprint when it started

    def add(self, child: Stoppable) -> None:
        self.started.append(child)

    def start(self, name: str, argv: list[str], start_timeout: float = 120.0) -> Child:
        child = Child(name, argv, self.log_dir, start_timeout)
        self.started.append(child)
        return child

    def fake(self, name: str, latency_ms: float = 0.0, chunks: int = 64, chunk_delay_ms: float = 0.0) -> Child:
        argv = [sys.executable, "-m", "tests.fakes.upstream", "--port", "0", "--latency-ms", f"{latency_ms:g}"]
        return self.start(name, [*argv, "--stream-chunks", str(chunks), "--chunk-delay-ms", f"{chunk_delay_ms:g}"])

    def orchestrator(self, name: str, config: dict[str, Any]) -> Child:
        path = self.log_dir / f"{name}.yaml"
        # Each orchestrator its own request ledger (the default SQLite file, in the run's directory): servers
        # sharing the working directory's file would contend for its lock, and it would grow run after run.
        for section in ("feedback", "knowledge"):
            store = config.setdefault(section, {}).setdefault("store", {})
            if store.get("type", "sqlite") == "sqlite":
                store.setdefault("path", str(self.log_dir / f"{name}-{section}.db"))
        path.write_text(yaml.safe_dump(config))
        self.code[name] = source_fingerprint()
        return self.start(name, [sys.executable, "-m", "orchestrator", "serve", "--config", str(path)], 300.0)

    def floor(self, name: str = "floor") -> Child:
        return self.start(name, [sys.executable, "-m", "tests.bench.floor_server", "--port", "0"])

    def stop(self, child: Stoppable) -> None:
        child.stop()
        if child in self.started:
            self.started.remove(child)

    def stop_all(self) -> None:
        for child in reversed(self.started):
            with contextlib.suppress(Exception):
                child.stop()
        self.started.clear()


@contextlib.contextmanager
def children(log_dir: Path) -> Iterator[Children]:
    group = Children(log_dir)
    try:
        yield group
    finally:
        group.stop_all()


def server_section() -> dict[str, Any]:
    """A free loopback port; the Prometheus listener off where the config has one (several servers run at once)."""
    from orchestrator.config import ServerSettings

    server: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "grace_seconds": 2}
    if "workers" in ServerSettings.model_fields:
        # One process: the loadgen holds one connection per target, which the kernel gives to one worker only;
        # scripts/bench_workers.py measures 1 vs N workers with several connections.
        server["workers"] = 1
    if "metrics_port" in ServerSettings.model_fields:
        server["metrics_port"] = 0  # off: no listener; the metrics are still recorded per call
    return server


def routed_config(fake_port: int) -> dict[str, Any]:
    """One openai_compatible provider pointed at the fake, one model, the shipped templates in memory."""
    return {
        "server": server_section(),
        "providers": {"fake": {"type": "openai_compatible", "base_url": f"http://127.0.0.1:{fake_port}/v1"}},
        "models": [
            {
                "name": MODEL,
                "provider": "fake",
                "context_window": 8192,
                "max_output_tokens": 256,
                "capabilities": ["text_generation", "code_generation"],
            }
        ],
        "default_model": MODEL,
        "templates": {"directory": str(TEMPLATES), "store": {"type": "memory"}},
    }


def local_config() -> dict[str, Any]:
    """The default configuration (no providers: the embedded model serves), on a free port, templates in memory."""
    return {
        "server": server_section(),
        "templates": {"directory": str(TEMPLATES), "store": {"type": "memory"}},
    }


def source_fingerprint() -> str:
    """A hash of the orchestrator's sources: a change during a run (others edit concurrently) is flagged."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "orchestrator").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class LoadGenClient:
    """`python -m tests.bench.loadgen` in its own process: one JSON command line in, one JSON reply line out."""

    def __init__(self, log_dir: Path) -> None:
        self._log: IO[str] = (log_dir / "loadgen.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.loadgen"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=child_env(),
            cwd=ROOT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self.pid = self.process.pid
        self._replies: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._reply(60.0)  # {"ready": true}

    def _read(self) -> None:
        assert self.process.stdout is not None
        with contextlib.suppress(ValueError, OSError):
            for line in self.process.stdout:
                self._replies.put(line)
        self._replies.put("")

    def _reply(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._replies.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"the load generator did not answer within {timeout:.0f}s") from None
        if not line:
            raise RuntimeError(f"the load generator exited (status {self.process.poll()})")
        reply: dict[str, Any] = json.loads(line)
        if "failed" in reply:
            raise RuntimeError(f"load generator: {reply['failed']}")
        return reply

    def send(self, command: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._reply(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                assert self.process.stdin is not None
                self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.process.stdin.close()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


class RssSampler:
    """Peak VmRSS of a process while the `with` block runs (sampled every `interval` seconds)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.is_set():
            self.peak_kib = max(self.peak_kib, rss_kib(self.pid))
            self._done.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, rss_kib(self.pid))


def settle(seconds: float = 0.3) -> None:
    """Let the previous run's sockets and timers settle before measuring the next one."""
    time.sleep(seconds)
