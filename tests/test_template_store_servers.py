"""Opening template stores (bad DSNs, unreachable or wrong-password databases, unopenable files) and servers
sharing one store or restarting on it."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import grpc
import pytest
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import templates_pb2 as tpl

from orchestrator.config import TemplateStoreSettings, settings_from_mapping
from orchestrator.errors import (
    ConfigError,
    UnavailableError,
)
from orchestrator.templates.stores import open_store
from tests.helpers import TEMPLATES, ErrorDetails, ServerProcess
from tests.pg import PgServer, pg_database, pg_dsn, pg_server  # noqa: F401  (fixtures)
from tests.test_template_stores import template  # the greeting every store test creates

# Opening and configuring


async def test_postgres_is_required_to_have_a_dsn() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping({"templates": {"store": {"type": "postgres"}}}, env={})
    assert "templates.store: dsn is required for type postgres" in str(caught.value)


async def test_an_unreachable_postgres_fails_naming_the_dsn_without_the_password() -> None:
    port = _closed_port()
    dsn = f"postgresql://orchestrator:s3cr%21t-pw@127.0.0.1:{port}/templates?password=s3cr!t-pw"
    with pytest.raises(ConfigError) as caught:
        await open_store(TemplateStoreSettings(type="postgres", dsn=dsn))
    message = str(caught.value)
    assert message.startswith(f"templates.store.dsn: cannot use PostgreSQL at 127.0.0.1:{port}/templates: ")
    assert "s3cr" not in message


async def test_a_wrong_postgres_password_is_reported_without_it(pg_server: PgServer) -> None:  # noqa: F811
    dsn = f"postgresql://no_such_role:hunter2@{pg_server.host}:{pg_server.port}/no_such_db"
    with pytest.raises(ConfigError) as caught:
        await open_store(TemplateStoreSettings(type="postgres", dsn=dsn))
    assert "templates.store.dsn" in str(caught.value)
    assert "no_such_role" in str(caught.value) and "hunter2" not in str(caught.value)


async def test_an_unopenable_sqlite_path_fails_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        await open_store(TemplateStoreSettings(type="sqlite", path=str(tmp_path / "missing" / "t.db")))
    assert str(caught.value).startswith("templates.store.path: cannot open SQLite database")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket closes


# Real servers


def _templates_config(store: dict[str, str]) -> dict[str, Any]:
    return {"templates": {"directory": str(TEMPLATES), "store": store}}


async def test_two_servers_on_one_postgres_share_templates(pg_dsn: str, tmp_path: Path) -> None:  # noqa: F811
    config = _templates_config({"type": "postgres", "dsn": pg_dsn})
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    # Started together: both create the tables and load the seed templates at once.
    started = await asyncio.gather(
        *(asyncio.to_thread(ServerProcess, config, tmp_path / name) for name in ("a", "b")), return_exceptions=True
    )
    servers = [s for s in started if isinstance(s, ServerProcess)]
    try:
        first, second = started
        assert isinstance(first, ServerProcess) and isinstance(second, ServerProcess), started
        async with OrchestratorClient(first.target) as one, OrchestratorClient(second.target) as two:
            created = tpl.PromptTemplate(
                template_id="shared", user_message_template="Shared with {{ name }}", required_variables=["name"]
            )
            await one.templates.CreateTemplate(tpl.CreateTemplateRequest(template=created), timeout=10)
            render = tpl.RenderTemplateRequest(template_id="shared")
            render.variables.update({"name": "the other replica"})
            rendered = await two.templates.RenderTemplate(render, timeout=10)
            await two.templates.DeleteTemplate(tpl.DeleteTemplateRequest(template_id="shared"), timeout=10)
            with pytest.raises(grpc.aio.AioRpcError) as gone:
                await one.templates.GetTemplate(tpl.GetTemplateRequest(template_id="shared"), timeout=10)
            seeds = await one.templates.ListTemplates(tpl.ListTemplatesRequest(), timeout=10)

        assert rendered.version == "1"
        assert rendered.messages[-1].content == "Shared with the other replica"
        assert ErrorDetails(gone.value).code == grpc.StatusCode.NOT_FOUND
        assert {t.version for t in seeds.templates} == {"1.0"}
    finally:
        for server in servers:
            server.stop()


async def test_a_restart_on_the_same_sqlite_file_keeps_templates_and_adds_no_seed_versions(tmp_path: Path) -> None:
    config = _templates_config({"type": "sqlite", "path": str(tmp_path / "templates.db")})
    before: list[tpl.PromptTemplate] = []
    for run in range(2):
        server = ServerProcess(config, tmp_path)
        try:
            async with OrchestratorClient(server.target) as client:
                if run == 0:
                    mine = tpl.PromptTemplate(template_id="mine", user_message_template="Mine: {{ x }}")
                    await client.templates.CreateTemplate(tpl.CreateTemplateRequest(template=mine), timeout=10)
                listed = (await client.templates.ListTemplates(tpl.ListTemplatesRequest(), timeout=10)).templates
                code = await client.templates.GetTemplate(
                    tpl.GetTemplateRequest(template_id="code_generation"), timeout=10
                )
                unnumbered = client.templates.GetTemplate(
                    tpl.GetTemplateRequest(template_id="code_generation", version="1"), timeout=10
                )
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await unnumbered
        finally:
            assert server.stop() == 0
        assert code.template.version == "1.0"
        assert ErrorDetails(caught.value).code == grpc.StatusCode.NOT_FOUND
        if run == 0:
            before = list(listed)
    assert list(listed) == before  # same ids, versions, etags and create times: nothing re-created
    assert "mine" in {t.template_id for t in listed}


def test_a_server_whose_postgres_is_unreachable_exits_naming_the_dsn(tmp_path: Path) -> None:
    dsn = f"postgresql://orchestrator:hunter2@127.0.0.1:{_closed_port()}/templates"
    with pytest.raises(RuntimeError) as caught:
        ServerProcess(_templates_config({"type": "postgres", "dsn": dsn}), tmp_path)
    assert "templates.store.dsn: cannot use PostgreSQL at 127.0.0.1:" in str(caught.value)
    assert "hunter2" not in str(caught.value)


async def test_postgres_failures_of_the_connection_are_unavailable(pg_dsn: str) -> None:  # noqa: F811
    store = await open_store(TemplateStoreSettings(type="postgres", dsn=pg_dsn))
    await store.create(template("late"))
    await store.aclose()  # e.g. a call still running while the server shuts down

    with pytest.raises(UnavailableError) as caught:
        await store.get("late")

    assert caught.value.reason == "TEMPLATE_STORE_UNAVAILABLE"
