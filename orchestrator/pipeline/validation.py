"""Checks on a request's shape that need no I/O, and its JSON Schema checked and compiled once."""

from __future__ import annotations

import asyncio
from typing import Any

from orchestrator.domain import GenerationRequest
from orchestrator.errors import FieldViolation, Reason, invalid_fields
from orchestrator.schemas import CompiledSchema, compile_schema

MAX_CONTEXT_ITEMS = 10_000
STRATEGIES = ("", "relevance", "recency", "hybrid")


def check_shape(request: GenerationRequest) -> None:
    """Every problem with the request's fields at once (INVALID_ARGUMENT with the field violations)."""
    problems = []
    if not request.template_id and not request.messages:
        problems += [
            FieldViolation("template_id", "give a template id, messages, or both"),
            FieldViolation("messages", "give a template id, messages, or both"),
        ]
        raise invalid_fields(
            "the request has neither a template_id nor messages", problems, reason=Reason.EMPTY_REQUEST
        )
    if len(request.context) > MAX_CONTEXT_ITEMS:
        problems.append(FieldViolation("context", f"at most {MAX_CONTEXT_ITEMS} items"))
    if request.context_strategy not in STRATEGIES:
        problems.append(FieldViolation("context_strategy", "unknown strategy"))
    if problems:
        raise invalid_fields(f"the request is invalid: {problems[0].description}", problems)


async def schema_validator(schema: dict[str, Any] | None) -> CompiledSchema | None:
    """The request's json_schema checked and compiled (None without one): INVALID_ARGUMENT for a bad schema,
    before anything is paid for. Compiled once per distinct schema (callers send the same few); a first
    compile of a large schema can take a while, so it runs off the event loop."""
    if schema is None:
        return None
    return await asyncio.to_thread(compile_schema, schema, "json_schema", Reason.INVALID_JSON_SCHEMA)
