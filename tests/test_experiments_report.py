"""`orchestrator experiments report --task T`: its numbers against a seeded ledger, and end to end from a server's
requests and feedback to the command's output."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from orchestrator_client.v1 import feedback_pb2, feedback_pb2_grpc
from orchestrator_client.v1 import generation_pb2 as gen

from orchestrator.cli import main
from orchestrator.config import FeedbackSettings
from orchestrator.feedback import FeedbackRecord, RequestRecord, open_feedback_store
from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ROOT
from tests.routing_env import routed_server

pytestmark = pytest.mark.timeout(120)
DAY = 86400.0


def seeded(task: str, version: str, model: str, n: int, **fields: Any) -> list[RequestRecord]:
    base = RequestRecord(
        service="rd", request_id="", task_type=task, template_id="triage", template_version=version, model=model,
        outcome="success", rejected_answers=0, reasks=0, latency_ms=100.0, input_tokens=100, output_tokens=10,
        cost_usd=0.001, cache_hit=False, created_at=time.time() - 60,
    )  # fmt: skip
    return [replace(base, request_id=f"{task}-{version}-{model}-{i}", **fields) for i in range(n)]


async def seed(path: Path) -> None:
    store = await open_feedback_store(FeedbackSettings(store={"type": "sqlite", "path": str(path)}))  # type: ignore[arg-type]
    v3 = seeded("triage", "3", "primary", 8)
    v3[1] = replace(v3[1], rejected_answers=1, reasks=1, cost_usd=0.002, outcome="success")
    v3[4] = replace(v3[4], rejected_answers=2, reasks=1, cost_usd=0.002, outcome="INVALID_MODEL_OUTPUT")
    v3_fallback = seeded("triage", "3", "fallback", 2, cost_usd=0.003)
    v4 = seeded("triage", "4", "primary", 5)
    too_old = replace(seeded("triage", "4", "primary", 1)[0], request_id="old", created_at=time.time() - 40 * DAY)
    other_task = seeded("code_generation", "3", "primary", 3)
    clear_a, clear_b = seeded("clear", "a", "primary", 30), seeded("clear", "b", "primary", 30)
    await store.add_requests([*v3, *v3_fallback, *v4, too_old, *other_task, *clear_a, *clear_b])
    now = time.time()
    scores = [(v3[0], 1.0, ""), (v3[1], 0.8, ""), (v3[2], 0.6, ""), (v3[3], 0.6, ""), (v3_fallback[0], 1.0, "good"),
              (v4[0], 0.2, ""), (v4[1], 0.4, ""), (too_old, 0.0, ""), (other_task[0], 0.0, "")]  # fmt: skip
    scores += [(r, 0.9 if i % 2 else 0.95, "") for i, r in enumerate(clear_a)]
    scores += [(r, 0.2 if i % 2 else 0.3, "") for i, r in enumerate(clear_b)]
    for record, score, label in scores:
        await store.put_feedback(FeedbackRecord("rd", record.request_id, score, label, "", now))
    await store.aclose()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"feedback": {"store": {"type": "sqlite", "path": str(tmp_path / "f.db")}}}))
    return path


def report(config: Path, task: str, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["experiments", "report", "--task", task, "--config", str(config), *extra]) == 0
    return capsys.readouterr().out


def test_the_report_numbers_match_the_seeded_feedback(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(seed(tmp_path / "f.db"))

    data = json.loads(report(config, "triage", capsys, "--json", "--days", "30"))

    rows = {(r["template_version"], r["model"]): r for r in data["rows"]}
    variants = {r["template_version"]: r for r in data["variants"]}
    assert set(rows) == {("3", "fallback"), ("3", "primary"), ("4", "primary")}
    primary3 = rows[("3", "primary")]
    assert (primary3["requests"], primary3["feedback"], primary3["reasks"]) == (8, 4, 2)
    assert primary3["mean_score"] == pytest.approx(0.75)
    # s = sqrt(0.11 / 3); half width = t(3) * s / sqrt(4) = 3.182 * 0.0957427; clipped to [0, 1]
    assert primary3["score_interval"] == pytest.approx({"low": 0.445347, "high": 1.0}, abs=1e-5)
    assert primary3["failure_rate"] == pytest.approx(0.25)
    assert primary3["cost_per_request"] == pytest.approx(0.010 / 8)
    v3 = variants["3"]  # both models: 10 requests, scores 1.0 0.8 0.6 0.6 1.0 (the label "good" counts as 1.0)
    assert (v3["model"], v3["requests"], v3["scored"]) == ("*", 10, 5)
    assert v3["mean_score"] == pytest.approx(0.8)
    assert v3["score_interval"] == pytest.approx({"low": 0.551707, "high": 1.0}, abs=1e-5)  # t(4) = 2.776
    assert v3["failure_rate"] == pytest.approx(0.2)
    assert v3["failure_interval"] == pytest.approx({"low": 0.056681, "high": 0.509837}, abs=1e-5)  # Wilson 2/10
    assert v3["cost_per_request"] == pytest.approx(0.016 / 10)
    v4 = variants["4"]  # the 40-day-old request is outside the window
    assert (v4["requests"], v4["scored"], v4["failure_rate"]) == (5, 2, 0.0)
    assert v4["mean_score"] == pytest.approx(0.3)
    assert v4["score_interval"] == {"low": 0.0, "high": 1.0}  # 0.3 ± 12.706 · 0.1: t(1) = 12.706, clipped
    assert data["leader"] == "3"
    assert "intervals overlap" in data["verdict"]


def test_a_variant_leads_clearly_when_its_interval_is_above_the_others(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(seed(tmp_path / "f.db"))

    text = report(config, "clear", capsys)

    lines = text.splitlines()
    assert lines[0] == "task clear, last 30 days"
    assert lines[2].split() == ["variant", "model", "requests", "feedback", "mean", "score", "95%", "CI", "validation",
                                "fail", "95%", "CI", "re-asks", "cost/request"]  # fmt: skip
    a_total = next(line for line in lines if line.startswith("a ") and " * " in line).split()
    assert a_total[:5] == ["a", "*", "30", "30", "0.925"]
    assert lines[-1] == "variant a leads: its 95% interval lies above every other variant's"


def test_a_task_without_requests_says_so(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        report(config, "nothing_here", capsys).strip() == "task nothing_here: no requests recorded in the last 30 days"
    )


async def test_the_report_reflects_a_servers_requests_and_feedback(tmp_path: Path) -> None:
    """End to end: a server with validators and variants writes its ledger to SQLite; feedback joins it; the
    command (another process) reports what happened."""
    ledger = str(tmp_path / "ledger.db")
    sections = {
        "feedback": {"store": {"type": "sqlite", "path": ledger}},
        "tasks": {"bug_fixing": {"validators": [{"type": "max_chars", "value": 40}]}},
    }
    async with FakeUpstream() as fake:
        fake.enqueue(Behaviour(text="far too long an answer for this task's limit"), model="primary")
        fake.set_default(Behaviour(text="a short fix"), model="primary")
        async with routed_server(fake, sections=sections) as client:
            stub = feedback_pb2_grpc.FeedbackServiceStub(client.channel)
            for n in range(4):
                request = gen.GenerateRequest(
                    request_id=f"e2e-{n}", task_type="bug_fixing", template_id="bug_fixing",
                    selection=gen.ModelSelection(preferred_model="primary"),
                )  # fmt: skip
                request.variables.update({"bug_description": "boom", "code": "x"})
                await client.generate(request)
                await stub.RecordFeedback(feedback_pb2.RecordFeedbackRequest(request_id=f"e2e-{n}", score=n / 4))
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"feedback": sections["feedback"]}))

    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "orchestrator", "experiments", "report", "--task", "bug_fixing", "--config", str(path),
         "--json"], capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)["rows"]
    assert (row["template_version"], row["model"], row["requests"], row["feedback"]) == ("1.0", "primary", 4, 4)
    assert row["reasks"] == 1 and row["failure_rate"] == pytest.approx(0.25)
    assert row["mean_score"] == pytest.approx((0 + 0.25 + 0.5 + 0.75) / 4)
