"""Shaping the model's answer into the requested format (text, markdown, code, JSON), and the acceptance check
the router applies to every answer: the format, then the JSON Schema. A rejected answer is re-asked with the
problem (`reask_turns`) and then falls back, like an error.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

from orchestrator.domain import ChatMessage, OutputFormat
from orchestrator.errors import InvalidModelOutputError, Reason
from orchestrator.routing.call import Reask
from orchestrator.schemas import CompiledSchema

# An opening fence (``` or longer, optional info string), its body, and the same fence closing it.
_FENCE = re.compile(r"^(?P<fence>`{3,})[ \t]*(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)
_NO_VALUE = object()


@dataclass(frozen=True, slots=True)
class ShapedAnswer:
    text: str
    code: str = ""
    structured: Any = None
    has_structured: bool = False


def _blocks(text: str) -> list[tuple[str, str]]:
    return [(m.group("info").strip().split(" ")[0].lower(), m.group("body")) for m in _FENCE.finditer(text)]


def extract_code(text: str, language: str = "") -> str | None:
    """The fenced block in `language` if there is one, else the first fenced block."""
    blocks = _blocks(text)
    if not blocks:
        return None
    wanted = language.lower()
    for info, body in blocks:
        if wanted and info == wanted:
            return body.rstrip("\n")
    return blocks[0][1].rstrip("\n")


def _parse(candidate: str) -> Any:
    try:
        return json.loads(candidate)
    except ValueError:
        return _NO_VALUE


def extract_json(text: str) -> Any:
    """A JSON value from a fenced block that parses (json-tagged first), else the outermost object/array."""
    blocks = _blocks(text)
    ordered = [b for info, b in blocks if info == "json"] + [b for info, b in blocks if info != "json"]
    for body in ordered:
        value = _parse(body)
        if value is not _NO_VALUE and isinstance(value, dict | list):
            return value
    whole = _parse(text.strip())
    if whole is not _NO_VALUE:
        return whole
    decoder = json.JSONDecoder()
    for start, char in enumerate(text):
        if char in "{[":
            try:
                value, _ = decoder.raw_decode(text, start)
            except ValueError:
                continue
            return value
    return _NO_VALUE


def shape(text: str, output_format: OutputFormat, language: str = "") -> ShapedAnswer:
    """The answer in the requested format; InvalidModelOutputError when the text holds none."""
    if output_format is OutputFormat.CODE:
        code = extract_code(text, language)
        if code is None:
            raise InvalidModelOutputError(
                "the model's answer holds no fenced code block", reason=Reason.INVALID_MODEL_OUTPUT
            )
        return ShapedAnswer(text, code=code)
    if output_format is OutputFormat.JSON:
        value = extract_json(text)
        if value is _NO_VALUE:
            raise InvalidModelOutputError("the model's answer holds no JSON value", reason=Reason.INVALID_MODEL_OUTPUT)
        return ShapedAnswer(text, structured=value, has_structured=True)
    if output_format is OutputFormat.MARKDOWN:
        return ShapedAnswer(text.strip() + "\n" if text.strip() else "")
    return ShapedAnswer(text)


class Acceptance:
    """The answer in the requested shape, or InvalidModelOutputError saying what is wrong with it."""

    def __init__(self, output_format: OutputFormat, language: str = "", schema: CompiledSchema | None = None) -> None:
        # A schema asks for JSON whatever the format said.
        self.output_format = OutputFormat.JSON if schema is not None else output_format
        self._language = language
        self._schema = schema

    async def __call__(self, text: str) -> ShapedAnswer:
        shaped = shape(text, self.output_format, self._language)
        if self._schema is not None:
            # Off the event loop: validation is bounded in time, but a second of it must not stall everyone.
            errors = await asyncio.to_thread(self._schema.errors, shaped.structured)
            if errors:
                details = "; ".join(f"{e.field}: {e.description}" for e in errors)
                raise InvalidModelOutputError(
                    f"the model's JSON does not match the schema: {details}", reason=Reason.INVALID_MODEL_OUTPUT
                )
        return shaped


def reask_turns(answer: str, rejection: InvalidModelOutputError) -> tuple[ChatMessage, ...]:
    """The rejected answer and what was wrong with it, appended to the prompt for the next try."""
    return (
        ChatMessage("assistant", answer),
        ChatMessage(
            "user",
            f"That answer was rejected: {rejection.message}\nAnswer again with only the corrected JSON, "
            "no explanations.",
        ),
    )


def reask_policy(schema: Any, limit: int) -> Reask | None:
    """Schema failures are re-asked (the model sees the validation errors); format failures fall back at once."""
    return Reask(limit, reask_turns) if schema is not None and limit > 0 else None
