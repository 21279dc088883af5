"""Sandboxed Jinja2: templates are compiled once, rendered with limits; variables stay data.

Caller variables are passed as values, never parsed as template code. The sandbox blocks private
attributes, str.format tricks and `attr` escapes (jinja2 >= 3.1.6), `range` beyond 100,000 items;
on top of it we cap exponents, sequence repetition, the rendered size and the render time.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from orchestrator.errors import FieldViolation, InvalidArgumentError, Reason, invalid_fields

MAX_POWER_BITS = 4096
_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined")


class _LimitedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"**", "*"})

    def __init__(self, max_output_chars: int) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
        self.max_output_chars = max_output_chars

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and max(left.bit_length(), 1) * right > MAX_POWER_BITS
        ):
            raise SecurityError("exponent too large")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * times > self.max_output_chars
                ):
                    raise SecurityError("repetition result too large")
        return super().call_binop(context, operator, left, right)


@dataclass(frozen=True, slots=True)
class RenderLimits:
    max_template_chars: int = 64 * 1024
    max_output_chars: int = 1024 * 1024
    max_seconds: float = 1.0


class CompiledTemplate:
    """One template source compiled once; `render` costs no parsing."""

    def __init__(self, env: _LimitedSandbox, source: str, field_name: str, limits: RenderLimits) -> None:
        if len(source) > limits.max_template_chars:
            raise invalid_fields(
                "the template is too large",
                [FieldViolation(field_name, f"at most {limits.max_template_chars} characters")],
                reason=Reason.TEMPLATE_TOO_LARGE,
            )
        try:
            self._template = env.from_string(source)
            # The names the template reads, e.g. to know whether it places the context itself.
            self.variables = frozenset(meta.find_undeclared_variables(env.parse(source)))
        except TemplateSyntaxError as exc:
            raise invalid_fields(
                f"template syntax error in {field_name} at line {exc.lineno}: {exc.message}",
                [FieldViolation(field_name, f"line {exc.lineno}: {exc.message}")],
                reason=Reason.TEMPLATE_SYNTAX_ERROR,
            ) from None
        self._limits = limits
        self._field_name = field_name

    def render(self, variables: dict[str, Any]) -> str:
        limits = self._limits
        deadline = time.monotonic() + limits.max_seconds
        parts: list[str] = []
        size = 0
        try:
            for chunk in self._template.generate(variables):
                size += len(chunk)
                if size > limits.max_output_chars:
                    raise _RenderLimit(f"rendered text exceeds {limits.max_output_chars} characters")
                if time.monotonic() > deadline:
                    raise _RenderLimit(f"rendering took longer than {limits.max_seconds} s")
                parts.append(chunk)
        except _RenderLimit as exc:
            raise InvalidArgumentError(str(exc), reason=Reason.TEMPLATE_RENDER_LIMIT) from None
        except UndefinedError as exc:
            match = _UNDEFINED_NAME.search(str(exc))
            name = match.group(1) if match else ""
            raise invalid_fields(
                f"template uses an undefined value: {exc.message}",
                [FieldViolation(f"variables.{name}" if name else "variables", str(exc.message))],
                reason=Reason.TEMPLATE_VARIABLE_UNDEFINED,
            ) from None
        except SecurityError as exc:
            raise InvalidArgumentError(
                f"the template did something the sandbox forbids: {exc}", reason=Reason.TEMPLATE_SECURITY_VIOLATION
            ) from None
        except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as exc:
            raise InvalidArgumentError(
                f"rendering {self._field_name} failed: {type(exc).__name__}: {exc}",
                reason=Reason.TEMPLATE_RENDER_FAILED,
            ) from None
        return "".join(parts)


class _RenderLimit(Exception):
    pass


class TemplateCompiler:
    """Holds the one sandbox environment; compiles template sources."""

    def __init__(self, limits: RenderLimits | None = None) -> None:
        self.limits = limits or RenderLimits()
        self._env = _LimitedSandbox(self.limits.max_output_chars)

    def compile(self, source: str, field_name: str) -> CompiledTemplate:
        return CompiledTemplate(self._env, source, field_name, self.limits)
