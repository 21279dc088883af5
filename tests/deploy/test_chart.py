"""The Helm chart, rendered for real: lint, Kubernetes schemas, what the objects promise, and the values schema.

`helm template` renders the chart with the default values and with helm/examples/production.yaml (Redis,
PostgreSQL, provider keys from Secrets, 3+ replicas under an HPA, NetworkPolicy); every object must pass
kubernetes-validate --strict for Kubernetes 1.30 and the newest version it knows, and the rendered configuration
must be accepted by `orchestrator check-config` with the pod's mounts and Secret-backed variables in place.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate.utils import latest_version

from tests.deploy.chart import (
    CHART,
    NAMESPACE,
    PRODUCTION_VALUES,
    RELEASE,
    VALUES_DIR,
    Rendered,
    helm,
    render,
    render_result,
    tool,
)
from tests.helpers import ROOT, TEMPLATES

pytestmark = pytest.mark.timeout(120)
VALUES = {"default": (), "production": (PRODUCTION_VALUES,)}
KUBERNETES_VERSIONS = ("1.30.0", latest_version())
PROBES = ("startupProbe", "livenessProbe", "readinessProbe")
WRITABLE_PATHS = {"/tmp", "/var/lib/orchestrator"}


@pytest.fixture(scope="module", params=list(VALUES))
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return render(*VALUES[request.param])


def test_the_chart_deploys_the_version_the_package_declares() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    package = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

    assert chart["appVersion"] == package
    assert render().container["image"] == f"llm-orchestrator:{package}"


@pytest.mark.parametrize("values", list(VALUES))
def test_helm_lint_strict_passes(values: str) -> None:
    args = ["lint", "--strict", str(CHART)]
    for file in VALUES[values]:
        args += ["--values", str(file)]

    result = helm(*args)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_passes_kubernetes_validate_strict(rendered: Rendered, version: str, tmp_path: Path) -> None:
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(rendered.text)

    result = subprocess.run(
        [tool("kubernetes-validate"), "--strict", "-k", version, str(manifest)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    checked = {line.split("for resource ")[1].split(" ")[0] for line in result.stdout.splitlines() if "passed" in line}
    core = {f"{o['kind'].lower()}/{o['metadata']['name']}" for o in rendered.objects if "coreos" not in o["apiVersion"]}
    assert checked == core  # every core object was checked; only the prometheus-operator kinds have no schema


def test_probes_are_native_grpc_on_the_serving_port(rendered: Rendered) -> None:
    port = rendered.config["server"]["port"]
    container = rendered.container

    assert {p["name"]: p["containerPort"] for p in container["ports"]}["grpc"] == port
    for name in PROBES:
        probe = container[name]
        assert probe["grpc"] == {"port": port}, name
        assert not {"httpGet", "tcpSocket", "exec"} & probe.keys(), name
    for service in rendered.all("Service"):
        grpc_port = next(p for p in service["spec"]["ports"] if p["name"] == "grpc")
        assert (grpc_port["port"], grpc_port["targetPort"]) == (port, "grpc")


def test_termination_grace_covers_the_drain_and_the_grace(rendered: Rendered) -> None:
    server = rendered.config["server"]
    pod = rendered.deployment["spec"]["template"]["spec"]

    assert pod["terminationGracePeriodSeconds"] >= server["drain_seconds"] + server["grace_seconds"]


def test_a_termination_grace_shorter_than_the_shutdown_is_refused() -> None:
    result = render_result(sets=("terminationGracePeriodSeconds=30",))  # default drain 10 + grace 30

    assert result.returncode != 0
    assert "terminationGracePeriodSeconds (30) must cover config.server.drain_seconds + grace_seconds (40)" in (
        result.stderr
    )


def test_tls_on_the_serving_port_is_refused_until_probes_can_reach_it(tmp_path: Path) -> None:
    values = tmp_path / "tls.yaml"
    values.write_text(yaml.safe_dump({"config": {"server": {"tls": {"cert_file": "/tls/tls.crt", "key_file": "/k"}}}}))

    result = render_result(values)

    assert result.returncode != 0
    assert "native gRPC probes cannot speak TLS" in result.stderr


def test_an_explicit_termination_grace_that_covers_the_shutdown_is_kept() -> None:
    pod = render(sets=("terminationGracePeriodSeconds=120",)).deployment["spec"]["template"]["spec"]

    assert pod["terminationGracePeriodSeconds"] == 120


def test_pods_meet_the_restricted_pod_security_standard(rendered: Rendered) -> None:
    pods = [rendered.deployment["spec"]["template"]["spec"], rendered.one("Pod")["spec"]]
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert {kind for v in pod.get("volumes", []) for kind in v if kind != "name"} <= {"configMap", "emptyDir"}
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert context["readOnlyRootFilesystem"] is True
            assert "memory" in container["resources"]["limits"]


def test_only_emptydirs_are_writable_and_they_hold_the_template_store(rendered: Rendered) -> None:
    mounts = {m["mountPath"]: m for m in rendered.container["volumeMounts"]}
    writable = {path for path, m in mounts.items() if not m.get("readOnly")}
    volumes = {v["name"]: v for v in rendered.deployment["spec"]["template"]["spec"]["volumes"]}

    assert writable == WRITABLE_PATHS
    assert all("emptyDir" in volumes[mounts[path]["name"]] for path in writable)
    for section in ("templates", "knowledge"):  # the SQLite stores must land on the data emptyDir
        store = rendered.config[section]["store"]
        if store["type"] == "sqlite":
            assert any(store["path"].startswith(path + "/") for path in writable), section


def test_the_rendered_config_is_accepted_by_check_config(rendered: Rendered, tmp_path: Path) -> None:
    """The pod's view: its ConfigMap mounts under a scratch root, its Secret-backed variables set."""
    config_path = _materialise_pod_files(rendered, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    for var in rendered.container["env"]:
        env[var["name"]] = var.get("value") or f"secret-{var['name'].lower()}"
    env["ORCHESTRATOR_CONFIG"] = str(config_path)

    result = subprocess.run(
        [sys.executable, "-m", "orchestrator", "check-config"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    seeds = len(list(TEMPLATES.glob("*.yaml")))
    assert f"{seeds} seed templates" in result.stdout


def test_the_config_names_secrets_only_as_environment_references() -> None:
    production = render(PRODUCTION_VALUES)
    refs = {v["name"]: v["valueFrom"]["secretKeyRef"] for v in production.container["env"] if "valueFrom" in v}

    assert refs == {
        "OPENAI_API_KEY": {"name": "llm-provider-keys", "key": "openai"},
        "ANTHROPIC_API_KEY": {"name": "llm-provider-keys", "key": "anthropic"},
        "ORCHESTRATOR_REDIS_URL": {"name": "llm-orchestrator-state", "key": "redis-url"},
        "ORCHESTRATOR_POSTGRES_DSN": {"name": "llm-orchestrator-state", "key": "postgres-dsn"},
    }
    config = production.config
    assert config["shared_state"]["redis_url"] == "${env:ORCHESTRATOR_REDIS_URL}"
    assert config["templates"]["store"] == {"type": "postgres", "dsn": "${env:ORCHESTRATOR_POSTGRES_DSN}"}
    assert config["knowledge"]["store"] == {"type": "postgres", "dsn": "${env:ORCHESTRATOR_POSTGRES_DSN}"}
    assert not render().all("Secret") and not production.all("Secret")  # the chart never holds a secret


def test_production_values_scale_out_under_an_hpa() -> None:
    production = render(PRODUCTION_VALUES)
    hpa = production.one("HorizontalPodAutoscaler")

    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": RELEASE}
    assert hpa["spec"]["minReplicas"] == 3
    assert "replicas" not in production.deployment["spec"]  # the HPA owns it
    assert production.one("PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    assert production.one("NetworkPolicy")["spec"]["policyTypes"] == ["Ingress"]


def test_defaults_run_one_replica_without_hpa_or_network_policy() -> None:
    default = render()

    assert default.deployment["spec"]["replicas"] == 1
    assert not default.all("HorizontalPodAutoscaler") and not default.all("NetworkPolicy")


@pytest.mark.parametrize(
    ("sets", "workers"),
    [
        ((), 1),  # requests.cpu 500m, no CPU limit: one worker (the node's CPU count would be far too many)
        (("resources.requests.cpu=1500m",), 2),
        (("resources.limits.cpu=2500m",), 3),
        (("resources.limits.cpu=4",), 4),
        (("resources.limits.cpu=4", "config.server.workers=2"), 2),  # set explicitly: kept
    ],
    ids=["default", "requests-1500m", "limit-2500m", "limit-4", "explicit"],
)
def test_workers_follow_the_containers_cpu_unless_set(sets: tuple[str, ...], workers: int) -> None:
    assert render(sets=sets).config["server"]["workers"] == workers


def test_replicas_spread_over_zones_and_nodes(rendered: Rendered) -> None:
    pod = rendered.deployment["spec"]["template"]["spec"]
    selector = rendered.deployment["spec"]["selector"]

    constraints = pod["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in constraints} == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    assert all(c["labelSelector"] == selector for c in constraints)


def test_a_clusterip_and_a_headless_service_select_the_pods(rendered: Rendered) -> None:
    services = {s["metadata"]["name"]: s["spec"] for s in rendered.all("Service")}
    pod_labels = rendered.deployment["spec"]["template"]["metadata"]["labels"]

    assert services[RELEASE]["type"] == "ClusterIP"
    assert services[f"{RELEASE}-headless"]["clusterIP"] == "None"
    assert all(spec["selector"].items() <= pod_labels.items() for spec in services.values())


def test_the_service_monitor_is_rendered_only_where_prometheus_operator_is_served() -> None:
    assert not render(monitoring=False).all("ServiceMonitor")
    assert not render(monitoring=False).all("PrometheusRule")
    with_operator = render()
    monitor = with_operator.one("ServiceMonitor")
    selected = [
        s for s in with_operator.all("Service")
        if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
    ]  # fmt: skip

    assert [s["metadata"]["name"] for s in selected] == [RELEASE]  # not the headless one too: no double scrape
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["port"] in {p["name"] for p in selected[0]["spec"]["ports"]}
    # The orchestrator's own `service` label (the caller) must not become exported_service.
    assert {"action": "labeldrop", "regex": "service"} in endpoint["relabelings"]


def test_metrics_port_zero_removes_the_metrics_port_and_the_service_monitor() -> None:
    rendered = render(sets=("config.server.metrics_port=0",))

    assert [p["name"] for p in rendered.container["ports"]] == ["grpc"]
    assert not rendered.all("ServiceMonitor")


def test_dashboards_ship_as_configmaps_for_the_grafana_sidecar(rendered: Rendered) -> None:
    dashboards = [c for c in rendered.all("ConfigMap") if c["metadata"]["labels"].get("grafana_dashboard") == "1"]

    shipped = {}
    for config_map in dashboards:
        ((file, text),) = config_map["data"].items()
        shipped[file] = json.loads(text)
    assert shipped == {
        f"llm-orchestrator-{path.name}": json.loads(path.read_text())
        for path in sorted((CHART / "dashboards").glob("*.json"))
    }
    assert {d["title"] for d in shipped.values()} == {
        "LLM Orchestrator / Performance", "LLM Orchestrator / Cost", "LLM Orchestrator / Usage",
    }  # fmt: skip


def test_prompt_templates_configmap_holds_the_seed_and_the_operators_templates(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text(yaml.safe_dump({"promptTemplates": {"files": {"greeting.yaml": {
        "template_id": "greeting", "version": "1", "user_message_template": "Say hello to {{ name }}.",
    }}}}))  # fmt: skip

    data = render(extra).one("ConfigMap", f"{RELEASE}-templates")["data"]

    seeds = {p.name: p.read_text() for p in TEMPLATES.glob("*.yaml")}
    assert {k: v for k, v in data.items() if k in seeds} == seeds
    assert set(data) == {*seeds, "greeting.yaml"}
    assert yaml.safe_load(data["greeting.yaml"])["template_id"] == "greeting"


def test_helm_test_pod_checks_grpc_health_through_the_service(rendered: Rendered) -> None:
    pod = rendered.one("Pod")
    port = rendered.config["server"]["port"]

    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    command = pod["spec"]["containers"][0]["command"]
    assert command[:2] == ["python", "/opt/orchestrator/bin/grpc-health-check"]
    assert command[2] == f"{RELEASE}:{port}"


def test_notes_tell_how_to_call_it_with_grpcurl() -> None:
    result = helm("install", RELEASE, str(CHART), "--namespace", NAMESPACE, "--dry-run=client")

    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    assert f"port-forward svc/{RELEASE} 50051:50051" in notes
    assert 'grpcurl -plaintext -d \'{"service": ""}\' localhost:50051 grpc.health.v1.Health/Check' in notes
    assert f"dns:///{RELEASE}-headless.{NAMESPACE}.svc.cluster.local:50051" in notes


@pytest.mark.parametrize(
    ("values_file", "complaint"),
    [
        ("unknown-key.yaml", "additional properties 'replicas' not allowed"),
        ("config-unknown-key.yaml", "at '/config/server': additional properties 'drain' not allowed"),
        ("config-wrong-type.yaml", "at '/config/server/grace_seconds': got string, want number"),
        ("config-moved-key.yaml", "at '/config/cache': additional properties 'url' not allowed"),
        ("config-bad-enum.yaml", "at '/config/templates/store/type'"),
        ("wrong-type.yaml", "at '/autoscaling/enabled': got string, want boolean"),
        ("secret-without-key.yaml", "at '/secrets/extra/VLLM_API_KEY': missing property 'key'"),
    ],
)
def test_the_values_schema_rejects_bad_values(values_file: str, complaint: str) -> None:
    result = render_result(VALUES_DIR / values_file)

    assert result.returncode != 0
    assert complaint in result.stderr
    lint = helm("lint", "--strict", str(CHART), "--values", str(VALUES_DIR / values_file))
    assert lint.returncode != 0


def _materialise_pod_files(rendered: Rendered, root: Path) -> Path:
    """Write each ConfigMap volume where the container mounts it (under `root`) and point the config there."""
    pod = rendered.deployment["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    config_maps = {c["metadata"]["name"]: c.get("data") or {} for c in rendered.all("ConfigMap")}
    mounts = [m["mountPath"] for m in rendered.container["volumeMounts"]]
    for mount in rendered.container["volumeMounts"]:
        target = root / mount["mountPath"].lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        source = volumes[mount["name"]]
        for file, text in config_maps.get(source.get("configMap", {}).get("name"), {}).items():
            (target / file).write_text(text)
    env = {v["name"]: v.get("value") for v in rendered.container["env"]}
    config_file = root / env["ORCHESTRATOR_CONFIG"].lstrip("/")

    def relocate(value: Any) -> Any:
        if isinstance(value, str) and any(value == m or value.startswith(m + "/") for m in mounts):
            return str(root / value.lstrip("/"))
        if isinstance(value, dict):
            return {k: relocate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [relocate(v) for v in value]
        return value

    config_file.write_text(yaml.safe_dump(relocate(yaml.safe_load(config_file.read_text()))))
    return config_file
