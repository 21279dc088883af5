"""Who calls: bearer keys (rotated), client certificates, and what each service may do."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import generation_pb2 as gen
from orchestrator_client.v1 import templates_pb2 as tpl
from orchestrator_client.v1 import usage_pb2, usage_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from orchestrator.api.server import OrchestratorServer
from orchestrator.config import settings_from_mapping
from orchestrator.policy.keys import digest
from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ErrorDetails
from tests.routing_env import ask, routed_config, routed_server

RD_KEY, RD_NEW_KEY, PM_KEY, ADMIN_KEY = "orc_rd-old-key-1", "orc_rd-new-key-2", "orc_pm-key-3", "orc_admin-key-4"
AUTH = {
    "mode": "required",
    "services": [
        {"name": "rd", "key_sha256": [digest(RD_KEY), digest(RD_NEW_KEY)]},  # rotation: both keys valid
        {"name": "pm", "key_sha256": digest(PM_KEY), "task_types": ["requirement_analysis"], "models": ["primary"]},
        {"name": "ops", "key_sha256": digest(ADMIN_KEY), "admin": True},
    ],
}


def bearer(key: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {key}")]


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


@pytest_asyncio.fixture
async def client(fake: FakeUpstream) -> AsyncIterator[OrchestratorClient]:
    async with routed_server(fake, sections={"auth": AUTH}) as client:
        yield client


async def failure(call: object) -> ErrorDetails:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return ErrorDetails(caught.value)


def task(task_type: str, **selection: str) -> gen.GenerateRequest:
    request = ask(fallbacks=())
    request.task_type = task_type
    for key, value in selection.items():
        setattr(request.selection, key, value)
    return request


async def test_no_key_and_a_wrong_key_are_unauthenticated(client: OrchestratorClient) -> None:
    missing = await failure(client.generate(ask()))
    wrong = await failure(client.generate(ask(), metadata=bearer("orc_not-a-key")))
    not_bearer = await failure(client.generate(ask(), metadata=[("authorization", f"Basic {RD_KEY}")]))

    assert (missing.code, missing.reason) == (grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED")
    assert "'authorization' = 'Bearer <your key>'" in missing.message
    assert (wrong.code, wrong.reason) == (grpc.StatusCode.UNAUTHENTICATED, "INVALID_CREDENTIALS")
    assert (not_bearer.code, not_bearer.reason) == (grpc.StatusCode.UNAUTHENTICATED, "INVALID_CREDENTIALS")


async def test_both_keys_of_a_rotation_identify_the_service(client: OrchestratorClient) -> None:
    old = await client.generate(ask(), metadata=bearer(RD_KEY))
    new = await client.generate(ask(), metadata=bearer(RD_NEW_KEY))

    assert old.text and new.text


async def test_health_and_reflection_stay_open(client: OrchestratorClient) -> None:
    health = health_pb2_grpc.HealthStub(client.channel)

    answer = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)

    assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_task_type_the_service_may_not_use_is_denied(client: OrchestratorClient) -> None:
    denied = await failure(client.generate(task("code_generation"), metadata=bearer(PM_KEY)))
    allowed = await client.generate(task("requirement_analysis"), metadata=bearer(PM_KEY))

    assert (denied.code, denied.reason) == (grpc.StatusCode.PERMISSION_DENIED, "TASK_NOT_ALLOWED")
    assert "'code_generation'" in denied.message and denied.metadata["service"] == "pm"
    assert allowed.model == "primary"


async def test_a_model_the_service_may_not_use_is_denied_or_skipped(
    client: OrchestratorClient, fake: FakeUpstream
) -> None:
    named = await failure(
        client.generate(task("requirement_analysis", preferred_model="fallback"), metadata=bearer(PM_KEY))
    )
    fake.set_default(Behaviour(status=503), model="primary")
    routed = await failure(client.generate(task("requirement_analysis"), metadata=bearer(PM_KEY)))
    listed = await client.generation.ListModels(gen.ListModelsRequest(), metadata=bearer(PM_KEY), timeout=5)

    assert (named.code, named.reason) == (grpc.StatusCode.PERMISSION_DENIED, "MODEL_NOT_ALLOWED")
    assert "'fallback'" in named.message
    assert routed.code == grpc.StatusCode.UNAVAILABLE  # primary failed; fallback was never tried for pm
    assert fake.requests_for("fallback") == []
    assert [m.name for m in listed.models] == ["primary"]


async def test_only_the_owner_or_an_admin_changes_a_template(client: OrchestratorClient) -> None:
    template = tpl.PromptTemplate(template_id="rd-notes", user_message_template="Notes on {{ topic }}")
    created = await client.templates.CreateTemplate(
        tpl.CreateTemplateRequest(template=template), metadata=bearer(RD_KEY), timeout=5
    )
    template.user_message_template = "PM's take on {{ topic }}"
    by_other = await failure(
        client.templates.CreateTemplate(tpl.CreateTemplateRequest(template=template), metadata=bearer(PM_KEY))
    )
    delete_by_other = await failure(
        client.templates.DeleteTemplate(tpl.DeleteTemplateRequest(template_id="rd-notes"), metadata=bearer(PM_KEY))
    )
    rendered = await client.templates.RenderTemplate(
        tpl.RenderTemplateRequest(template_id="rd-notes", variables={"topic": "x"}, model="primary"),
        metadata=bearer(PM_KEY),
        timeout=5,
    )
    by_admin = await client.templates.CreateTemplate(
        tpl.CreateTemplateRequest(template=template), metadata=bearer(ADMIN_KEY), timeout=5
    )
    deleted = await client.templates.DeleteTemplate(
        tpl.DeleteTemplateRequest(template_id="rd-notes"), metadata=bearer(ADMIN_KEY), timeout=5
    )

    assert created.template.owner == "rd"
    assert (by_other.code, by_other.reason) == (grpc.StatusCode.PERMISSION_DENIED, "TEMPLATE_NOT_OWNED")
    assert "belongs to service 'rd'" in by_other.message
    assert delete_by_other.reason == "TEMPLATE_NOT_OWNED"
    assert rendered.messages[-1].content == "Notes on x"  # every service may read and render
    assert by_admin.template.version == "2" and by_admin.template.owner == "ops"
    assert list(deleted.deleted_versions) == ["1", "2"]


async def test_shipped_templates_are_changed_only_by_admins(client: OrchestratorClient) -> None:
    shipped = await client.templates.GetTemplate(
        tpl.GetTemplateRequest(template_id="code_generation"), metadata=bearer(RD_KEY), timeout=5
    )
    denied = await failure(
        client.templates.CreateTemplate(tpl.CreateTemplateRequest(template=shipped.template), metadata=bearer(RD_KEY))
    )

    assert shipped.template.owner == ""
    assert denied.reason == "TEMPLATE_NOT_OWNED" and "the operator" in denied.message


async def test_usage_is_readable_by_its_service_and_admins(client: OrchestratorClient) -> None:
    usage = usage_pb2_grpc.UsageServiceStub(client.channel)

    own = await usage.GetUsage(usage_pb2.GetUsageRequest(), metadata=bearer(PM_KEY), timeout=5)
    other = await failure(usage.GetUsage(usage_pb2.GetUsageRequest(service="rd"), metadata=bearer(PM_KEY)))
    as_admin = await usage.GetUsage(usage_pb2.GetUsageRequest(service="pm"), metadata=bearer(ADMIN_KEY), timeout=5)
    unknown = await failure(usage.GetUsage(usage_pb2.GetUsageRequest(service="qa"), metadata=bearer(ADMIN_KEY)))

    assert own.service == "pm" and as_admin.service == "pm"
    assert (other.code, other.reason) == (grpc.StatusCode.PERMISSION_DENIED, "USAGE_NOT_ALLOWED")
    assert (unknown.code, unknown.reason) == (grpc.StatusCode.NOT_FOUND, "SERVICE_NOT_FOUND")


def test_keys_new_prints_a_key_once_and_the_digest_to_configure() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator", "keys", "new", "--service", "qa"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    key = next(line.strip() for line in result.stdout.splitlines() if line.strip().startswith("orc_"))
    assert f'- {{name: qa, key_sha256: "{digest(key)}"}}' in result.stdout


# --- mutual TLS: a certificate signed by the configured CA identifies the service -----------------------


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1, and client certificates for rd (CN) and pm (SPIFFE URI)."""
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
             "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem")  # fmt: skip
    leaves = {
        "server": ("/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        "rd": ("/CN=rd", "subjectAltName=DNS:rd.example"),
        "pm": ("/CN=someone-else", "subjectAltName=URI:spiffe://cluster.local/ns/roles/sa/pm"),
    }
    for name, (subject, extension) in leaves.items():
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject,
                 "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr")  # fmt: skip
        (d / f"{name}.ext").write_text(extension + "\n")
        _openssl("x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", f"{d}/{name}.ext", "-out", f"{d}/{name}.pem")  # fmt: skip
    return d


