"""Runs one client command: opens the client, maps failures to one line and an exit status."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Awaitable, Callable

import grpc

from orchestrator_client import OrchestratorClient, error_details
from orchestrator_client.cli._output import Output, UsageError

Handler = Callable[[argparse.Namespace, OrchestratorClient, Output], Awaitable[int]]


async def _call(args: argparse.Namespace, handler: Handler, out: Output) -> int:
    async with OrchestratorClient(args.target, api_key=args.key, default_timeout=args.timeout) as client:
        return await handler(args, client, out)


def run(args: argparse.Namespace, module: str, function: str) -> int:
    """Run `orchestrator_client.cli.<module>.<function>(args, client, out)` and return the exit status."""
    handler: Handler = getattr(importlib.import_module(f"orchestrator_client.cli.{module}"), function)
    out = Output(json_mode=args.json)
    try:
        return asyncio.run(_call(args, handler, out))
    except grpc.aio.AioRpcError as err:
        details = error_details(err)
        out.error(details)
        return details.exit_status
    except UsageError as err:
        print(f"orchestrator: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
