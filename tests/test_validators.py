"""Validators per task type: each one rejecting an answer and the re-ask succeeding, falling back, streams,
custom validators found through their entry point, hostile patterns, RenderTemplate and check-config."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
import yaml
from orchestrator_client.v1 import generation_pb2 as gen
from orchestrator_client.v1 import templates_pb2 as tpl
from orchestrator_client.v1 import templates_pb2_grpc

from orchestrator.evaluation import build_validator
from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ROOT, ErrorDetails
from tests.routing_env import ask, routed_server

pytestmark = pytest.mark.timeout(120)

PLUGINS = ROOT / "tests" / "plugins"
# The issue's example, exactly as operators and the Helm values write it.
BUG_FIXING = [
    {"type": "must_match", "pattern": r"def [a-z_]+\("},
    {"type": "max_chars", "value": 4000},
    {"type": "code_parses", "language": "python"},
]


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """The acme-validators distribution on the import path, as if pip-installed next to the server."""
    monkeypatch.syspath_prepend(str(PLUGINS))


def tasks(validators: list[dict[str, Any]], task: str = "checked") -> dict[str, Any]:
    return {"tasks": {task: {"validators": validators}}}


def checked(text: str = "hello", output_format: int = gen.OUTPUT_FORMAT_TEXT) -> gen.GenerateRequest:
    request = ask(text)
    request.task_type = "checked"
    request.output_format = output_format  # type: ignore[assignment]
    return request


CODE = gen.OUTPUT_FORMAT_CODE
# (validator, its name, a failing answer, what the model is told, a passing answer, the output format)
CASES = [
    ({"type": "max_chars", "value": 20}, "max_chars", "x" * 50, "the answer has 50 characters; at most 20",
     "short answer", gen.OUTPUT_FORMAT_TEXT),
    ({"type": "min_chars", "value": 10}, "min_chars", "ok", "at least 10 are required",
     "a long enough answer", gen.OUTPUT_FORMAT_TEXT),
    ({"type": "must_match", "pattern": r"def [a-z_]+\("}, "must_match", "no function here",
     r"does not match the required pattern def [a-z_]+\(", "def add(a, b): return a + b", gen.OUTPUT_FORMAT_TEXT),
    ({"type": "must_not_match", "pattern": "(?i)todo"}, "must_not_match", "x = 1  # TODO fix",
     "contains 'TODO', which matches the forbidden pattern (?i)todo", "x = 1", gen.OUTPUT_FORMAT_TEXT),
    ({"type": "json_keys_required", "keys": ["title", "steps"]}, "json_keys_required", '{"title": "a"}',
     "lacks the required keys: steps", '{"title": "a", "steps": []}', gen.OUTPUT_FORMAT_JSON),
    ({"type": "code_parses", "language": "python"}, "code_parses", "```python\ndef f(:\n    pass\n```",
     "the python code does not parse: line 1", "```python\ndef f():\n    return 1\n```", CODE),
    ({"type": "code_parses", "language": "json"}, "code_parses", '```json\n{"a": }\n```',
     "the json code does not parse", '```json\n{"a": 1}\n```', gen.OUTPUT_FORMAT_TEXT),
    ({"type": "code_parses", "language": "yaml"}, "code_parses", "```yaml\na: [1, 2\n```",
     "the yaml code does not parse", "```yaml\na: [1, 2]\n```", CODE),
    ({"type": "no_refusal"}, "no_refusal", "I\u2019m sorry, but I can\u2019t help with that.",
     "reads as a refusal", "Here is the plan: first, reproduce the bug.", gen.OUTPUT_FORMAT_TEXT),
    ({"type": "custom", "entry_point": "banned_words", "options": {"words": ["lorem"]}}, "banned_words",
     "Lorem ipsum dolor", "the answer uses banned words: lorem", "A real answer", gen.OUTPUT_FORMAT_TEXT),
]  # fmt: skip


@pytest.mark.usefixtures("plugins")
@pytest.mark.parametrize(
    ("validator", "name", "bad", "told", "good", "output_format"),
    CASES,
    ids=[f"{c[1]}-{c[0].get('language', '')}".rstrip("-") for c in CASES],
)
async def test_each_validator_rejects_and_the_reask_succeeds(
    fake: FakeUpstream, validator: dict, name: str, bad: str, told: str, good: str, output_format: int
) -> None:
    fake.enqueue(Behaviour(text=bad), Behaviour(text=good), model="primary")

    async with routed_server(fake, sections=tasks([validator])) as client:
        answer = await client.generate(checked(output_format=output_format))

    assert answer.text == good
    assert [(a.model, a.outcome, a.validator) for a in answer.attempts] == [
        ("primary", gen.ATTEMPT_OUTCOME_INVALID_OUTPUT, name),
        ("primary", gen.ATTEMPT_OUTCOME_SUCCESS, ""),
    ]
    assert answer.attempts[0].error_reason == "INVALID_MODEL_OUTPUT"
    reask = fake.requests[1].body["messages"]
    assert (reask[-2]["role"], reask[-2]["content"]) == ("assistant", bad)
    assert reask[-1]["role"] == "user" and f"validator {name}: " in reask[-1]["content"]
    assert told in reask[-1]["content"]


async def test_the_issue_example_checks_in_order_and_a_configured_message_is_what_the_model_hears(
    fake: FakeUpstream,
) -> None:
    validators = [*BUG_FIXING[:2], {**BUG_FIXING[2], "message": "Return Python that compiles."}]
    fake.enqueue(
        Behaviour(text="```python\nprint('no def')\n```"),  # fails must_match first
        Behaviour(text="```python\ndef fix(:\n```"),  # matches, but does not parse
        Behaviour(text="```python\ndef fix(x):\n    return x\n```"),
        model="primary",
    )

    async with routed_server(fake, sections=tasks(validators), schema_reasks=2) as client:
        answer = await client.generate(checked(output_format=CODE))

    assert answer.code == "def fix(x):\n    return x"
    assert [a.validator for a in answer.attempts] == ["must_match", "code_parses", ""]
    assert (
        fake.requests[2]
        .body["messages"][-1]["content"]
        .startswith("That answer was rejected: validator code_parses: Return Python that compiles.\n")
    )


async def test_a_model_that_never_passes_falls_back_and_the_last_failure_names_the_validator(
    fake: FakeUpstream,
) -> None:
    fake.set_default(Behaviour(text="x" * 100), model="primary")
    fake.set_default(Behaviour(text="x" * 100), model="fallback")

    async with routed_server(fake, sections=tasks([{"type": "max_chars", "value": 10}]), schema_reasks=1) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.generate(checked())

    details = ErrorDetails(caught.value)
    assert (details.code, details.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INVALID_MODEL_OUTPUT")
    assert details.metadata == {"model": "fallback", "validator": "max_chars"}
    assert "validator max_chars: the answer has 100 characters; at most 10 are allowed" in details.message
    assert [r.model for r in fake.requests] == ["primary", "primary", "fallback", "fallback"]


async def test_a_stream_is_validated_at_its_end(fake: FakeUpstream) -> None:
    fake.enqueue(Behaviour(text="word " * 20), Behaviour(text="fine"), model="primary")

    async with routed_server(fake, sections=tasks([{"type": "max_chars", "value": 50}])) as client:
        events = []
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            async for event in client.stream_generate(checked()):
                events.append(event.WhichOneof("event"))
        passed = [e.WhichOneof("event") async for e in client.stream_generate(checked())]

    details = ErrorDetails(caught.value)
    assert (details.code, details.reason, details.metadata["validator"]) == (
        grpc.StatusCode.FAILED_PRECONDITION, "INVALID_MODEL_OUTPUT", "max_chars",
    )  # fmt: skip
    assert events[0] == "start" and "delta" in events and "final" not in events
    assert passed == ["start", "delta", "final"]


async def test_a_custom_validator_that_raises_rejects_the_answer_instead_of_failing_the_request(
    fake: FakeUpstream, plugins: None
) -> None:
    fake.set_default(Behaviour(text="anything"))

    async with routed_server(fake, sections=tasks([{"type": "custom", "entry_point": "broken"}])) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.generate(checked())

    details = ErrorDetails(caught.value)
    assert (details.reason, details.metadata["validator"]) == ("INVALID_MODEL_OUTPUT", "broken")
    assert "validator broken could not check the answer (KeyError)" in details.message


@pytest.mark.timeout(60)
def test_a_hostile_pattern_runs_in_linear_time() -> None:
    """(a+)+$ backtracks exponentially in a backtracking engine: Python's `re` would need ~2^50000 steps here.
    RE2 matches in one pass, so this finishes (the test's timeout is the bound; no timing is asserted)."""
    hostile = build_validator("must_not_match", {"pattern": "^(a+)+$"})
    nested = build_validator("must_match", {"pattern": "(x+x+)+y"})

    class Answer:
        text = "a" * 50_000 + "!"
        code, structured, has_structured = "", None, False

    assert hostile.problem(Answer()) is None
    assert nested.problem(Answer()) == r"the answer does not match the required pattern (x+x+)+y"


async def test_a_hostile_pattern_in_config_does_not_stall_the_server(fake: FakeUpstream) -> None:
    fake.enqueue(Behaviour(text="a" * 20_000 + "!"), model="primary")
    hostile = {"type": "must_not_match", "pattern": "^(a+)+$", "message": "no pure a-runs"}

    async with routed_server(fake, sections=tasks([hostile])) as client:
        answer = await client.generate(checked())

    assert answer.text == "a" * 20_000 + "!"  # does not match ^(a+)+$: accepted at once
    assert [a.outcome for a in answer.attempts] == [gen.ATTEMPT_OUTCOME_SUCCESS]


async def test_render_template_lists_the_validators_of_the_task(fake: FakeUpstream) -> None:
    async with routed_server(fake, sections=tasks(BUG_FIXING, task="bug_fixing")) as client:
        stub = templates_pb2_grpc.TemplateServiceStub(client.channel)
        render = tpl.RenderTemplateRequest(template_id="bug_fixing", task_type="bug_fixing")
        render.variables.update({"code": "def f(): pass", "bug_description": "NameError"})
        preview = await stub.RenderTemplate(render, timeout=30)
        render.task_type = ""
        without = await stub.RenderTemplate(render, timeout=30)

    assert [(v.name, v.type, v.description) for v in preview.validators] == [
        ("must_match", "must_match", r"matches def [a-z_]+\("),
        ("max_chars", "max_chars", "at most 4000 characters"),
        ("code_parses", "code_parses", "python code that parses"),
    ]
    assert list(without.validators) == []


def check_config(tmp_path: Path, validators: list[dict[str, Any]], pythonpath: str = "") -> subprocess.CompletedProcess:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"tasks": {"bug_fixing": {"validators": validators}}}))
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL", "PYTHONPATH"))}
    env["PYTHONPATH"] = pythonpath
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "check-config", "--config", str(path)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip


