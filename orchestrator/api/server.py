"""The grpc.aio server: both services, health, reflection, limits, keepalive and graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from orchestrator_client.v1 import (
    conversations_pb2,
    feedback_pb2,
    generation_pb2,
    knowledge_pb2,
    templates_pb2,
    usage_pb2,
)

from orchestrator.api.conversations import ConversationServicer
from orchestrator.api.feedback import FeedbackServicer
from orchestrator.api.generation import GenerationServicer
from orchestrator.api.handlers import add_service
from orchestrator.api.interceptor import TelemetryInterceptor
from orchestrator.api.knowledge import KnowledgeServicer
from orchestrator.api.limits import connection_cap, raise_open_file_limit
from orchestrator.api.reflection import enable_reflection
from orchestrator.api.streams import StreamWriteDeadline
from orchestrator.api.templates import TemplateServicer
from orchestrator.api.usage import UsageServicer
from orchestrator.app import App, build_app
from orchestrator.config import ServerSettings, Settings, TlsSettings
from orchestrator.errors import ConfigError
from orchestrator.runtime import Runtime, build_runtime
from orchestrator.telemetry.metrics import Metrics

log = logging.getLogger(__name__)
METRICS_SYNC_SECONDS = 1.0
HEALTH_POLL_SECONDS = 1.0  # how soon a stuck model shows in the health service (probes poll every few seconds)

GENERATION_SERVICE = generation_pb2.DESCRIPTOR.services_by_name["GenerationService"]
TEMPLATE_SERVICE = templates_pb2.DESCRIPTOR.services_by_name["TemplateService"]
USAGE_SERVICE = usage_pb2.DESCRIPTOR.services_by_name["UsageService"]
CONVERSATION_SERVICE = conversations_pb2.DESCRIPTOR.services_by_name["ConversationService"]
KNOWLEDGE_SERVICE = knowledge_pb2.DESCRIPTOR.services_by_name["KnowledgeService"]
FEEDBACK_SERVICE = feedback_pb2.DESCRIPTOR.services_by_name["FeedbackService"]
SERVICES = (
    GENERATION_SERVICE,
    TEMPLATE_SERVICE,
    USAGE_SERVICE,
    CONVERSATION_SERVICE,
    KNOWLEDGE_SERVICE,
    FEEDBACK_SERVICE,
)
SERVICE_NAMES = tuple(s.full_name for s in SERVICES)


def _http_host(grpc_host: str) -> str:
    """The metrics listener's address for the gRPC listen host ("[::]" -> "::")."""
    return grpc_host.strip("[]") or "0.0.0.0"


def server_options(settings: Settings, reuse_port: bool = False) -> list[tuple[str, int]]:
    """reuse_port: one of several worker processes listening on the same port (the kernel spreads connections)."""
    s = settings.server
    return [
        ("grpc.max_receive_message_length", s.max_message_bytes),
        ("grpc.max_send_message_length", s.max_message_bytes),
        # Our own pings find dead peers during long streams.
        ("grpc.keepalive_time_ms", int(s.keepalive_time_seconds * 1000)),
        ("grpc.keepalive_timeout_ms", int(s.keepalive_timeout_seconds * 1000)),
        # Enforcement: clients may ping only while calls are open and not more often than this.
        ("grpc.keepalive_permit_without_calls", 0),
        ("grpc.http2.min_ping_interval_without_data_ms", int(s.min_client_ping_interval_seconds * 1000)),
        ("grpc.http2.max_ping_strikes", 2),
        # Off with one process, so a port someone else holds fails start-up; the worker supervisor checks that
        # before forking (orchestrator/workers.py).
        ("grpc.so_reuseport", int(reuse_port)),
        *connection_options(s),
    ]


def connection_options(s: ServerSettings) -> list[tuple[str, int]]:
    """Bounds on connections: idle time, age (so new replicas take load), handshake time, streams, count."""
    options = [
        ("grpc.max_connection_age_grace_ms", int(s.max_connection_age_grace_seconds * 1000)),
        ("grpc.server_handshake_timeout_ms", int(s.handshake_timeout_seconds * 1000)),
        ("grpc.max_concurrent_streams", s.max_concurrent_streams),
        ("grpc.max_allowed_incoming_connections", connection_cap(s.max_connections)),
    ]
    if s.max_connection_idle_seconds is not None:
        options.append(("grpc.max_connection_idle_ms", int(s.max_connection_idle_seconds * 1000)))
    if s.max_connection_age_seconds is not None:
        options.append(("grpc.max_connection_age_ms", int(s.max_connection_age_seconds * 1000)))
    return options


def _interceptors(settings: Settings, metrics: Metrics) -> list[grpc.aio.ServerInterceptor]:
    # Telemetry outermost, so it sees how a stream cut by its write deadline ended.
    return [TelemetryInterceptor(metrics), StreamWriteDeadline(settings.server.stream_write_timeout_seconds)]


def server_credentials(tls: TlsSettings) -> grpc.ServerCredentials:
    """TLS on the serving port; with a client CA, mutual TLS: every client presents a certificate it signed."""
    ca = Path(tls.client_ca_file).read_bytes() if tls.client_ca_file else None
    pair = (Path(tls.key_file).read_bytes(), Path(tls.cert_file).read_bytes())
    return grpc.ssl_server_credentials([pair], root_certificates=ca, require_client_auth=ca is not None)


