"""Model catalogs used when a provider is enabled without listing its models (e.g. by an env var).

Prices are US dollars per million tokens as published by the vendors; override them in config.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LOCAL_PROVIDER_NAME = "local"
LOCAL_MODEL_NAME = "smollm2-135m-instruct"


def _local(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": LOCAL_MODEL_NAME,
            "aliases": ["local"],
            "context_window": int(spec.get("n_ctx", 4096)),
            "max_output_tokens": 1024,
            "capabilities": ["text_generation", "code_generation", "structured_output"],
        }
    ]


def _openai(_: dict[str, Any]) -> list[dict[str, Any]]:
    common = ["text_generation", "code_generation", "structured_output", "text_analysis"]
    return [
        {
            "name": "gpt-4.1",
            "context_window": 1_047_576,
            "max_output_tokens": 32_768,
            "input_cost_per_million_tokens": 2.0,
            "output_cost_per_million_tokens": 8.0,
            "cached_input_cost_per_million_tokens": 0.5,
            "capabilities": [*common, "long_context", "debugging", "code_understanding"],
        },
        {
            "name": "gpt-4.1-mini",
            "context_window": 1_047_576,
            "max_output_tokens": 32_768,
            "input_cost_per_million_tokens": 0.4,
            "output_cost_per_million_tokens": 1.6,
            "cached_input_cost_per_million_tokens": 0.1,
            "capabilities": [*common, "long_context"],
        },
    ]


def _anthropic(_: dict[str, Any]) -> list[dict[str, Any]]:
    common = ["text_generation", "code_generation", "structured_output", "text_analysis"]
    return [
        {
            "name": "claude-sonnet-4-5",
            "context_window": 200_000,
            "max_output_tokens": 64_000,
            "input_cost_per_million_tokens": 3.0,
            "output_cost_per_million_tokens": 15.0,
            "cached_input_cost_per_million_tokens": 0.3,
            "capabilities": [*common, "long_context", "debugging", "code_understanding"],
        },
        {
            "name": "claude-haiku-4-5",
            "context_window": 200_000,
            "max_output_tokens": 64_000,
            "input_cost_per_million_tokens": 1.0,
            "output_cost_per_million_tokens": 5.0,
            "cached_input_cost_per_million_tokens": 0.1,
            "capabilities": common,
        },
    ]


DEFAULT_MODELS: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]]]] = {
    "local": _local,
    "openai": _openai,
    "anthropic": _anthropic,
}
