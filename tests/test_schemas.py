"""compile_schema: unusable schemas are refused up front naming the field; caller regexes run on RE2."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.errors import InvalidArgumentError, Reason
from orchestrator.schemas import MAX_DEPTH, MAX_VIOLATIONS, compile_schema

BACKTRACKS = "^(a+)+$"  # exponential on Python's re for "aaaa…a!"
EVIL_KEY = "a" * 5000 + "!"


def refused(schema: Any, field: str = "json_schema") -> dict[str, str]:
    with pytest.raises(InvalidArgumentError) as caught:
        compile_schema(schema, field, Reason.INVALID_JSON_SCHEMA)
    assert caught.value.reason == Reason.INVALID_JSON_SCHEMA
    return {v.field: v.description for v in caught.value.field_violations}


@pytest.mark.parametrize(
    ("schema", "instance", "path"),
    [
        ({"properties": {"x": {"pattern": BACKTRACKS}}}, {"x": EVIL_KEY}, "x"),
        ({"patternProperties": {BACKTRACKS: {"type": "integer"}}}, {EVIL_KEY: 1, "aa": "no"}, "aa"),
        ({"patternProperties": {BACKTRACKS: {}}, "additionalProperties": False}, {EVIL_KEY: 1}, "$"),
        ({"patternProperties": {BACKTRACKS: {}}, "unevaluatedProperties": False}, {EVIL_KEY: 1}, "$"),
        (
            {
                "$schema": "https://json-schema.org/draft/2019-09/schema",
                "patternProperties": {BACKTRACKS: {}},
                "unevaluatedProperties": False,
            },
            {EVIL_KEY: 1},
            "$",
        ),
        (
            {"$schema": "http://json-schema.org/draft-07/schema#", "properties": {"x": {"pattern": BACKTRACKS}}},
            {"x": EVIL_KEY},
            "x",
        ),
    ],
    ids=["pattern", "patternProperties", "additionalProperties", "unevaluated", "draft2019", "draft7"],
)
def test_every_keyword_that_matches_caller_regexes_runs_in_linear_time(
    schema: dict[str, Any], instance: Any, path: str
) -> None:
    compiled = compile_schema(schema, "json_schema", Reason.INVALID_JSON_SCHEMA)

    errors = compiled.errors(instance)  # backtracking would take longer than the test's timeout

    assert [e.field for e in errors][:1] == [path]
    assert all(len(e.description) <= 301 for e in errors)


def test_patterns_re2_cannot_compile_are_refused_naming_each_field() -> None:
    problems = refused(
        {
            "properties": {"a": {"pattern": "(x)\\1"}, "b": {"items": {"pattern": "(?<=y)z"}}},
            "patternProperties": {"(?!q)": {}},
        }
    )

    assert set(problems) == {
        "json_schema.properties.a.pattern",
        "json_schema.properties.b.items.pattern",
        "json_schema.patternProperties.(?!q)",
    }
    assert all("RE2" in description for description in problems.values())


def test_data_that_looks_like_a_pattern_is_not_a_pattern() -> None:
    schema = {"properties": {"pattern": {"const": "(?=x)"}}, "examples": [{"pattern": "(x)\\1"}]}

    compiled = compile_schema(schema, "json_schema", Reason.INVALID_JSON_SCHEMA)

    assert compiled.is_valid({"pattern": "(?=x)"})


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ({"$ref": "https://example.com/remote.json"}, "json_schema.$ref"),
        ({"properties": {"x": {"$ref": "#/$defs/nowhere"}}}, "json_schema.properties.x.$ref"),
        ({"$ref": "#"}, "json_schema.$ref"),
        (
            {
                "$defs": {"a": {"allOf": [{"$ref": "#/$defs/b"}]}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}},
                "properties": {"x": {"$ref": "#/$defs/a"}},
            },
            "json_schema.$defs.b.anyOf[0].$ref",
        ),
    ],
    ids=["remote", "missing", "self", "loop"],
)
def test_references_must_resolve_locally_and_descend_before_they_loop(schema: dict[str, Any], field: str) -> None:
    assert field in refused(schema)


def test_recursion_through_a_child_and_local_ids_are_fine() -> None:
    schema = {
        "$id": "https://schemas.example/tree",
        "$defs": {"leaf": {"$id": "leaf", "type": "integer"}},
        "type": "object",
        "properties": {"value": {"$ref": "leaf"}, "children": {"type": "array", "items": {"$ref": "#"}}},
    }

    compiled = compile_schema(schema, "json_schema", Reason.INVALID_JSON_SCHEMA)

    assert compiled.is_valid({"value": 1, "children": [{"value": 2, "children": []}]})
    assert [e.field for e in compiled.errors({"children": [{"value": "x"}]}, "output")] == ["output.children.0.value"]


def test_meta_schema_errors_unknown_drafts_and_oversized_schemas_are_refused() -> None:
    deep: dict[str, Any] = {}
    for _ in range(MAX_DEPTH + 1):
        deep = {"not": deep}

    assert "json_schema.type" in refused({"type": "strin"})
    assert "json_schema.$schema" in refused({"$schema": "https://example.com/my-dialect"})
    assert list(refused(deep)) == ["json_schema"]
    assert list(refused({"enum": list(range(20_000))})) == ["json_schema"]
    assert list(refused(["not", "an", "object"])) == ["json_schema"]


def test_errors_are_sorted_capped_and_unique_items_is_not_quadratic() -> None:
    compiled = compile_schema(
        {"type": "array", "uniqueItems": True, "items": {"type": "object", "required": ["id"]}},
        "json_schema",
        Reason.INVALID_JSON_SCHEMA,
    )
    many = [{"id": i} for i in range(50_000)] + [{"id": 7.0}]

    duplicates = compiled.errors(many, "output")
    missing = compiled.errors([{"n": i} for i in range(30)], "output")

    assert [e.field for e in duplicates] == ["output"]
    assert [e.field for e in missing[:3]] == ["output.0", "output.1", "output.2"]
    assert len(missing) == MAX_VIOLATIONS + 1
    assert missing[-1].description == "and 10 more violations"


def test_a_validation_that_would_take_exponential_time_stops_at_its_budget() -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {"x": {}}}
    for _ in range(7):  # each level re-evaluates both branches for unevaluatedProperties: ~2.5 s unmetered
        schema = {
            "anyOf": [schema, {"unevaluatedProperties": False, "allOf": [schema]}],
            "unevaluatedProperties": False,
        }
    compiled = compile_schema(schema, "json_schema", Reason.INVALID_JSON_SCHEMA)

    errors = compiled.errors({"x": 1, "y": 2}, "variables", seconds=0.2)

    assert [(e.field, e.description) for e in errors] == [
        ("variables", "validation took longer than 0.2 s: the schema is too costly")
    ]
