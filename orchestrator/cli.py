"""`orchestrator serve`: load and validate the config, start the server, stop cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from orchestrator_client.cli import add_client_commands, run_client_command

from orchestrator import logs
from orchestrator.config import Settings, load_settings
from orchestrator.errors import ConfigError

log = logging.getLogger("orchestrator")


async def serve(settings: Settings, port: int | None, metrics_port: int | None) -> None:
    from orchestrator.server import OrchestratorServer
    from orchestrator.telemetry.tracing import TRACING

    TRACING.configure_from_env(settings.telemetry.record_content)
    server = await OrchestratorServer.create(settings, port, metrics_port)
    await server.start()
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: stopping or stopping.append(loop.create_task(server.shutdown())))
    # Printed for people and scripts alike (tests read it to learn the port when --port 0).
    print(f"orchestrator listening on port {server.port} (metrics on port {server.metrics_port})", flush=True)
    await server.wait_for_termination()
    if stopping:
        await stopping[0]


def _port_from_env(name: str) -> int:
    value = os.environ[name]
    try:
        port = int(value)
    except ValueError:
        raise ConfigError(f"{name}: {value!r} is not a port number") from None
    if not -1 <= port <= 65535:
        raise ConfigError(f"{name}: {port} is out of range (0 turns metrics off, -1 picks a free port)")
    return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="orchestrator", description="LLM Orchestrator gRPC service")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the gRPC server")
    serve_cmd.add_argument("--config", help="YAML config file (default: $ORCHESTRATOR_CONFIG)")
    serve_cmd.add_argument("--port", type=int, help="gRPC port (default: server.port, 50051; 0 picks a free one)")
    serve_cmd.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="Prometheus /metrics port (default: server.metrics_port, 9464; 0 turns it off; -1 picks a free one)",
    )
    check_cmd = commands.add_parser("check-config", help="validate the configuration and exit")
    check_cmd.add_argument("--config", help="YAML config file (default: $ORCHESTRATOR_CONFIG)")
    add_client_commands(commands)  # generate, templates, models: a gRPC client of a running server
    args = parser.parse_args(argv)
    if (status := run_client_command(args)) is not None:
        return status

    try:
        settings = load_settings(args.config)
        metrics_port = getattr(args, "metrics_port", None)
        if metrics_port is None and os.environ.get("ORCHESTRATOR_METRICS_PORT"):
            metrics_port = _port_from_env("ORCHESTRATOR_METRICS_PORT")
    except ConfigError as exc:
        print(f"orchestrator: {exc}", file=sys.stderr)
        return 2
    if args.command == "check-config":
        print(f"configuration OK: {len(settings.providers)} providers, {len(settings.models)} models")
        return 0
    logs.configure(os.environ.get("LOG_LEVEL", settings.server.log_level).upper())
    try:
        asyncio.run(serve(settings, args.port, metrics_port))
    except ConfigError as exc:
        print(f"orchestrator: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
