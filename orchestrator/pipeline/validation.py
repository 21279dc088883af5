"""Checks on a request's shape that need no I/O, and its JSON Schema checked and compiled once."""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from orchestrator.domain import GenerationRequest
from orchestrator.errors import FieldViolation, Reason, invalid_fields

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


def schema_validator(schema: dict[str, Any] | None) -> Any:
    """A validator for the request's json_schema (None without one); INVALID_ARGUMENT for a bad schema."""
    if schema is None:
        return None
    return _compiled_schema(json.dumps(schema, sort_keys=True))


@functools.lru_cache(maxsize=256)
def _compiled_schema(schema_json: str) -> Any:
    """Checked and compiled once per distinct schema: callers send the same few schemas over and over."""
    schema = json.loads(schema_json)
    cls = validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise invalid_fields(
            f"json_schema is not a valid JSON Schema: {exc.message}",
            [FieldViolation("json_schema", exc.message)],
            reason=Reason.INVALID_JSON_SCHEMA,
        ) from None
    return cls(schema)