async def test_a_client_certificate_identifies_the_service_without_a_key(fake: FakeUpstream, pki: Path) -> None:
    tls = {"cert_file": str(pki / "server.pem"), "key_file": str(pki / "server.key"),
           "client_ca_file": str(pki / "ca.pem")}  # fmt: skip
    config = routed_config(fake, sections={"auth": AUTH})
    config["server"] = {**config["server"], "tls": tls}
    server = await OrchestratorServer.create(settings_from_mapping(config, env={}))
    await server.start()
    try:

        def credentials(name: str) -> grpc.ChannelCredentials:
            return grpc.ssl_channel_credentials(
                (pki / "ca.pem").read_bytes(), (pki / f"{name}.key").read_bytes(), (pki / f"{name}.pem").read_bytes()
            )

        target = f"127.0.0.1:{server.port}"
        async with OrchestratorClient(target, credentials=credentials("rd")) as as_rd:
            answer = await as_rd.generate(task("code_generation"))
        async with OrchestratorClient(target, credentials=credentials("pm")) as as_pm:
            denied = await failure(as_pm.generate(task("code_generation")))
    finally:
        await server.shutdown()

    assert answer.text  # rd by its certificate's CN
    assert denied.reason == "TASK_NOT_ALLOWED" and denied.metadata["service"] == "pm"  # pm by its SPIFFE id


async def test_cost_per_service_is_one_query_and_logs_name_the_service(
    fake: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    fake.set_default(Behaviour(prompt_tokens=100, completion_tokens=10))
    caplog.set_level("INFO", logger="orchestrator.requests")
    async with routed_server(fake, metrics_port=-1, sections={"auth": AUTH}) as client:
        await client.generate(ask(), metadata=bearer(RD_KEY))
        await client.generate(ask(), metadata=bearer(RD_KEY))
        await client.generate(task("requirement_analysis"), metadata=bearer(PM_KEY))
        port = client.server.metrics_port  # type: ignore[attr-defined]
        text = await asyncio.to_thread(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read())

    costs = {
        sample.labels["service"]: sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
        if sample.name == "llm_request_cost_dollars_total"
    }
    assert costs == {"rd": pytest.approx(2 * 100 / 1_000_000), "pm": pytest.approx(100 / 1_000_000)}
    services = [r.__dict__.get("service") for r in caplog.records if r.getMessage() == "generation"]
    assert services == ["rd", "rd", "pm"]
