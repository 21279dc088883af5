"""OpenTelemetry traces: a server span per RPC, a child span per upstream attempt (GenAI conventions).

Off by default and then free: with no exporter configured the spans are never created. The standard
OTEL_* variables turn export on: OTEL_TRACES_EXPORTER=otlp|console|none (otlp when an OTLP endpoint is set).
Prompt and completion text are recorded only when `telemetry.record_content` is set.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.trace import NonRecordingSpan, Span, SpanKind, Status, StatusCode

from orchestrator.errors import ConfigError
from orchestrator.redaction import SECRETS

_INVALID = NonRecordingSpan(trace.INVALID_SPAN_CONTEXT)


class Tracing:
    """Holds the tracer; `enabled` is False unless a provider was installed."""

    def __init__(self) -> None:
        self.enabled = False
        self.record_content = False
        self._tracer: trace.Tracer = trace.NoOpTracer()

    def use(self, provider: TracerProvider, record_content: bool = False) -> None:
        self._tracer = provider.get_tracer("orchestrator")
        self.enabled = True
        self.record_content = record_content

    def disable(self) -> None:
        self._tracer = trace.NoOpTracer()
        self.enabled = False
        self.record_content = False

    def configure_from_env(self, record_content: bool = False) -> TracerProvider | None:
        """Honour the standard variables: OTEL_TRACES_EXPORTER (otlp, console, none), OTEL_SDK_DISABLED, the
        OTLP endpoint variables and OTEL_SERVICE_NAME. Unknown exporter names are a ConfigError."""
        env = os.environ
        wanted = env.get("OTEL_TRACES_EXPORTER", "otlp" if _otlp_endpoint(env) else "none").strip().lower()
        if env.get("OTEL_SDK_DISABLED", "").lower() == "true" or wanted in ("none", ""):
            return None
        exporters = [name.strip() for name in wanted.split(",") if name.strip()]
        unknown = [name for name in exporters if name not in _EXPORTERS]
        if unknown:
            raise ConfigError(f"OTEL_TRACES_EXPORTER: unsupported exporter {unknown[0]!r} (use otlp, console or none)")
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", "llm-orchestrator")})
        provider = TracerProvider(resource=resource)
        for name in exporters:
            provider.add_span_processor(BatchSpanProcessor(_EXPORTERS[name]()))
        self.use(provider, record_content)
        return provider

    def server_span(self, full_method: str, metadata: Sequence[tuple[str, Any]] | None) -> tuple[Span, object]:
        """Start the RPC's span, continuing W3C trace context from the caller's metadata."""
        carrier = {k: v for k, v in (metadata or ()) if isinstance(v, str)}
        parent = propagate.extract(carrier)
        service, _, method = full_method.lstrip("/").partition("/")
        span = self._tracer.start_span(
            full_method.lstrip("/"),
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": method},
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        return span, token

    def end_server_span(self, span: Span, token: object, code: str) -> None:
        span.set_attribute("rpc.grpc.status_code", code)
        if code not in ("OK", "CANCELLED"):
            span.set_status(Status(StatusCode.ERROR))
        span.end()
        otel_context.detach(token)  # type: ignore[arg-type]

    def attempt_span(self, provider_type: str, model: str, attributes: Mapping[str, Any]) -> Span:
        """A CLIENT span for one upstream call, named "{operation} {model}" per the GenAI conventions."""
        if not self.enabled:
            return _INVALID
        return self._tracer.start_span(
            f"chat {model}",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": provider_type,
                "gen_ai.request.model": model,
                **attributes,
            },
        )

    @staticmethod
    def annotate(attributes: Mapping[str, Any]) -> None:
        """Add attributes to the current (server) span, if one is recording."""
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attributes({k: v for k, v in attributes.items() if v is not None})

    @staticmethod
    def fail(span: Span, reason: str, message: str) -> None:
        if span.is_recording():
            span.set_attribute("error.type", reason)
            span.set_status(Status(StatusCode.ERROR, SECRETS(message)))
            span.end()


def _otlp() -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def _console() -> SpanExporter:
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    return ConsoleSpanExporter()


_EXPORTERS: dict[str, Callable[[], SpanExporter]] = {"otlp": _otlp, "console": _console}


def current_trace_id() -> str:
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else ""


def _otlp_endpoint(env: Mapping[str, str]) -> bool:
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


TRACING = Tracing()
"""The process-wide tracing state (tests install an in-memory provider with `TRACING.use`)."""
