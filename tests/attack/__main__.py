"""`make attack`: replay every case of issue 13 against a copy of the service and print a table.

    python -m tests.attack [--code DIR] [--only SUBSTRING] [--json FILE]

The copy: `orchestrator serve` from DIR (default: this checkout) in a child process, the fake upstream in this
one, the embedded model where a case needs it, and a throwaway PostgreSQL and Redis (never the shared ones).
Columns: tried (probes), clean (ended as a hardened service should, in time), slow (right answer, too late),
INTERNAL (INTERNAL or UNKNOWN), hung (no end within the case's bound), other (any other wrong ending), and the
bystanders (ordinary callers during the case: ok/total). A case passes when every probe was clean and the
bystanders were served. `--code` runs the same cases against another checkout, e.g. the code before a change.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # before grpc starts: its INFO lines (GOAWAY...) are noise here

import argparse
import asyncio
import contextlib
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.attack import cases_input, cases_model, cases_templates, cases_wire
from tests.attack.harness import Service, Tally, supported
from tests.fakes import FakeUpstream
from tests.pg import throwaway_cluster
from tests.redis_server import redis_process

ROOT = Path(__file__).resolve().parents[2]
CASES = [*cases_templates.CASES, *cases_wire.CASES, *cases_model.CASES, *cases_input.CASES]
CASES.sort(key=lambda case: case[0])
# Settings the harness sets where the code under test has them: short enough to see them work within a case.
HARDENING = {"stream_write_timeout_seconds": 2, "max_connection_idle_seconds": 3}
CASE_BOUND = 240.0


class Env:
    """What the cases share: the fake upstream, PostgreSQL, Redis, and the running services by name."""

    def __init__(self, code: Path, workdir: Path, fake: FakeUpstream, pg: Any, redis: Any) -> None:
        self.code, self.workdir, self.fake, self.pg, self.redis = code, workdir, fake, pg, redis
        self.pg_dsn = pg.server.dsn("postgres")
        self._services: dict[str, Service] = {}

    def config(self, name: str, **sections: Any) -> dict[str, Any]:
        server = {"host": "127.0.0.1", "port": 0, "grace_seconds": 1}
        server |= {key: value for key, value in HARDENING.items() if supported(self.code, key)}
        if supported(self.code, "workers"):
            server["workers"] = 1  # one process, as the cases were written for (the default is one per CPU)
        providers: dict[str, Any] = {"upstream": {"type": "openai_compatible", "base_url": f"{self.fake.base_url}/v1"}}
        routing: dict[str, Any] = {"backoff_initial_seconds": 0.001, "backoff_max_seconds": 0.01}
        if name.startswith("local"):
            providers["local"] = {"type": "local"}
            routing["stream_idle_timeout_seconds"] = 5
        if name == "local-limited":
            routing["max_concurrent_requests"] = 8
        store = {"type": "sqlite", "path": str(self.workdir / f"{name}-templates.db")}
        config = {
            "server": server,
            "providers": providers,
            "models": [
                {
                    "name": "primary",
                    "provider": "upstream",
                    "context_window": 8000,
                    "max_output_tokens": 256,
                    "input_cost_per_million_tokens": 1000,
                    "output_cost_per_million_tokens": 1000,
                    "capabilities": ["text_generation", "code_generation", "structured_output"],
                },
            ],
            "default_model": "primary",
            "routing": routing,
            "templates": {"directory": str(self.code / "templates"), "store": store},
        }
        for key, value in sections.items():
            config[key] = {**config.get(key, {}), **value}
        return config

    async def fresh(self, name: str, nofile: tuple[int, int] | None = None, **sections: Any) -> Service:
        """A service of its own for one case (the case stops it)."""
        workdir = self.workdir / f"{name}-{time.monotonic_ns()}"
        workdir.mkdir()
        service = Service(self.code, workdir, self.config(name, **sections), nofile)
        await service.start()
        return service

    async def service(self, name: str = "default") -> Service:
        """A service shared by the cases that need only this configuration."""
        service = self._services.get(name)
        if service is None:
            service = self._services[name] = await self.fresh(name)
        return service

    async def check(self) -> list[str]:
        """Kill and forget every shared service that stopped answering; their names."""
        dead = []
        for name, service in list(self._services.items()):
            if not await service.healthy():
                dead.append(name)
                await service.stop(grace=0.1)
                del self._services[name]
        return dead

    async def close(self) -> None:
        for service in self._services.values():
            await service.stop(grace=5)


async def run_case(env: Env, title: str, case: Any) -> Tally:
    tally = Tally(title)
    env.fake.reset()
    started = time.monotonic()
    try:
        await asyncio.wait_for(case(env, tally), CASE_BOUND)
    except TimeoutError:
        tally.note(f"the case did not finish within {CASE_BOUND:g}s", failing=True)
        tally.hung = max(tally.hung, 1)
        tally.tried = max(tally.tried, 1)
    except Exception as exc:  # the harness goes on with the next case
        tally.note(f"harness: {type(exc).__name__}: {str(exc)[:80]}", failing=True)
    for name in await env.check():
        tally.note(f"server '{name}' stopped answering; restarted", failing=True)
    tally.note(f"{time.monotonic() - started:.0f}s")
    return tally


def table(rows: list[tuple[str, Tally]]) -> str:
    head = ("item", "case", "tried", "clean", "slow", "INTERNAL", "hung", "other", "bystanders", "verdict", "notes")
    lines = [head]
    for item, t in rows:
        verdict = "PASS" if t.ok else "FAIL"
        lines.append(
            (
                item,
                t.case,
                str(t.tried),
                str(t.clean),
                str(t.slow),
                str(t.internal),
                str(t.hung),
                str(t.other),
                t.bystanders or "-",
                verdict,
                "; ".join(t.notes),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
    out = []
    for n, line in enumerate(lines):
        out.append(" | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=False)) + " | " + line[-1])
        if n == 0:
            out.append("-+-".join("-" * w for w in widths) + "-+-" + "-" * 5)
    passed = sum(t.ok for _, t in rows)
    out.append(f"{passed} passed, {len(rows) - passed} failed")
    return "\n".join(out)


async def main(args: argparse.Namespace) -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # our own side of the floods
    selected = [c for c in CASES if not args.only or any(s in c[1] for s in args.only)]
    rows: list[tuple[str, Tally]] = []
    with (
        tempfile.TemporaryDirectory(prefix="orch-attack-") as tmp,
        throwaway_cluster() as pg,
        redis_process() as redis,
    ):
        async with FakeUpstream() as fake:
            env = Env(Path(args.code).resolve(), Path(tmp), fake, pg, redis)
            try:
                for item, title, case in selected:
                    print(f"[{item}] {title} ...", file=sys.stderr, flush=True)
                    rows.append((item, await run_case(env, title, case)))
            finally:
                with contextlib.suppress(Exception):
                    await env.close()
    print(table(rows), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps([{"item": i, **vars(t)} for i, t in rows], indent=2))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m tests.attack", description=__doc__.splitlines()[0])
    parser.add_argument("--code", default=str(ROOT), help="the checkout whose orchestrator/ to attack")
    parser.add_argument("--only", action="append", help="run the cases whose title contains this (repeatable)")
    parser.add_argument("--json", help="also write the rows as JSON here")
    sys.exit(asyncio.run(main(parser.parse_args())))
