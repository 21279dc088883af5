"""`generate`: one answer, or a stream of tokens printed as they arrive."""

from __future__ import annotations

import argparse
import json

from google.protobuf import json_format

from orchestrator_client import OrchestratorClient
from orchestrator_client.cli._input import load_document, parse_variables
from orchestrator_client.cli._output import Output, UsageError, message_dict
from orchestrator_client.v1 import common_pb2
from orchestrator_client.v1 import generation_pb2 as gen


def build_request(args: argparse.Namespace) -> gen.GenerateRequest:
    request = gen.GenerateRequest(
        task_type=args.task, template_id=args.template or "", template_version=args.template_version
    )
    request.metadata["client"] = "orchestrator-cli"
    if variables := parse_variables(args.var):
        request.variables.update(variables)
    if args.system:
        request.messages.add(role=common_pb2.ROLE_SYSTEM, content=args.system)
    for text in args.message:
        request.messages.add(role=common_pb2.ROLE_USER, content=text)
    if args.format:
        request.output_format = gen.OutputFormat.Value(f"OUTPUT_FORMAT_{args.format.upper()}")
    if args.schema:
        schema = load_document(args.schema)
        if not isinstance(schema, dict):
            raise UsageError(f"{args.schema}: a JSON Schema must be an object")
        request.json_schema.update(schema)
    if args.model:
        request.selection.preferred_model = args.model
    if args.max_tokens is not None:
        if args.max_tokens <= 0:
            raise UsageError("--max-tokens must be a positive number")
        request.params.max_output_tokens = args.max_tokens
    if args.temperature is not None:
        request.params.temperature = args.temperature
    return request


def answer_of(response: gen.GenerateResponse) -> str:
    """The part people asked for: the extracted code, the parsed JSON, or the text."""
    if response.code:
        return response.code
    if response.HasField("structured"):
        return json.dumps(json_format.MessageToDict(response.structured), indent=2, ensure_ascii=False)
    return response.text


def summary(response: gen.GenerateResponse) -> str:
    usage = response.usage
    parts = [
        f"{response.model} ({response.provider})",
        f"{usage.input_tokens} in / {usage.output_tokens} out tokens",
        f"${usage.cost_usd:.6f}",
        f"{response.latency_ms:.0f} ms",
    ]
    if response.cache_hit:
        parts.append("from cache")
    return ", ".join(parts)


async def generate(args: argparse.Namespace, client: OrchestratorClient, out: Output) -> int:
    request = build_request(args)
    if args.stream:
        return await _stream(request, args, client, out)
    response = await client.generate(request, timeout=args.timeout)
    if out.json_mode:
        out.json(message_dict(response))
    else:
        out.print(answer_of(response))
        out.note(summary(response))
    return 0


async def _stream(
    request: gen.GenerateRequest, args: argparse.Namespace, client: OrchestratorClient, out: Output
) -> int:
    """Deltas go to stdout as they arrive; with --json, one JSON object per event (start, delta..., final)."""
    async for event in client.stream_generate(request, timeout=args.timeout):
        kind = event.WhichOneof("event")
        if kind is None:
            continue
        if out.json_mode:
            out.json({kind: message_dict(getattr(event, kind))})
        elif kind == "delta":
            out.print(event.delta.text, end="")
        elif kind == "final":
            out.print()
            if event.final.code or event.final.HasField("structured"):
                out.note("extracted:")
                out.print(answer_of(event.final))
            out.note(summary(event.final))
    return 0
