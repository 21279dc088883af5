"""Shaping the model's answer into the requested format (text, markdown, code, JSON), and the acceptance check
the router applies to every answer: the format, then the JSON Schema, then the task's validators in their
configured order. A rejected answer is re-asked with the problem (`reask_turns`) and then falls back, like an
error. Every rejection names the check that made it (`format`, `json_schema` or the validator's name) in its
metadata, which the router copies into the attempt.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any

from orchestrator.domain import ChatMessage, OutputFormat
from orchestrator.errors import InvalidModelOutputError, Reason
from orchestrator.evaluation import Validator
from orchestrator.evaluation.extraction import NO_VALUE, extract_code, extract_json
from orchestrator.routing.call import Reask
from orchestrator.schemas import CompiledSchema

__all__ = ["Acceptance", "ShapedAnswer", "extract_code", "extract_json", "reask_policy", "reask_turns", "shape"]
# The check names of rejections that are not a configured validator's.
FORMAT_CHECK = "format"
SCHEMA_CHECK = "json_schema"


def _rejected(message: str, check: str) -> InvalidModelOutputError:
    return InvalidModelOutputError(message, reason=Reason.INVALID_MODEL_OUTPUT, metadata={"validator": check})


@dataclass(frozen=True, slots=True)
class ShapedAnswer:
    text: str
    code: str = ""
    structured: Any = None
    has_structured: bool = False


def shape(text: str, output_format: OutputFormat, language: str = "") -> ShapedAnswer:
    """The answer in the requested format; InvalidModelOutputError when the text holds none."""
    if output_format is OutputFormat.CODE:
        code = extract_code(text, language)
        if code is None:
            raise _rejected("the model's answer holds no fenced code block", FORMAT_CHECK)
        return ShapedAnswer(text, code=code)
    if output_format is OutputFormat.JSON:
        value = extract_json(text)
        if value is NO_VALUE:
            raise _rejected("the model's answer holds no JSON value", FORMAT_CHECK)
        return ShapedAnswer(text, structured=value, has_structured=True)
    if output_format is OutputFormat.MARKDOWN:
        return ShapedAnswer(text.strip() + "\n" if text.strip() else "")
    return ShapedAnswer(text)


class Acceptance:
    """The answer in the requested shape, or InvalidModelOutputError saying what is wrong with it."""

    def __init__(
        self,
        output_format: OutputFormat,
        language: str = "",
        schema: CompiledSchema | None = None,
        validators: tuple[Validator, ...] = (),
    ) -> None:
        # A schema asks for JSON whatever the format said.
        self.output_format = OutputFormat.JSON if schema is not None else output_format
        self._language = language
        self._schema = schema
        self._validators = validators

    @property
    def checks_content(self) -> bool:
        """Whether anything beyond the format is checked (a schema or validators): worth re-asking for."""
        return self._schema is not None or bool(self._validators)

    async def __call__(self, text: str) -> ShapedAnswer:
        shaped = shape(text, self.output_format, self._language)
        if self._schema is not None:
            # Off the event loop: validation is bounded in time, but a second of it must not stall everyone.
            errors = await asyncio.to_thread(self._schema.errors, shaped.structured)
            if errors:
                details = "; ".join(f"{e.field}: {e.description}" for e in errors)
                raise _rejected(f"the model's JSON does not match the schema: {details}", SCHEMA_CHECK)
        if self._validators:
            # Off the event loop too: the built-ins are linear in the answer, a team's own check may not be.
            failed = await asyncio.to_thread(self._first_failure, shaped)
            if failed is not None:
                name, problem = failed
                raise _rejected(f"validator {name}: {problem}", name)
        return shaped

    def _first_failure(self, shaped: ShapedAnswer) -> tuple[str, str] | None:
        for validator in self._validators:
            problem = validator.problem(shaped)
            if problem is not None:
                return validator.name, problem
        return None


# What the model is asked for after the rejection, by the answer's format.
_AGAIN = {
    OutputFormat.JSON: "Answer again with only the corrected JSON, no explanations.",
    OutputFormat.CODE: "Answer again with the corrected code in one fenced code block.",
}


def reask_turns(
    answer: str, rejection: InvalidModelOutputError, output_format: OutputFormat = OutputFormat.JSON
) -> tuple[ChatMessage, ...]:
    """The rejected answer and what was wrong with it, appended to the prompt for the next try."""
    again = _AGAIN.get(output_format, "Answer again, corrected, without mentioning this note.")
    return (
        ChatMessage("assistant", answer),
        ChatMessage("user", f"That answer was rejected: {rejection.message}\n{again}"),
    )


def reask_policy(accept: Acceptance, limit: int) -> Reask | None:
    """With a schema or validators, rejected answers are re-asked (the model sees the problem); with only a
    format to meet, a failure falls back at once."""
    if limit <= 0 or not accept.checks_content:
        return None
    return Reask(limit, functools.partial(reask_turns, output_format=accept.output_format))
