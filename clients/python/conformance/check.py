"""Driven by tests/test_clients.py against a real server: `python check.py SCENARIO TARGET` prints one JSON line,
{"ok": {...}} or {"error": {...}} (the same shape for every language's client)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from orchestrator_client import OrchestratorClient, error_details
from orchestrator_client.v1 import generation_pb2 as gen

VALID = {"requirement": "reverse a string", "language": "python"}


def request(variables: dict[str, str]) -> gen.GenerateRequest:
    req = gen.GenerateRequest(
        template_id="code_generation",
        selection=gen.ModelSelection(preferred_model="primary"),
        params=gen.GenerationParams(max_output_tokens=64),
        metadata={"client": "python"},
    )
    req.variables.update(variables)
    return req


async def generate(client: OrchestratorClient, req: gen.GenerateRequest, timeout: float = 30) -> dict[str, Any]:
    answer = await client.generate(req, timeout=timeout)
    return {
        "text": answer.text,
        "model": answer.model,
        "output_tokens": answer.usage.output_tokens,
        "finish_reason": gen.FinishReason.Name(answer.finish_reason),
    }


async def stream(client: OrchestratorClient, req: gen.GenerateRequest) -> dict[str, Any]:
    result: dict[str, Any] = {"events": [], "text": ""}
    async for event in client.stream_generate(req, timeout=30):
        kind = event.WhichOneof("event")
        result["events"].append(kind)
        if kind == "delta":
            result["text"] += event.delta.text
        elif kind == "final":
            result["model"], result["output_tokens"] = event.final.model, event.final.usage.output_tokens
    return result


SCENARIOS: dict[str, Callable[[OrchestratorClient], Awaitable[dict[str, Any]]]] = {
    "generate": lambda client: generate(client, request(VALID)),
    "stream": lambda client: stream(client, request(VALID)),
    "invalid": lambda client: generate(client, request({})),
    "rate_limited": lambda client: generate(client, request(VALID)),
    "unavailable": lambda client: generate(client, request(VALID)),
    "deadline": lambda client: generate(client, request(VALID), timeout=0.5),
    "bearer": lambda client: generate(client, request(VALID)),
}


async def main(scenario: str, target: str) -> dict[str, Any]:
    async with OrchestratorClient(target, api_key=os.environ.get("ORCHESTRATOR_API_KEY")) as client:
        try:
            return {"ok": await SCENARIOS[scenario](client)}
        except grpc.aio.AioRpcError as err:
            details = error_details(err)
            return {
                "error": {
                    "code": details.code_name,
                    "reason": details.reason,
                    "field_violations": details.field_violations,
                    "retry_delay_seconds": details.retry_delay,
                }
            }


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in SCENARIOS:
        sys.exit(f"usage: check.py SCENARIO TARGET (SCENARIO: {', '.join(SCENARIOS)})")
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2]))))
