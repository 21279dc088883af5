"""Worker processes: `server.workers` copies of the server on one port, under a small supervisor.

The supervisor forks every worker before any gRPC or event-loop state exists (grpc's
examples/python/multiprocessing: fork is supported only before a gRPC object is created), and it never creates
one itself, so it can fork again to replace a worker. Each worker builds its own event loop, grpc.aio server,
providers and embedded model, and listens on the shared port with SO_REUSEPORT; the kernel spreads new
connections over the workers' listening sockets.

The supervisor checks both ports before forking (a port in use is a ConfigError, exit status 2, as with one
process), starts worker 0 and, once it serves, the others (so they find the seed templates it stored rather than
race it to store them), prints the listening line when every worker serves, forwards SIGTERM and SIGINT to every
worker (each drains as a single process does) and exits when all are gone: 0 when every worker exited 0, else
the first failing worker's status. A worker that dies after it was serving is replaced; one that dies while
starting (its replacement included) stops them all, so a crash loop ends with a non-zero exit.

Prometheus: the supervisor points PROMETHEUS_MULTIPROC_DIR at a private temporary directory before forking and
removes it at exit; every worker writes its series there and worker 0 serves their aggregate.
This module imports no grpc (tests/test_layers.py).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import os
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import ConfigError
from orchestrator.telemetry.metrics import MULTIPROC_ENV, metrics_port_error, worker_gone

log = logging.getLogger(__name__)
CGROUP_ROOT = Path("/sys/fs/cgroup")
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> float | None:
    """CPUs the cgroup's quota grants (v2 `cpu.max`, else v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`); None: none."""
    try:
        quota, _, period = (root / "cpu.max").read_text().strip().partition(" ")
        return None if quota == "max" else int(quota) / int(period or 100000)
    except (OSError, ValueError, ZeroDivisionError):
        pass
    for directory in (root / "cpu", root / "cpu,cpuacct", root):
        try:
            quota = int((directory / "cpu.cfs_quota_us").read_text())
            period = int((directory / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return quota / period if quota > 0 and period > 0 else None
    return None


def available_cpus(root: Path = CGROUP_ROOT) -> int:
    """The CPUs this process may use: its affinity, capped by the cgroup's quota rounded up (1.5 CPUs -> 2)."""
    cpus = len(os.sched_getaffinity(0))
    limit = cgroup_cpu_limit(root)
    return max(1, min(cpus, math.ceil(limit))) if limit else cpus


def worker_count(configured: int | None, root: Path = CGROUP_ROOT) -> int:
    return configured if configured is not None else available_cpus(root)


@dataclass(frozen=True, slots=True)
class WorkerSlot:
    """What a worker knows of itself: its index (0 serves the metrics), how many there are, its ready pipe."""

    index: int
    count: int
    ready_fd: int

    def ready(self) -> None:
        """Tell the supervisor this worker is serving (health SERVING, port open)."""
        os.write(self.ready_fd, b"ready\n")
        os.close(self.ready_fd)


@dataclass(frozen=True, slots=True)
class Ports:
    grpc: int
    metrics: int  # 0: off
    reservation: socket.socket  # bound with SO_REUSEPORT, never listening: holds the port while workers start


def _bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host.strip("[]") or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # "[::]" takes IPv4 too, as grpc does
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


def reserve_ports(host: str, grpc_port: int, metrics_port: int) -> Ports:
    """Check both ports before forking; a port someone listens on (even with SO_REUSEPORT) is a ConfigError.

    gRPC port 0 picks a free port; metrics port 0 turns metrics off and -1 picks a free one (for tests).
    """
    try:
        if grpc_port:
            _bind(host, grpc_port, reuse_port=False).close()  # fails if anyone listens, reuse-port group or not
        reservation = _bind(host, grpc_port, reuse_port=True)
    except OSError:
        raise ConfigError(
            f"server.port / --port: cannot listen for gRPC on {host}:{grpc_port} "
            "(in use or not an address of this host)"
        ) from None
    if metrics_port == 0:
        return Ports(reservation.getsockname()[1], 0, reservation)
    http_host = host.strip("[]") or "0.0.0.0"
    try:
        with _bind(http_host, max(metrics_port, 0), reuse_port=False) as probe:
            bound = probe.getsockname()[1]
    except OSError as exc:
        reservation.close()
        raise metrics_port_error(http_host, metrics_port, exc) from None
    return Ports(reservation.getsockname()[1], bound, reservation)


@dataclass(slots=True)
class _Worker:
    index: int
    pid: int
    ready_fd: int
    ready: bool = False


def exit_status(code: int) -> int:
    """os.waitstatus_to_exitcode's value as a shell reports it: killed by signal N -> 128 + N."""
    return code if code >= 0 else 128 - code


class Supervisor:
    """Forks `count` workers running `work(slot)` (its return value is the worker's exit status) and keeps them."""

    def __init__(self, count: int, ports: Ports, work: Callable[[WorkerSlot], int]) -> None:
        self._count = count
        self._ports = ports
        self._work = work
        self._workers: dict[int, _Worker] = {}
        self._selector = selectors.DefaultSelector()
        self._stopping = False
        self._announced = False
        self._forked_all = False
        self._status = 0
        self._signalled: int | None = None
        self._wake = (-1, -1)

    def run(self) -> int:
        if threading.active_count() > 1:  # forking copies only this thread; anything another holds stays held
            log.warning("forking workers with other threads running", extra={"threads": threading.active_count()})
        metrics_dir = tempfile.mkdtemp(prefix="orchestrator-metrics-")
        os.environ[MULTIPROC_ENV] = metrics_dir
        wake_r, wake_w = self._wake = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        self._selector.register(wake_r, selectors.EVENT_READ)
        previous_wakeup = signal.set_wakeup_fd(wake_w)
        handlers = {s: signal.signal(s, self._on_signal) for s in (*_STOP_SIGNALS, signal.SIGCHLD)}
        try:
            # Worker 0 first: it writes the seed templates into a shared store, so the others find them there
            # instead of racing it to write duplicate versions; they start together once it serves.
            self._fork(0)
            while self._workers or not self._stopping:
                self._loop_once(wake_r)
        finally:
            for pid in self._workers:  # only if the supervisor itself failed: let them drain rather than orphan
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
            signal.set_wakeup_fd(previous_wakeup)
            self._selector.close()
            for fd in (wake_r, wake_w):
                os.close(fd)
            self._ports.reservation.close()
            shutil.rmtree(metrics_dir, ignore_errors=True)
            os.environ.pop(MULTIPROC_ENV, None)
        log.info("all workers stopped", extra={"status": self._status})
        return self._status

    def _loop_once(self, wake_r: int) -> None:
        for key, _ in self._selector.select():
            if key.fd == wake_r:
                while _read(wake_r):
                    pass
            else:
                self._read_ready(key.data, key.fd)
        self._reap()
        if self._signalled is not None and not self._stopping:
            log.info("stopping workers", extra={"signal": signal.Signals(self._signalled).name})
            self._stop()
        serving = len(self._workers) == self._count and all(w.ready for w in self._workers.values())
        if serving and not self._announced and not self._stopping:
            self._announced = True
            print(
                f"orchestrator listening on port {self._ports.grpc} (metrics on port {self._ports.metrics}) "
                f"with {self._count} workers",
                flush=True,
            )

    def _fork(self, index: int) -> None:
        ready_r, ready_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the supervisor's code
            status = 1
            try:
                self._become_worker(ready_r)
                status = self._work(WorkerSlot(index, self._count, ready_w))
            except BaseException:
                traceback.print_exc()
            finally:
                # os._exit skips the interpreter's exit, and with it the exit handlers the worker registered
                # (the span exporters flush there); run them, not the supervisor's stack.
                with contextlib.suppress(BaseException):
                    atexit._run_exitfuncs()
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)
        os.close(ready_w)
        worker = _Worker(index, pid, ready_r)
        self._workers[pid] = worker
        self._selector.register(ready_r, selectors.EVENT_READ, worker)
        log.info("worker started", extra={"worker": index, "pid": pid})

    def _become_worker(self, ready_r: int) -> None:
        """Drop what belongs to the supervisor: its signal handling, pipes and the port reservation."""
        signal.set_wakeup_fd(-1)
        for signum in (*_STOP_SIGNALS, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        inherited = [key.fd for key in self._selector.get_map().values()]  # the wake-up pipe, others' ready pipes
        self._selector.close()
        for fd in {*inherited, *self._wake, ready_r}:
            os.close(fd)
        self._ports.reservation.close()

    def _read_ready(self, worker: _Worker, fd: int) -> None:
        if _read(fd):
            worker.ready = True
            log.info("worker serving", extra={"worker": worker.index, "pid": worker.pid})
            if not self._forked_all and not self._stopping:
                self._forked_all = True
                for index in range(1, self._count):
                    self._fork(index)
            return
        self._selector.unregister(fd)  # end of file: the worker closed it (after "ready") or exited
        os.close(fd)

    def _reap(self) -> None:
        while self._workers:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            worker = self._workers.pop(pid, None)
            if worker is not None:
                self._exited(worker, os.waitstatus_to_exitcode(status))

    def _exited(self, worker: _Worker, code: int) -> None:
        worker_gone(worker.pid)
        if worker.ready_fd in self._selector.get_map():
            self._selector.unregister(worker.ready_fd)
            os.close(worker.ready_fd)
        fields = {"worker": worker.index, "pid": worker.pid, "status": exit_status(code)}
        if self._stopping:
            (log.info if code == 0 else log.warning)("worker exited", extra=fields)
            if code and not self._status:
                self._status = exit_status(code)
        elif not worker.ready:
            log.error("worker exited while starting; stopping every worker", extra=fields)
            self._status = exit_status(code) or 1
            self._stop()
        else:
            log.error("worker exited unexpectedly; starting a new one", extra=fields)
            self._fork(worker.index)

    def _on_signal(self, signum: int, _frame: object) -> None:
        # Only noted here; the wake-up pipe ends the loop's select() and the loop acts on it.
        if signum in _STOP_SIGNALS and self._signalled is None:
            self._signalled = signum

    def _stop(self) -> None:
        self._stopping = True
        for pid in self._workers:
            with contextlib.suppress(ProcessLookupError):  # exited, not reaped yet
                os.kill(pid, signal.SIGTERM)


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 512)
    except BlockingIOError:
        return b""
