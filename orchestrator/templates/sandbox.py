"""The Jinja2 sandbox every template runs in, and how its failures become caller errors.

Caller variables are values, never parsed as template code. On top of Jinja's sandbox (private
attributes, str.format tricks, `attr` escapes, `range` beyond 100,000 items):
- nothing is evaluated while compiling: Jinja folds constant output such as `{{ 'a'|center(10**9) }}`
  at compile time (the optimizer, and separately `visit_Output`), so both are turned off;
- exponents, integer products, sequence repetition, numeric arguments of every filter, function and
  method call, and `replace` / `join` expansions are capped, so the common blow-ups fail at once with
  a clear reason (the worker's address-space limit stops whatever this misses);
- the rendered size and time are checked between output chunks.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from orchestrator.errors import FieldViolation, InvalidArgumentError, Reason, clip, invalid_fields

MAX_POWER_BITS = 4096
_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined")


@dataclass(frozen=True, slots=True)
class RenderLimits:
    max_template_chars: int = 64 * 1024
    max_output_chars: int = 1024 * 1024
    max_seconds: float = 1.0
    # The worker process's address space (RLIMIT_AS): what one render may allocate, plus ~40 MiB of Python.
    max_memory_bytes: int = 512 * 1024 * 1024
    # Templates up to this size that need no loops or calls are compiled and rendered in-process.
    max_inline_template_chars: int = 16 * 1024
    workers: int = 2
    # A worker unused this long exits (the pool starts another when needed).
    worker_idle_seconds: float = 300.0


class RenderLimitError(Exception):
    """A time or size limit stopped the render (raised from inside the template's code)."""


class _NoFoldCodeGenerator(CodeGenerator):
    """Jinja's code generator without compile-time evaluation of template expressions."""

    def _output_child_to_const(self, node: nodes.Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo) -> str:
        if isinstance(node, nodes.TemplateData):  # literal text: nothing to evaluate
            return super()._output_child_to_const(node, frame, finalize)
        raise nodes.Impossible()

    def visit_EvalContextModifier(self, node: nodes.EvalContextModifier, frame: Frame) -> None:
        # `{% autoescape expr %}`: Jinja evaluates `expr` at compile time when it can; treat it as runtime-only.
        for keyword in node.options:
            self.writeline(f"context.eval_ctx.{keyword.key} = ")
            self.visit(keyword.value, frame)
        frame.eval_ctx.volatile = True


_NUMBERS = re.compile(r"\d+")


class _TrackingCodeGenerator(meta.TrackingCodeGenerator, _NoFoldCodeGenerator):
    """`meta.find_undeclared_variables`, without its compile-time evaluation of constant output."""


def _result_bound(name: str, receiver: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """An upper bound of the size `replace` / `join` would build (0 for other calls)."""
    if name == "replace" and isinstance(receiver, str) and len(args) >= 2:
        old, new = args[0], args[1]
        if isinstance(old, str) and isinstance(new, str):
            count = receiver.count(old) if old else len(receiver) + 1  # linear, and exact
            return len(receiver) + count * len(new)
    if name == "join" and isinstance(receiver, str) and args and hasattr(args[0], "__len__"):
        return len(receiver) * len(args[0])
    return 0


class Sandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _NoFoldCodeGenerator
    intercepted_binops = frozenset({"**", "*", "%"})

    def __init__(self, max_output_chars: int) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, optimized=False)
        self.max_output_chars = max_output_chars
        self.filters = {name: self._guarded_filter(name, f) for name, f in self.filters.items()}

    def _check_arguments(self, name: str, receiver: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > self.max_output_chars:
                raise SecurityError(f"{name}(): argument {value} is larger than the output limit")
        if _result_bound(name, receiver, args, kwargs) > self.max_output_chars:
            raise SecurityError(f"{name}(): the result would exceed the output limit")

    def _guarded_filter(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        # The value being filtered is data (any size); its arguments are what can blow up.
        skip = 2 if getattr(func, "jinja_pass_arg", None) is not None else 1

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            value, rest = args[skip - 1] if len(args) >= skip else None, args[skip:]
            self._check_arguments(name, None, rest, kwargs)
            if name == "replace":
                self._check_arguments(name, value, rest, {})
            elif name == "join":
                separator = rest[0] if rest else kwargs.get("d", "")
                self._check_arguments(name, separator, (value,), {})
            return func(*args, **kwargs)

        return guarded

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        __self._check_arguments(getattr(__obj, "__name__", "call"), getattr(__obj, "__self__", None), args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        problem = _BINOP_CHECKS[operator](left, right, self.max_output_chars)
        if problem:
            raise SecurityError(problem)
        return super().call_binop(context, operator, left, right)


def _power(left: Any, right: Any, limit: int) -> str:
    too_big = isinstance(left, int) and isinstance(right, int) and max(left.bit_length(), 1) * right > MAX_POWER_BITS
    return "exponent too large" if too_big else ""


def _product(left: Any, right: Any, limit: int) -> str:
    if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_POWER_BITS:
        return "product too large"
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * times > limit:
            return "repetition result too large"
    return ""


def _printf(left: Any, right: Any, limit: int) -> str:
    # Widths and precisions in a format string ('%0999999999d' % 1) allocate before anything is output.
    too_wide = isinstance(left, str) and any(len(n) > 9 or int(n) > limit for n in _NUMBERS.findall(left))
    return "format width too large" if too_wide else ""


_BINOP_CHECKS: dict[str, Callable[[Any, Any, int], str]] = {"**": _power, "*": _product, "%": _printf}


def parse(env: Sandbox, source: str, field_name: str) -> nodes.Template:
    """The template's syntax tree; INVALID_ARGUMENT for syntax errors and nesting Python cannot follow."""
    try:
        return env.parse(source)
    except TemplateSyntaxError as exc:
        raise syntax_error(exc, field_name) from None
    except ValueError as exc:  # e.g. an integer literal beyond Python's 4,300 digits
        raise syntax_error(TemplateSyntaxError(str(exc), 1), field_name) from None
    except (RecursionError, MemoryError):
        raise too_complex(field_name) from None


def compile_tree(env: Sandbox, tree: nodes.Template, field_name: str) -> Template:
    try:
        return env.from_string(tree)
    except TemplateSyntaxError as exc:  # also unknown filters and tests (TemplateAssertionError)
        raise syntax_error(exc, field_name) from None
    except (RecursionError, MemoryError):
        raise too_complex(field_name) from None


def undeclared_variables(tree: nodes.Template, field_name: str) -> frozenset[str]:
    """The names a template reads from its variables (e.g. whether it places `context` itself)."""
    tracker = _TrackingCodeGenerator(tree.environment)  # type: ignore[arg-type]
    try:
        tracker.visit(tree)
    except TemplateSyntaxError as exc:
        raise syntax_error(exc, field_name) from None
    except (RecursionError, MemoryError):
        raise too_complex(field_name) from None
    return frozenset(tracker.undeclared_identifiers)


def syntax_error(exc: TemplateSyntaxError, field_name: str) -> InvalidArgumentError:
    message = clip(exc.message or "invalid syntax", 300)
    return invalid_fields(
        f"template syntax error in {field_name} at line {exc.lineno}: {message}",
        [FieldViolation(field_name, f"line {exc.lineno}: {message}")],
        reason=Reason.TEMPLATE_SYNTAX_ERROR,
    )


def too_complex(field_name: str) -> InvalidArgumentError:
    return invalid_fields(
        f"{field_name} nests too deeply to compile",
        [FieldViolation(field_name, "nests too deeply (blocks, expressions or parentheses)")],
        reason=Reason.TEMPLATE_TOO_COMPLEX,
    )


def render_text(template: Template, values: dict[str, Any], field_name: str, max_chars: int, seconds: float) -> str:
    """Render with the size and time limits checked between output chunks; every failure is INVALID_ARGUMENT."""
    deadline = time.monotonic() + seconds
    parts: list[str] = []
    size = 0
    try:
        for chunk in template.generate(values):
            size += len(chunk)
            if size > max_chars:
                raise RenderLimitError(f"rendered text exceeds {max_chars} characters")
            if time.monotonic() > deadline:
                raise RenderLimitError(f"rendering took longer than {seconds} s")
            parts.append(chunk)
    except RenderLimitError as exc:
        raise InvalidArgumentError(f"{field_name}: {exc}", reason=Reason.TEMPLATE_RENDER_LIMIT) from None
    except RecursionError:
        raise InvalidArgumentError(
            f"{field_name}: macro recursion or nesting too deep", reason=Reason.TEMPLATE_RENDER_LIMIT
        ) from None
    except MemoryError:
        raise InvalidArgumentError(
            f"{field_name}: rendering needs more memory than allowed", reason=Reason.TEMPLATE_RENDER_LIMIT
        ) from None
    except UndefinedError as exc:
        match = _UNDEFINED_NAME.search(str(exc))
        name = clip(match.group(1)) if match else ""
        message = clip(str(exc.message), 300)
        raise invalid_fields(
            f"template uses an undefined value: {message}",
            [FieldViolation(f"variables.{name}" if name else "variables", message)],
            reason=Reason.TEMPLATE_VARIABLE_UNDEFINED,
        ) from None
    except SecurityError as exc:
        raise InvalidArgumentError(
            f"the template did something the sandbox forbids: {clip(str(exc), 300)}",
            reason=Reason.TEMPLATE_SECURITY_VIOLATION,
        ) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as exc:
        raise InvalidArgumentError(
            f"rendering {field_name} failed: {type(exc).__name__}: {clip(str(exc), 300)}",
            reason=Reason.TEMPLATE_RENDER_FAILED,
        ) from None
    return "".join(parts)
