"""JSON Schemas from callers: checked once, then validated in linear time.

`compile_schema(schema, field, reason)` rejects, before anything is paid for and naming the field:
schemas beyond the size and depth caps; anything the dialect's meta-schema rejects (Draft 2020-12
unless `$schema` names another supported draft); a `pattern` or `patternProperties` key that RE2
cannot compile (backreferences, lookaround); a `$ref` that does not resolve locally (remote
references are never fetched); and references that loop back without descending into the instance
(validation would recurse forever).

Validation then runs every caller regular expression on RE2, which matches in linear time: jsonschema
calls `re.search` from its keyword functions and helpers (`pattern`, `patternProperties`, and the
property bookkeeping of `additionalProperties` / `unevaluatedProperties`), so those functions are
re-created with a namespace whose `re` is RE2 (the originals, and every other jsonschema user, are
untouched). `format` is not asserted, so `format: regex` never compiles instance data. `uniqueItems`
compares canonical forms through a set instead of every pair. Every validation has a time budget
(`MAX_VALIDATION_SECONDS`): some small schemas still cost exponential time.

For the pipeline: `compile_schema(request.json_schema, "json_schema", Reason.INVALID_JSON_SCHEMA)`
once per request (cached by content), then `compiled.errors(answer, "output")` per answer.
"""

from __future__ import annotations

import functools
import json
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import re2
import referencing
import referencing.exceptions
import referencing.jsonschema
from jsonschema import (
    Draft4Validator,
    Draft6Validator,
    Draft7Validator,
    Draft201909Validator,
    Draft202012Validator,
    _keywords,
    _legacy_keywords,
    _utils,
)
from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend, validator_for
from jsonschema_specifications import REGISTRY as SPECIFICATIONS

from orchestrator.errors import FieldViolation, Reason, clip, invalid_fields

