"""Compiled templates: rendered in-process when provably cheap, otherwise in a worker process.

Where a render runs is decided per template at compile time and per render by the values' sizes:
- a template of at most `max_inline_template_chars` whose syntax tree passes `inline.inline_plan` (no
  loops, macros, calls or assignments) is compiled here, off the event loop, and rendered in-process
  whenever its linear bound for these values fits the output limit: the hot path stays cheap;
- everything else is compiled and rendered by `pool.WorkerPool`: a process with a hard time limit (the
  deadline checked in every loop iteration and macro call, then kill) and a hard memory limit.
Nothing is evaluated at compile time, so compiling cannot allocate beyond the limits either.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from jinja2 import Template

from orchestrator.errors import FieldViolation, Reason, invalid_fields
from orchestrator.templates.inline import InlinePlan, inline_plan
from orchestrator.templates.pool import WorkerPool
from orchestrator.templates.sandbox import RenderLimits, Sandbox, compile_tree, parse, render_text, undeclared_variables

__all__ = ["CompiledTemplate", "RenderLimits", "TemplateCompiler"]


class CompiledTemplate:
    """One template source, compiled once; `render` costs no parsing."""

    def __init__(
        self,
        source: str,
        field_name: str,
        variables: frozenset[str],
        limits: RenderLimits,
        pool: WorkerPool,
        inline: tuple[Template, InlinePlan] | None = None,
    ) -> None:
        self.source = source
        self.field_name = field_name
        # The names the template reads, e.g. to know whether it places the context itself.
        self.variables = variables
        self.key = hashlib.sha256(source.encode()).hexdigest()
        self._limits = limits
        self._pool = pool
        self._inline = inline
        # A template that reads no names (e.g. a fixed system message) renders the same text every time.
        self._fixed: str | None = None
        self._reads_nothing = inline is not None and not inline[1].weights

    @property
    def in_process(self) -> bool:
        """Whether this template may render in-process (for values that fit its bound)."""
        return self._inline is not None

    async def render(self, values: dict[str, Any]) -> str:
        if self._fixed is not None:
            return self._fixed
        limits = self._limits
        if self._inline is not None:
            template, plan = self._inline
            if plan.fits(values, limits.max_output_chars):
                text = render_text(template, values, self.field_name, limits.max_output_chars, limits.max_seconds)
                if self._reads_nothing:
                    self._fixed = text
                return text
        return await self._pool.render(self.key, self.source, self.field_name, values)


class TemplateCompiler:
    """Holds the in-process sandbox and the worker pool; compiles template sources."""

    def __init__(self, limits: RenderLimits | None = None) -> None:
        self.limits = limits or RenderLimits()
        self._env = Sandbox(self.limits.max_output_chars)
        self._pool = WorkerPool(self.limits)

    async def compile(self, source: str, field_name: str) -> CompiledTemplate:
        limits = self.limits
        if len(source) > limits.max_template_chars:
            raise invalid_fields(
                "the template is too large",
                [FieldViolation(field_name, f"at most {limits.max_template_chars} characters")],
                reason=Reason.TEMPLATE_TOO_LARGE,
            )
        if len(source) <= limits.max_inline_template_chars:
            # Parsing is linear in the (small) source; a thread keeps even that off the event loop.
            compiled = await asyncio.to_thread(self._compile_inline, source, field_name)
            if compiled is not None:
                return compiled
        variables = await self._pool.check(hashlib.sha256(source.encode()).hexdigest(), source, field_name)
        return CompiledTemplate(source, field_name, variables, limits, self._pool)

    def _compile_inline(self, source: str, field_name: str) -> CompiledTemplate | None:
        tree = parse(self._env, source, field_name)
        plan = inline_plan(tree)
        if plan is None:
            return None
        variables = undeclared_variables(tree, field_name)
        template = compile_tree(self._env, tree, field_name)
        return CompiledTemplate(source, field_name, variables, self.limits, self._pool, (template, plan))

    async def aclose(self) -> None:
        await self._pool.aclose()
