"""Builds the domain side of the service from settings: providers, templates, router, pipeline."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from orchestrator.cache import CacheBackend, MemoryCache, RedisCache, ResponseCache
from orchestrator.config import CacheSettings, Settings
from orchestrator.domain import CachePolicy
from orchestrator.errors import ConfigError
from orchestrator.pipeline import Pipeline
from orchestrator.providers import create_provider
from orchestrator.providers.base import Provider
from orchestrator.redaction import SECRETS
from orchestrator.routing.catalog import ModelCatalog
from orchestrator.routing.router import Router
from orchestrator.routing.shared import SharedHolds
from orchestrator.telemetry.metrics import Metrics
from orchestrator.telemetry.request_log import Observers, RequestLogger
from orchestrator.templates.loader import load_directory
from orchestrator.templates.registry import TemplateRegistry
from orchestrator.templates.renderer import RenderLimits, TemplateCompiler
from orchestrator.templates.stores import open_store

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    providers: dict[str, Provider]
    pipeline: Pipeline
    metrics: Metrics

    async def aclose(self) -> None:
        await asyncio.gather(*(p.aclose() for p in self.providers.values()), return_exceptions=True)
        await self.pipeline.templates.store.aclose()
        await self.pipeline.cache.aclose()
        await self.pipeline.router.aclose()


async def build_app(settings: Settings) -> App:
    providers = {name: create_provider(name, spec) for name, spec in settings.providers.items()}
    await asyncio.gather(*(p.start() for p in providers.values()))
    limits = RenderLimits(
        max_template_chars=settings.templates.max_template_bytes,
        max_output_chars=settings.templates.max_rendered_bytes,
    )
    registry = TemplateRegistry(
        await open_store(settings.templates.store), TemplateCompiler(limits), settings.templates.cache_seconds
    )
    directory = settings.templates.directory
    if directory:
        path = Path(directory)
        if path.is_dir():
            await load_directory(registry, path)
        elif directory != "templates":  # only the default may be absent
            raise ConfigError(f"templates.directory: {directory} is not a directory")
        else:
            log.warning("no templates directory at %s; starting without seed templates", path.resolve())
    routing = settings.routing
    shared = (
        SharedHolds(_secret(routing.shared_holds_url), routing.shared_holds_poll_seconds)
        if routing.shared_holds_url
        else None
    )
    router = Router(
        ModelCatalog(settings),
        providers,
        {name: spec.timeout_seconds for name, spec in settings.providers.items()},
        settings.tasks,
        routing,
        shared=shared,
    )
    await router.start()
    metrics = Metrics(settings.tasks)
    metrics.watch_circuits(lambda: [(m.name, router.circuit_state(m)) for m in router.catalog.models])
    pipeline = Pipeline(registry, router, Observers(metrics, RequestLogger()), response_cache(settings.cache))
    return App(settings, providers, pipeline, metrics)


def response_cache(settings: CacheSettings) -> ResponseCache:
    backends: dict[str, Callable[[], CacheBackend | None]] = {
        "none": lambda: None,
        "memory": lambda: MemoryCache(settings.max_entries),
        "redis": lambda: RedisCache(_secret(settings.url)),
    }
    return ResponseCache(backends[settings.type](), settings.ttl_seconds, CachePolicy(settings.default_policy))


def _secret(value: SecretStr | None) -> str:
    text = value.get_secret_value() if value else ""
    password = urlsplit(text).password
    SECRETS.add(password)  # a password in a URL must not reach logs or errors
    return text