# Checking against the 2020-12 meta-schema costs jsonschema ~0.2-0.8 ms a value: 2,000 values is at most ~1 s.
MAX_NODES = 2_000
MAX_DEPTH = 64
MAX_PATTERN_CHARS = 4096
MAX_VIOLATIONS = 20
MAX_VALIDATION_SECONDS = 1.0
_DRAFTS: dict[type, referencing.Specification[Any]] = {
    Draft202012Validator: referencing.jsonschema.DRAFT202012,
    Draft201909Validator: referencing.jsonschema.DRAFT201909,
    Draft7Validator: referencing.jsonschema.DRAFT7,
    Draft6Validator: referencing.jsonschema.DRAFT6,
    Draft4Validator: referencing.jsonschema.DRAFT4,
}
# Keywords whose value is a schema / a list of schemas / a map of schemas (all supported drafts).
_ONE = ("additionalItems", "additionalProperties", "contains", "contentSchema", "else", "if", "items", "not",
        "propertyNames", "then", "unevaluatedItems", "unevaluatedProperties")  # fmt: skip
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
_MAP = ("$defs", "definitions", "dependentSchemas", "dependencies", "patternProperties", "properties")
# Applied to the same instance (not to a part of it): a loop through these alone never ends.
_IN_PLACE = frozenset({"allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "dependencies"})
_REFS = ("$ref", "$dynamicRef", "$recursiveRef")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a rejected pattern is the caller's error, not a line on our stderr


@functools.lru_cache(maxsize=4096)
def _re2(pattern: str) -> Any:
    return re2.compile(pattern, _RE2_OPTIONS)


def _search(pattern: str, text: str) -> Any:
    return _re2(pattern).search(text)


def _with_re2() -> dict[Callable[..., Any], Callable[..., Any]]:
    """Copies of jsonschema's keyword functions and helpers that see RE2 as `re` (original -> copy)."""
    modules = (_keywords, _legacy_keywords, _utils)
    shim = types.SimpleNamespace(search=_search)
    namespaces = {m.__name__: {**vars(m), "re": shim} for m in modules}
    copies: dict[Callable[..., Any], Callable[..., Any]] = {}
    for module in modules:
        for obj in vars(module).values():
            if isinstance(obj, types.FunctionType) and obj.__module__ == module.__name__:
                copy = types.FunctionType(obj.__code__, namespaces[module.__name__], obj.__name__, obj.__defaults__)
                copy.__kwdefaults__ = obj.__kwdefaults__
                copies[obj] = copy
    for namespace in namespaces.values():  # helpers call each other through these namespaces
        for name, obj in namespace.items():
            if isinstance(obj, types.FunctionType) and obj in copies:
                namespace[name] = copies[obj]
    return copies


def _canonical(value: Any) -> Any:
    """Equal per JSON Schema <=> equal here (1 == 1.0, true != 1, objects unordered)."""
    if isinstance(value, bool) or value is None:
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, dict):
        return ("o", frozenset((k, _canonical(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return ("a", tuple(_canonical(v) for v in value))
    return ("s", value)


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if unique and validator.is_type(instance, "array"):
        seen = {_canonical(item) for item in instance}
        if len(seen) != len(instance):
            yield ValidationError(f"has non-unique elements ({len(instance) - len(seen)} repeated)")


class _OverBudget(Exception):
    pass


_budget = threading.local()  # per validation: keyword calls until the next clock check, and the deadline


def _metered(keyword: Callable[..., Any]) -> Callable[..., Any]:
    """Checks the validation's deadline every 1,000 keyword calls: some schemas (nested `anyOf` with
    `unevaluatedProperties`) cost exponential time, and the size caps alone do not bound that."""

    def metered(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        _budget.calls -= 1
        if _budget.calls <= 0:
            if time.monotonic() > _budget.deadline:
                raise _OverBudget
            _budget.calls = 1000
        return keyword(validator, value, instance, schema)

    return metered


_COPIES = _with_re2()
_VALIDATORS: dict[type, Any] = {}
for _cls in _DRAFTS:
    _keywords_re2 = {k: _COPIES.get(f, f) for k, f in _cls.VALIDATORS.items()} | {"uniqueItems": _unique_items}
    _VALIDATORS[_cls] = extend(_cls, {k: _metered(f) for k, f in _keywords_re2.items()})


class CompiledSchema:
    """A checked schema, ready to validate many instances."""

    def __init__(self, schema: Any, validator: Any) -> None:
        self.schema = schema
        self._validator = validator

    def is_valid(self, instance: Any) -> bool:
        return not self.errors(instance)

    def errors(self, instance: Any, prefix: str = "", seconds: float = MAX_VALIDATION_SECONDS) -> list[FieldViolation]:
        """Violations as (dotted path under `prefix`, description), sorted by path then description; the first
        MAX_VIOLATIONS, then one saying how many more (an echo of a huge instance must stay small). A
        validation that takes longer than `seconds` stops with one violation saying so."""
        _budget.calls, _budget.deadline = 1000, time.monotonic() + seconds
        try:
            found = [
                (_order(e.absolute_path), e.absolute_path, e.message) for e in self._validator.iter_errors(instance)
            ]
        except RecursionError:
            return [FieldViolation(prefix or "$", "nests too deeply to validate")]
        except _OverBudget:
            return [FieldViolation(prefix or "$", f"validation took longer than {seconds} s: the schema is too costly")]
        found.sort(key=lambda item: (item[0], item[2]))
        violations = [
            FieldViolation(_path(prefix, parts), clip(message, 300)) for _, parts, message in found[:MAX_VIOLATIONS]
        ]
        if len(found) > MAX_VIOLATIONS:
            violations.append(FieldViolation(prefix or "$", f"and {len(found) - MAX_VIOLATIONS} more violations"))
        return violations


def _order(parts: Any) -> tuple[tuple[int, int, str], ...]:
    """Sort key of an instance path: array indexes in numeric order, property names as text."""
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in parts)


def _path(prefix: str, parts: Any) -> str:
    return ".".join([*([prefix] if prefix else []), *(clip(str(p), 64) for p in parts)]) or "$"


def compile_schema(schema: Any, field: str, reason: Reason) -> CompiledSchema:
    """Check and compile a caller's JSON Schema; INVALID_ARGUMENT (with `reason`) naming `field` if unusable."""
    try:
        key = json.dumps(schema, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        raise invalid_fields("the schema is not JSON", [FieldViolation(field, "not JSON")], reason=reason) from None
    return _compile(key, field, reason)


@functools.lru_cache(maxsize=256)
def _compile(key: str, field: str, reason: Reason) -> CompiledSchema:
    schema = json.loads(key)
    problems = _shape_problems(schema, field)
    cls = validator_for(schema, default=None) if isinstance(schema, dict) and "$schema" in schema else None
    if isinstance(schema, dict) and "$schema" in schema and cls not in _DRAFTS:
        problems.append(FieldViolation(f"{field}.$schema", "not a supported draft (4, 6, 7, 2019-09, 2020-12)"))
    if not problems:
        cls = cls or Draft202012Validator
        meta = cls(cls.META_SCHEMA, format_checker=cls.FORMAT_CHECKER)
        problems = [
            FieldViolation(_path(field, e.absolute_path), clip(e.message, 300)) for e in meta.iter_errors(schema)
        ]
    if not problems:
        problems = _Walk(field, _DRAFTS[cls], schema).problems()
    if problems:
        problems.sort(key=lambda v: (v.field, v.description))
        raise invalid_fields(f"{field} is not a usable JSON Schema: {problems[0].description}", problems, reason)
    return CompiledSchema(schema, _VALIDATORS[cls](schema, registry=referencing.Registry(), format_checker=None))


def _shape_problems(schema: Any, field: str) -> list[FieldViolation]:
    if not isinstance(schema, dict | bool):
        return [FieldViolation(field, "must be an object or a boolean")]
    nodes, stack = 0, [(schema, 0)]
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            return [FieldViolation(field, f"has more than {MAX_NODES} values")]
        if depth > MAX_DEPTH:
            return [FieldViolation(field, f"nests deeper than {MAX_DEPTH} levels")]
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return []


class _Walk:
    """Every subschema with its path and resolver: patterns compiled on RE2, references resolved locally."""

    def __init__(self, field: str, specification: referencing.Specification[Any], schema: Any) -> None:
        self._field = field
        self._spec = specification
        self._problems: list[FieldViolation] = []
        self._edges: dict[int, list[tuple[int, str]]] = {}  # in-place: subschema -> (subschema, path)
        root = specification.create_resource(schema)
        self._schema = schema
        self._resolver = SPECIFICATIONS.resolver_with_root(root)

    def problems(self) -> list[FieldViolation]:
        self._visit(self._schema, self._field, self._resolver)
        state: dict[int, int] = {}  # 1: on the current path, 2: done
        for node in list(self._edges):
            if not self._problems and node not in state:
                self._find_loop(node, state)
        return self._problems

    def _visit(self, schema: Any, path: str, resolver: referencing.Resolver[Any]) -> None:
        if not isinstance(schema, dict):
            return
        if path != self._field and isinstance(schema.get("$id", schema.get("id")), str):
            resolver = resolver.in_subresource(self._spec.create_resource(schema))
        edges = self._edges.setdefault(id(schema), [])
        self._check_patterns(schema, path)
        for keyword in _REFS:
            ref = schema.get(keyword)
            if isinstance(ref, str):
                try:
                    target = resolver.lookup(ref).contents
                except referencing.exceptions.Unresolvable:
                    self._problems.append(
                        FieldViolation(
                            f"{path}.{keyword}", f"{clip(ref)!r} does not resolve (remote schemas are never fetched)"
                        )
                    )
                else:
                    edges.append((id(target), f"{path}.{keyword}"))
        for keyword, child, child_path in _children(schema, path):
            if keyword in _IN_PLACE and isinstance(child, dict):
                edges.append((id(child), child_path))
            self._visit(child, child_path, resolver)

    def _check_patterns(self, schema: dict[str, Any], path: str) -> None:
        patterns = [(f"{path}.pattern", schema["pattern"])] if isinstance(schema.get("pattern"), str) else []
        if isinstance(schema.get("patternProperties"), dict):
            patterns += [(f"{path}.patternProperties.{clip(p, 64)}", p) for p in schema["patternProperties"]]
        for where, pattern in patterns:
            if len(pattern) > MAX_PATTERN_CHARS:
                self._problems.append(FieldViolation(where, f"patterns are limited to {MAX_PATTERN_CHARS} characters"))
                continue
            try:
                _re2(pattern)
            except re2.error as exc:
                detail = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
                self._problems.append(
                    FieldViolation(where, f"not supported by the linear-time regex engine (RE2): {clip(str(detail))}")
                )

    def _find_loop(self, start: int, state: dict[int, int]) -> None:
        """Depth-first over in-place edges; a back edge is a loop that never consumes the instance."""
        stack: list[tuple[int, Iterator[tuple[int, str]]]] = [(start, iter(self._edges.get(start, ())))]
        state[start] = 1
        while stack:
            node, edges = stack[-1]
            step = next(edges, None)
            if step is None:
                state[node] = 2
                stack.pop()
                continue
            target, where = step
            if state.get(target) == 1:
                self._problems.append(
                    FieldViolation(
                        where, "refers back to itself without descending into the instance (endless recursion)"
                    )
                )
                return
            if target not in state and target in self._edges:
                state[target] = 1
                stack.append((target, iter(self._edges[target])))


def _children(schema: dict[str, Any], path: str) -> Iterator[tuple[str, Any, str]]:
    for keyword in _ONE:
        if isinstance(schema.get(keyword), dict):
            yield keyword, schema[keyword], f"{path}.{keyword}"
    for keyword in _MANY:
        if isinstance(schema.get(keyword), list):
            for index, child in enumerate(schema[keyword]):
                yield keyword, child, f"{path}.{keyword}[{index}]"
    for keyword in _MAP:
        if isinstance(schema.get(keyword), dict):
            for name, child in schema[keyword].items():
                yield keyword, child, f"{path}.{keyword}.{clip(str(name), 64)}"
