"""JSON Schema -> GBNF grammar for constrained decoding, built (or refused) before a request is queued.

A schema the converter cannot turn into a grammar is the caller's error (INVALID_ARGUMENT, field
`json_schema`), reported at once: a failed build must never leave a call waiting for its deadline.
The build is bounded: the schema passes the same caps and loop checks as the pipeline's validation
(orchestrator.schemas), then the shapes llama-cpp-python's converter cannot express are refused up front
(references other than `#/...` pointers, `allOf` over anything but object schemas, repetition counts
beyond MAX_REPEAT), the conversion runs under a recursion limit on a worker thread with a time budget,
and the grammar text is parsed once by llama.cpp itself (undefined rules, left recursion) before use.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from orchestrator.errors import FieldViolation, Reason, clip, invalid_fields
from orchestrator.schemas import compile_schema

FIELD = "json_schema"
MAX_REPEAT = 4096  # minItems/maxItems/minLength/maxLength and regex {m,n}: the grammar grows with them
MAX_GRAMMAR_CHARS = 256 * 1024
BUILD_SECONDS = 5.0
CACHE_SIZE = 64
_COUNTS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")
_QUANTIFIER = re.compile(r"\{\s*(\d+)\s*(?:,\s*(\d*)\s*)?\}")


def refuse(description: str) -> Exception:
    return invalid_fields(
        f"json_schema: the embedded model cannot decode to this schema: {description}",
        [FieldViolation(FIELD, clip(description, 256))],
        Reason.INVALID_JSON_SCHEMA,
    )


def _pointer(root: Any, ref: str) -> Any:
    node = root
    for part in ref[2:].split("/") if ref != "#/" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise refuse(f"$ref {ref!r} does not resolve")
    return node


def _object_like(root: Any, schema: Any, seen: frozenset[str] = frozenset()) -> bool:
    if not isinstance(schema, dict):
        return False
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return ref not in seen and _object_like(root, _pointer(root, ref), seen | {ref})
    if "anyOf" in schema:
        return all(_object_like(root, s, seen) for s in schema["anyOf"])
    return "properties" in schema and schema.get("type", "object") == "object"


def check_supported(root: Any) -> None:
    """Refuse what llama-cpp-python's converter would crash on, loop on, mis-translate or blow up."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        ref = node.get("$ref")
        if ref is not None:
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise refuse(f"$ref {ref!r}: only references into the schema itself (#/...) are supported")
            _pointer(root, ref)
        for keyword in ("$dynamicRef", "$recursiveRef"):
            if keyword in node:
                raise refuse(f"{keyword} is not supported")
        if "allOf" in node and not all(_object_like(root, part) for part in node["allOf"] or [None]):
            raise refuse("allOf is supported only over object schemas with properties")
        for keyword in _COUNTS:
            value = node.get(keyword)
            if isinstance(value, int | float) and not isinstance(value, bool) and value > MAX_REPEAT:
                raise refuse(f"{keyword} {value} is above {MAX_REPEAT}")
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            for low, high in _QUANTIFIER.findall(pattern):
                if int(low) > MAX_REPEAT or (high and int(high) > MAX_REPEAT):
                    raise refuse(f"pattern repeats more than {MAX_REPEAT} times")
        stack.extend(v for k, v in node.items() if k not in ("enum", "const", "default", "examples"))


def to_gbnf(schema: dict[str, Any]) -> str:
    """The grammar text (blocking; run it on a worker thread). Raises INVALID_ARGUMENT."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    compile_schema(schema, FIELD, Reason.INVALID_JSON_SCHEMA)  # caps, meta-schema, reference loops
    check_supported(schema)
    if isinstance(schema.get("$ref"), str) and len(schema) > 1:
        # The converter resolves nothing beside a root $ref: the root's own definitions would stay unresolved.
        schema = {k: v for k, v in schema.items() if k != "$ref"} | {"anyOf": [{"$ref": schema["$ref"]}]}
    try:
        grammar = json_schema_to_gbnf(json.dumps(schema))
    except RecursionError:
        raise refuse("nested or recursive beyond what the converter can follow") from None
    except Exception as exc:  # the converter reports unsupported shapes with assorted exception types
        raise refuse(f"{type(exc).__name__}: {exc}") from None
    if len(grammar) > MAX_GRAMMAR_CHARS:
        raise refuse(f"its grammar would take {len(grammar)} characters (at most {MAX_GRAMMAR_CHARS})")
    return grammar


class GrammarCache:
    """Grammar text by schema content; `parses` is llama.cpp's own check of a grammar against the vocabulary."""

    def __init__(self, parses: Callable[[str], bool]) -> None:
        self._parses = parses
        self._built: OrderedDict[str, str] = OrderedDict()

    async def grammar(self, schema: dict[str, Any]) -> str:
        key = json.dumps(schema, sort_keys=True)
        grammar = self._built.get(key)
        if grammar is not None:
            self._built.move_to_end(key)
            return grammar
        try:
            async with asyncio.timeout(BUILD_SECONDS):
                grammar = await asyncio.to_thread(self._build, schema)
        except TimeoutError:
            raise refuse(f"building its grammar took over {BUILD_SECONDS:g} s") from None
        self._built[key] = grammar
        if len(self._built) > CACHE_SIZE:
            self._built.popitem(last=False)
        return grammar

    def _build(self, schema: dict[str, Any]) -> str:
        grammar = to_gbnf(schema)
        if not self._parses(grammar):
            raise refuse("llama.cpp rejected the grammar built from it (undefined or left-recursive rules)")
        return grammar
