"""The chart as a test sees it: `helm template` output as objects, and the deployment tools' binaries.

The binaries come from scripts/install_deploy_tools.sh (`make test` installs them into .tools/bin and puts that
directory first on PATH); the Python tools are the `deploy` extra, in the same virtualenv as the tests.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import ROOT

CHART = ROOT / "helm/llm-orchestrator"
PRODUCTION_VALUES = ROOT / "helm/examples/production.yaml"
VALUES_DIR = Path(__file__).parent / "values"
RELEASE = "llm-orchestrator"  # contains the chart's name, so the objects are named `llm-orchestrator[-...]`
NAMESPACE = "llm"
# The prometheus-operator kinds exist only where the cluster serves them; tests render as if it does.
MONITORING_APIS = ("monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule")


def tool(name: str) -> str:
    """A deployment tool: .tools/bin first, then the virtualenv, then PATH."""
    for candidate in (ROOT / ".tools/bin" / name, Path(sys.executable).parent / name):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed: run `make test` (scripts/install_deploy_tools.sh)")
    return found


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("helm"), *args], capture_output=True, text=True, timeout=120, check=False)


@dataclass
class Rendered:
    """The objects of one `helm template`, and its text for kubernetes-validate."""

    text: str
    objects: list[dict[str, Any]]

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        found = [o for o in self.all(kind) if name is None or o["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name or ''}, rendered {[o['metadata']['name'] for o in found]}"
        return found[0]

    @property
    def deployment(self) -> dict[str, Any]:
        return self.one("Deployment")

    @property
    def container(self) -> dict[str, Any]:
        return self.deployment["spec"]["template"]["spec"]["containers"][0]

    @property
    def config(self) -> dict[str, Any]:
        """The orchestrator configuration file, as the pod will read it."""
        data = self.one("ConfigMap", f"{RELEASE}-config")["data"]
        return yaml.safe_load(data["config.yaml"])


def render_result(
    *values: Path, monitoring: bool = True, sets: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    for file in values:
        args += ["--values", str(file)]
    for item in sets:
        args += ["--set", item]
    if monitoring:
        for api in MONITORING_APIS:
            args += ["--api-versions", api]
    return helm(*args)


def render(*values: Path, monitoring: bool = True, sets: tuple[str, ...] = ()) -> Rendered:
    result = render_result(*values, monitoring=monitoring, sets=sets)
    assert result.returncode == 0, result.stderr
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return Rendered(result.stdout, objects)


def alert_rules(rendered: Rendered) -> dict[str, Any]:
    """The PrometheusRule's groups as a plain Prometheus rules file (what promtool and Prometheus load)."""
    return {"groups": rendered.one("PrometheusRule")["spec"]["groups"]}
