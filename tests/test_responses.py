"""Output shaping: code and JSON extraction, and a clear error when the answer holds neither."""

from __future__ import annotations

import pytest

from orchestrator.domain import OutputFormat
from orchestrator.errors import InvalidModelOutputError
from orchestrator.pipeline.shaping import extract_code, extract_json, shape

ANSWER = """Here you go.

```bash
pip install thing
```

```python
def add(a, b):
    return a + b
```
"""


def test_code_prefers_the_requested_language_else_the_first_block() -> None:
    assert extract_code(ANSWER, "python") == "def add(a, b):\n    return a + b"
    assert extract_code(ANSWER) == "pip install thing"
    assert extract_code("no fences at all") is None


def test_code_block_may_contain_shorter_fences() -> None:
    text = "````markdown\nUse ```python\nx = 1\n``` like this\n````"

    assert extract_code(text) == "Use ```python\nx = 1\n``` like this"


def test_json_skips_fenced_blocks_that_are_not_json() -> None:
    text = 'First:\n```\nnot json\n```\nThen:\n```json\n{"tasks": [1, 2]}\n```'

    assert extract_json(text) == {"tasks": [1, 2]}


def test_json_from_unfenced_text_objects_and_arrays() -> None:
    assert extract_json('The answer is {"a": {"b": [1, 2]}} as requested.') == {"a": {"b": [1, 2]}}
    assert extract_json("Items: [1, 2, 3]. Done.") == [1, 2, 3]
    assert extract_json('"just a string"') == "just a string"


def test_requested_formats_without_content_are_errors_not_empty_successes() -> None:
    with pytest.raises(InvalidModelOutputError) as no_json:
        shape("I cannot answer in JSON, sorry {", OutputFormat.JSON)
    with pytest.raises(InvalidModelOutputError) as no_code:
        shape("Just prose.", OutputFormat.CODE)

    assert no_json.value.reason == no_code.value.reason == "INVALID_MODEL_OUTPUT"


def test_json_shape_sets_structured_and_keeps_text() -> None:
    shaped = shape('```json\n[{"x": 1}]\n```', OutputFormat.JSON)

    assert shaped.has_structured and shaped.structured == [{"x": 1}]
    assert shaped.text.startswith("```json")