class OrchestratorServer:
    """A running server: `create()` and `start()`, then `shutdown()` (health first, then drain, then stop).

    Both ports are taken before anything slow happens (loading the embedded model, connecting to stores), so
    a port in use stops start-up at once with one line naming the setting.

    `worker=True`: one of several worker processes (orchestrator/workers.py): the port is shared (SO_REUSEPORT),
    the metrics are written for the supervisor's aggregate, and only the worker given a metrics port serves it.
    """

    def __init__(
        self, runtime: Runtime, metrics: Metrics, port: int | None, metrics_port: int | None, worker: bool = False
    ) -> None:
        settings = runtime.settings
        self._stopping = False
        self._metrics_sync: asyncio.Task[None] | None = None
        self._health_watch: asyncio.Task[None] | None = None
        raise_open_file_limit()
        self.metrics = metrics
        wanted_metrics = settings.server.metrics_port if metrics_port is None else metrics_port
        # 0 turns the metrics endpoint off; tests that want it on a free port pass -1.
        self.metrics_port = (
            metrics.serve(max(wanted_metrics, 0), _http_host(settings.server.host)) if wanted_metrics != 0 else 0
        )
        self._server = grpc.aio.server(
            options=server_options(settings, reuse_port=worker), interceptors=_interceptors(settings, metrics)
        )
        requested = settings.server.port if port is None else port
        address = f"{settings.server.host}:{requested}"
        tls = settings.server.tls
        self.port = (
            self._server.add_secure_port(address, server_credentials(tls))
            if tls is not None
            else self._server.add_insecure_port(address)
        )
        if self.port == 0:
            metrics.close()
            raise ConfigError(
                f"server.port / --port: cannot listen for gRPC on {settings.server.host}:{requested} "
                "(in use or not an address of this host)"
            )
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        health_service = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
        enable_reflection(self._server, (*SERVICE_NAMES, health_service))
        self.app: App | None = None

    def _serve_app(self, app: App) -> None:
        self.app = app
        # Health and reflection stay open (probes, `grpcurl list`); our services need the caller's identity.
        authenticator = app.runtime.authenticator
        authenticate = authenticator.authenticate if authenticator.required else authenticator.anonymous
        add_service(self._server, GenerationServicer(app.pipeline, app.models), GENERATION_SERVICE, authenticate)
        add_service(self._server, TemplateServicer(app.templates), TEMPLATE_SERVICE, authenticate)
        add_service(self._server, UsageServicer(app.usage), USAGE_SERVICE, authenticate)
        add_service(self._server, ConversationServicer(app.conversations), CONVERSATION_SERVICE, authenticate)
        add_service(self._server, KnowledgeServicer(app.knowledge), KNOWLEDGE_SERVICE, authenticate)
        add_service(self._server, FeedbackServicer(app.feedback), FEEDBACK_SERVICE, authenticate)

    @classmethod
    async def create(
        cls,
        settings: Settings | Runtime,
        port: int | None = None,
        metrics_port: int | None = None,
        worker: bool = False,
    ) -> OrchestratorServer:
        runtime = settings if isinstance(settings, Runtime) else build_runtime(settings)
        metrics = Metrics(runtime.tasks, multiprocess=worker)
        server = cls(runtime, metrics, port, metrics_port, worker)
        try:
            server._serve_app(await build_app(runtime, metrics))
        except BaseException:
            metrics.close()
            raise
        return server

    async def start(self) -> None:
        await self._server.start()
        for service in ("", *SERVICE_NAMES):
            await self.health.set(service, health_pb2.HealthCheckResponse.SERVING)
        if self.metrics.multiprocess:
            self._metrics_sync = asyncio.create_task(self._sync_metrics())
        self._health_watch = asyncio.create_task(self._watch_health())
        log.info("serving", extra={"port": self.port, "services": list(SERVICE_NAMES)})

    async def _sync_metrics(self) -> None:
        while True:
            try:
                self.metrics.sync()
            except Exception:  # a metric must never take the worker down
                log.exception("metrics sync failed")
            await asyncio.sleep(METRICS_SYNC_SECONDS)

    async def _watch_health(self) -> None:
        """NOT_SERVING while a model's in-process worker is stuck (a wedged embedded decode), SERVING once it moves:
        the process itself is at fault, so liveness probes should restart it. An open breaker (an upstream
        outage) is not reported here: a restart would not help."""
        assert self.app is not None
        stuck: list[str] = []
        while True:
            await asyncio.sleep(HEALTH_POLL_SECONDS)
            now = self.app.models.stuck()
            if now == stuck or self._stopping:
                continue
            status = health_pb2.HealthCheckResponse.NOT_SERVING if now else health_pb2.HealthCheckResponse.SERVING
            for service in ("", *SERVICE_NAMES):
                await self.health.set(service, status)
            log.warning(
                "models stuck: reporting NOT_SERVING" if now else "models moving again: SERVING",
                extra={"models": now or stuck},
            )
            stuck = now

    async def shutdown(self) -> None:
        """NOT_SERVING at once; keep accepting for drain_seconds; give in-flight calls grace_seconds."""
        if self._stopping:
            return
        self._stopping = True
        assert self.app is not None, "shutdown() before create() finished"
        s = self.app.settings.server
        if self._health_watch is not None:
            self._health_watch.cancel()
        await self.health.enter_graceful_shutdown()
        log.info("shutting down", extra={"drain_seconds": s.drain_seconds, "grace_seconds": s.grace_seconds})
        if s.drain_seconds:
            await asyncio.sleep(s.drain_seconds)
        await self._server.stop(s.grace_seconds)
        if self._metrics_sync is not None:
            self._metrics_sync.cancel()
        self.metrics.close()
        if self.app is not None:
            await self.app.aclose()
        log.info("stopped")

    async def wait_for_termination(self) -> None:
        await self._server.wait_for_termination()
