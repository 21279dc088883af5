"""`usage`: how much of each budget the calling service (or, for admins, any service) has used."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from orchestrator_client import OrchestratorClient
from orchestrator_client.cli._output import Output, message_dict
from orchestrator_client.v1 import usage_pb2, usage_pb2_grpc


def _amount(limit: str, value: float) -> str:
    return f"${value:,.4f}" if limit.startswith("cost") else f"{value:,.0f}"


async def usage(args: argparse.Namespace, client: OrchestratorClient, out: Output) -> int:
    stub = usage_pb2_grpc.UsageServiceStub(client.channel)
    response = await stub.GetUsage(usage_pb2.GetUsageRequest(service=args.service or ""), timeout=args.timeout)
    if out.json_mode:
        out.json(message_dict(response))
        return 0
    if not response.limits:
        out.print(f"service {response.service}: no limits configured")
        return 0
    now = datetime.now(UTC)
    rows = []
    for item in response.limits:
        share = item.used / item.maximum if item.maximum else 0.0
        colour = "red" if share >= 0.9 else "yellow" if share >= 0.7 else "green"
        resets = item.reset_time.ToDatetime(tzinfo=UTC) - now
        rows.append(
            [
                item.subject,
                item.limit,
                _amount(item.limit, item.used),
                _amount(item.limit, item.maximum),
                out.style(f"{share:.0%}", colour),
                f"{max(int(resets.total_seconds()), 0) // 60} min",
            ]
        )
    out.table(["SUBJECT", "LIMIT", "USED", "MAXIMUM", "SHARE", "RESETS IN"], rows)
    return 0
