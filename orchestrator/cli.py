"""`orchestrator serve`: load and validate the config, start the server, stop cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING

from orchestrator_client.cli import add_client_commands, run_client_command

from orchestrator import logs
from orchestrator.config import load_settings
from orchestrator.errors import ConfigError
from orchestrator.runtime import Runtime, build_runtime, check_templates
from orchestrator.startup import STARTUP

if TYPE_CHECKING:
    from orchestrator.workers import WorkerSlot

log = logging.getLogger("orchestrator")


async def serve(runtime: Runtime, port: int | None, metrics_port: int | None, slot: WorkerSlot | None = None) -> None:
    """The server in this process; `slot`: as one of the supervisor's workers (orchestrator/workers.py)."""
    from orchestrator.api.server import OrchestratorServer
    from orchestrator.telemetry.tracing import TRACING

    TRACING.configure_from_env(runtime.settings.telemetry.record_content)
    if slot is None or slot.index == 0:
        STARTUP.attach()  # a person at a terminal sees what a long start is doing (once, not per worker)
    try:
        server = await OrchestratorServer.create(runtime, port, metrics_port, worker=slot is not None)
    finally:
        STARTUP.detach()
    await server.start()
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: stopping or stopping.append(loop.create_task(server.shutdown())))
    if slot is not None:
        slot.ready()  # the supervisor prints the listening line once every worker is serving
    else:
        # Printed for people and scripts alike (tests read it to learn the port when --port 0).
        print(f"orchestrator listening on port {server.port} (metrics on port {server.metrics_port})", flush=True)
    await server.wait_for_termination()
    if stopping:
        await stopping[0]


def _serve_workers(runtime: Runtime, count: int, port: int | None, metrics_port: int | None, level: str) -> int:
    """`count` worker processes on one port under a supervisor (this process), which forks them before any gRPC
    or event-loop state exists; worker 0 serves the metrics of all."""
    from orchestrator.workers import Supervisor, reserve_ports

    server = runtime.settings.server
    ports = reserve_ports(
        server.host,
        server.port if port is None else port,
        server.metrics_port if metrics_port is None else metrics_port,
    )

    def work(slot: WorkerSlot) -> int:
        logs.configure(level, worker=slot.index)
        try:
            asyncio.run(serve(runtime, ports.grpc, ports.metrics if slot.index == 0 else 0, slot))
        except ConfigError as exc:
            print(f"orchestrator: worker {slot.index}: {exc}", file=sys.stderr)
            return 2
        return 0

    log.info("starting workers", extra={"workers": count, "port": ports.grpc})
    return Supervisor(count, ports, work).run()


def _port_from_env(name: str) -> int:
    value = os.environ[name]
    try:
        port = int(value)
    except ValueError:
        raise ConfigError(f"{name}: {value!r} is not a port number") from None
    if not -1 <= port <= 65535:
        raise ConfigError(f"{name}: {port} is out of range (0 turns metrics off, -1 picks a free port)")
    return port


def _workers(flag: int | None, runtime: Runtime) -> int:
    from orchestrator.workers import worker_count

    if flag is not None and flag < 1:
        raise ConfigError(f"--workers: {flag} is not a worker count (1 or more)")
    return worker_count(flag if flag is not None else runtime.settings.server.workers)


def _new_key(service: str) -> int:
    from pydantic import ValidationError

    from orchestrator.config import ServiceSettings
    from orchestrator.policy.keys import config_line, new_key

    try:
        ServiceSettings(name=service)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        print(f"orchestrator: --service: {message}", file=sys.stderr)
        return 2
    key = new_key()
    print(f"key (shown once; give it to the {service} service, e.g. as a Kubernetes Secret):\n  {key}")
    print(f"under auth.services in the configuration:\n  {config_line(service, key)}")
    return 0


async def _experiments_report(config: str | None, task: str, days: float | None, as_json: bool) -> str:
    import json
    import time

    from orchestrator.feedback import open_feedback_store
    from orchestrator.feedback.report import build_report, report_json, report_text

    settings = load_settings(config).feedback
    days = settings.retention_days if days is None else days
    store = await open_feedback_store(settings)
    try:
        totals = await store.totals(task, time.time() - days * 86400)
    finally:
        await store.aclose()
    report = build_report(task, days, totals)
    return json.dumps(report_json(report), indent=2) if as_json else report_text(report)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="orchestrator", description="LLM Orchestrator gRPC service")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the gRPC server")
    serve_cmd.add_argument("--config", help="YAML config file (default: $ORCHESTRATOR_CONFIG)")
    serve_cmd.add_argument("--port", type=int, help="gRPC port (default: server.port, 50051; 0 picks a free one)")
    serve_cmd.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes sharing the port (default: server.workers, else the CPUs this process may use)",
    )
    serve_cmd.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="Prometheus /metrics port (default: server.metrics_port, 9464; 0 turns it off; -1 picks a free one)",
    )
    check_cmd = commands.add_parser("check-config", help="validate the configuration and exit")
    check_cmd.add_argument("--config", help="YAML config file (default: $ORCHESTRATOR_CONFIG)")
    keys_cmd = commands.add_parser("keys", help="service keys").add_subparsers(dest="keys_command", required=True)
    new_key_cmd = keys_cmd.add_parser("new", help="print a fresh key once, and the line to paste into auth.services")
    new_key_cmd.add_argument("--service", required=True, help="the service the key is for, e.g. rd")
    experiments = commands.add_parser("experiments", help="prompt experiments and feedback")
    report_cmd = experiments.add_subparsers(dest="experiments_command", required=True).add_parser(
        "report", help="per template version and model: requests, mean score, validation failures, cost"
    )
    report_cmd.add_argument("--task", required=True, help="the task type, e.g. bug_fixing")
    report_cmd.add_argument(
        "--config", help="YAML config file naming the feedback store (default: $ORCHESTRATOR_CONFIG)"
    )
    report_cmd.add_argument("--days", type=float, help="only requests of the last DAYS days (default: the retention)")
    report_cmd.add_argument("--json", action="store_true", help="print the report as JSON")
    add_client_commands(commands)  # generate, templates, models: a gRPC client of a running server
    args = parser.parse_args(argv)
    if (status := run_client_command(args)) is not None:
        return status

    if args.command == "keys":
        return _new_key(args.service)
    if args.command == "experiments":
        try:
            print(asyncio.run(_experiments_report(args.config, args.task, args.days, args.json)))
        except ConfigError as exc:
            print(f"orchestrator: {exc}", file=sys.stderr)
            return 2
        return 0
    try:
        runtime = build_runtime(load_settings(args.config))
        metrics_port = getattr(args, "metrics_port", None)
        if metrics_port is None and os.environ.get("ORCHESTRATOR_METRICS_PORT"):
            metrics_port = _port_from_env("ORCHESTRATOR_METRICS_PORT")
        if args.command == "check-config":
            templates = asyncio.run(check_templates(runtime))
            settings = runtime.settings
            print(
                f"configuration OK: {len(settings.providers)} providers, {len(settings.models)} models, "
                f"{templates} seed templates"
            )
            return 0
        level = os.environ.get("LOG_LEVEL", runtime.settings.server.log_level).upper()
        logs.configure(level)
        workers = _workers(args.workers, runtime)
        if workers > 1:
            return _serve_workers(runtime, workers, args.port, metrics_port, level)
        asyncio.run(serve(runtime, args.port, metrics_port))
    except ConfigError as exc:
        print(f"orchestrator: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
