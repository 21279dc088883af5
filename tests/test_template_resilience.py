"""Templates survive what happens to their store: a deleted seed version, PostgreSQL stopped or frozen."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import templates_pb2 as tpl

from orchestrator.api.server import OrchestratorServer
from orchestrator.config import settings_from_mapping
from tests.helpers import TEMPLATES, ErrorDetails, ServerProcess, served_in_process
from tests.pg import ThrowawayCluster, throwaway_cluster


async def test_a_deleted_seed_version_stays_deleted_and_does_not_stop_the_next_start(tmp_path: Path) -> None:
    config = {"templates": {"directory": str(TEMPLATES), "store": {"type": "sqlite", "path": str(tmp_path / "t.db")}}}
    first = ServerProcess(config, tmp_path)
    try:
        async with OrchestratorClient(first.target) as client:
            deleted = await client.templates.DeleteTemplate(
                tpl.DeleteTemplateRequest(template_id="bug_fixing"), timeout=10
            )
    finally:
        assert first.stop() == 0

    second = ServerProcess(config, tmp_path)  # used to exit with status 2 here
    try:
        async with OrchestratorClient(second.target) as client:
            with pytest.raises(grpc.aio.AioRpcError) as gone:
                await client.templates.GetTemplate(tpl.GetTemplateRequest(template_id="bug_fixing"), timeout=10)
            others = await client.templates.ListTemplates(tpl.ListTemplatesRequest(), timeout=10)
    finally:
        assert second.stop() == 0

    assert list(deleted.deleted_versions) == ["1.0"]
    assert ErrorDetails(gone.value).code == grpc.StatusCode.NOT_FOUND
    assert "code_generation" in {t.template_id for t in others.templates}
    assert "seed template bug_fixing version 1.0 not registered" in second.stderr_text()


@pytest.fixture
def cluster() -> Any:
    with throwaway_cluster() as started:
        yield started


async def _serve(cluster: ThrowawayCluster) -> AsyncIterator[tuple[OrchestratorServer, OrchestratorClient]]:
    settings = settings_from_mapping(
        {
            "server": {"host": "127.0.0.1", "port": 0, "metrics_port": 0, "grace_seconds": 1},
            # RenderTemplate counts tokens offline: the upstream is never called.
            "providers": {"upstream": {"type": "openai_compatible", "base_url": "http://127.0.0.1:9/v1"}},
            "models": [{"name": "m", "provider": "upstream", "context_window": 8000, "max_output_tokens": 256}],
            "default_model": "m",
            "templates": {
                "directory": str(TEMPLATES),
                "store": {"type": "postgres", "dsn": cluster.server.dsn("postgres")},
                "cache_seconds": 0.05,
            },
        },
        env={},
    )
    async with served_in_process(settings) as both:
        yield both


def _render(template_id: str) -> tpl.RenderTemplateRequest:
    request = tpl.RenderTemplateRequest(template_id=template_id)
    request.variables.update({"requirement": "keep serving", "name": "Ada"})
    return request


async def test_renders_keep_serving_the_last_good_copy_while_postgres_is_frozen_or_down(
    cluster: ThrowawayCluster,
) -> None:
    async for server, client in _serve(cluster):
        health = health_pb2_grpc.HealthStub(client.channel)
        mine = tpl.PromptTemplate(
            template_id="mine", user_message_template="Hi {{ name }}", required_variables=["name"]
        )
        await client.templates.CreateTemplate(tpl.CreateTemplateRequest(template=mine), timeout=10)
        for template_id in ("mine", "code_generation"):
            await client.templates.RenderTemplate(_render(template_id), timeout=10)

        cluster.signal(signal.SIGSTOP)  # frozen: connections stay open, nothing answers
        try:
            await asyncio.sleep(0.1)  # past cache_seconds: renders ask the store again
            frozen = [await client.templates.RenderTemplate(_render("mine"), timeout=10) for _ in range(10)]
        finally:
            cluster.signal(signal.SIGCONT)
        await asyncio.to_thread(cluster.stop)
        await asyncio.sleep(0.1)
        down = [await client.templates.RenderTemplate(_render(t), timeout=10) for t in ("mine", "code_generation") * 5]
        with pytest.raises(grpc.aio.AioRpcError) as create_failed:
            await client.templates.CreateTemplate(tpl.CreateTemplateRequest(template=mine), timeout=30)
        with pytest.raises(grpc.aio.AioRpcError) as never_cached:
            await client.templates.RenderTemplate(_render("bug_fixing"), timeout=30)
        serving = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
        stale = server.metrics.registry.get_sample_value("template_stale_serves_total")
        errors = server.metrics.registry.get_sample_value("template_store_errors_total")

    assert [r.messages[-1].content for r in frozen] == ["Hi Ada"] * 10
    assert "keep serving" in down[1].messages[-1].content and down[0].messages[-1].content == "Hi Ada"
    assert ErrorDetails(create_failed.value).code == grpc.StatusCode.UNAVAILABLE
    assert ErrorDetails(create_failed.value).reason == "TEMPLATE_STORE_UNAVAILABLE"
    assert ErrorDetails(never_cached.value).code == grpc.StatusCode.UNAVAILABLE
    assert serving.status == health_pb2.HealthCheckResponse.SERVING
    assert stale is not None and stale >= 20  # as the operator sees it, in the metrics
    assert errors is not None and errors >= 2
