"""A Redis for tests: the machine's own at 127.0.0.1:6379, or a throwaway redis-server started here."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "redis-server"], check=True, capture_output=True)
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    return binary


class RedisProcess:
    """A redis-server of our own on a free port; `kill()` it and `start()` it again on the same port."""

    def __init__(self, data: str, *extra: str) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._args = [_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._args += ["--dir", data, *extra]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self._args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not _listening(self.port):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def redis_process(*extra: str) -> Iterator[RedisProcess]:
    """A throwaway redis-server; `extra` are redis-server options (e.g. "--requirepass", "secret")."""
    with tempfile.TemporaryDirectory() as data:
        server = RedisProcess(data, *extra)
        server.start()
        try:
            yield server
        finally:
            server.kill()


@contextmanager
def redis_url() -> Iterator[str]:
    """The machine's Redis when it runs (tests then use key prefixes of their own), else a throwaway one."""
    if _listening(6379):
        yield "redis://127.0.0.1:6379/0"
        return
    with throwaway_redis() as url:
        yield url


@contextmanager
def throwaway_redis() -> Iterator[str]:
    """A redis-server of this test's own, on a free port: tests that stop or break Redis use this one."""
    with redis_process() as server:
        yield server.url
