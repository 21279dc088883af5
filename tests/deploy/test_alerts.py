"""The chart's alert rules, as rendered, checked and unit-tested by promtool (tests/deploy/alerts_test.yaml)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.chart import alert_rules, render, tool

pytestmark = pytest.mark.timeout(120)
UNIT_TESTS = Path(__file__).parent / "alerts_test.yaml"


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("promtool"), *args], capture_output=True, text=True, cwd=cwd, timeout=60, check=False)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(alert_rules(render()), sort_keys=False))
    shutil.copy(UNIT_TESTS, tmp_path / UNIT_TESTS.name)
    return tmp_path


def test_rendered_rules_pass_promtool_check(workdir: Path) -> None:
    result = promtool("check", "rules", "rules.yaml", cwd=workdir)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout


def test_rendered_rules_pass_their_unit_tests(workdir: Path) -> None:
    result = promtool("test", "rules", UNIT_TESTS.name, cwd=workdir)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_firing_unit_test() -> None:
    alerts = {rule["alert"] for group in alert_rules(render())["groups"] for rule in group["rules"]}
    tests = yaml.safe_load(UNIT_TESTS.read_text())["tests"]
    fired = {
        check["alertname"] for test in tests for check in test["alert_rule_test"] if check.get("exp_alerts")
    }  # fmt: skip

    assert alerts == fired
    assert alerts == {
        "LLMOrchestratorHighErrorRatio",
        "LLMOrchestratorHighLatencyP99",
        "LLMOrchestratorModelCircuitOpen",
        "LLMOrchestratorBudgetNearlySpent",
        "LLMOrchestratorSharedStateFailing",
    }


def test_thresholds_follow_the_values(tmp_path: Path) -> None:
    values = tmp_path / "thresholds.yaml"
    values.write_text(yaml.safe_dump({"prometheusRule": {"errorRatio": 0.2, "latencyP99Seconds": 12}}))

    rules = alert_rules(render(values))
    exprs = {rule["alert"]: rule["expr"] for rule in rules["groups"][0]["rules"]}

    assert exprs["LLMOrchestratorHighErrorRatio"].strip().endswith("> 0.2")
    assert exprs["LLMOrchestratorHighLatencyP99"].strip().endswith("> 12")
