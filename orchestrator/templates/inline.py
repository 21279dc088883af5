"""Which templates are cheap enough to render in-process, on the request's own path.

A template qualifies when its syntax tree uses only text, variables, attribute and item look-ups,
`if`, comparisons, `~` / `+` and a few filters whose output grows at most by a constant factor — no
loops, macros, calls, assignments, `*` / `**` / `%`. Every node of such a template is evaluated at most
once, so the work and memory of a render are linear in the sizes of the values it reads. `InlinePlan`
keeps, per variable, how many characters of output one character of its value can produce; a render
whose bound fits the output limit runs in-process, anything else goes to the worker process.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes

MAX_DEPTH = 64  # deeper trees go to the worker: the bound below would still hold, but Python's stack might not
# Output characters per input character (e.g. escape: '"' -> '&#34;'; upper: 'ß' -> 'SS'; tojson: '\0' -> '\u0000').
_FILTERS: dict[str, int] = {
    "default": 1, "d": 1, "trim": 1, "string": 1, "safe": 1, "truncate": 1, "first": 1, "last": 1,
    "length": 1, "count": 1, "wordcount": 1, "int": 1, "float": 1, "abs": 1, "round": 1, "bool": 1,
    "upper": 3, "lower": 3, "title": 3, "capitalize": 3, "e": 6, "escape": 6, "forceescape": 6, "tojson": 6,
    "join": 0,  # computed from the separator
}  # fmt: skip
_TESTS = frozenset(
    {
        "defined", "undefined", "none", "boolean", "false", "true", "integer", "float", "number", "string",
        "mapping", "sequence", "iterable", "sameas", "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<",
        "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "odd", "even", "divisibleby", "lower", "upper",
    }
)  # fmt: skip
_COMPARISONS = frozenset({"eq", "ne", "lt", "lteq", "gt", "gteq"})
# Nodes whose cost is that of their children (the rest are not allowed).
_PLAIN = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.CondExpr, nodes.And, nodes.Or, nodes.Not,
    nodes.Neg, nodes.Pos, nodes.Concat, nodes.Add, nodes.Sub, nodes.Div, nodes.FloorDiv, nodes.Getattr,
    nodes.Getitem, nodes.Slice, nodes.Tuple, nodes.List, nodes.Dict, nodes.Pair, nodes.Keyword, nodes.Compare,
)  # fmt: skip
_MAX_CONST_ARG = 10_000


@dataclass(frozen=True, slots=True)
class InlinePlan:
    weights: tuple[tuple[str, int], ...]  # (variable, output characters per character of its value)
    fixed_chars: int  # text and constants

    def fits(self, values: Mapping[str, Any], limit: int) -> bool:
        """True when the render provably produces and allocates at most about `limit` characters."""
        budget = limit - self.fixed_chars
        for name, weight in self.weights:
            value = values.get(name)
            size = len(value) if type(value) is str else value_size(value, budget // weight + 1)
            budget -= weight * size
            if budget < 0:
                return False
        return True


def value_size(value: Any, cap: int) -> int:
    """Characters `value` may print as (repr of a container or an odd string: up to 10 per character).

    Stops counting once past `cap`, so a huge value costs no more than the budget it exceeds.
    """
    if isinstance(value, str):
        return len(value)
    if value is None:
        return 0  # not given: the render fails on the undefined name, or the template never reads it
    if isinstance(value, dict):
        items: list[Any] = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return 32  # numbers, booleans, None
    total = 2
    for item in items:
        total += 4 + (10 * len(item) if isinstance(item, str) else value_size(item, cap))
        if total > cap:
            break
    return total


class _Walk:
    def __init__(self) -> None:
        self.weights: Counter[str] = Counter()
        self.fixed = 0

    def visit(self, node: nodes.Node, factor: int, depth: int) -> bool:
        if depth > MAX_DEPTH:
            return False
        if isinstance(node, nodes.Name):
            if node.ctx != "load":
                return False
            self.weights[node.name] += factor
            return True
        if isinstance(node, nodes.Const | nodes.TemplateData):
            text = node.value if isinstance(node, nodes.Const) else node.data
            self.fixed += factor * (len(text) if isinstance(text, str) else 32)
            return True
        if isinstance(node, nodes.Filter):
            return self._filter(node, factor, depth)
        if isinstance(node, nodes.Test):
            return node.name in _TESTS and self._children(node, 1, depth) and _small_args(node)
        if isinstance(node, nodes.Operand) and node.op not in _COMPARISONS:
            return False
        if not isinstance(node, (*_PLAIN, nodes.Operand)):
            return False
        return self._children(node, factor, depth)

    def _filter(self, node: nodes.Filter, factor: int, depth: int) -> bool:
        grow = _FILTERS.get(node.name)
        if grow is None or node.node is None or not _small_args(node):
            return False
        if node.name == "join":
            separator = node.args[0] if node.args else None
            grow = 1 + (len(separator.value) if isinstance(separator, nodes.Const) else 0)
        return self._children(node, factor * grow, depth)

    def _children(self, node: nodes.Node, factor: int, depth: int) -> bool:
        return all(self.visit(child, factor, depth + 1) for child in node.iter_child_nodes())


def _small_args(node: nodes.Filter | nodes.Test) -> bool:
    """Constant arguments only, and small ones (e.g. `truncate(200)`, `join(', ')`)."""
    arguments = [*node.args, *(k.value for k in node.kwargs)]
    if node.dyn_args is not None or node.dyn_kwargs is not None:
        return False
    for arg in arguments:
        if not isinstance(arg, nodes.Const):
            return False
        value = arg.value
        if isinstance(value, str) and len(value) > 256:
            return False
        if isinstance(value, int) and abs(value) > _MAX_CONST_ARG:
            return False
    return True


def inline_plan(tree: nodes.Template) -> InlinePlan | None:
    """The plan when the template may render in-process; None when it must go to the worker."""
    walk = _Walk()
    if not walk.visit(tree, 1, 0):
        return None
    weights = tuple(sorted(walk.weights.items(), key=lambda item: -item[1]))
    return InlinePlan(weights, walk.fixed)
