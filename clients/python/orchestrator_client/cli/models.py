"""`models`: the catalog with limits, prices, capabilities and circuit state."""

from __future__ import annotations

import argparse

from orchestrator_client import OrchestratorClient
from orchestrator_client.cli._output import Output, message_dict
from orchestrator_client.v1 import generation_pb2 as gen

_CIRCUIT_STYLE = {"closed": "green", "half_open": "yellow", "open": "red"}


async def models(args: argparse.Namespace, client: OrchestratorClient, out: Output) -> int:
    response = await client.generation.ListModels(gen.ListModelsRequest(), timeout=args.timeout)
    if out.json_mode:
        out.json([message_dict(model) for model in response.models])
        return 0
    rows = []
    for model in response.models:
        circuit = gen.CircuitState.Name(model.circuit_state).removeprefix("CIRCUIT_STATE_").lower()
        rows.append(
            [
                model.name,
                model.provider,
                f"{model.context_window:,}",
                f"{model.max_output_tokens:,}",
                f"{model.input_cost_per_million_tokens:g}",
                f"{model.output_cost_per_million_tokens:g}",
                ",".join(model.capabilities),
                out.style(circuit, _CIRCUIT_STYLE.get(circuit, "dim")),
            ]
        )
    headers = ["MODEL", "PROVIDER", "CONTEXT", "MAX OUT", "$/M IN", "$/M OUT", "CAPABILITIES", "CIRCUIT"]
    out.table(headers, rows)
    return 0
