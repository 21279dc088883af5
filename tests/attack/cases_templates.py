"""Items 1, 2, 6 and 7 of issue 13: templates and schemas that stall the event loop, and the template stores."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import grpc
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import generation_pb2 as gen
from orchestrator_client.v1 import templates_pb2

from tests.attack.harness import Bystanders, Service, Tally, ask, expect, probe
from tests.fakes import Behaviour

C = grpc.StatusCode
REFUSED = expect(C.INVALID_ARGUMENT, C.RESOURCE_EXHAUSTED, C.FAILED_PRECONDITION)
REDOS_ANSWER = '{"x": "' + "a" * 34 + '!"}'
REDOS_SCHEMA = {"type": "object", "properties": {"x": {"type": "string", "pattern": "^(a+)+$"}}}


def template(template_id: str, user: str, schema: dict[str, Any] | None = None, **optional: Any) -> Any:
    proto = templates_pb2.PromptTemplate(template_id=template_id, user_message_template=user)
    proto.optional_variables.update(optional)
    if schema is not None:
        proto.variables_schema.update(schema)
    return templates_pb2.CreateTemplateRequest(template=proto)


def render(template_id: str, **variables: Any) -> templates_pb2.RenderTemplateRequest:
    request = templates_pb2.RenderTemplateRequest(template_id=template_id)
    request.variables.update(variables)
    return request


async def create_then_render(
    tally: Tally, client: OrchestratorClient, request: Any, variables: dict[str, Any], slow: float = 2.0
) -> None:
    """Creating may refuse the template (clean); else rendering it must end cleanly and quickly."""
    creating = Tally("create")
    created = await probe(creating, client.templates.CreateTemplate(request, timeout=60), REFUSED, 30, slow)
    if created is None or created.code != C.OK or creating.slow:
        tally.merge(creating)  # refused (or failed, or slow) at creation: that is this case's outcome
        return
    rendering = client.templates.RenderTemplate(render(request.template.template_id, **variables), timeout=60)
    await probe(tally, rendering, REFUSED, 12, slow)


async def stalling_template(env: Any, tally: Tally, user: str, variables: dict[str, Any] | None = None) -> None:
    service: Service = await env.service()
    name = f"attack_{abs(hash(user)) % 10**8}"
    assert service.client is not None
    async with Bystanders(service, env.fake) as others:
        await create_then_render(tally, service.client, template(name, user), variables or {})
    others.report(tally)


async def render_nested_loops(env: Any, tally: Tally) -> None:
    loops = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}done"
    await stalling_template(env, tally, loops)


async def render_macro_recursion(env: Any, tally: Tally) -> None:
    await stalling_template(env, tally, "{% macro f(n) %}{{ f(n + 1) }}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")


async def render_repeated_squaring(env: Any, tally: Tally) -> None:
    steps = "".join(f"{{% set x{i} = x{i - 1} * x{i - 1} %}}" for i in range(1, 40))
    await stalling_template(env, tally, "{% set x0 = 7 %}" + steps + "{{ x39 }}")


async def create_center_fold(env: Any, tally: Tally) -> None:
    await stalling_template(env, tally, "{{ 'a'|center(1000000000) }}")


async def schema_pattern_redos(env: Any, tally: Tally) -> None:
    service: Service = await env.service()
    assert service.client is not None
    env.fake.set_default(Behaviour(text=REDOS_ANSWER), model="primary")
    request = ask("answer with JSON", output_format=gen.OUTPUT_FORMAT_JSON)
    request.json_schema.update(REDOS_SCHEMA)
    async with Bystanders(service, env.fake) as others:
        refused = expect(C.FAILED_PRECONDITION, C.INVALID_ARGUMENT)
        await probe(tally, service.client.generate(request, timeout=60), refused, 10, 2)
    others.report(tally)


async def variables_schema_redos(env: Any, tally: Tally) -> None:
    service: Service = await env.service()
    assert service.client is not None
    request = template("attack_redos_vars", "{{ x }}", REDOS_SCHEMA)
    async with Bystanders(service, env.fake) as others:
        await create_then_render(tally, service.client, request, {"x": "a" * 34 + "!"})
    others.report(tally)


async def deleted_seed_template_restart(env: Any, tally: Tally) -> None:
    service = await env.fresh("sqlite-restart")
    assert service.client is not None
    deleted = await service.client.templates.DeleteTemplate(
        templates_pb2.DeleteTemplateRequest(template_id="bug_fixing"), timeout=10
    )
    assert deleted.deleted_versions, "the seed template was not there to delete"
    await service.stop()
    try:
        await service.start(timeout=30)
    except (RuntimeError, TimeoutError) as exc:
        tally.count("other", f"restart failed: {str(exc)[:60]}")
        return
    try:
        listing = service.client.generation.ListModels(gen.ListModelsRequest(), timeout=10)
        await probe(tally, listing, expect(C.OK), 10, 5)
    finally:
        await service.stop()


async def _load(
    client: OrchestratorClient, call: Any, tally: Tally, seconds: float, rate: float = 50, slow: float = 1.0
) -> None:
    """`rate` calls a second for `seconds`, each within a bound."""
    started, calls = time.monotonic(), []
    while time.monotonic() - started < seconds:
        calls.append(asyncio.create_task(probe(tally, call(), lambda r: r.code == C.OK, 6, slow)))
        await asyncio.sleep(1 / rate)
    await asyncio.gather(*calls)


def _bug_fixing(client: OrchestratorClient) -> Any:
    return lambda: client.templates.RenderTemplate(render("bug_fixing", bug_description="x", code="y"), timeout=5)


async def postgres_outage(env: Any, tally: Tally, freeze: bool) -> None:
    pg = env.pg
    service = await env.fresh("postgres", templates={"store": {"type": "postgres", "dsn": env.pg_dsn}})
    assert service.client is not None
    try:
        await _load(service.client, _bug_fixing(service.client), Tally("warm-up"), 1)
        if freeze:
            pg.signal(signal.SIGSTOP)
        else:
            await asyncio.to_thread(pg.stop)
        try:
            await _load(service.client, _bug_fixing(service.client), tally, 5)
        finally:
            if freeze:
                pg.signal(signal.SIGCONT)
            else:
                await asyncio.to_thread(pg.start)
    finally:
        await service.stop()


async def postgres_stopped(env: Any, tally: Tally) -> None:
    await postgres_outage(env, tally, freeze=False)


async def postgres_frozen(env: Any, tally: Tally) -> None:
    await postgres_outage(env, tally, freeze=True)


async def redis_outage(env: Any, tally: Tally, freeze: bool) -> None:
    redis = env.redis
    shared = {"redis_url": redis.url}
    service = await env.fresh("redis", shared_state=shared, cache={"type": "redis", "default_policy": "use"})
    assert service.client is not None
    client = service.client

    def cached() -> Any:
        return client.generate(ask(f"cached {time.monotonic():.0f}"), timeout=5)

    try:
        await _load(client, cached, Tally("warm-up"), 1)
        if freeze:
            assert redis.process is not None
            os.kill(redis.process.pid, signal.SIGSTOP)
        else:
            redis.kill()
        try:
            # Each Redis command may take its 0.5 s timeout (a lookup, a store, the holds): 2 s is not slow here.
            await _load(client, cached, tally, 3, slow=2.0)
        finally:
            if freeze:
                os.kill(redis.process.pid, signal.SIGCONT)
            else:
                redis.start()
    finally:
        await service.stop()


async def redis_killed(env: Any, tally: Tally) -> None:
    await redis_outage(env, tally, freeze=False)


async def redis_frozen(env: Any, tally: Tally) -> None:
    await redis_outage(env, tally, freeze=True)


CASES = [
    ("1", "render: nested range() loops", render_nested_loops),
    ("1", "render: self-calling macro", render_macro_recursion),
    ("1", "render: repeated squaring", render_repeated_squaring),
    ("1", "create: 'a'|center(1e9) folded", create_center_fold),
    ("2", "answer vs schema pattern ^(a+)+$", schema_pattern_redos),
    ("2", "variables_schema pattern ReDoS", variables_schema_redos),
    ("6", "deleted seed template, restart", deleted_seed_template_restart),
    ("7", "PostgreSQL stopped 5 s, 50 rps", postgres_stopped),
    ("7", "PostgreSQL frozen 5 s, 50 rps", postgres_frozen),
    ("7", "Redis killed 3 s, 50 rps", redis_killed),
    ("7", "Redis frozen 3 s, 50 rps", redis_frozen),
]
