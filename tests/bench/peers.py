"""The peer gateways for `make bench-peers`: installed once under .tools/peers/ (git-ignored), started per run.

- LiteLLM proxy (`litellm[proxy]` in its own virtualenv, .tools/peers/litellm-venv): one worker, one model
  `bench-model` routed to the fake as `openai/bench-model` with `api_base`, a master key (it refuses to start
  without one), no database, the local model-cost map (there is no network to fetch it from).
- Portkey gateway (npm `@portkey-ai/gateway`, .tools/peers/portkey): `start-server.js --port=N --headless`, told per
  request where to go by its headers: `x-portkey-provider: openai` and `x-portkey-custom-host: <the fake>/v1`
  (loopback is on its default list of trusted custom hosts). `@hono/node-server` is pinned through npm
  `overrides`: from 1.14 on, its Response keeps the upstream fetch's immutable headers, the gateway's
  `updateHeaders` then throws `TypeError: immutable` and every streamed call fails (Portkey-AI/gateway#1389;
  1.13.8 is the newest that streams here).

Both are started like every other child of the benchmark (own session, SIGTERM when the benchmark dies) on a free
port, and are ready when their health route answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

import yaml

from tests.bench.procs import MODEL, ROOT, _die_with_parent, child_env

PEERS_DIR = ROOT / ".tools" / "peers"
LITELLM_VERSION = os.environ.get("BENCH_LITELLM_VERSION", "1.108.7")
PORTKEY_VERSION = os.environ.get("BENCH_PORTKEY_VERSION", "1.15.2")
HONO_NODE_SERVER = "1.13.8"  # see the module docstring
PORTKEY_PACKAGE = {
    "name": "orchestrator-bench-peers",
    "private": True,
    "dependencies": {"@portkey-ai/gateway": PORTKEY_VERSION},
    "overrides": {"@hono/node-server": HONO_NODE_SERVER},
}


def _log(message: str) -> None:
    print(f"[bench-peers {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _run(argv: list[str], cwd: Path, what: str) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise RuntimeError(f"installing {what} failed ({' '.join(argv[:4])} ...):\n{tail}")


def litellm_python() -> Path:
    return PEERS_DIR / "litellm-venv" / "bin" / "python"


def install_litellm() -> str:
    """`litellm[proxy]` into .tools/peers/litellm-venv, once per version (a stamp file records it)."""
    venv = PEERS_DIR / "litellm-venv"
    stamp = venv / f".installed-litellm-{LITELLM_VERSION}"
    if not stamp.exists():
        _log(f"installing LiteLLM proxy {LITELLM_VERSION} into {venv.relative_to(ROOT)} (once; ~1-2 minutes)")
        shutil.rmtree(venv, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)  # not this venv's python: a venv of its own
        _run([base, "-m", "venv", str(venv)], ROOT, "the LiteLLM virtualenv")
        pip = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
        _run([*pip, f"litellm[proxy]=={LITELLM_VERSION}"], ROOT, "litellm[proxy]")
        stamp.touch()
    return LITELLM_VERSION


def portkey_script() -> Path:
    return PEERS_DIR / "portkey" / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"


def install_portkey() -> str:
    """`@portkey-ai/gateway` with `@hono/node-server` pinned, into .tools/peers/portkey, once per version."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        raise RuntimeError("the Portkey gateway needs Node.js and npm (apt-get install -y nodejs npm)")
    home = PEERS_DIR / "portkey"
    stamp = home / f".installed-portkey-{PORTKEY_VERSION}-hono-{HONO_NODE_SERVER}"
    if not stamp.exists() or not portkey_script().exists():
        _log(f"installing Portkey gateway {PORTKEY_VERSION} into {home.relative_to(ROOT)} (once; ~10 seconds)")
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        (home / "package.json").write_text(json.dumps(PORTKEY_PACKAGE, indent=1) + "\n")
        _run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], home, "@portkey-ai/gateway")
        stamp.touch()
    return PORTKEY_VERSION


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PeerProcess:
    """A peer gateway on a port chosen here; `wait_ready()` polls its health URL. Stoppable like a Child."""

    def __init__(self, name: str, argv: list[str], port: int, health: str, log_dir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.port = port
        self._health = f"http://127.0.0.1:{port}{health}"
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[str] = self.log_path.open("w")
        self.process = subprocess.Popen(
            argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**child_env(), **env},
            cwd=PEERS_DIR,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self.pid = self.process.pid

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 120.0) -> PeerProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}); log: {self.tail()}")
            with contextlib.suppress(OSError), urllib.request.urlopen(self._health, timeout=1) as answer:
                if answer.status < 500:
                    return self
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready in {timeout:.0f}s; log: {self.tail()}")

    def tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to its process group (a proxy may have started children), wait, then SIGKILL; idempotent."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()


def start_litellm(fake_port: int, log_dir: Path) -> tuple[PeerProcess, dict[str, str]]:
    """LiteLLM proxy, one worker, `bench-model` -> the fake; returns it and the headers a caller sends."""
    master_key = "sk-" + secrets.token_hex(32)
    config = {
        "model_list": [
            {
                "model_name": MODEL,
                "litellm_params": {
                    "model": f"openai/{MODEL}",
                    "api_base": f"http://127.0.0.1:{fake_port}/v1",
                    "api_key": "sk-bench-not-checked",
                },
            }
        ],
        "general_settings": {"master_key": master_key},
    }
    path = log_dir / "litellm.yaml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    argv = [str(litellm_python()), str(litellm_python().with_name("litellm")), "--config", str(path)]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False", "NO_DOCS": "True"}
    peer = PeerProcess("litellm", argv, port, "/health/liveliness", log_dir, env)
    return peer, {"authorization": f"Bearer {master_key}"}


def start_portkey(fake_port: int, log_dir: Path) -> tuple[PeerProcess, dict[str, str]]:
    """The Portkey gateway (Node); returns it and the headers that route a call to the fake."""
    port = free_port()
    argv = ["node", str(portkey_script()), f"--port={port}", "--headless"]
    peer = PeerProcess("portkey", argv, port, "/", log_dir, {"NODE_ENV": "production"})
    headers = {
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": f"http://127.0.0.1:{fake_port}/v1",
        "authorization": "Bearer sk-bench-not-checked",
    }
    return peer, headers
