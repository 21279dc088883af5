"""What the conformance modules share: the subjects (an adapter, a transport, its fake) and how to read a stream."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.config import ProviderSettings
from orchestrator.domain import ChatMessage, SamplingParams, TextDelta
from orchestrator.providers import create_provider
from orchestrator.providers.base import Completion, Provider, ProviderErrorKind, ProviderRequest
from tests.fakes import Behaviour, FakeUpstream

FAKE_KINDS = ["openai", "anthropic", "openai_compatible"]
TRANSPORTS = ["native", "sdk"]
FAKED = [(kind, transport) for kind in FAKE_KINDS for transport in TRANSPORTS]
FAKED_IDS = [f"{kind}-{transport}" for kind, transport in FAKED]
MESSAGES = (ChatMessage("system", "You are terse."), ChatMessage("user", "Say hello to the conformance suite."))


@dataclass
class Subject:
    kind: str
    provider: Provider
    model: str
    fake: FakeUpstream | None
    transport: str = "native"

    def request(self, max_tokens: int = 16, timeout: float | None = 10.0, **params: object) -> ProviderRequest:
        return ProviderRequest(self.model, MESSAGES, SamplingParams(max_output_tokens=max_tokens, **params), timeout)  # type: ignore[arg-type]


def fake_provider(kind: str, fake: FakeUpstream, transport: str = "native") -> Provider:
    base_url = fake.base_url if kind == "anthropic" else f"{fake.base_url}/v1"
    key = None if kind == "openai_compatible" else f"{kind}-key-123456"
    settings = ProviderSettings(type=kind, base_url=base_url, api_key=key, timeout_seconds=10, transport=transport)  # type: ignore[arg-type]
    return create_provider(kind, settings)


async def collect(subject: Subject, request: ProviderRequest) -> tuple[list[str], list[Completion]]:
    deltas, finals = [], []
    async for event in subject.provider.stream(request):
        assert not finals, "nothing may follow the final Completion"
        if isinstance(event, TextDelta):
            deltas.append(event.text)
        else:
            finals.append(event)
    return deltas, finals


ERRORS = [
    (Behaviour(status=429, retry_after=2), ProviderErrorKind.RATE_LIMITED),
    (Behaviour(status=500), ProviderErrorKind.UNAVAILABLE),
    (Behaviour(status=503), ProviderErrorKind.UNAVAILABLE),
    (Behaviour(status=400), ProviderErrorKind.INVALID_REQUEST),
    (Behaviour(status=400, error_type="context_length_exceeded"), ProviderErrorKind.CONTEXT_LENGTH_EXCEEDED),
    (Behaviour(status=401), ProviderErrorKind.AUTHENTICATION),
    (Behaviour(status=404), ProviderErrorKind.MODEL_NOT_FOUND),
]


AUTH_HEADERS = {
    ("openai", "native"): {"authorization": "Bearer openai-key-123456"},
    ("openai", "sdk"): {"authorization": "Bearer openai-key-123456"},
    ("anthropic", "native"): {"x-api-key": "anthropic-key-123456", "anthropic-version": "2026-10-21"},
    ("anthropic", "sdk"): {"authorization": "Bearer anthropic-key-123456", "anthropic-version": "2026-10-21"},
    ("openai_compatible", "native"): {"authorization": None},
    ("openai_compatible", "sdk"): {"authorization": "Bearer not-needed"},
}