AT = "tasks.bug_fixing.validators[0]"
BAD_VALIDATORS = [
    pytest.param({"type": "max_lines", "value": 3}, f"{AT}.type: Input should be 'max_chars'", id="unknown type"),
    pytest.param(
        {"type": "must_match", "pattern": "def (?=x)"},
        f"{AT}.pattern: not a valid RE2 regular expression: invalid perl operator: (?=",
        id="lookahead",
    ),
    pytest.param(
        {"type": "must_not_match", "pattern": r"(a)\1"},
        f"{AT}.pattern: not a valid RE2 regular expression: invalid escape sequence: \\1",
        id="backreference",
    ),
    pytest.param(
        {"type": "custom", "entry_point": "no_such_validator"},
        f"{AT}.entry_point: no entry point 'no_such_validator' in group orchestrator.validators",
        id="unknown entry point",
    ),
    pytest.param(
        {"type": "custom", "entry_point": "banned_words"},
        f"{AT}.options: banned_words refused its options: options.words",
        id="bad options",
    ),
    pytest.param({"type": "max_chars", "pattern": "x"}, f"{AT}: pattern does not apply to type", id="stray field"),
    pytest.param({"type": "code_parses", "language": "cobol"}, f"{AT}.language: Input should be", id="language"),
]


@pytest.mark.parametrize(("validator", "problem"), BAD_VALIDATORS)
def test_check_config_rejects_bad_validators_naming_the_path(
    tmp_path: Path, validator: dict[str, Any], problem: str
) -> None:
    result = check_config(tmp_path, [validator], pythonpath=str(PLUGINS))

    assert result.returncode == 2, result.stdout
    assert problem in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_accepts_the_issue_example_and_an_installed_custom_validator(tmp_path: Path) -> None:
    custom = {"type": "custom", "entry_point": "banned_words", "options": {"words": ["lorem"]}}

    result = check_config(tmp_path, [*BUG_FIXING, custom], pythonpath=str(PLUGINS))
    without_plugin = check_config(tmp_path, [custom])

    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout
    assert without_plugin.returncode == 2 and "no entry point 'banned_words'" in without_plugin.stderr
